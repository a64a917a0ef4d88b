"""What a protocol stream needs to watch a run: the run's onlookers (the engine's `Onlooker`,
which sees a stream's pieces without reading it), and a message's role and whole as far as they
are known without waiting."""

from __future__ import annotations

from typing import Any, TypeVar

from miniagents_lc.messages import Message, MessagePromise
from miniagents_lc.promising import StreamedPromise
from miniagents_lc.promising.lowlevel import Onlooker, assembled_whole, buffer_of, known_whole

PIECE = TypeVar("PIECE")


class Watchers:
    """The onlookers of one run's replies; `close()` makes every one of them stop waiting for
    more (each ends, as cut, once it has read what is buffered)."""

    __slots__ = ("_onlookers", "closed")

    def __init__(self) -> None:
        self.closed = False
        self._onlookers: list[Onlooker[Any]] = []

    def watch(self, promise: StreamedPromise[PIECE, Any]) -> Onlooker[PIECE]:
        """An onlooker of `promise`'s stream from its start, cut when the run closes."""
        onlooker = Onlooker(buffer_of(promise))
        if self.closed:
            onlooker.stop_waiting()
        else:
            self._onlookers.append(onlooker)
        return onlooker

    def close(self) -> None:
        """From now on every onlooker ends (as cut) once it has read what is buffered."""
        self.closed = True
        onlookers, self._onlookers = self._onlookers, []
        for onlooker in onlookers:
            onlooker.stop_waiting()


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
