"""The engine: replayable streamed promises and the context that runs them (asyncio only)."""

from miniagents_lc.promising.append_producer import AppendProducer
from miniagents_lc.promising.context import PromisingContext
from miniagents_lc.promising.errors import (
    AppendClosedError,
    AppendNotOpenError,
    NoActiveContextError,
    PromisingError,
    StreamCancelledError,
)
from miniagents_lc.promising.flat_sequence import FedSequence, FlatSequence, flatten
from miniagents_lc.promising.promise import Promise
from miniagents_lc.promising.sentinels import DEFAULT, Defaultable
from miniagents_lc.promising.stream_buffer import StreamCursor
from miniagents_lc.promising.streamed_promise import StreamedPromise

__all__ = [
    "DEFAULT",
    "AppendClosedError",
    "AppendNotOpenError",
    "AppendProducer",
    "Defaultable",
    "FedSequence",
    "FlatSequence",
    "NoActiveContextError",
    "Promise",
    "PromisingContext",
    "PromisingError",
    "StreamCancelledError",
    "StreamCursor",
    "StreamedPromise",
    "flatten",
]
