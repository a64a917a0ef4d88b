"""FlatSequence: incoming items turned, item by item and in order, into one flat stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from miniagents_lc.promising import (
    AppendProducer,
    FedSequence,
    FlatSequence,
    PromisingContext,
    StreamCancelledError,
    StreamedPromise,
    flatten,
)
from miniagents_lc.promising.ownership import TaskOwner


async def consume_into(pieces: list[Any], stream: AsyncIterator[Any] | Any) -> None:
    async for piece in stream:
        pieces.append(piece)


async def tens(_sequence: Any, item: int) -> AsyncIterator[int]:
    """Each item becomes itself followed by itself times ten."""
    yield item
    yield item * 10


async def test_the_sequence_streams_the_flattened_output_of_every_appended_item(scheduling):
    async with scheduling.context():
        incoming: AppendProducer[int] = AppendProducer()
        sequence = FlatSequence(
            incoming, tens, schedule_immediately=scheduling.schedule_immediately
        )
        with incoming:
            incoming.append(1).append(2).append(3)
        async with asyncio.timeout(5):
            pieces = [piece async for piece in sequence.sequence_promise]
            replay = [piece async for piece in sequence.sequence_promise]

    assert pieces == replay == [1, 10, 2, 20, 3, 30]


async def test_the_incoming_producer_may_be_an_async_generator_function(scheduling):
    async def incoming(_promise: Any) -> AsyncIterator[int]:
        for item in (1, 2):
            yield item

    async with scheduling.context():
        sequence = FlatSequence(
            incoming, tens, schedule_immediately=scheduling.schedule_immediately
        )
        async with asyncio.timeout(5):
            assert [piece async for piece in sequence.sequence_promise] == [1, 10, 2, 20]


async def test_flattening_runs_as_a_task_without_a_consumer_exactly_when_scheduled_immediately(
    scheduling,
):
    flattened: list[int] = []

    async def recording(_sequence: Any, item: int) -> AsyncIterator[int]:
        flattened.append(item)
        yield item

    async with scheduling.context():
        incoming: AppendProducer[int] = AppendProducer()
        sequence = FlatSequence(
            incoming, recording, schedule_immediately=scheduling.schedule_immediately
        )
        with incoming:
            incoming.append(1).append(2)
        assert flattened == [], "appending must not flatten on the spot"

        for _ in range(20):
            await asyncio.sleep(0)
        assert (flattened == [1, 2]) is scheduling.immediate

        async with asyncio.timeout(5):
            assert [piece async for piece in sequence.sequence_promise] == [1, 2]
    assert flattened == [1, 2]


async def test_a_flattener_error_is_raised_at_its_position(scheduling):
    async def fails_on_two(_sequence: Any, item: int) -> AsyncIterator[int]:
        if item == 2:
            raise ValueError("cannot flatten 2")
        yield item

    async with scheduling.context():
        incoming: AppendProducer[int] = AppendProducer()
        sequence = FlatSequence(
            incoming, fails_on_two, schedule_immediately=scheduling.schedule_immediately
        )
        with incoming:
            incoming.append(1).append(2).append(3)

        pieces: list[int] = []
        async with asyncio.timeout(5):
            with pytest.raises(ValueError, match="cannot flatten 2"):
                await consume_into(pieces, sequence.sequence_promise)
    assert pieces == [1]


# -- flatten --------------------------------------------------------------------------------


async def test_flatten_closes_the_pieces_of_the_current_item_when_it_is_closed_early():
    closed: list[int] = []

    async def items() -> AsyncIterator[int]:
        for item in (1, 2):
            yield item

    async def pieces(item: int) -> AsyncIterator[int]:
        try:
            yield item
            yield item * 10
        finally:
            closed.append(item)

    flat = flatten(items(), pieces)
    assert await anext(flat) == 1
    await flat.aclose()
    assert closed == [1]


# -- FedSequence ----------------------------------------------------------------------------


def fed(**options: Any) -> FedSequence[int, StreamedPromise[int, Any]]:
    """A FedSequence of ints: even items pass through as themselves, odd ones become two."""

    async def twice(item: int) -> AsyncIterator[int]:
        if item < 0:
            raise ValueError(f"cannot flatten {item}")
        yield item
        yield item

    return FedSequence(
        twice,
        promise_class=StreamedPromise,
        pass_through=lambda item: item if item % 2 == 0 else None,
        **options,
    )


async def test_an_item_that_passes_through_takes_its_place_at_once_unless_one_is_queued(
    scheduling,
):
    async with scheduling.context():
        sequence = fed(schedule_immediately=scheduling.schedule_immediately)
        with sequence.append_producer:
            sequence.append_producer.append(2)
            assert sequence.sequence_promise.cursor().read_nowait() == [2]
            sequence.append_producer.append(3).append(4)  # 4 waits for 3: flattened too
        async with asyncio.timeout(5):
            assert [piece async for piece in sequence.sequence_promise] == [2, 3, 3, 4, 4]


async def test_on_error_sees_the_error_before_the_readers_do(scheduling):
    seen: list[BaseException] = []
    async with scheduling.context():
        sequence = fed(
            schedule_immediately=scheduling.schedule_immediately,
            on_error=lambda error: seen.append(error),
        )
        with sequence.append_producer:
            sequence.append_producer.append(2).append(-1)
        pieces: list[int] = []
        async with asyncio.timeout(5):
            with pytest.raises(ValueError, match="cannot flatten -1") as raised:
                await consume_into(pieces, sequence.sequence_promise)
    assert pieces == [2]
    assert seen == [raised.value]


@pytest.mark.parametrize("immediately", [True, False])
async def test_on_demand_runs_at_the_first_read_of_a_sequence_not_scheduled_immediately(
    immediately: bool,
):
    demanded: list[bool] = []
    async with PromisingContext():
        sequence = fed(schedule_immediately=immediately, on_demand=lambda: demanded.append(True))
        with sequence.append_producer:
            sequence.append_producer.append(1)
        await asyncio.sleep(0)
        assert demanded == []
        async with asyncio.timeout(5):
            assert [piece async for piece in sequence.sequence_promise] == [1, 1]
    assert demanded == ([] if immediately else [True])


async def test_an_owned_sequence_abandoned_by_its_readers_stops_its_owner():
    async with PromisingContext():
        owner = TaskOwner("Job", "collector")
        sequence = fed(owner=owner)
        owner_work = asyncio.create_task(asyncio.Event().wait())
        owner.add(owner_work)
        sequence.append_producer.open().append(2)

        reader = asyncio.create_task(consume_into([], sequence.sequence_promise))
        await asyncio.sleep(0)
        reader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reader

        assert owner.stopped
        with pytest.raises(StreamCancelledError, match="Job 'collector' was cancelled"):
            await consume_into([], sequence.sequence_promise)
        async with asyncio.timeout(5):
            with pytest.raises(asyncio.CancelledError):
                await owner_work
