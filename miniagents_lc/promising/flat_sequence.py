"""`FlatSequence`: a stream of incoming items turned, item by item, into one flat stream."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Generic, TypeVar

from miniagents_lc.promising.sentinels import DEFAULT, Defaultable
from miniagents_lc.promising.streamed_promise import Producer, StreamedPromise

IN = TypeVar("IN")
OUT = TypeVar("OUT")

Flattener = Callable[["FlatSequence[IN, OUT]", IN], AsyncIterator[OUT]]


class FlatSequence(Generic[IN, OUT]):
    """`sequence_promise` streams `flattener(self, item)`'s output for every incoming item, in
    order. The flattening runs as a task of the context (at the next task switch when scheduled
    immediately, else when the sequence is first consumed), never on the spot."""

    def __init__(
        self,
        incoming_producer: Producer[IN],
        flattener: Flattener[IN, OUT],
        *,
        schedule_immediately: Defaultable = DEFAULT,
    ) -> None:
        self._incoming: StreamedPromise[IN, Any] = StreamedPromise(
            producer=incoming_producer, schedule_immediately=False
        )
        self._flattener = flattener
        self.sequence_promise = self._make_sequence_promise(
            self._produce_flat, schedule_immediately
        )

    def _make_sequence_promise(
        self,
        producer: Callable[[Any], AsyncIterator[OUT]],
        schedule_immediately: Defaultable,
    ) -> StreamedPromise[OUT, Any]:
        """Subclasses return their own StreamedPromise type here."""
        return StreamedPromise(producer=producer, schedule_immediately=schedule_immediately)

    async def _produce_flat(self, _promise: Any) -> AsyncIterator[OUT]:
        flattener = self._flattener
        async for item in self._incoming:
            async for piece in flattener(self, item):
                yield piece
