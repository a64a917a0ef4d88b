"""FedSequence forwarding: an item that is a flat sequence already has its pieces moved into
the sequence from the step that produced them, with no task and no task switch between."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest

from miniagents_lc.promising import (
    FedSequence,
    PromisingContext,
    StreamCancelledError,
    StreamedPromise,
)
from miniagents_lc.promising.lowlevel import StreamBuffer, TaskOwner, Wakeup, buffer_of
from miniagents_lc.testing import settle

Sequence = FedSequence[Any, StreamedPromise[Any, Any]]


async def _listed(item: list[Any]) -> AsyncIterator[Any]:
    for piece in item:
        yield piece


def _flat_already(item: Any) -> StreamBuffer[Any] | None:
    return buffer_of(item) if isinstance(item, StreamedPromise) else None


def sequence(name: str = "seq", **options: Any) -> Sequence:
    """A sequence that forwards the sequence promises appended to it, takes a str as it is
    and flattens anything else (owned, as forwarding needs)."""
    owner = options.pop("owner", None) or TaskOwner("Sequence", name)
    made: Sequence = FedSequence(
        _listed,
        promise_class=StreamedPromise,
        pass_through=lambda item: item if isinstance(item, str) else None,
        forward=_flat_already,
        owner=owner,
        **options,
    )
    made.append_producer.open()
    return made


def held(made: Sequence) -> list[Any]:
    return buffer_of(made.sequence_promise).pieces


@pytest.mark.parametrize("depth", [1, 3])
async def test_a_piece_appended_inside_is_held_by_every_sequence_above_in_the_same_step(
    depth: int,
) -> None:
    async with PromisingContext():
        chain = [sequence(f"level {level}") for level in range(depth + 1)]
        for outer, inner in itertools.pairwise(chain):
            outer.append_producer.append(inner.sequence_promise)

        chain[-1].append_producer.append("token")  # no await from here on

        assert [held(level) for level in chain] == [["token"]] * (depth + 1)
        for level in reversed(chain):
            level.append_producer.close()
        assert all(buffer_of(level.sequence_promise).done for level in chain)


async def test_items_keep_their_order_across_forwarded_and_flattened_ones() -> None:
    async with PromisingContext():
        first, second, outer = sequence("first"), sequence("second"), sequence("outer")
        with outer.append_producer as appending:
            appending.append(first.sequence_promise).append(["between"])
            appending.append(second.sequence_promise)
        second.append_producer.append("b1").close()  # waits behind `first` and "between"
        first.append_producer.append("a1")
        assert held(outer) == ["a1"]
        first.append_producer.append("a2").close()

        async with asyncio.timeout(5):
            assert [piece async for piece in outer.sequence_promise] == [
                "a1",
                "a2",
                "between",
                "b1",
            ]


async def test_an_error_inside_ends_the_sequence_at_its_position() -> None:
    seen: list[BaseException] = []
    async with PromisingContext():
        inner = sequence("inner")
        outer = sequence("outer", on_error=seen.append)
        outer.append_producer.append(inner.sequence_promise).append("never")
        inner.append_producer.append("first")
        inner.append_producer.close(ValueError("inner broke"))

        cursor = outer.sequence_promise.cursor()
        assert cursor.read_nowait() == ["first"]
        async with asyncio.timeout(5):
            with pytest.raises(ValueError, match="inner broke") as raised:
                await cursor.read()
    assert seen == [raised.value]


@pytest.mark.parametrize("batched", [False, True], ids=["one_by_one", "batched"])
async def test_a_sequence_stopped_by_what_a_forwarded_piece_woke_takes_nothing_more(
    batched: bool,
) -> None:
    async with PromisingContext():
        inner, outer = sequence("inner"), sequence("outer")
        if batched:  # buffered before forwarding starts: moved as one batch
            inner.append_producer.append("first").append("second")

        def stop_at_first_piece() -> None:
            outer.stop_with("cut")

        Wakeup(stop_at_first_piece).arm(buffer_of(outer.sequence_promise))
        outer.append_producer.append(inner.sequence_promise)
        if not batched:
            inner.append_producer.append("first").append("second")

        assert held(outer) == ["first", "cut"]
        assert buffer_of(outer.sequence_promise).done


async def test_an_abandoned_sequence_abandons_what_it_forwards() -> None:
    async with PromisingContext():
        inner_owner = TaskOwner("Agent", "inner")
        inner_work = asyncio.create_task(asyncio.Event().wait())
        inner_owner.add(inner_work)
        inner = sequence(owner=inner_owner)
        outer = sequence("outer")
        outer.append_producer.append(inner.sequence_promise)

        async def read_outer() -> None:
            async for _piece in outer.sequence_promise:
                pass

        reader = asyncio.create_task(read_outer())
        await settle()
        reader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reader

        assert inner_owner.stopped
        with pytest.raises(StreamCancelledError, match="Agent 'inner' was cancelled"):
            async for _piece in inner.sequence_promise:
                pass
        async with asyncio.timeout(5):
            with pytest.raises(asyncio.CancelledError):
                await inner_work


async def test_a_deferred_sequence_inside_starts_once_forwarding_waits_for_it() -> None:
    demanded: list[str] = []
    async with PromisingContext():
        inner = sequence(
            "inner", schedule_immediately=False, on_demand=lambda: demanded.append("inner")
        )
        outer = sequence("outer", schedule_immediately=True)
        inner.append_producer.append("x")  # held; a deferred sequence passes this through
        assert demanded == []
        outer.append_producer.append(inner.sequence_promise)
        assert demanded == ["inner"]
        assert held(outer) == ["x"]


async def test_sequences_nested_deeper_than_one_stack_forward_in_later_steps() -> None:
    async with PromisingContext():
        chain = [sequence(f"level {level}") for level in range(300)]
        for outer, inner in itertools.pairwise(chain):
            outer.append_producer.append(inner.sequence_promise)
        chain[-1].append_producer.append("deepest")
        for level in reversed(chain):
            level.append_producer.close()

        async with asyncio.timeout(5):
            assert [piece async for piece in chain[0].sequence_promise] == ["deepest"]
