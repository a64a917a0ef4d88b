"""Reading finished spans as a tree of names, finding them by name, and the scripted agents
the observability tests share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage
from opentelemetry.sdk.trace import ReadableSpan

from miniagents_lc import MiniAgent, chat_model_agent, tool_agent
from miniagents_lc.testing.chat_models import ScriptedChatModel, ScriptedToolModel

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


def scripted(reply: str = "one two three", **fields: Any) -> ScriptedChatModel:
    """A scripted chat model that streams at once."""
    return ScriptedChatModel(reply=reply, first_token_delay=0, token_delay=0, **fields)


def lookup(city: str) -> str:
    """Look a city up."""
    return f"{city} is sunny"


def tools_agent() -> MiniAgent:
    """A `tool_agent` ("tools") whose model calls, at once, the function tool `lookup` (call
    id "c1", answering "Oslo is sunny") and the agent tool `helper` (call id "c2", a model
    agent answering "helped"), then answers "done"."""
    helper = chat_model_agent(scripted("helped"), alias="helper")
    model = ScriptedToolModel(
        turns=[
            AIMessage(
                content="",
                tool_calls=[
                    {"name": "lookup", "args": {"city": "Oslo"}, "id": "c1"},
                    {"name": "helper", "args": {"request": "help"}, "id": "c2"},
                ],
            ),
            AIMessage(content="done"),
        ]
    )
    return tool_agent(model, [lookup, helper], alias="tools")
