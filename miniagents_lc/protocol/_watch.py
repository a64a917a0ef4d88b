"""Reading a stream as an onlooker: the pieces as they come, without being one of its readers.

A protocol stream watches every reply and message of an agent tree. If it read them the way
consumers do, it would keep agents alive whose only real consumer was cancelled, and start work
deferred until somebody asks for it. A `Watcher` does neither: it does not count as a reader
and never starts a deferred producer; it only looks at what is produced.
"""

from __future__ import annotations

import asyncio
from typing import Any, Generic, TypeVar

from miniagents_lc.messages import Message, MessagePromise
from miniagents_lc.promising import StreamedPromise
from miniagents_lc.promising.lowlevel import StreamBuffer, assembled_whole, known_whole

PIECE = TypeVar("PIECE")


class Watchers:
    """The watchers of one run; `close()` makes every one of them stop waiting for more."""

    __slots__ = ("closed", "waiting")

    def __init__(self) -> None:
        self.closed = False
        self.waiting: set[Watcher[Any]] = set()

    def close(self) -> None:
        """From now on a watcher ends (as cut) once it has read what is buffered."""
        self.closed = True
        for watcher in list(self.waiting):
            watcher.wake()


class Watcher(Generic[PIECE]):
    """The pieces of one stream in batches, from `start`; ends with the stream, or earlier
    (`cut`) when its `Watchers` are closed before the stream has ended."""

    __slots__ = ("_buffer", "_group", "_index", "_waiter", "cut")

    def __init__(
        self, promise: StreamedPromise[PIECE, Any], group: Watchers, start: int = 0
    ) -> None:
        self._buffer: StreamBuffer[PIECE] = promise._buffer
        self._group = group
        self._index = start
        self._waiter: asyncio.Future[None] | None = None
        self.cut = False

    @property
    def error(self) -> BaseException | None:
        """The error the stream ended with, once it has ended."""
        return self._buffer.error if self._buffer.done else None

    async def read(self) -> list[PIECE] | None:
        """Every piece buffered past the last read (waiting for one if need be), or None at
        the end."""
        buffer = self._buffer
        while True:
            pieces = buffer.pieces
            index = self._index
            end = len(pieces)
            if index < end:
                self._index = end
                return pieces[index:end]
            if buffer.done:
                return None
            if self._group.closed:
                self.cut = True
                return None
            await self._wait(buffer)

    async def _wait(self, buffer: StreamBuffer[PIECE]) -> None:
        waiter = asyncio.get_running_loop().create_future()
        # Neither counts as reading the stream nor starts a deferred producer.
        buffer.add_waiter(waiter)
        self._waiter = waiter
        self._group.waiting.add(self)
        try:
            await waiter
        finally:
            self._waiter = None
            self._group.waiting.discard(self)
            buffer.discard_waiter(waiter)

    def wake(self) -> None:
        """Make a pending `read` look at the stream again."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


def known_role(promise: MessagePromise) -> str | None:
    """The role of the message a promise makes, as far as it is known before it resolves."""
    whole = known_whole(promise)
    if isinstance(whole, Message):
        return whole.role
    role = promise.fields.get("role")
    if role is None:
        field = promise.message_class.model_fields.get("role")
        role = field.default if field is not None else None
    return role if isinstance(role, str) else None


def resolved_message(promise: MessagePromise) -> Message:
    """The message of a promise whose stream has ended cleanly, without waiting."""
    return assembled_whole(promise)
