"""Who started which work, so that work nobody wants any more can be stopped together.

An owner (an agent call, say) collects the tasks it starts for its own work and the streams it
produces, and watches the readership of its output. When its output is abandoned (its last
reader was cancelled), or a stream it produces is abandoned while nobody reads its output, the
owner stops: its tasks are cancelled, and so are the producers of its streams that nobody reads.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any, Protocol, TypeAlias

from miniagents_lc.promising.errors import StreamCancelledError

# Owners sit below readerships and streams (a readership tells its owner; a stream has a
# readership): what an owner needs of them is written here as protocols, so this module
# imports neither.


class Readers(Protocol):
    """What an owner needs of a readership (`Readership`): whether anyone reads, and being
    told when the readers abandon the stream."""

    @property
    def is_read(self) -> bool: ...

    def subscribe(self, owner: TaskOwner) -> None: ...


class OwnedStream(Protocol):
    """What an owner needs of a stream it produces (a `StreamBuffer`)."""

    @property
    def readership(self) -> Readers: ...

    @property
    def done(self) -> bool: ...

    def stop_production(self) -> None: ...


Work: TypeAlias = "asyncio.Task[Any] | OwnedStream"

_current_owner: contextvars.ContextVar[TaskOwner | None] = contextvars.ContextVar(
    "miniagents_lc_task_owner", default=None
)


class OwnedOutput(Protocol):
    """What an owner produces for others to read (a fed sequence, say)."""

    @property
    def readership(self) -> Readers:
        """Who reads it."""

    def stop(self, error: BaseException | None) -> None:
        """End it with `error` (`None`: cleanly) now and stop producing it."""


class TaskOwner:
    """The work one owner started (tasks, and streams whose producers it started) and the
    output whose readers decide whether that work is still wanted. Reads by the owner's own
    work (its tasks, and what they start) of what it owns count for nothing.

    `kind` and `name` name the owner in the error its output ends with when it stops.
    """

    __slots__ = ("_kind", "_name", "_output", "_work", "stopped")

    def __init__(self, kind: str, name: str) -> None:
        self._kind = kind
        self._name = name
        self._work: list[Work] = []
        self._output: OwnedOutput | None = None
        self.stopped = False

    def watch_output(self, output: OwnedOutput) -> None:
        """Make `output` what this owner produces for others: once its readers abandon it,
        the owner stops, and `output` ends with `StreamCancelledError`."""
        self._output = output
        output.readership.subscribe(self)

    def add(self, work: Work) -> None:
        """Count `work` as this owner's: a task to cancel when it stops, or a stream whose
        producer it started."""
        owned = self._work
        if len(owned) >= 16:
            # Finished work needs no stopping; keeping it would only hold memory.
            owned[:] = [item for item in owned if not _finished(item)]
        owned.append(work)
        if not isinstance(work, asyncio.Task):
            work.readership.subscribe(self)

    def discard(self, work: Work | None) -> None:
        """Forget `work` (it has finished)."""
        if work is not None and work in self._work:
            self._work.remove(work)

    def abandoned(self, stream: OwnedStream) -> None:
        """Every reader of `stream`, the output or a stream of this owner's, has been
        cancelled: stop, unless the output is still read (or stop `stream` itself, if this
        owner has stopped already)."""
        if self.stopped:
            stream.stop_production()
            return
        output = self._output
        if output is None or not output.readership.is_read:
            self.stop()

    def stop(self) -> None:
        """Stop everything this owner started (once): end its output with
        `StreamCancelledError`, cancel its tasks, and the producers of its streams that nobody
        reads (the others stop when their readers abandon them)."""
        if self.stopped:
            return
        self.stopped = True
        if self._output is not None:
            self._output.stop(
                StreamCancelledError(
                    f"{self._kind} {self._name!r} was cancelled before it finished: the only "
                    "consumer of its output was cancelled. Keep another consumer reading it (or "
                    "shield the await with asyncio.shield) to let it finish."
                )
            )
        for item in self._work:
            if isinstance(item, asyncio.Task):
                item.cancel()
            elif not item.readership.is_read:
                item.stop_production()

    def halt(self, error: BaseException | None) -> None:
        """Stop this owner on purpose (a spent budget), whoever still reads its output: as
        `stop`, but its output ends with `error` (`None`: cleanly, after what it holds). A
        stream of its own that is being read (a message already handed out) runs to its end."""
        if self.stopped:
            return
        self.stopped = True
        if self._output is not None:
            self._output.stop(error)
        for item in self._work:
            if isinstance(item, asyncio.Task):
                item.cancel()
            elif not item.readership.is_read:
                item.stop_production()


def ensure_owner(owner: TaskOwner | None) -> None:
    """Make `owner` the owner of what the current task starts from here on (a no-op when it
    already is)."""
    if _current_owner.get() is not owner:
        _current_owner.set(owner)


def _finished(work: Work) -> bool:
    return work.done() if isinstance(work, asyncio.Task) else work.done


def current_owner() -> TaskOwner | None:
    """The owner that work started here belongs to, if any."""
    return _current_owner.get()


__all__ = [
    "OwnedOutput",
    "OwnedStream",
    "Readers",
    "TaskOwner",
    "Work",
    "current_owner",
    "ensure_owner",
]
