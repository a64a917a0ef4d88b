"""The engine's error classes: one per distinct failure a user can act on."""

from __future__ import annotations


class PromisingError(Exception):
    """Base class of every error the engine raises on its own account."""


class NoActiveContextError(PromisingError, RuntimeError):
    """Engine objects were used where no `PromisingContext` is active."""


class AppendNotOpenError(PromisingError, RuntimeError):
    """`AppendProducer.append` was called before the producer was opened."""


class AppendClosedError(PromisingError, RuntimeError):
    """`AppendProducer.append` was called after the producer was closed."""


class StreamCancelledError(PromisingError):
    """A stream's production was cancelled before its end: its only consumer was cancelled
    while waiting for it, or its context was cancelled. Consumers that read the stream later
    get this error at the point where production stopped."""


__all__ = [
    "AppendClosedError",
    "AppendNotOpenError",
    "NoActiveContextError",
    "PromisingError",
    "StreamCancelledError",
]
