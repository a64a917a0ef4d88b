"""A reader waiting on a StreamedPromise takes a piece before the producer goes on: a producer
whose next step does not await (synchronous work, such as an SDK parsing an event it has
already received) must not hold back the piece it has just made."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from miniagents_lc.promising import PromisingContext, StreamedPromise

PIECES = 4
GAP = 0.005  # between two pieces, as the network leaves: the reader catches up and waits


async def test_a_waiting_reader_takes_each_piece_before_the_producer_goes_on() -> None:
    log: list[str] = []

    async def producer(_promise: Any) -> AsyncIterator[int]:
        for index in range(PIECES):
            await asyncio.sleep(GAP)
            log.append(f"made {index}")
            yield index
            log.append(f"went on after {index}")  # synchronous: no await before the next

    async def reader(stream: StreamedPromise[int, Any]) -> None:
        async for index in stream:
            log.append(f"read {index}")

    async with PromisingContext():
        stream: StreamedPromise[int, Any] = StreamedPromise(producer=producer)
        await reader(stream)

    assert log == [
        entry
        for index in range(PIECES)
        for entry in (f"made {index}", f"read {index}", f"went on after {index}")
    ]
