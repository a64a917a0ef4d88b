"""The engine's low-level parts, for extenders who follow streams without being their readers.

The public API (`miniagents_lc.promising`) is enough to make, read and compose promises. Layers
that *watch* a running tree (the protocol events, the live view, transports) need a little more:
a promise's buffer (to see what is there without taking a reading lease), the whole a promise
already knows without waiting, the task owners that decide when work stops, and the task
scopes that cancel a run's work as a unit. They are here, as trio keeps its `lowlevel`; nothing
else in the package is promised to stay as it is.
"""

from __future__ import annotations

from typing import Any, TypeVar

from miniagents_lc.promising.context import cancel_and_wait, open_task_scope
from miniagents_lc.promising.onlooking import Claims, Onlooker, Wakeup
from miniagents_lc.promising.ownership import TaskOwner, current_owner, ensure_owner
from miniagents_lc.promising.readership import Lease, Readership
from miniagents_lc.promising.stream_buffer import StreamBuffer, Waiter
from miniagents_lc.promising.streamed_promise import _UNSET, StreamedPromise

PIECE = TypeVar("PIECE")
WHOLE = TypeVar("WHOLE")


def buffer_of(promise: StreamedPromise[PIECE, Any]) -> StreamBuffer[PIECE]:
    """The buffer `promise` streams through: its pieces so far, whether and how it ended.

    Looking at it reads nothing: a watcher that only looks (and waits through
    `StreamBuffer.add_waiter`) never keeps the stream's work alive nor stops it."""
    return promise._buffer


def known_whole(promise: StreamedPromise[Any, WHOLE]) -> WHOLE | None:
    """The whole `promise` already holds (made resolved, or awaited before), else None;
    never waits and never builds anything."""
    whole = promise._whole
    return None if whole is _UNSET else whole


def assembled_whole(promise: StreamedPromise[Any, WHOLE]) -> WHOLE:
    """The whole of a promise whose stream has ended without an error, built now if nobody
    awaited it yet (the built-in packaging only). Raises `RuntimeError` otherwise."""
    whole = promise._whole
    if whole is not _UNSET:
        return whole
    buffer = promise._buffer
    if not buffer.done or buffer.error is not None:
        raise RuntimeError(
            "assembled_whole() needs a promise whose stream has ended without an error; "
            "await the promise instead."
        )
    return promise._assemble(buffer.pieces)


__all__ = [
    "Claims",
    "Lease",
    "Onlooker",
    "Readership",
    "StreamBuffer",
    "TaskOwner",
    "Waiter",
    "Wakeup",
    "assembled_whole",
    "buffer_of",
    "cancel_and_wait",
    "current_owner",
    "ensure_owner",
    "known_whole",
    "open_task_scope",
]
