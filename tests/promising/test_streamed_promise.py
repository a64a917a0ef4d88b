"""StreamedPromise: a stream of pieces produced once and replayed to every consumer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest

from miniagents_lc.promising import AppendProducer, PromisingContext, StreamCursor, StreamedPromise
from miniagents_lc.promising.lowlevel import buffer_of
from miniagents_lc.testing import settle

PIECES = ["a", "b", "c", "d", "e"]


class CountingProducer:
    """A producer function that counts its calls and the pieces it actually produces."""

    def __init__(self, pieces: list[Any], error: Exception | None = None) -> None:
        self.pieces = pieces
        self.error = error
        self.calls = 0
        self.steps = 0
        self.finished = asyncio.Event()

    async def __call__(self, _promise: StreamedPromise[Any, Any]) -> AsyncIterator[Any]:
        self.calls += 1
        for piece in self.pieces:
            self.steps += 1
            yield piece
        self.finished.set()
        if self.error is not None:
            raise self.error


async def awaited(awaitable: Any) -> Any:
    """`await awaitable` as a fresh coroutine (gather would merge repeated awaitables)."""
    return await awaitable


async def consume(stream: StreamedPromise[Any, Any]) -> list[Any]:
    return [piece async for piece in stream]


async def consume_until_error(stream: StreamedPromise[Any, Any]) -> tuple[list[Any], Exception]:
    pieces: list[Any] = []
    try:
        async for piece in stream:
            pieces.append(piece)
    except Exception as error:
        return pieces, error
    pytest.fail("the stream ended without the error")


def completes_without_suspending(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run `coroutine` one step; fail if it had to wait for the event loop."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    pytest.fail("the coroutine suspended although it had everything it needed")


# -- replay -------------------------------------------------------------------------------


@pytest.mark.parametrize("consumers", [1, 2, 7])
async def test_every_consumer_replays_all_pieces_each_produced_once(scheduling, consumers):
    producer = CountingProducer(PIECES)
    async with scheduling.context():
        stream = StreamedPromise(
            producer=producer, schedule_immediately=scheduling.schedule_immediately
        )
        results = [await consume(stream) for _ in range(consumers)]

    assert results == [PIECES] * consumers
    assert producer.calls == 1
    assert producer.steps == len(PIECES)


async def test_a_consumer_starting_after_production_ended_replays_from_the_start(scheduling):
    producer = CountingProducer(PIECES)
    async with scheduling.context():
        stream = StreamedPromise(
            producer=producer, schedule_immediately=scheduling.schedule_immediately
        )
        assert await consume(stream) == PIECES
        assert stream.done

        assert await consume(stream) == PIECES
    assert producer.steps == len(PIECES)


async def test_two_concurrent_consumers_each_receive_every_piece_as_it_is_produced(scheduling):
    releases = [asyncio.Event() for _ in PIECES]
    steps = 0

    async def gated_producer(_promise: Any) -> AsyncIterator[str]:
        nonlocal steps
        for release, piece in zip(releases, PIECES, strict=True):
            await release.wait()
            steps += 1
            yield piece

    async def consumer(stream: StreamedPromise[str, Any], received: asyncio.Queue[str]) -> None:
        async for piece in stream:
            await received.put(piece)

    async with scheduling.context():
        stream = StreamedPromise(
            producer=gated_producer, schedule_immediately=scheduling.schedule_immediately
        )
        queues: list[asyncio.Queue[str]] = [asyncio.Queue(), asyncio.Queue()]
        tasks = [asyncio.create_task(consumer(stream, queue)) for queue in queues]
        async with asyncio.timeout(5):
            for release, piece in zip(releases, PIECES, strict=True):
                assert all(queue.empty() for queue in queues)
                release.set()
                # Both consumers are waiting at the same position and both get the new piece.
                assert [await queue.get() for queue in queues] == [piece, piece]
            await asyncio.gather(*tasks)

    assert steps == len(PIECES)


# -- the whole ------------------------------------------------------------------------------


async def test_await_gives_the_packaged_whole_and_the_packager_runs_once(scheduling):
    packager_calls = 0

    async def packager(promise: StreamedPromise[str, str]) -> str:
        nonlocal packager_calls
        packager_calls += 1
        return "".join([piece async for piece in promise])

    async with scheduling.context():
        stream = StreamedPromise(
            producer=CountingProducer(PIECES),
            packager=packager,
            schedule_immediately=scheduling.schedule_immediately,
        )
        concurrent = await asyncio.gather(awaited(stream), awaited(stream), stream.acollect())
        later = await stream

    assert concurrent == ["abcde"] * 3
    assert all(whole is later for whole in concurrent)
    assert packager_calls == 1


async def test_a_packager_error_is_cached_and_raised_to_every_awaiter(scheduling):
    packager_calls = 0
    error = ValueError("cannot package")

    async def packager(_promise: Any) -> str:
        nonlocal packager_calls
        packager_calls += 1
        raise error

    async with scheduling.context():
        stream = StreamedPromise(
            producer=CountingProducer(PIECES),
            packager=packager,
            schedule_immediately=scheduling.schedule_immediately,
        )
        for _ in range(3):
            with pytest.raises(ValueError, match="cannot package") as raised:
                await stream
            assert raised.value is error

    assert packager_calls == 1


async def _async_generator_packager(_promise: Any) -> AsyncIterator[str]:
    yield "not a whole"


@pytest.mark.parametrize(
    "packager",
    [
        pytest.param("not callable", id="not-callable"),
        pytest.param(lambda _promise: "whole", id="sync-function"),
        pytest.param(_async_generator_packager, id="async-generator-function"),
    ],
)
async def test_a_packager_that_is_not_an_async_function_raises_type_error(scheduling, packager):
    async with scheduling.context():
        stream = StreamedPromise(
            producer=CountingProducer(PIECES),
            packager=packager,
            schedule_immediately=scheduling.schedule_immediately,
        )
        with pytest.raises(TypeError, match="packager"):
            await stream
        # The stream itself is unaffected.
        assert await consume(stream) == PIECES


# -- errors ---------------------------------------------------------------------------------


async def test_a_producer_error_is_raised_at_its_position_in_every_replay(scheduling):
    error = ValueError("broken after two pieces")
    producer = CountingProducer(["a", "b"], error=error)
    async with scheduling.context():
        stream = StreamedPromise(
            producer=producer, schedule_immediately=scheduling.schedule_immediately
        )
        replays = [await consume_until_error(stream) for _ in range(3)]

    assert replays == [(["a", "b"], error)] * 3
    assert all(raised is error for _, raised in replays)
    assert producer.steps == 2


async def test_an_iterator_ends_after_raising_the_producer_error(scheduling):
    async with scheduling.context():
        stream = StreamedPromise(
            producer=CountingProducer(["a"], error=ValueError("boom")),
            schedule_immediately=scheduling.schedule_immediately,
        )
        iterator = aiter(stream)
        async with asyncio.timeout(5):
            assert await anext(iterator) == "a"
            with pytest.raises(ValueError, match="boom"):
                await anext(iterator)
            with pytest.raises(StopAsyncIteration):
                await anext(iterator)


def _sync_generator_function(_promise: Any) -> Any:
    yield "a sync generator is not an async iterator"


async def _coroutine_function(_promise: Any) -> list[str]:
    return ["an async function without yield"]


class _NotAsyncIterable:
    def __iter__(self) -> Any:
        return iter(["a sync iterable"])


@pytest.mark.parametrize(
    "producer",
    [
        pytest.param(42, id="not-callable"),
        pytest.param(_NotAsyncIterable(), id="sync-iterable"),
        pytest.param(lambda _promise: ["a", "list"], id="sync-function-returning-list"),
        pytest.param(_sync_generator_function, id="sync-generator-function"),
        pytest.param(_coroutine_function, id="async-function-without-yield"),
    ],
)
async def test_a_broken_producer_raises_type_error_at_first_anext_then_the_stream_ends(
    scheduling, producer
):
    async with scheduling.context():
        stream = StreamedPromise(
            producer=producer, schedule_immediately=scheduling.schedule_immediately
        )
        async with asyncio.timeout(5):
            for _replay in range(2):
                iterator = aiter(stream)
                with pytest.raises(TypeError, match="producer"):
                    await anext(iterator)
                with pytest.raises(StopAsyncIteration):
                    await anext(iterator)


# -- scheduling -----------------------------------------------------------------------------


async def test_production_starts_without_a_consumer_exactly_when_scheduled_immediately(
    scheduling,
):
    producer = CountingProducer(PIECES)
    async with scheduling.context():
        stream = StreamedPromise(
            producer=producer, schedule_immediately=scheduling.schedule_immediately
        )
        assert producer.calls == 0, "creating a stream must not run its producer on the spot"

        await asyncio.sleep(0)  # one task switch
        assert (producer.calls == 1) is scheduling.immediate

        for _ in range(20):  # plenty of further task switches, still no consumer
            await asyncio.sleep(0)
        assert producer.finished.is_set() is scheduling.immediate

        assert await consume(stream) == PIECES
    assert producer.steps == len(PIECES)


async def test_a_deferred_stream_nobody_consumes_does_not_keep_the_context_open():
    producer = CountingProducer(PIECES)
    async with asyncio.timeout(5), PromisingContext():
        StreamedPromise(producer=producer, schedule_immediately=False)
    assert producer.calls == 0


async def test_a_prefilled_stream_needs_no_producer_and_no_context():
    stream: StreamedPromise[str, str] = StreamedPromise(
        prefill_pieces=PIECES, prefill_whole="whole"
    )
    assert stream.done
    assert await consume(stream) == PIECES
    assert await consume(stream) == PIECES
    assert await stream == "whole"


# -- StreamCursor batch reads ---------------------------------------------------------------


async def test_read_nowait_returns_everything_buffered_and_nothing_when_caught_up():
    producer: AppendProducer[int] = AppendProducer()
    cursor: StreamCursor[int] = StreamedPromise(producer=producer).cursor()
    with producer:
        assert cursor.read_nowait() == []
        producer.append(1).append(2).append(3)
        assert cursor.read_nowait() == [1, 2, 3]
        assert cursor.read_nowait() == []
        producer.append(4)
        assert cursor.read_nowait() == [4]
    assert cursor.read_nowait() == []
    assert cursor.at_end


async def test_read_returns_what_is_buffered_without_waiting():
    producer: AppendProducer[int] = AppendProducer()
    cursor: StreamCursor[int] = StreamedPromise(producer=producer).cursor()
    with producer:
        producer.append(1).append(2)
        assert completes_without_suspending(cursor.read()) == [1, 2]


async def test_read_waits_only_when_nothing_is_buffered_and_then_returns_the_whole_batch():
    producer: AppendProducer[int] = AppendProducer()
    cursor: StreamCursor[int] = StreamedPromise(producer=producer).cursor()
    with producer:
        reader = asyncio.create_task(cursor.read())
        for _ in range(5):
            await asyncio.sleep(0)
        assert not reader.done(), "read() must wait while nothing is buffered"

        producer.append(1).append(2)
        async with asyncio.timeout(5):
            assert await reader == [1, 2]


async def test_read_returns_an_empty_batch_once_the_stream_has_ended_cleanly():
    producer: AppendProducer[int] = AppendProducer()
    cursor: StreamCursor[int] = StreamedPromise(producer=producer).cursor()
    with producer:
        producer.append(1)
        assert await cursor.read() == [1]
        waiting = asyncio.create_task(cursor.read())
        await asyncio.sleep(0)
        assert not waiting.done()
    async with asyncio.timeout(5):
        assert await waiting == []
    assert await cursor.read() == []


async def test_batch_reads_raise_the_stream_error_at_its_position_then_end():
    error = ValueError("boom")
    producer: AppendProducer[int] = AppendProducer()
    stream: StreamedPromise[int, Any] = StreamedPromise(producer=producer)
    nowait_cursor, read_cursor = stream.cursor(), stream.cursor()
    producer.open().append(1).append(2)
    producer.close(error)

    assert nowait_cursor.read_nowait() == [1, 2]
    with pytest.raises(ValueError, match="boom") as raised:
        nowait_cursor.read_nowait()
    assert raised.value is error
    assert nowait_cursor.read_nowait() == []

    async with asyncio.timeout(5):
        assert await read_cursor.read() == [1, 2]
        with pytest.raises(ValueError, match="boom"):
            await read_cursor.read()
        assert await read_cursor.read() == []


async def test_read_starts_a_deferred_producer():
    producer = CountingProducer(PIECES)
    async with PromisingContext():
        cursor = StreamedPromise(producer=producer, schedule_immediately=False).cursor()
        collected: list[str] = []
        async with asyncio.timeout(5):
            while batch := await cursor.read():
                collected.extend(batch)
    assert collected == PIECES


async def test_a_cursor_wait_calls_back_in_the_step_that_moved_the_stream() -> None:
    seen: list[list[str]] = []
    async with PromisingContext():
        producer: AppendProducer[str] = AppendProducer()
        promise: StreamedPromise[str, Any] = StreamedPromise(producer=producer)
        cursor = promise.cursor()
        waiting = asyncio.create_task(cursor.wait(lambda: seen.append(cursor.read_nowait())))
        await settle()
        with producer:
            producer.append("a")
            assert seen == [["a"]]  # before any task switch
        await waiting


async def test_a_cursor_wait_raises_what_its_callback_raises() -> None:
    async with PromisingContext():
        producer: AppendProducer[str] = AppendProducer()
        promise: StreamedPromise[str, Any] = StreamedPromise(producer=producer)
        cursor = promise.cursor()
        waiting = asyncio.create_task(cursor.wait(cursor.read_nowait))
        await settle()
        producer.open()
        producer.close(ValueError("broke"))
        async with asyncio.timeout(5):
            with pytest.raises(ValueError, match="broke"):
                await waiting


async def test_a_cancelled_cursor_wait_abandons_the_stream_it_alone_read() -> None:
    async with PromisingContext():

        async def endless(_promise: Any) -> AsyncIterator[str]:
            await asyncio.Event().wait()
            yield "never"

        promise: StreamedPromise[str, Any] = StreamedPromise(producer=endless)
        producing = buffer_of(promise).producer_task
        assert producing is not None

        async def read() -> None:
            await promise.cursor().wait(lambda: None)

        reader = asyncio.create_task(read())
        await settle()
        reader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reader
        async with asyncio.timeout(5):
            with pytest.raises(asyncio.CancelledError):
                await producing
