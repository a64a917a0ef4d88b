"""The replay buffer behind every stream, and the cursor each consumer reads it with.

A buffer is written by exactly one producer and read by any number of cursors. Reading what is
already buffered costs no lock, no queue and no task switch; a cursor waits only when it has
caught up with the producer.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any, Generic, Protocol, Self, TypeVar

from miniagents_lc.promising.readership import Lease, Readership

PIECE = TypeVar("PIECE")


class Waiter(Protocol):
    """What waits for a buffer's next piece: an `asyncio.Future[None]`, or anything resolved
    the same way."""

    def done(self) -> bool: ...

    def set_result(self, result: None, /) -> None: ...


class StreamBuffer(Generic[PIECE]):
    """Pieces in production order, then an end marker and the error the stream ended with, if any.

    An error can only stand at the end: a producer that raised produces nothing more.
    """

    __slots__ = (
        "_late",
        "_readership",
        "_waiters",
        "done",
        "error",
        "on_first_demand",
        "pieces",
        "producer_task",
    )

    def __init__(self) -> None:
        self.pieces: list[PIECE] = []
        self.done = False
        self.error: BaseException | None = None
        # The futures of the cursors waiting for the next piece; made when one first waits
        # (most buffers are idle, finished or read without waiting).
        self._waiters: list[Waiter] | None = None
        # How many waiters at the end of that list pass the pieces on (`add_late_waiter`).
        self._late = 0
        # Made when first needed: most streams that are never read never need one.
        self._readership: Readership | None = None
        # Starts a deferred producer the first time a cursor has to wait; None once started.
        self.on_first_demand: Callable[[], None] | None = None
        # The task producing the pieces, while it runs.
        self.producer_task: asyncio.Task[Any] | None = None

    @property
    def readership(self) -> Readership:
        """Who reads this stream (see `Readership`)."""
        readership = self._readership
        if readership is None:
            readership = self._readership = Readership(self)
        return readership

    def push(self, piece: PIECE) -> None:
        """Add one piece and wake the cursors waiting for it."""
        self.pieces.append(piece)
        if self._waiters:
            self._wake()

    def end(self, error: BaseException | None = None) -> None:
        """Mark the stream finished (with `error` at its end, if given); later calls are ignored."""
        if self.done:
            return
        self.error = error
        self.done = True
        self.on_first_demand = None
        self.producer_task = None
        self._wake()

    def stop_production(self) -> None:
        """Cancel the producer, unless the stream has ended."""
        if not self.done and self.producer_task is not None:
            self.producer_task.cancel()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, None
        self._late = 0
        if waiters is not None:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def add_waiter(self, waiter: Waiter) -> None:
        """Resolve `waiter` at the next piece or at the end. Waiting so neither counts as
        reading the stream nor starts a deferred producer (`wait_beyond` does both)."""
        waiters = self._waiters
        if waiters is None:
            self._waiters = [waiter]
        elif self._late:
            waiters.insert(len(waiters) - self._late, waiter)
        else:
            waiters.append(waiter)

    def add_late_waiter(self, waiter: Waiter) -> None:
        """`add_waiter`, for what passes this buffer's pieces on (a sequence forwarding them):
        resolved after every other waiter, so that whoever watches this buffer itself hears of
        a piece, or of the end, before those who see it passed on do."""
        if self._waiters is None:
            self._waiters = [waiter]
        else:
            self._waiters.append(waiter)
        self._late += 1

    def discard_waiter(self, waiter: Waiter) -> None:
        """Forget `waiter` (its waiting was cancelled) if it is still listed."""
        waiters = self._waiters
        if waiters is not None and waiter in waiters:
            if waiters.index(waiter) >= len(waiters) - self._late:
                self._late -= 1
            waiters.remove(waiter)

    async def wait_beyond(self, index: int) -> None:
        """Return once a piece exists at `index` or the stream has ended."""
        if self.on_first_demand is not None:
            start, self.on_first_demand = self.on_first_demand, None
            start()
        while index >= len(self.pieces) and not self.done:
            # One future per waiting cursor: a cancelled cursor cancels only its own future.
            waiter = asyncio.get_running_loop().create_future()
            self.add_waiter(waiter)
            try:
                await waiter
            except BaseException:
                # Cancelled: the future is done, and the list would keep it until the next piece.
                self.discard_waiter(waiter)
                raise

    async def wait_for_end(self) -> None:
        """Return once the stream has ended (starting a deferred producer if need be)."""
        await self.wait_beyond(sys.maxsize)


class StreamCursor(Generic[PIECE]):
    """One consumer's position in a stream: an async iterator that replays from the start.

    Besides `async for`, it offers batch reads in the manner of anyio's memory streams:
    `read_nowait()` returns whatever is buffered, `read()` waits only when nothing is.
    The cursor counts as a reader of the stream until it reaches the end, is closed, or the
    task that last read it ends.
    """

    __slots__ = ("_buffer", "_index", "_lease")

    def __init__(self, buffer: StreamBuffer[PIECE]) -> None:
        self._buffer = buffer
        self._index = 0
        self._lease: Lease = buffer.readership.lease()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> PIECE:
        pieces = self._buffer.pieces
        index = self._index
        if index < len(pieces):
            self._index = index + 1
            return pieces[index]
        return await self._anext_slow()

    async def _anext_slow(self) -> PIECE:
        buffer = self._buffer
        await self._wait()
        index = self._index
        if index < len(buffer.pieces):
            self._index = index + 1
            return buffer.pieces[index]
        self._lease.release(cancelled=False)
        if buffer.error is not None and index == len(buffer.pieces):
            # Past the error: this cursor has delivered it, and the stream ends after it.
            self._index = index + 1
            raise buffer.error
        raise StopAsyncIteration

    def read_nowait(self) -> list[PIECE]:
        """Every piece buffered past this cursor, possibly none; raises the stream's error when
        the cursor reaches it (once: after the error the stream has ended)."""
        buffer = self._buffer
        index = self._index
        end = len(buffer.pieces)
        if index < end:
            self._index = end
            return buffer.pieces[index:end]
        if buffer.done:
            self._lease.release(cancelled=False)
            if buffer.error is not None and index == end:
                self._index = end + 1
                raise buffer.error
        return []

    async def read(self) -> list[PIECE]:
        """At least one piece (all that are buffered), or `[]` once the stream has ended cleanly;
        raises the stream's error at its position."""
        pieces = self.read_nowait()
        if pieces or self._buffer.done:
            return pieces
        await self._wait()
        return self.read_nowait()

    async def wait(self, on_arrival: Callable[[], None]) -> None:
        """Wait until the stream moves past this cursor (a piece, or the end), and call
        `on_arrival()` in the very step that moved it, before this wait returns: a relay that
        passes what arrived on at once (with `read_nowait()`) rather than a task switch later.
        What `on_arrival` raises, this wait raises."""
        buffer = self._buffer
        if self._index < len(buffer.pieces) or buffer.done:
            on_arrival()
            return
        lease = self._lease
        lease.hold()
        if buffer.on_first_demand is not None:
            start, buffer.on_first_demand = buffer.on_first_demand, None
            start()
        arrived: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiter = _Arrival(arrived, on_arrival)
        buffer.add_waiter(waiter)
        try:
            await arrived
        except asyncio.CancelledError:
            buffer.discard_waiter(waiter)
            lease.release(cancelled=True)
            raise

    @property
    def at_end(self) -> bool:
        """Whether the stream has ended and this cursor has read everything before the end."""
        buffer = self._buffer
        return buffer.done and self._index >= len(buffer.pieces)

    def close(self) -> None:
        """Stop counting as a reader before the end (as a `break` out of a replay does)."""
        self._lease.leave()

    async def aclose(self) -> None:
        """`close()`, for code that closes async iterators with `await iterator.aclose()`."""
        self.close()

    async def _wait(self) -> None:
        lease = self._lease
        lease.hold()
        try:
            await self._buffer.wait_beyond(self._index)
        except asyncio.CancelledError:
            lease.release(cancelled=True)
            raise


class _Arrival:
    """A buffer waiter that calls back in the producer's step, then resolves its future."""

    __slots__ = ("_callback", "_future")

    def __init__(self, future: asyncio.Future[None], callback: Callable[[], None]) -> None:
        self._future = future
        self._callback = callback

    def done(self) -> bool:
        return self._future.done()

    def set_result(self, _result: None, /) -> None:
        try:
            self._callback()
        except Exception as error:  # raised in the waiting reader, not in the producer
            self._future.set_exception(error)
        else:
            self._future.set_result(None)


__all__ = [
    "StreamBuffer",
    "StreamCursor",
    "Waiter",
]
