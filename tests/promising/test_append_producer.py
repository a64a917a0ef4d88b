"""AppendProducer: a stream fed from outside with `append`, closed by leaving its block."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from miniagents_lc.promising import (
    DEFAULT,
    AppendClosedError,
    AppendNotOpenError,
    AppendProducer,
    PromisingContext,
    StreamedPromise,
)

CAPTURING = [
    pytest.param(True, False, id="True"),
    pytest.param(DEFAULT, True, id="DEFAULT-ctx-True"),
]
NOT_CAPTURING = [
    pytest.param(False, True, id="False"),
    pytest.param(DEFAULT, False, id="DEFAULT-ctx-False"),
]


def append_then_raise(producer: AppendProducer[str], error: Exception) -> None:
    with producer:
        producer.append("a")
        raise error


async def consume(stream: StreamedPromise[Any, Any]) -> list[Any]:
    return [piece async for piece in stream]


async def test_appended_pieces_stream_and_leaving_the_block_ends_the_stream(scheduling):
    async with scheduling.context():
        producer: AppendProducer[str] = AppendProducer()
        stream: StreamedPromise[str, Any] = StreamedPromise(
            producer=producer, schedule_immediately=scheduling.schedule_immediately
        )
        with producer:
            producer.append("a").append("b")
        async with asyncio.timeout(5):
            assert await consume(stream) == ["a", "b"]
            assert await consume(stream) == ["a", "b"]
        assert producer.is_closed


async def test_a_waiting_consumer_receives_each_piece_as_it_is_appended(scheduling):
    async with scheduling.context():
        producer: AppendProducer[int] = AppendProducer()
        stream: StreamedPromise[int, Any] = StreamedPromise(
            producer=producer, schedule_immediately=scheduling.schedule_immediately
        )
        received: asyncio.Queue[int] = asyncio.Queue()

        async def consumer() -> None:
            async for piece in stream:
                await received.put(piece)

        task = asyncio.create_task(consumer())
        async with asyncio.timeout(5):
            with producer:
                for piece in range(3):
                    producer.append(piece)
                    assert await received.get() == piece
            await task


async def test_open_and_close_work_for_code_that_cannot_use_with():
    producer: AppendProducer[str] = AppendProducer()
    stream: StreamedPromise[str, Any] = StreamedPromise(producer=producer)
    assert not producer.is_open

    producer.open()
    assert producer.is_open
    producer.append("a")
    producer.close()
    producer.close()  # closing twice is harmless

    assert producer.is_closed
    async with asyncio.timeout(5):
        assert await consume(stream) == ["a"]


def test_append_before_open_raises_append_not_open_error():
    producer: AppendProducer[str] = AppendProducer()
    with pytest.raises(AppendNotOpenError, match="open"):
        producer.append("too early")


def _close_by_leaving_the_block(producer: AppendProducer[Any]) -> None:
    with producer:
        pass


def _close_explicitly(producer: AppendProducer[Any]) -> None:
    producer.open()
    producer.close()


@pytest.mark.parametrize("close", [_close_by_leaving_the_block, _close_explicitly])
def test_append_after_close_raises_append_closed_error(close):
    producer: AppendProducer[str] = AppendProducer()
    close(producer)
    with pytest.raises(AppendClosedError, match="closed"):
        producer.append("too late")


@pytest.mark.parametrize(("capture_errors", "context_default"), CAPTURING)
async def test_with_capture_errors_an_exception_in_the_block_is_streamed_and_suppressed(
    capture_errors, context_default
):
    error = ValueError("raised inside the block")
    async with PromisingContext(producer_capture_errors_by_default=context_default):
        producer: AppendProducer[str] = AppendProducer(capture_errors=capture_errors)
        stream: StreamedPromise[str, Any] = StreamedPromise(producer=producer)
        append_then_raise(producer, error)  # no pytest.raises: the error must be suppressed

        async with asyncio.timeout(5):
            for _replay in range(2):
                iterator = aiter(stream)
                assert await anext(iterator) == "a"
                with pytest.raises(ValueError, match="raised inside the block") as raised:
                    await anext(iterator)
                assert raised.value is error
                with pytest.raises(StopAsyncIteration):
                    await anext(iterator)
    assert producer.is_closed


@pytest.mark.parametrize(("capture_errors", "context_default"), NOT_CAPTURING)
async def test_without_capture_errors_an_exception_propagates_and_the_stream_closes_cleanly(
    capture_errors, context_default
):
    async with PromisingContext(producer_capture_errors_by_default=context_default):
        producer: AppendProducer[str] = AppendProducer(capture_errors=capture_errors)
        stream: StreamedPromise[str, Any] = StreamedPromise(producer=producer)
        with pytest.raises(ValueError, match="raised inside the block"):
            append_then_raise(producer, ValueError("raised inside the block"))

        async with asyncio.timeout(5):
            assert await consume(stream) == ["a"]
    assert producer.is_closed


async def test_an_append_producer_is_itself_an_async_iterable_of_its_pieces():
    producer: AppendProducer[str] = AppendProducer()
    with producer:
        producer.append("a").append("b")
    async with asyncio.timeout(5):
        assert [piece async for piece in producer] == ["a", "b"]
        assert [piece async for piece in producer] == ["a", "b"]
