"""FlatSequence: incoming items turned, item by item and in order, into one flat stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from miniagents_lc.promising import AppendProducer, FlatSequence


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
