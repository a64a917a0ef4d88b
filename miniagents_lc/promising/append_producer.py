"""`AppendProducer`: a producer fed from outside, piece by piece, with `append`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

from miniagents_lc.promising.context import PromisingContext
from miniagents_lc.promising.errors import AppendClosedError, AppendNotOpenError
from miniagents_lc.promising.sentinels import DEFAULT, Defaultable
from miniagents_lc.promising.stream_buffer import StreamBuffer, StreamCursor

PIECE = TypeVar("PIECE")
PIECE_contra = TypeVar("PIECE_contra", contravariant=True)

_NEW, _OPEN, _CLOSED = 0, 1, 2


class Sink(Protocol[PIECE_contra]):
    """Where an AppendProducer's pieces go: a `StreamBuffer`, or a `FedSequence`."""

    def push(self, piece: PIECE_contra) -> None:
        """Take one appended piece."""

    def end(self, error: BaseException | None = None) -> None:
        """The producer was closed (with `error`, if given)."""


class AppendProducer(Generic[PIECE]):
    """The producer of a stream whose pieces are pushed in with `append`.

    Use it as `with producer: producer.append(x)`; leaving the block closes the stream. An
    exception inside the block ends the stream with that exception when `capture_errors` is on
    (and is suppressed); otherwise it propagates and the stream is closed cleanly. Either way no
    consumer waits forever.

    The pieces go into the producer's own `buffer`, or to the `sink` it was given (a
    `FedSequence`, say, which flattens them; the producer then has no buffer of its own).
    """

    __slots__ = ("_capture_errors", "_sink", "_state", "buffer")

    def __init__(
        self, *, capture_errors: Defaultable = DEFAULT, sink: Sink[PIECE] | None = None
    ) -> None:
        # The stream of the appended pieces, unless they go to another `sink`.
        self.buffer: StreamBuffer[PIECE] | None = None
        if sink is None:
            sink = self.buffer = StreamBuffer()
        self._sink = sink
        self._state = _NEW
        self._capture_errors = capture_errors
        if capture_errors is DEFAULT:
            context = PromisingContext.get_current_or_none()
            if context is not None:
                self._capture_errors = context.producer_capture_errors_by_default

    @property
    def capture_errors(self) -> bool:
        """Whether an exception inside the `with` block becomes the end of the stream."""
        return bool(self._capture_errors) if self._capture_errors is not DEFAULT else False

    @property
    def is_open(self) -> bool:
        """Whether `append` is allowed now."""
        return self._state == _OPEN

    @property
    def is_closed(self) -> bool:
        """Whether the stream has been closed (no more pieces will come)."""
        return self._state == _CLOSED

    def open(self) -> Self:
        """Allow `append`; for code that can't use `with`."""
        if self._state == _CLOSED:
            raise AppendClosedError("This AppendProducer is closed; it can't be opened again.")
        self._state = _OPEN
        return self

    def close(self, error: BaseException | None = None) -> None:
        """End the stream (with `error` at its end, if given). Closing twice is harmless."""
        if self._state == _CLOSED:
            return
        self._state = _CLOSED
        self._sink.end(error)

    def append(self, piece: PIECE) -> Self:
        """Add a piece to the stream; consumers waiting for it wake up."""
        if self._state != _OPEN:
            if self._state == _NEW:
                raise AppendNotOpenError(
                    "append() before the AppendProducer was opened: call it inside "
                    "`with producer:` (or after `producer.open()`)."
                )
            raise AppendClosedError(
                "append() after the AppendProducer was closed: the `with producer:` block has "
                "ended (or close() was called), so this piece would reach no consumer."
            )
        self._sink.push(piece)
        return self

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc is not None and self.capture_errors and isinstance(exc, Exception):
            self.close(exc)
            return True
        self.close()
        return False

    def __call__(self, _streamed_promise: Any = None) -> AsyncIterator[PIECE]:
        """The producer protocol: iterate the appended pieces (a StreamedPromise given this
        producer shares its buffer instead, with no extra hop)."""
        return self.__aiter__()

    def __aiter__(self) -> AsyncIterator[PIECE]:
        if self.buffer is None:
            raise TypeError(
                "This AppendProducer feeds a sequence: read the sequence's promise instead."
            )
        return StreamCursor(self.buffer)


__all__ = [
    "AppendProducer",
    "Sink",
]
