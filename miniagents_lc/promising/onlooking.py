"""Following a stream as an onlooker: seeing its pieces as they come without being its reader.

Whoever watches a running tree (protocol events, a live view, a transport) must not change what
it watches: reading a stream the way consumers do would keep work alive whose only real
consumer was cancelled, and would start producers deferred until somebody asks. An onlooker
does neither. It never takes a reading lease and never starts a deferred producer; it only
waits on the buffer's list of waiters, which `StreamBuffer.push` and `end` resolve.

Three shapes of the same thing: a `Wakeup` calls back once per arming (for followers that keep
their own ready queue and re-arm, with no allocation per piece), an `Onlooker` reads a
stream's pieces in batches with `await`, and `Claims` follows a stream of promises (a reply)
and claims each one no stream sharing its claims held before: which stream held a piece first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from miniagents_lc.promising.stream_buffer import StreamBuffer

PIECE = TypeVar("PIECE")
HASHABLE = TypeVar("HASHABLE", bound=Hashable)


class Wakeup:
    """A reusable, one-shot notice of a buffer's next piece or end: `arm(buffer)`, and
    `callback()` runs (synchronously, in the producer's step) the next time the buffer moves;
    then it is disarmed until armed again. It is a `Waiter` of the buffer."""

    __slots__ = ("_armed", "_callback")

    def __init__(self, callback: Callable[[], None]) -> None:
        self._callback = callback
        self._armed = False

    def arm(self, buffer: StreamBuffer[Any]) -> None:
        """Call back at `buffer`'s next piece or end (once; arming twice is arming once)."""
        if not self._armed:
            self._armed = True
            buffer.add_waiter(self)

    def disarm(self) -> None:
        """Call back no more until armed again (the buffer drops it at its next move)."""
        self._armed = False

    # -- the buffer's Waiter protocol ---------------------------------------------------------

    def done(self) -> bool:
        return not self._armed

    def set_result(self, _result: None, /) -> None:
        if self._armed:
            self._armed = False
            self._callback()


class Onlooker(Generic[PIECE]):
    """The pieces of one stream in batches, from `start`, read without reading the stream:
    `read()` ends with the stream, or earlier once `cut()` was called (after what is
    buffered), and says which through `cut`."""

    __slots__ = ("_buffer", "_cut", "_index", "_waiter", "cut")

    def __init__(self, buffer: StreamBuffer[PIECE], start: int = 0) -> None:
        self._buffer = buffer
        self._index = start
        self._waiter: asyncio.Future[None] | None = None
        self._cut = False
        self.cut = False
        """Whether `read()` ended because of `cut()` rather than the stream's end."""

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
            if self._cut:
                self.cut = True
                return None
            waiter = asyncio.get_running_loop().create_future()
            buffer.add_waiter(waiter)
            self._waiter = waiter
            try:
                await waiter
            finally:
                self._waiter = None
                buffer.discard_waiter(waiter)

    def stop_waiting(self) -> None:
        """From now on, `read()` ends (as cut) once it has returned what is buffered; a
        pending `read()` looks at the stream again at once."""
        self._cut = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class Claims(Generic[HASHABLE]):
    """Which of several streams held each piece first: follows one stream without reading it
    and claims, for it, each piece that no stream sharing `claimed` (a set) has claimed before.

    `on_claim(piece)` runs for each piece this stream claims, in order, and in the step that put
    the piece there (a `Wakeup`): the claims of a stream come before those of the streams that
    pass its pieces on, since those hear of a piece after its buffer's own waiters
    (`StreamBuffer.add_late_waiter`). `on_move()`, if given, runs after each move that was
    followed (new pieces, or the end). `advance()` claims what is there now and starts the
    following; `stop()` ends it."""

    __slots__ = ("_buffer", "_claimed", "_index", "_on_claim", "_on_move", "_wakeup")

    def __init__(
        self,
        buffer: StreamBuffer[HASHABLE],
        claimed: set[HASHABLE],
        on_claim: Callable[[HASHABLE], None],
        on_move: Callable[[], None] | None = None,
    ) -> None:
        self._buffer = buffer
        self._claimed = claimed
        self._on_claim = on_claim
        self._on_move = on_move
        self._index = 0
        self._wakeup = Wakeup(self._moved)

    @property
    def ended(self) -> bool:
        """Whether the stream has ended (everything in it is claimed once `advance()` ran)."""
        return self._buffer.done

    def advance(self) -> None:
        """Claim the pieces the stream holds now that nobody claimed, and follow it on while
        it goes on."""
        buffer = self._buffer
        pieces = buffer.pieces
        claimed = self._claimed
        while self._index < len(pieces):
            piece = pieces[self._index]
            self._index += 1
            if piece not in claimed:
                claimed.add(piece)
                self._on_claim(piece)
        if not buffer.done:
            self._wakeup.arm(buffer)

    def stop(self) -> None:
        """Follow the stream no more (what it holds later is not claimed through this)."""
        self._wakeup.disarm()

    def _moved(self) -> None:
        self.advance()
        if self._on_move is not None:
            self._on_move()


__all__ = ["Claims", "Onlooker", "Wakeup"]
