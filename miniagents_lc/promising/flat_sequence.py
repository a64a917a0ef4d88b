"""Flattening: a stream of items turned, item by item and in order, into one flat stream.

`flatten` is the flattening itself. `FlatSequence` flattens what a producer yields;
`FedSequence` flattens what is appended to it, and is configured by arguments: which items
need no flattening, what kind of promise it hands out, who owns it, what it does on an error.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable
from functools import partial
from typing import Any, Generic, TypeVar, cast

from miniagents_lc.promising.append_producer import AppendProducer
from miniagents_lc.promising.context import PromisingContext
from miniagents_lc.promising.errors import NoActiveContextError, StreamCancelledError
from miniagents_lc.promising.ownership import TaskOwner, current_owner, ensure_owner
from miniagents_lc.promising.readership import Lease, Readership
from miniagents_lc.promising.sentinels import DEFAULT, Defaultable
from miniagents_lc.promising.stream_buffer import StreamBuffer
from miniagents_lc.promising.streamed_promise import Producer, StreamedPromise

IN = TypeVar("IN")
OUT = TypeVar("OUT")
PROMISE = TypeVar("PROMISE", bound=StreamedPromise[Any, Any])

Flattener = Callable[["FlatSequence[IN, OUT]", IN], AsyncIterator[OUT]]


async def flatten(
    items: AsyncIterable[IN], flattener: Callable[[IN], AsyncIterable[OUT]]
) -> AsyncGenerator[OUT, None]:
    """Every piece `flattener(item)` gives, for every item, in order. Each item's pieces are
    closed as soon as they are done with, or when this is."""
    async for item in items:
        pieces = flattener(item)
        try:
            async for piece in pieces:
                yield piece
        finally:
            aclose = getattr(pieces, "aclose", None)
            if aclose is not None:
                await aclose()


class FlatSequence(Generic[IN, OUT]):
    """`sequence_promise` streams `flattener(self, item)`'s output for every item that
    `incoming_producer` produces, in order. The flattening runs in the promise's producer task
    (at the next task switch when scheduled immediately, else when first consumed)."""

    __slots__ = ("sequence_promise",)

    def __init__(
        self,
        incoming_producer: Producer[IN],
        flattener: Flattener[IN, OUT],
        *,
        schedule_immediately: Defaultable = DEFAULT,
    ) -> None:
        incoming: StreamedPromise[IN, Any] = StreamedPromise(
            producer=incoming_producer, schedule_immediately=False
        )
        each = partial(flattener, self)
        self.sequence_promise: StreamedPromise[OUT, Any] = StreamedPromise(
            producer=lambda _promise: flatten(incoming, each),
            schedule_immediately=schedule_immediately,
        )


class FedSequence(Generic[IN, PROMISE]):
    """A flat sequence fed through its `append_producer`: `sequence_promise` (a
    `promise_class`) streams `flattener(item)`'s pieces for every appended item, in order.

    An item that `pass_through` turns into a piece, with nothing queued ahead of it, takes its
    place at once; the rest are flattened by a task that runs only while they last (from the
    next task switch when scheduled immediately, else from the first read). The sequence never
    flattens on the spot.

    `forward`, given with an `owner`, names the items that are flat already: it returns the
    buffer such an item streams through (another sequence), whose pieces are then moved into
    this one from that buffer's own step, as they come: no task, and no task switch between a
    piece's arrival there and here. Other items are flattened by the task (and the flattener
    is still given those items when there is no owner).

    `owner`, when given, owns the flattening and watches the sequence: once its readers abandon
    it, the owner stops (and stops this sequence, through `stop`). Without one, the flattening
    belongs to whoever creates the sequence, and stops by itself when abandoned. `on_error` sees
    every error that ends the sequence before its readers do; `on_demand` runs at the first
    read of a sequence not scheduled immediately.
    """

    __slots__ = (
        "_close_error",
        "_context",
        "_demand",
        "_drain",
        "_flattener",
        "_forward",
        "_forwarding",
        "_on_demand",
        "_on_error",
        "_out",
        "_owner",
        "_pass_through",
        "_pending",
        "append_producer",
        "sequence_promise",
    )

    def __init__(
        self,
        flattener: Callable[[IN], AsyncIterable[Any]],
        *,
        promise_class: type[PROMISE],
        pass_through: Callable[[IN], Any | None] | None = None,
        forward: Callable[[IN], StreamBuffer[Any] | None] | None = None,
        owner: TaskOwner | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_demand: Callable[[], None] | None = None,
        schedule_immediately: Defaultable = DEFAULT,
        capture_errors: Defaultable = DEFAULT,
    ) -> None:
        context = PromisingContext.get_current()
        self._context = context
        self._flattener = flattener
        self._pass_through = pass_through
        self._on_error = on_error
        self._on_demand = on_demand
        self._pending: deque[IN] | None = None
        self._drain: asyncio.Task[None] | None = None
        # Forwarding needs an owner: without one, an abandoned sequence stops its production
        # by cancelling its producer task, which forwarding does not have.
        self._forward = forward if owner is not None else None
        self._forwarding: _Forwarder | None = None
        self._close_error: BaseException | None = None
        self._out: StreamBuffer[Any] = StreamBuffer()
        self.append_producer: AppendProducer[IN] = AppendProducer(
            capture_errors=context.resolve_capture_errors(capture_errors), sink=self
        )
        self.sequence_promise: PROMISE = promise_class(buffer=self._out)
        # Whoever owns the sequence owns its flattening, even when a reader starts it.
        self._owner = current_owner() if owner is None else owner
        if owner is not None:
            owner.watch_output(self)
        # Whether flattening may run now (scheduled immediately, or read already).
        self._demand = context.resolve_schedule_immediately(schedule_immediately)
        if not self._demand:
            self._out.on_first_demand = self._demanded

    # -- the sink of `append_producer` ----------------------------------------------------

    def push(self, item: IN) -> None:
        """Take an appended item: placed at once when it passes through, else queued."""
        out = self._out
        if out.done:
            # The sequence already ended with an error: nothing more reaches a reader.
            return
        pending = self._pending
        # (While an item is forwarded it is still queued: `pending` is not empty.)
        if not pending and self._drain is None and self._pass_through is not None:
            passed = self._pass_through(item)
            if passed is not None:
                out.push(passed)
                return
        if pending is None:
            pending = self._pending = deque()
        pending.append(item)
        self._start_draining()

    def end(self, error: BaseException | None = None) -> None:
        """The append producer was closed: the sequence ends after what is queued."""
        self._close_error = error
        if not self._pending and self._drain is None:
            self._finish()

    def stop_with(self, piece: Any) -> None:
        """End the sequence now with `piece` as its last piece (after what it holds), and
        cancel its flattening (a sequence that shows why it stopped as a piece of its own)."""
        if self._out.done:
            return
        self._out.push(piece)
        self.stop(None)

    def when_ended(self, callback: Callable[[BaseException | None], None]) -> None:
        """Call `callback(error)` once the sequence has ended (`None`: cleanly), at once if it
        has. Following it so neither reads it nor starts its flattening."""
        out = self._out
        if out.done:
            callback(out.error)
        else:
            out.add_waiter(_EndWatcher(out, callback))

    # -- for an owner ---------------------------------------------------------------------

    @property
    def readership(self) -> Readership:
        """Who reads the sequence."""
        return self._out.readership

    def stop(self, error: BaseException | None) -> None:
        """End the sequence with `error` (`None`: cleanly) now and cancel its flattening."""
        # The end comes first, so whatever the cancelled work does on its way out is ignored.
        self._out.end(error)
        if self._pending:
            self._pending.clear()
        if self._drain is not None:
            self._drain.cancel()
        forwarding = self._forwarding
        if forwarding is not None:
            self._forwarding = None
            forwarding.detach()

    # -- flattening -----------------------------------------------------------------------

    def _demanded(self) -> None:
        self._demand = True
        if self._on_demand is not None:
            self._on_demand()
        self._start_draining()

    def _start_draining(self) -> None:
        pending = self._pending
        if self._drain is not None or self._forwarding is not None or not pending:
            return
        if not self._demand:
            return
        if not self._context.is_active:
            self._fail(
                NoActiveContextError(
                    "This sequence has items to flatten but its context has ended; consume it "
                    "inside the `async with` block that created it."
                )
            )
            return
        if self._forward is not None:
            source = self._forward(pending[0])
            if source is not None:
                lease = source.readership.lease_for(self._owner)
                self._forwarding = forwarding = _Forwarder(self, source, lease)
                self._move(forwarding)
                return
        drain = self._context.schedule_unowned(self._run_drain(), "FedSequence-flattener")
        self._drain = self._out.producer_task = drain
        if self._owner is not None:
            self._owner.add(drain)

    async def _run_drain(self) -> None:
        ensure_owner(self._owner)
        task = cast(asyncio.Task[None], asyncio.current_task())
        pending = self._pending
        assert pending is not None
        out = self._out
        push = out.push
        flattener = self._flattener
        forward = self._forward
        # The queue is walked here rather than through `flatten`: two generators less per
        # drain, and each item's pieces closed as soon as they are done with (or on the way out).
        try:
            while pending and not out.done:
                if forward is not None and forward(pending[0]) is not None:
                    break  # forwarded from here on, without this task
                pieces = flattener(pending.popleft())
                try:
                    async for piece in pieces:
                        if out.done:  # stopped by what a piece woke: nothing more goes in
                            break
                        push(piece)
                finally:
                    aclose = getattr(pieces, "aclose", None)
                    if aclose is not None:
                        await aclose()
        except Exception as error:
            pending.clear()
            self._fail(error)
            self._context.forget_task(task)  # the sequence carries the error
            return
        except BaseException:
            pending.clear()
            out.end(
                StreamCancelledError(
                    f"The flattening of this {type(self.sequence_promise).__name__} was "
                    "cancelled before the end."
                )
            )
            raise
        finally:
            self._drain = out.producer_task = None
            if self._owner is not None:
                # A finished task needs no stopping; the owner would only keep it in memory.
                self._owner.discard(task)
        if pending:
            self._start_draining()
        elif self.append_producer.is_closed:
            self._finish()
        self._context.forget_task(task)

    def _move(self, forwarding: _Forwarder) -> None:
        """Move what the forwarded item's buffer holds beyond what was moved already; then
        wait for more (as a waiter of that buffer), or go on with the next item at its end."""
        depth = _moving.depth
        if depth >= _MAX_MOVING_DEPTH:
            # Sequences nested deeper than this go on from the next loop step, in a fresh
            # stack, rather than one step deeper in this one.
            asyncio.get_running_loop().call_soon(forwarding.resume)
            return
        _moving.depth = depth + 1
        try:
            self._move_now(forwarding)
        finally:
            _moving.depth = depth

    def _move_now(self, forwarding: _Forwarder) -> None:
        source = forwarding.source
        pieces = source.pieces
        out = self._out
        while True:
            if forwarding.moved < len(pieces):
                batch = pieces[forwarding.moved :]
                forwarding.moved = len(pieces)
                for piece in batch:
                    if out.done:  # stopped by what a piece woke, in this very step
                        break
                    out.push(piece)
            if out.done:
                if self._forwarding is forwarding:  # ended otherwise than by `stop`
                    self._forwarding = None
                    forwarding.detach()
                return
            if source.done:
                break
            if source.on_first_demand is not None:
                # Waiting is reading: a deferred producer starts now, as for any reader.
                start, source.on_first_demand = source.on_first_demand, None
                start()
                continue
            source.add_late_waiter(forwarding)
            return
        self._forwarding = None
        pending = self._pending
        assert pending is not None
        pending.popleft()
        forwarding.lease.release(cancelled=False)
        if source.error is not None:
            pending.clear()
            self._fail(source.error)
        elif pending:
            self._start_draining()
        elif self.append_producer.is_closed:
            self._finish()

    def _finish(self) -> None:
        if self._close_error is not None:
            self._fail(self._close_error)
        else:
            self._out.end()

    def _fail(self, error: BaseException) -> None:
        if self._on_error is not None:
            self._on_error(error)
        self._out.end(error)


class _MovingDepth(threading.local):
    depth = 0


# How many forwarded sequences are being moved on, one inside the other, in this thread's
# stack: a piece replied a thousand agents deep must not take a thousand frames at once.
_moving = _MovingDepth()
_MAX_MOVING_DEPTH = 48


class _Forwarder:
    """The item of a `FedSequence` being forwarded: its buffer, how many of its pieces were
    moved, and the read it holds of it. A waiter of that buffer, which calls the sequence back
    from the step that moved it."""

    __slots__ = ("_detached", "_sequence", "lease", "moved", "source")

    def __init__(self, sequence: FedSequence[Any, Any], source: StreamBuffer[Any], lease: Lease):
        self._sequence = sequence
        self.source = source
        self.lease = lease
        self.moved = 0
        self._detached = False

    def resume(self) -> None:
        """Go on moving (after a deep stack was left for the next loop step)."""
        if not self._detached:
            self._sequence._move(self)

    def detach(self) -> None:
        """Stop forwarding (the sequence was stopped): the item is abandoned by this read."""
        self._detached = True
        self.source.discard_waiter(self)
        self.lease.release(cancelled=True)

    # -- the buffer's Waiter protocol -----------------------------------------------------

    def done(self) -> bool:
        return self._detached

    def set_result(self, _result: None, /) -> None:
        if not self._detached:
            self._sequence._move(self)


class _EndWatcher:
    """A waiter on a buffer that waits again after every piece and calls back at its end."""

    __slots__ = ("_buffer", "_callback")

    def __init__(self, buffer: StreamBuffer[Any], callback: Callable[[BaseException | None], None]):
        self._buffer = buffer
        self._callback = callback

    def done(self) -> bool:
        return False

    def set_result(self, _result: None, /) -> None:
        buffer = self._buffer
        if buffer.done:
            self._callback(buffer.error)
        else:
            buffer.add_waiter(self)


__all__ = [
    "FedSequence",
    "FlatSequence",
    "Flattener",
    "flatten",
]
