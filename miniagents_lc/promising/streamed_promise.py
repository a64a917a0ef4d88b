"""`StreamedPromise`: a stream of pieces produced once and replayed to every consumer."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
)
from functools import partial
from typing import Any, ClassVar, Generic, TypeAlias, TypeVar, cast

from miniagents_lc.promising.append_producer import AppendProducer
from miniagents_lc.promising.context import PromisingContext
from miniagents_lc.promising.errors import NoActiveContextError, StreamCancelledError
from miniagents_lc.promising.ownership import TaskOwner, current_owner, ensure_owner
from miniagents_lc.promising.sentinels import DEFAULT, Defaultable
from miniagents_lc.promising.stream_buffer import StreamBuffer, StreamCursor

PIECE = TypeVar("PIECE")
WHOLE = TypeVar("WHOLE")

ProducerFunction: TypeAlias = Callable[["StreamedPromise[PIECE, Any]"], AsyncIterable[PIECE]]
Producer: TypeAlias = "ProducerFunction[PIECE] | AsyncIterable[PIECE] | AppendProducer[PIECE]"
Packager: TypeAlias = Callable[["StreamedPromise[Any, WHOLE]"], Awaitable[WHOLE]]

_UNSET: Any = object()


class StreamedPromise(Generic[PIECE, WHOLE]):
    """A promise of a stream of pieces and of the whole they make up.

    Every `async for` replays the stream from its start; each piece is produced once, however
    many consumers there are. An exception from the producer is stored where it happened:
    every replay raises it there, then ends. `await promise` gives the packaged whole, cached.

    The pieces come from a `producer`, are given up front (`prefill_pieces`), or are written
    into a `buffer` by whoever made it (a `FedSequence`, say).
    """

    __slots__ = (
        "_buffer",
        "_context",
        "_packager",
        "_producer",
        "_whole",
        "_whole_error",
        "_whole_task",
    )

    # Subclasses that accept only one type of piece name it here; anything else produced
    # ends the stream with a TypeError.
    _piece_type: ClassVar[type | None] = None

    def __init__(
        self,
        *,
        producer: Producer[PIECE] | None = None,
        packager: Packager[WHOLE] | None = None,
        prefill_pieces: Iterable[PIECE] | None = None,
        prefill_whole: WHOLE = _UNSET,
        schedule_immediately: Defaultable = DEFAULT,
        buffer: StreamBuffer[PIECE] | None = None,
    ) -> None:
        self._packager = packager
        self._whole: WHOLE = prefill_whole
        self._whole_error: BaseException | None = None
        self._whole_task: asyncio.Task[WHOLE] | None = None
        self._context = PromisingContext.get_current_or_none()
        self._buffer: StreamBuffer[PIECE]

        if buffer is not None:
            # Written by whoever made the buffer (a fed sequence, say): no producer here.
            if producer is not None or prefill_pieces is not None:
                raise ValueError("Give a StreamedPromise a `buffer` without a producer or pieces.")
            self._buffer = buffer
            return
        if prefill_pieces is not None:
            if producer is not None:
                raise ValueError("Give a StreamedPromise either `producer` or `prefill_pieces`.")
            self._buffer = StreamBuffer()
            self._buffer.pieces.extend(prefill_pieces)
            self._buffer.done = True
            self._notify_completed()
            return
        if (
            isinstance(producer, AppendProducer)
            and producer.buffer is not None
            and self._piece_type is None
        ):
            # Appended pieces land straight in this promise's buffer: no task, no hop. (A
            # promise that checks the type of its pieces reads them through `_produce` instead.)
            self._buffer = producer.buffer
            return

        self._producer = producer
        self._buffer = StreamBuffer()
        context = self._require_context()
        owner = current_owner()
        if context.resolve_schedule_immediately(schedule_immediately):
            self._schedule_production(context, owner)
        else:
            # Started later by whoever reads first, but on behalf of the owner creating it now.
            self._buffer.on_first_demand = (
                self._start_production if owner is None else partial(self._start_production, owner)
            )

    # -- consuming ------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[PIECE]:
        return self._replay()

    async def _replay(self) -> AsyncGenerator[PIECE, None]:
        # An async generator resumes without building a coroutine per piece, and a list
        # iterator follows pieces appended while it runs: the cheapest way to hand out pieces
        # that are already buffered (one generator step and one `next` per piece).
        buffer = self._buffer
        pieces = buffer.pieces
        index = 0
        lease = buffer.readership.lease()
        try:
            while True:
                if index < len(pieces):
                    batch = iter(pieces)
                    if index:
                        batch.__setstate__(index)  # type: ignore[attr-defined]
                    for piece in batch:
                        yield piece
                    # No await since the iterator ran dry: this is exactly where it stopped.
                    index = len(pieces)
                if buffer.done:
                    if index < len(pieces):
                        continue
                    lease.release(cancelled=False)
                    if buffer.error is not None:
                        raise buffer.error
                    return
                lease.hold()
                try:
                    await buffer.wait_beyond(index)
                except asyncio.CancelledError:
                    lease.release(cancelled=True)
                    raise
        finally:
            # Left before the end (a `break`, or this generator dropped by a cancelled reader).
            lease.leave()

    def cursor(self) -> StreamCursor[PIECE]:
        """A new consumer position at the start of the stream (what `async for` uses)."""
        return StreamCursor(self._buffer)

    @property
    def done(self) -> bool:
        """Whether production has ended (cleanly or with an error)."""
        return self._buffer.done

    def __await__(self) -> Generator[Any, None, WHOLE]:
        return self._await_whole().__await__()

    async def acollect(self) -> WHOLE:
        """The packaged whole (the same as `await promise`)."""
        return await self._await_whole()

    async def _await_whole(self) -> WHOLE:
        if self._whole is not _UNSET:
            return self._whole
        if self._whole_error is not None:
            raise self._whole_error
        if self._packager is None:
            # The built-in packaging is synchronous once the stream has ended, so each awaiter
            # waits on its own (nothing shared is cancelled with it) and the whole is built
            # straight from the buffer, without copying the pieces first.
            buffer = self._buffer
            if not buffer.done:
                # Held only while waiting here, where a cancellation is seen directly.
                lease = buffer.readership.lease(held_by_task=False)
                cancelled = False
                try:
                    await buffer.wait_for_end()
                except asyncio.CancelledError:
                    cancelled = True
                    raise
                finally:
                    lease.release(cancelled=cancelled)
            if buffer.error is not None:
                raise buffer.error
            if self._whole is _UNSET:
                self._whole = self._assemble(buffer.pieces)
            return self._whole
        if self._whole_task is None:
            context = self._context or self._require_context()
            # Shared by every awaiter, so owned by none of them (see `schedule_unowned`).
            self._whole_task = context.schedule_unowned(self._run_packager(self._packager), None)
        return await asyncio.shield(self._whole_task)

    async def _run_packager(self, packager: Packager[WHOLE]) -> WHOLE:
        try:
            if not callable(packager):
                raise TypeError(
                    f"The packager of {type(self).__name__} must be an async function taking "
                    f"the promise, got {type(packager).__name__}."
                )
            awaitable = packager(self)
            if not inspect.isawaitable(awaitable):
                raise TypeError(
                    f"The packager of {type(self).__name__} must be async (return an "
                    f"awaitable), got {type(awaitable).__name__} from {packager!r}."
                )
            self._whole = await awaitable
        except Exception as error:
            self._whole_error = error
            raise
        return self._whole

    def _assemble(self, pieces: list[PIECE]) -> WHOLE:
        """The whole built from all pieces when no packager was given: a tuple of them."""
        return cast(WHOLE, tuple(pieces))

    # -- producing ------------------------------------------------------------------------

    def _require_context(self) -> PromisingContext:
        if self._context is None:
            # Raises the error that names the fix.
            self._context = PromisingContext.get_current()
        return self._context

    def _start_production(self, owner: TaskOwner | None = None) -> None:
        context = self._context
        if context is None or not context.is_active:
            self._buffer.end(
                NoActiveContextError(
                    f"The {type(self).__name__} was first consumed after its context ended; "
                    "consume it inside the `async with` block that created it."
                )
            )
            return
        self._schedule_production(context, owner)

    def _schedule_production(self, context: PromisingContext, owner: TaskOwner | None) -> None:
        buffer = self._buffer
        # Named for the class alone: a name built per promise would cost memory per task.
        buffer.producer_task = context.schedule_unowned(self._produce(owner), type(self).__name__)
        if owner is not None:
            # The owner gets the stream rather than the task, so that it stops the producer
            # only when nobody reads the stream.
            owner.add(buffer)

    def _open_producer(self) -> AsyncIterator[PIECE]:
        producer = self._producer
        if producer is None:
            raise TypeError(f"{type(self).__name__} was given neither a producer nor pieces.")
        iterable: object = producer
        if not hasattr(producer, "__aiter__"):
            if not callable(producer):
                raise TypeError(
                    f"The producer of {type(self).__name__} must be an async iterable or a "
                    f"function returning one, got {type(producer).__name__}."
                )
            iterable = producer(self)
        if not hasattr(iterable, "__aiter__"):
            if inspect.iscoroutine(iterable):
                # An `async def` without `yield`: never awaited, so close it (no warning).
                iterable.close()
            raise TypeError(
                f"The producer of {type(self).__name__} must return an async iterable "
                f"(write it as an `async def` with `yield`), got {type(iterable).__name__}."
            )
        # The producer is often a bound method of the promise's owner: dropping it here keeps
        # a finished promise out of a reference cycle.
        self._producer = None
        return cast(AsyncIterable[PIECE], iterable).__aiter__()

    async def _produce(self, owner: TaskOwner | None) -> None:
        ensure_owner(owner)
        buffer = self._buffer
        append = buffer.pieces.append
        iterator: AsyncIterator[PIECE] | None = None
        piece_type = self._piece_type
        let_in_at = -_READER_TURN_INTERVAL
        try:
            iterator = self._open_producer()
            # Two copies of the loop, so that a promise without a piece type pays no check per
            # piece; the rare hand-over to waiting readers stays out of line.
            if piece_type is None:
                async for piece in iterator:
                    append(piece)
                    if buffer._waiters:
                        let_in_at = await _hand_over(buffer, iterator, let_in_at)
            else:
                async for piece in iterator:
                    if not isinstance(piece, piece_type):
                        raise self._wrong_piece(piece, piece_type)
                    append(piece)
                    if buffer._waiters:
                        let_in_at = await _hand_over(buffer, iterator, let_in_at)
        except Exception as error:
            buffer.end(error)
        except BaseException as error:
            # Not the CancelledError in flight: raised in a consumer's task, it would read as
            # that task's own cancellation.
            buffer.end(
                StreamCancelledError(
                    f"The producer of this {type(self).__name__} was cancelled before the end."
                )
                if isinstance(error, asyncio.CancelledError)
                else error
            )
            raise
        else:
            buffer.end()
            self._notify_completed()
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()
        # Reached only when nothing failed (an error went into the buffer): the context that
        # scheduled this task (`_schedule_production`) forgets it here.
        task = cast(asyncio.Task[Any], asyncio.current_task())
        cast(PromisingContext, self._context).forget_task(task)

    def _wrong_piece(self, piece: object, piece_type: type) -> TypeError:
        return TypeError(
            f"The producer of a {type(self).__name__} yielded a {type(piece).__name__} "
            f"({piece!r:.80}); it must yield {piece_type.__name__} pieces."
        )

    def _notify_completed(self) -> None:
        context = self._context
        if context is not None and context.on_stream_completed is not None:
            context.on_stream_completed(self)


#: How often, at most, a producer stops to let waiting readers take the piece it just made
#: (seconds): a token that arrives after a pause reaches its reader at once, and a burst of
#: pieces made from memory costs one task switch per interval, not one per piece.
_READER_TURN_INTERVAL = 0.001


async def _hand_over(
    buffer: StreamBuffer[Any], iterator: AsyncIterator[Any], let_in_at: float
) -> float:
    """Wake the readers waiting for the piece just appended and, at most once per
    `_READER_TURN_INTERVAL`, let them take it before the producer goes on: its next step may
    not await at all (an SDK parsing the next event from bytes already received, slow the
    first time in a process), and the piece would wait for it. A producer that makes pieces
    from memory faster than its readers take them so runs ahead (readers take them in
    batches) instead of trading turns piece by piece. Returns when it last let them in."""
    buffer._wake()
    now = time.monotonic()
    if now - let_in_at >= _READER_TURN_INTERVAL:
        await _let_readers_in(iterator)
        return now
    return let_in_at


async def _let_readers_in(iterator: AsyncIterator[Any]) -> None:
    """Yield to the event loop for two turns, so the readers just woken run before the
    producer's next step, and so do the readers they wake in turn (a relay, such as the
    LangChain face's run, passing the piece on to its own reader); a cancellation that arrives
    meanwhile is delivered into an async-generator producer, where it would have met it at its
    next await."""
    try:
        await asyncio.sleep(0)
        await asyncio.sleep(0)
    except asyncio.CancelledError as cancelled:
        athrow = getattr(iterator, "athrow", None)
        if athrow is not None:
            # One that swallows it and returns still ends here, cancelled.
            with contextlib.suppress(StopAsyncIteration):
                await athrow(cancelled)
        raise


__all__ = [
    "Packager",
    "Producer",
    "ProducerFunction",
    "StreamedPromise",
]
