"""Reading finished spans as a tree of names, and finding them by name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

Tree = tuple[str, tuple[Any, ...]]


def span_tree(spans: Sequence[ReadableSpan]) -> list[Tree]:
    """The spans as nested `(name, children)` tuples, children sorted by name, from the roots
    (spans whose parent is not among them)."""
    ids = {span.context.span_id for span in spans}
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in spans:
        parent = span.parent.span_id if span.parent is not None else None
        children.setdefault(parent if parent in ids else None, []).append(span)

    def build(span: ReadableSpan) -> Tree:
        below = children.get(span.context.span_id, [])
        return (span.name, tuple(sorted(build(child) for child in below)))

    return sorted(build(span) for span in children.get(None, []))


def named(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    """The one span called `name`."""
    (span,) = [span for span in spans if span.name == name]
    return span


def leaf(name: str) -> Tree:
    return (name, ())


def agent(alias: str, *children: Tree) -> Tree:
    """The expected `invoke_agent {alias}` span with `children` (in any order)."""
    return (f"invoke_agent {alias}", tuple(sorted(children)))


def model_agent(alias: str, model: str) -> Tree:
    """A model agent's span with its one `chat {model}` span."""
    return agent(alias, leaf(f"chat {model}"))
