"""`FlatSequence`: a stream of incoming items turned, item by item, into one flat stream."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any, ClassVar, Generic, TypeVar

from miniagents_lc.promising.append_producer import _CLOSED, _NEW, _OPEN, AppendProducer
from miniagents_lc.promising.context import PromisingContext
from miniagents_lc.promising.errors import NoActiveContextError, StreamCancelledError
from miniagents_lc.promising.ownership import TaskOwner, current_owner, ensure_owner
from miniagents_lc.promising.sentinels import DEFAULT, Defaultable
from miniagents_lc.promising.stream_buffer import StreamBuffer
from miniagents_lc.promising.streamed_promise import Producer, StreamedPromise

IN = TypeVar("IN")
OUT = TypeVar("OUT")

Flattener = Callable[["FlatSequence[IN, OUT]", IN], AsyncIterator[OUT]]


class FlatSequence(Generic[IN, OUT]):
    """`sequence_promise` streams `flattener(self, item)`'s output for every incoming item, in
    order. The flattener runs in a task of the context (at the next task switch when scheduled
    immediately, else when the sequence is first consumed), never on the spot.

    Given no `incoming_producer`, the sequence is fed through its own `append_producer` (with
    `capture_errors`); then an item that `_pass_through` turns into a single piece, with nothing
    queued ahead of it, is placed at once without the flattener, and the flattening task runs
    only while there are other items to flatten.
    """

    __slots__ = ("_feed", "_flattener", "_incoming", "append_producer", "sequence_promise")

    _promise_class: ClassVar[type[StreamedPromise[Any, Any]]] = StreamedPromise
    append_producer: AppendProducer[IN]
    sequence_promise: StreamedPromise[OUT, Any]

    def __init__(
        self,
        incoming_producer: Producer[IN] | None,
        flattener: Flattener[IN, OUT],
        *,
        schedule_immediately: Defaultable = DEFAULT,
        capture_errors: Defaultable = DEFAULT,
    ) -> None:
        self._flattener = flattener
        if incoming_producer is None:
            self._feed = _Feed(self, PromisingContext.get_current(), capture_errors)
            self.append_producer = self._feed
            self.sequence_promise = self._promise_class._over_buffer(self._feed.out)
            if not self._feed.context.resolve_schedule_immediately(schedule_immediately):
                self._feed.out.on_first_demand = self._feed.demanded
            else:
                self._feed.demand = True
            return
        self._incoming: StreamedPromise[IN, Any] = StreamedPromise(
            producer=incoming_producer, schedule_immediately=False
        )
        self.sequence_promise = self._promise_class(
            producer=self._produce_flat, schedule_immediately=schedule_immediately
        )

    async def _produce_flat(self, _promise: Any) -> AsyncIterator[OUT]:
        flattener = self._flattener
        async for item in self._incoming:
            async for piece in flattener(self, item):
                yield piece

    def _pass_through(self, item: IN) -> OUT | None:
        """The single piece `item` flattens to, if it is known now without waiting; else None.
        (Subclasses that feed themselves say which items need no flattening task.)"""
        return None

    def _on_error(self, error: BaseException) -> None:
        """Called with every error that ends a fed sequence, before consumers see it."""

    def _on_demand(self) -> None:
        """Called when a fed sequence not scheduled immediately is first consumed."""

    def _work_owner(self) -> TaskOwner | None:
        """The owner of a fed sequence's flattening task: by default, whoever creates it."""
        return current_owner()

    def _output_owner(self) -> TaskOwner | None:
        """The owner that decides whether a fed sequence stops when its readers are cancelled;
        None: its flattening stops whenever nobody else reads it."""
        return None


class _Feed(AppendProducer[IN]):
    """The append side of a fed FlatSequence: places pass-through items straight into the
    output buffer and queues the rest for a flattening task that lives only while they last."""

    __slots__ = (
        "_close_error",
        "_drain",
        "_owner",
        "_pending",
        "_sequence",
        "context",
        "demand",
        "out",
    )

    def __init__(
        self,
        sequence: FlatSequence[IN, Any],
        context: PromisingContext,
        capture_errors: Defaultable,
    ) -> None:
        self._state = _NEW
        self._capture_errors = (
            context.producer_capture_errors_by_default
            if capture_errors is DEFAULT
            else capture_errors
        )
        self._sequence = sequence
        self.context = context
        self.out: StreamBuffer[Any] = StreamBuffer()
        # Appended items never wait in a buffer of their own: `buffer` is the output.
        self.buffer = self.out
        self._pending: deque[IN] | None = None
        self._drain: asyncio.Task[None] | None = None
        self._close_error: BaseException | None = None
        # Whether flattening may run now (scheduled immediately, or consumed already).
        self.demand = False
        # Whoever owns the sequence owns its flattening, even when a reader starts it.
        self._owner = sequence._work_owner()
        self.out.owner = sequence._output_owner()

    def append(self, piece: IN) -> _Feed[IN]:
        if self._state != _OPEN:
            return super().append(piece)  # raises the error that names the fix
        out = self.out
        if out.done:
            # The sequence already ended with an error: nothing more reaches a consumer.
            return self
        pending = self._pending
        if not pending and self._drain is None:
            passed = self._sequence._pass_through(piece)
            if passed is not None:
                out.push(passed)
                return self
        if pending is None:
            pending = self._pending = deque()
        pending.append(piece)
        self._start_draining()
        return self

    def close(self, error: BaseException | None = None) -> None:
        if self._state == _CLOSED:
            return
        self._state = _CLOSED
        self._close_error = error
        if not self._pending and self._drain is None:
            self._finish()

    def demanded(self) -> None:
        self.demand = True
        self._sequence._on_demand()
        self._start_draining()

    def _start_draining(self) -> None:
        if self._drain is not None or not self._pending or not self.demand:
            return
        if not self.context.is_active:
            self._fail(
                NoActiveContextError(
                    "This sequence has items to flatten but its context has ended; consume it "
                    "inside the `async with` block that created it."
                )
            )
            return
        drain = self.context._schedule(self._run_drain(), "FlatSequence-flattener")
        self._drain = self.out.producer_task = drain
        if self._owner is not None:
            self._owner.add(drain)

    async def _run_drain(self) -> None:
        ensure_owner(self._owner)
        pending = self._pending
        assert pending is not None
        out = self.out
        flattener = self._sequence._flattener
        try:
            while pending:
                pieces = flattener(self._sequence, pending.popleft())
                try:
                    async for piece in pieces:
                        out.push(piece)
                finally:
                    aclose = getattr(pieces, "aclose", None)
                    if aclose is not None:
                        await aclose()
        except Exception as error:
            pending.clear()
            self._fail(error)
            return
        except BaseException:
            pending.clear()
            out.end(
                StreamCancelledError(
                    f"The flattening of this {type(self._sequence).__name__} was cancelled "
                    "before the end."
                )
            )
            raise
        finally:
            self._drain = out.producer_task = None
            if self._owner is not None:
                # A finished task needs no stopping; the owner would only keep it in memory.
                self._owner.discard(asyncio.current_task())
        if self._state == _CLOSED:
            self._finish()

    def _finish(self) -> None:
        if self._close_error is not None:
            self._fail(self._close_error)
            return
        self.out.end()
        self._sequence.sequence_promise._notify_completed()

    def _fail(self, error: BaseException) -> None:
        self._sequence._on_error(error)
        self.out.end(error)

    def stop(self, error: BaseException) -> None:
        """End the sequence with `error` now and cancel its flattening."""
        # The end comes first, so whatever the cancelled work does on its way out is ignored.
        self.out.end(error)
        if self._pending:
            self._pending.clear()
        if self._drain is not None:
            self._drain.cancel()
