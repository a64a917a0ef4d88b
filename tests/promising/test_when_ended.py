"""`FedSequence.when_ended`: told once the sequence has ended, without reading it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from miniagents_lc.promising import FedSequence, PromisingContext, StreamedPromise


def fed() -> FedSequence[int, StreamedPromise[int, Any]]:
    async def checked(item: int) -> AsyncIterator[int]:
        if item < 0:
            raise ValueError(f"cannot flatten {item}")
        yield item

    return FedSequence(checked, promise_class=StreamedPromise, pass_through=lambda item: None)


@pytest.mark.parametrize(("items", "error"), [([1, 2], None), ([1, -1], ValueError)])
async def test_the_callback_gets_how_the_sequence_ended(
    items: list[int], error: type[Exception] | None
) -> None:
    ended: list[BaseException | None] = []
    done = asyncio.Event()

    def on_end(error: BaseException | None) -> None:
        ended.append(error)
        done.set()

    async with PromisingContext():
        sequence = fed()
        sequence.when_ended(on_end)
        with sequence.append_producer as producer:
            for item in items:
                producer.append(item)
        async with asyncio.timeout(5):
            await done.wait()
    assert [type(end) if end is not None else None for end in ended] == [error]


async def test_a_sequence_that_has_ended_calls_back_at_once() -> None:
    ended: list[BaseException | None] = []
    async with PromisingContext():
        sequence = fed()
        sequence.append_producer.open()
        sequence.append_producer.close()
        assert sequence.sequence_promise.done
        sequence.when_ended(ended.append)
        assert ended == [None]


async def test_following_the_end_neither_reads_nor_starts_the_flattening() -> None:
    ended: list[BaseException | None] = []
    async with PromisingContext(schedule_immediately_by_default=False):
        sequence = fed()
        sequence.when_ended(ended.append)
        with sequence.append_producer as producer:
            producer.append(1)
        assert ended == []
        assert not sequence.readership.is_read
        assert [piece async for piece in sequence.sequence_promise] == [1]
    assert ended == [None]
