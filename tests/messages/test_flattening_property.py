"""Property: any nesting of MessageType parts, resolving at any speed, flattens to the same texts
in the same order as a plain recursive walk of the structure."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from miniagents_lc.messages import Message, MessageSequence
from miniagents_lc.promising import DEFAULT, PromisingContext

# -- a description of a structure, built into real objects inside a running context ----------


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Tokens:
    """A MessagePromise streaming `tokens`, yielding the loop `delays[i]` times before token i."""

    tokens: tuple[str, ...]
    delays: tuple[int, ...]
    schedule_immediately: Any


@dataclass(frozen=True)
class ListOf:
    children: tuple[Any, ...]


@dataclass(frozen=True)
class AsyncGeneratorOf:
    """An async generator yielding the children, yielding the loop `delays[i]` times before
    child i."""

    children: tuple[Any, ...]
    delays: tuple[int, ...]


@dataclass(frozen=True)
class SequenceOf:
    """A nested MessageSequencePromise of the children."""

    children: tuple[Any, ...]
    schedule_immediately: Any


def reference_texts(node: Any) -> list[str]:
    """The expected flat texts: a plain depth-first walk, no asyncio involved."""
    if isinstance(node, Text):
        return [node.text]
    if isinstance(node, Tokens):
        return ["".join(node.tokens)]
    return [text for child in node.children for text in reference_texts(child)]


async def _delayed(items: list[Any], delays: tuple[int, ...]) -> AsyncIterator[Any]:
    # Delays counted in task switches, not seconds: the interleaving a drawn example makes is
    # the same on every run (so Hypothesis can replay and shrink it), and costs no waiting.
    for item, delay in zip(items, delays, strict=True):
        for _ in range(delay):
            await asyncio.sleep(0)
        yield item


def build(node: Any) -> Any:
    """The MessageType object a description stands for (needs an active context)."""
    if isinstance(node, Text):
        return node.text
    if isinstance(node, Tokens):
        return Message.promise(
            _delayed(list(node.tokens), node.delays),
            schedule_immediately=node.schedule_immediately,
        )
    children = [build(child) for child in node.children]
    if isinstance(node, ListOf):
        return children
    if isinstance(node, AsyncGeneratorOf):
        return _delayed(children, node.delays)
    return MessageSequence.turn_into_sequence_promise(
        children, schedule_immediately=node.schedule_immediately
    )


# -- strategies -----------------------------------------------------------------------------

texts = st.text(max_size=4)
switches = st.integers(min_value=0, max_value=3)
schedule_modes = st.sampled_from([True, False, DEFAULT])


@st.composite
def token_promises(draw: st.DrawFn) -> Tokens:
    tokens = draw(st.lists(texts, max_size=4))
    delays = draw(st.lists(switches, min_size=len(tokens), max_size=len(tokens)))
    return Tokens(tuple(tokens), tuple(delays), draw(schedule_modes))


def containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    child_lists = st.lists(children, max_size=4).map(tuple)

    @st.composite
    def async_generators(draw: st.DrawFn) -> AsyncGeneratorOf:
        items = draw(child_lists)
        delays = draw(st.lists(switches, min_size=len(items), max_size=len(items)))
        return AsyncGeneratorOf(items, tuple(delays))

    return st.one_of(
        child_lists.map(ListOf),
        async_generators(),
        st.builds(SequenceOf, child_lists, schedule_modes),
    )


structures = st.recursive(st.one_of(texts.map(Text), token_promises()), containers, max_leaves=12)


# -- the property ---------------------------------------------------------------------------


async def _flatten(structure: Any, schedule_immediately: Any) -> list[str | None]:
    sequence = MessageSequence(schedule_immediately=schedule_immediately)
    with sequence.append_producer:
        sequence.append_producer.append(build(structure))
    async with asyncio.timeout(10):
        return [message.text for message in await sequence.sequence_promise.acollect_messages()]


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    structure=structures,
    schedule_immediately=schedule_modes,
    context_default=st.booleans(),
)
def test_any_nested_structure_flattens_like_a_plain_recursive_walk(
    structure, schedule_immediately, context_default
):
    context = PromisingContext(schedule_immediately_by_default=context_default)
    flat = context.run(_flatten(structure, schedule_immediately))
    assert flat == reference_texts(structure)
