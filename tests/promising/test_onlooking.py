"""Onlookers: following a stream's pieces without being one of its readers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from miniagents_lc.promising import AppendProducer, PromisingContext, StreamedPromise
from miniagents_lc.promising.lowlevel import Claims, Onlooker, StreamBuffer, Wakeup, buffer_of


async def test_an_onlooker_reads_the_pieces_in_batches_then_the_end() -> None:
    buffer: StreamBuffer[int] = StreamBuffer()
    onlooker = Onlooker(buffer)
    buffer.push(1)
    buffer.push(2)
    assert await onlooker.read() == [1, 2]
    reading = asyncio.ensure_future(onlooker.read())
    await asyncio.sleep(0)
    assert not reading.done()  # it waits for the next piece
    buffer.push(3)
    assert await reading == [3]
    buffer.end()
    assert await onlooker.read() is None
    assert not onlooker.cut


async def test_an_onlooker_never_starts_a_deferred_producer() -> None:
    started = asyncio.Event()

    async def produce(_promise: Any) -> AsyncIterator[str]:
        started.set()
        yield "x"

    async with PromisingContext():
        promise: StreamedPromise[str, Any] = StreamedPromise(
            producer=produce, schedule_immediately=False
        )
        onlooker = Onlooker(buffer_of(promise))
        looking = asyncio.ensure_future(onlooker.read())
        for _ in range(5):
            await asyncio.sleep(0)
        assert not started.is_set()
        assert not looking.done()
        assert await promise == ("x",)  # a real reader starts it; the onlooker sees the pieces
        assert await looking == ["x"]


async def test_an_onlooker_does_not_keep_an_abandoned_stream_alive() -> None:
    async with PromisingContext():
        producer: AppendProducer[int] = AppendProducer()
        promise: StreamedPromise[int, Any] = StreamedPromise(producer=producer)
        producer.open()
        onlooker = Onlooker(buffer_of(promise))
        reader = asyncio.ensure_future(promise.acollect())
        await asyncio.sleep(0)
        assert buffer_of(promise).readership.is_read
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        assert not buffer_of(promise).readership.is_read  # the onlooker counts for nothing
        onlooker.stop_waiting()
        assert await onlooker.read() is None
        producer.close()


async def test_stop_waiting_ends_a_pending_read_after_what_is_buffered() -> None:
    buffer: StreamBuffer[str] = StreamBuffer()
    onlooker = Onlooker(buffer)
    reading = asyncio.ensure_future(onlooker.read())
    await asyncio.sleep(0)
    onlooker.stop_waiting()
    assert await reading is None
    assert onlooker.cut
    buffer.push("late")
    assert await onlooker.read() == ["late"]  # what is buffered is still read, then the cut
    assert await onlooker.read() is None


def test_a_wakeup_calls_back_once_per_arming() -> None:
    calls: list[str] = []
    buffer: StreamBuffer[str] = StreamBuffer()
    wakeup = Wakeup(lambda: calls.append("moved"))
    wakeup.arm(buffer)
    wakeup.arm(buffer)  # arming twice is arming once
    buffer.push("a")
    buffer.push("b")  # not armed any more
    assert calls == ["moved"]
    wakeup.arm(buffer)
    wakeup.disarm()
    buffer.push("c")
    assert calls == ["moved"]
    wakeup.arm(buffer)
    buffer.end()
    assert calls == ["moved", "moved"]


def test_claims_give_each_piece_to_the_first_stream_that_holds_it_in_the_step_it_arrives() -> None:
    claimed: set[str] = set()
    inner: StreamBuffer[str] = StreamBuffer()
    outer: StreamBuffer[str] = StreamBuffer()
    seen: list[tuple[str, str]] = []
    for name, buffer in (("inner", inner), ("outer", outer)):
        Claims(buffer, claimed, lambda piece, name=name: seen.append((name, piece))).advance()
    inner.push("a")
    outer.push("a")  # passed on: the inner stream had it first
    outer.push("b")
    assert seen == [("inner", "a"), ("outer", "b")]


def test_claims_take_what_is_there_then_follow_until_stopped_and_tell_each_move() -> None:
    buffer: StreamBuffer[str] = StreamBuffer()
    buffer.push("a")
    claimed: set[str] = set()
    pieces: list[str] = []
    moves: list[bool] = []
    claims = Claims(buffer, claimed, pieces.append, on_move=lambda: moves.append(claims.ended))
    claims.advance()
    buffer.push("b")
    claims.stop()
    buffer.push("c")  # no longer followed
    assert (pieces, moves) == (["a", "b"], [False])
    claims.advance()
    buffer.end()
    assert (pieces, moves, claimed) == (["a", "b", "c"], [False, True], {"a", "b", "c"})
