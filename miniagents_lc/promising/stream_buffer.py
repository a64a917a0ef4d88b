"""The replay buffer behind every stream, and the cursor each consumer reads it with.

A buffer is written by exactly one producer and read by any number of cursors. Reading what is
already buffered costs no lock, no queue and no task switch; a cursor waits only when it has
caught up with the producer.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

if TYPE_CHECKING:
    from miniagents_lc.promising.ownership import TaskOwner

PIECE = TypeVar("PIECE")


class StreamBuffer(Generic[PIECE]):
    """Pieces in production order, then an end marker and the error the stream ended with, if any.

    An error can only stand at the end: a producer that raised produces nothing more.
    """

    __slots__ = (
        "_waiters",
        "done",
        "error",
        "on_first_demand",
        "owner",
        "pieces",
        "producer_task",
        "readers",
    )

    def __init__(self) -> None:
        self.pieces: list[PIECE] = []
        self.done = False
        self.error: BaseException | None = None
        self._waiters: list[asyncio.Future[None]] = []
        # The tasks of the replays in progress, cursors and awaiters of the whole: whoever may
        # still read on (None until the first reader comes).
        self.readers: list[asyncio.Task[Any] | None] | None = None
        # Starts a deferred producer the first time a cursor has to wait; None once started.
        self.on_first_demand: Callable[[], None] | None = None
        # The task producing the pieces, while it runs.
        self.producer_task: asyncio.Task[Any] | None = None
        # Who started the producer for its own work: it decides whether an unread stream stops.
        self.owner: TaskOwner | None = None

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

    def add_reader(self, task: asyncio.Task[Any] | None) -> None:
        """Count `task` (the current one) as reading the stream until `remove_reader`."""
        if self.readers is None:
            self.readers = [task]
        else:
            self.readers.append(task)

    def remove_reader(self, task: asyncio.Task[Any] | None, *, early: bool) -> None:
        """`task` stopped reading; `early`: before the end. A reader that leaves early because
        it is being cancelled lets go of the stream (see `abandon_if_unwanted`)."""
        if self.readers is not None and task in self.readers:
            self.readers.remove(task)
        if early and task is not None and task.cancelling():
            self.abandon_if_unwanted()

    @property
    def is_read(self) -> bool:
        """Whether a running task that is not being cancelled reads the stream or waits for
        it."""
        return self.readers is not None and any(
            task is None or not (task.cancelling() or task.done()) for task in self.readers
        )

    def abandon_if_unwanted(self) -> None:
        """Unless somebody still reads the stream, its owner (or, without one, its producer)
        stops."""
        if self.is_read:
            return
        if self.owner is not None:
            self.owner.stop_if_unwanted()
        else:
            self.stop_producer_if_unread()

    def stop_producer_if_unread(self) -> None:
        """Cancel the producer, unless the stream has ended or somebody reads it."""
        if not self.done and self.producer_task is not None and not self.is_read:
            self.producer_task.cancel()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_beyond(self, index: int) -> None:
        """Return once a piece exists at `index` or the stream has ended."""
        if self.on_first_demand is not None:
            start, self.on_first_demand = self.on_first_demand, None
            start()
        while index >= len(self.pieces) and not self.done:
            # One future per waiting cursor: a cancelled cursor cancels only its own future.
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                # Cancelled: the future is done but still listed, and would count as a reader.
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                raise

    async def wait_for_end(self) -> None:
        """Return once the stream has ended (starting a deferred producer if need be)."""
        await self.wait_beyond(sys.maxsize)


class StreamCursor(Generic[PIECE]):
    """One consumer's position in a stream: an async iterator that replays from the start.

    Besides `async for`, it offers batch reads in the manner of anyio's memory streams:
    `read_nowait()` returns whatever is buffered, `read()` waits only when nothing is.
    Until it reaches the end (or is dropped) the cursor counts as a reader of the stream.
    """

    __slots__ = ("_buffer", "_counted", "_index", "_reader")

    def __init__(self, buffer: StreamBuffer[PIECE]) -> None:
        self._buffer = buffer
        self._index = 0
        self._reader = _current_task_or_none()
        buffer.add_reader(self._reader)
        # Whether the cursor still counts as reading (until its end, its drop or its cancel).
        self._counted = True

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
        self._release(early=False)
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
            self._release(early=False)
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

    @property
    def at_end(self) -> bool:
        """Whether the stream has ended and this cursor has read everything before the end."""
        buffer = self._buffer
        return buffer.done and self._index >= len(buffer.pieces)

    async def _wait(self) -> None:
        try:
            await self._buffer.wait_beyond(self._index)
        except asyncio.CancelledError:
            self._release(early=True)
            raise

    def _release(self, *, early: bool) -> None:
        if self._counted:
            self._counted = False
            self._buffer.remove_reader(self._reader, early=early)

    def __del__(self) -> None:
        self._release(early=not self.at_end)


def _current_task_or_none() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running event loop
        return None
