"""Who started which work, so that work nobody wants any more can be stopped together.

An owner (an agent call, say) collects the tasks it starts for its own work and the streams it
produces, and watches the readership of its output. When its output is abandoned (its last
reader was cancelled), or a stream it produces is abandoned while nobody reads its output, the
owner stops: its tasks are cancelled, and so are the producers of its streams that nobody reads.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from miniagents_lc.promising.readership import Readership
    from miniagents_lc.promising.stream_buffer import StreamBuffer

Work: TypeAlias = "asyncio.Task[Any] | StreamBuffer[Any]"

_current_owner: contextvars.ContextVar[TaskOwner | None] = contextvars.ContextVar(
    "miniagents_lc_task_owner", default=None
)


class TaskOwner:
    """The work one owner started (tasks, and streams whose producers it started) and the
    output whose readers decide whether that work is still wanted. Reads by the owner's own work
    (its tasks, and what they start) of what it owns count for nothing.

    `on_stop` runs first when the owner stops (to end its output with an error, say).
    """

    __slots__ = ("_on_stop", "_output", "_stream_abandoned", "_work", "stopped")

    def __init__(self, on_stop: Callable[[], None] | None = None) -> None:
        self._work: list[Work] = []
        self._on_stop = on_stop
        self._output: Readership[Any] | None = None
        # Bound once: every stream this owner produces subscribes with it.
        self._stream_abandoned = self._abandoned
        self.stopped = False

    def watch_output(self, output: StreamBuffer[Any]) -> None:
        """Make `output` the stream whose readers decide whether this owner is still wanted:
        once they abandon it, the owner stops."""
        readership = output.readership
        self._output = readership
        readership.subscribe(self, self._output_abandoned)

    def add(self, work: Work) -> None:
        """Count `work` as this owner's: a task to cancel when it stops, or a stream whose
        producer it started."""
        owned = self._work
        if len(owned) >= 16:
            # Finished work needs no stopping; keeping it would only hold memory.
            owned[:] = [item for item in owned if not _finished(item)]
        owned.append(work)
        if not isinstance(work, asyncio.Task):
            work.readership.subscribe(self, self._stream_abandoned)

    def discard(self, work: Work | None) -> None:
        """Forget `work` (it has finished)."""
        if work is not None and work in self._work:
            self._work.remove(work)

    def stop(self) -> None:
        """Stop everything this owner started (once): `on_stop`, then its tasks are cancelled,
        and the producers of its streams that nobody reads."""
        if self.stopped:
            return
        self.stopped = True
        if self._on_stop is not None:
            self._on_stop()
        for item in self._work:
            if isinstance(item, asyncio.Task):
                item.cancel()
            elif not item.readership.is_read:
                item.stop_production()
            # A stream still read stops when its readers abandon it (see `_abandoned`).

    def _output_abandoned(self, _output: StreamBuffer[Any]) -> None:
        self.stop()

    def _abandoned(self, stream: StreamBuffer[Any]) -> None:
        if self.stopped:
            stream.stop_production()
        elif self._output is None or not self._output.is_read:
            self.stop()


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
