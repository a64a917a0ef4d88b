"""Fuzz: nested structures with random delays and random errors flatten like a plain recursive
walk: the same texts in the same order up to the first error, then that very error, once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from miniagents_lc.messages import MessageSequence
from miniagents_lc.promising import PromisingContext
from tests.messages.test_flattening_property import (
    AsyncGeneratorOf,
    ListOf,
    SequenceOf,
    Text,
    _delayed,
    build,
    containers,
    schedule_modes,
    token_promises,
)
from tests.messages.test_flattening_property import reference_texts as texts_without_errors


class Injected(Exception):
    """The error a `Failure` stands for."""


@dataclass(frozen=True)
class Failure:
    label: int


def _expected(node: Any) -> tuple[list[str], int | None]:
    """Texts up to the first failure (depth first), and that failure's label (None if none)."""
    if isinstance(node, Failure):
        return [], node.label
    if not hasattr(node, "children"):
        return texts_without_errors(node), None
    collected: list[str] = []
    for child in node.children:
        texts, label = _expected(child)
        collected.extend(texts)
        if label is not None:
            return collected, label
    return collected, None


failures = st.integers(min_value=0, max_value=10_000).map(Failure)
leaves = st.one_of(st.text(max_size=4).map(Text), token_promises(), failures)
structures = st.recursive(leaves, containers, max_leaves=12)


async def _flatten(structure: Any, schedule_immediately: Any) -> tuple[list[str], int | None]:
    sequence = MessageSequence(schedule_immediately=schedule_immediately)
    with sequence.append_producer:
        sequence.append_producer.append(_materialize(structure))
    texts: list[str] = []
    async with asyncio.timeout(10):
        try:
            async for promise in sequence.sequence_promise:
                texts.append(str(await promise))
        except Injected as error:
            return texts, error.args[0]
    return texts, None


def _materialize(node: Any) -> Any:
    """The MessageType object for `node`, failures included (needs an active context)."""
    if isinstance(node, Failure):
        return Injected(node.label)
    if isinstance(node, ListOf):
        return [_materialize(child) for child in node.children]
    if isinstance(node, AsyncGeneratorOf):
        return _delayed([_materialize(child) for child in node.children], node.delays)
    if isinstance(node, SequenceOf):
        return MessageSequence.turn_into_sequence_promise(
            [_materialize(child) for child in node.children],
            schedule_immediately=node.schedule_immediately,
        )
    return build(node)


@settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(structure=structures, schedule_immediately=schedule_modes, context_default=st.booleans())
def test_random_structures_with_errors_flatten_up_to_the_first_error_then_raise_it(
    structure: Any, schedule_immediately: Any, context_default: bool
) -> None:
    context = PromisingContext(schedule_immediately_by_default=context_default)
    assert context.run(_flatten(structure, schedule_immediately)) == _expected(structure)
