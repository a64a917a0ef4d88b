"""Readership: every open read of a stream holds a lease; a cancelled read that leaves no other
read open abandons the stream, and a stream nobody owns then stops its producer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from miniagents_lc.promising import PromisingContext, StreamCancelledError, StreamedPromise
from miniagents_lc.testing import settle

PIECES = 200


@dataclass
class Production:
    """A producer that makes its first piece, then waits (mid-stream, stoppable) until the test
    lets it go on; records whether it ran to its end or was stopped."""

    produced: int = 0
    first_piece: asyncio.Event = field(default_factory=asyncio.Event)
    may_go_on: asyncio.Event = field(default_factory=asyncio.Event)
    outcome: asyncio.Future[str] | None = None

    async def __call__(self, _promise: Any) -> AsyncIterator[int]:
        self.outcome = asyncio.get_running_loop().create_future()
        try:
            for index in range(PIECES):
                if index == 1:
                    await self.may_go_on.wait()
                await asyncio.sleep(0)  # a task switch per piece, as a stream gives
                self.produced += 1
                self.first_piece.set()
                yield index
        except asyncio.CancelledError:
            self.outcome.set_result("stopped")
            raise
        self.outcome.set_result("completed")

    def is_running(self) -> bool:
        return self.outcome is not None and not self.outcome.done()

    async def result(self) -> str:
        assert self.outcome is not None, "the producer never started"
        async with asyncio.timeout(5):
            return await self.outcome


async def replay(stream: StreamedPromise[int, Any]) -> None:
    async for _piece in stream:
        pass


async def cursor_reads(stream: StreamedPromise[int, Any]) -> None:
    cursor = stream.cursor()
    while await cursor.read():
        pass


async def await_whole(stream: StreamedPromise[int, Any]) -> None:
    await stream


async def replay_open_while_waiting_elsewhere(stream: StreamedPromise[int, Any]) -> None:
    async for _piece in stream:
        await asyncio.Event().wait()  # cancelled here, with the replay still open


async def cursor_open_while_waiting_elsewhere(stream: StreamedPromise[int, Any]) -> None:
    cursor = stream.cursor()
    await cursor.read()
    await asyncio.Event().wait()


READS: dict[str, Callable[[StreamedPromise[int, Any]], Awaitable[None]]] = {
    "replay": replay,
    "cursor": cursor_reads,
    "await": await_whole,
    "replay-open-elsewhere": replay_open_while_waiting_elsewhere,
    "cursor-open-elsewhere": cursor_open_while_waiting_elsewhere,
}


async def cancel_after_first_piece(reader: asyncio.Task[None], production: Production) -> None:
    async with asyncio.timeout(5):
        await production.first_piece.wait()
    await settle()  # the readers have the first piece and wait for more
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader


@pytest.mark.parametrize("read", list(READS.values()), ids=list(READS))
async def test_cancelling_the_only_reader_stops_an_unowned_stream_before_the_reader_is_awaited(
    read: Callable[[StreamedPromise[int, Any]], Awaitable[None]],
) -> None:
    production = Production()
    async with PromisingContext():
        stream: StreamedPromise[int, Any] = StreamedPromise(producer=production)
        await cancel_after_first_piece(asyncio.create_task(read(stream)), production)
        # No task switch since the reader was awaited: a new read comes too late.
        with pytest.raises(StreamCancelledError):
            await replay(stream)
        assert await production.result() == "stopped"
    assert 0 < production.produced < PIECES


@pytest.mark.parametrize("read", list(READS.values()), ids=list(READS))
async def test_a_stream_still_read_elsewhere_is_not_stopped(
    read: Callable[[StreamedPromise[int, Any]], Awaitable[None]],
) -> None:
    production = Production()
    async with PromisingContext():
        stream: StreamedPromise[int, Any] = StreamedPromise(producer=production)
        survivor = asyncio.create_task(replay(stream))
        await cancel_after_first_piece(asyncio.create_task(read(stream)), production)
        production.may_go_on.set()
        async with asyncio.timeout(5):
            await survivor
    assert await production.result() == "completed"


async def test_leaving_a_read_early_stops_nothing() -> None:
    production = Production()
    async with PromisingContext():
        stream: StreamedPromise[int, Any] = StreamedPromise(producer=production)
        async for _piece in stream:
            break
        cursor = stream.cursor()
        await cursor.read()
        cursor.close()
        production.may_go_on.set()
        async with asyncio.timeout(5):
            assert len(await stream) == PIECES
    assert await production.result() == "completed"


def open_cursor(stream: StreamedPromise[int, Any]) -> Any:
    return stream.cursor()


def open_replay(stream: StreamedPromise[int, Any]) -> Any:
    return aiter(stream)


@pytest.mark.parametrize("open_read", [open_cursor, open_replay], ids=["cursor", "replay"])
async def test_a_read_counts_for_the_task_that_goes_on_with_it_not_the_one_that_began_it(
    open_read: Callable[[StreamedPromise[int, Any]], Any],
) -> None:
    """As when LangChain runs each step of a streaming generator in a task of its own."""
    production = Production()
    async with PromisingContext():
        stream: StreamedPromise[int, Any] = StreamedPromise(producer=production)

        async def begin() -> Any:
            read = open_read(stream)
            await anext(read)
            return read

        read = await asyncio.create_task(begin())  # the task that began the read has ended

        async def go_on() -> int:
            count = 1
            async for _piece in read:
                count += 1
            return count

        survivor = asyncio.create_task(go_on())
        await cancel_after_first_piece(asyncio.create_task(replay(stream)), production)
        production.may_go_on.set()
        async with asyncio.timeout(5):
            assert await survivor == PIECES
    assert await production.result() == "completed"


async def test_a_closed_cursor_no_longer_keeps_the_stream_read() -> None:
    production = Production()
    async with PromisingContext():
        stream: StreamedPromise[int, Any] = StreamedPromise(producer=production)
        cursor = stream.cursor()
        await cancel_after_first_piece(asyncio.create_task(replay(stream)), production)
        assert production.is_running(), "the open cursor keeps the stream read"
        cursor.close()
        await settle()
        assert production.is_running(), "closing a cursor is no cancellation"

        await cancel_after_first_piece(asyncio.create_task(replay(stream)), production)
        assert await production.result() == "stopped"


async def test_a_dropped_cursor_keeps_counting_until_its_task_ends() -> None:
    production = Production()
    async with PromisingContext():
        stream: StreamedPromise[int, Any] = StreamedPromise(producer=production)
        holder_may_end = asyncio.Event()

        async def drop_a_cursor() -> None:
            cursor = stream.cursor()
            await cursor.read()
            del cursor  # dropping decides nothing
            await holder_may_end.wait()

        holder = asyncio.create_task(drop_a_cursor())
        await cancel_after_first_piece(asyncio.create_task(replay(stream)), production)
        await settle()
        assert production.is_running(), "the dropped cursor's task still runs"

        holder_may_end.set()
        await holder
        await cancel_after_first_piece(asyncio.create_task(replay(stream)), production)
        assert await production.result() == "stopped"
