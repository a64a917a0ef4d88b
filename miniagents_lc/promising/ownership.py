"""Who started which work, so that work nobody wants any more can be stopped together.

An owner (an agent call, say) collects the tasks it starts for its own work and the streams it
produces. When the last reader of what it produces is cancelled, the owner is asked whether its
output is still wanted; if not, it stops: its tasks are cancelled, and so are the producers of
its streams that nobody is reading.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from miniagents_lc.promising.stream_buffer import StreamBuffer

_current_owner: contextvars.ContextVar[TaskOwner | None] = contextvars.ContextVar(
    "miniagents_lc_task_owner", default=None
)


class TaskOwner:
    """The work one owner started: tasks, and streams whose producers it started.

    Subclasses say whether somebody still reads the owner's output (`_is_wanted`) and what to do
    first when the owner stops (`_on_stop`: end its output with an error, say).
    """

    __slots__ = ("_work", "stopped")

    def __init__(self) -> None:
        self._work: list[asyncio.Task[Any] | StreamBuffer[Any]] = []
        self.stopped = False

    def add(self, work: asyncio.Task[Any] | StreamBuffer[Any]) -> None:
        """Count `work` as this owner's."""
        owned = self._work
        if len(owned) >= 16:
            # Finished work needs no stopping; keeping it would only hold memory.
            owned[:] = [item for item in owned if not _finished(item)]
        owned.append(work)

    def discard(self, work: asyncio.Task[Any] | StreamBuffer[Any] | None) -> None:
        """Forget `work` (it has finished)."""
        if work is not None and work in self._work:
            self._work.remove(work)

    def stop_if_unwanted(self) -> None:
        """Stop everything this owner started, unless its output is still read."""
        if self.stopped or self._is_wanted():
            return
        self.stopped = True
        self._on_stop()
        for item in self._work:
            if isinstance(item, asyncio.Task):
                item.cancel()
            else:
                item.stop_producer_if_unread()

    def _is_wanted(self) -> bool:
        return False

    def _on_stop(self) -> None:
        pass


def ensure_owner(owner: TaskOwner | None) -> None:
    """Make `owner` the owner of what the current task starts from here on (a no-op when it
    already is)."""
    if _current_owner.get() is not owner:
        _current_owner.set(owner)


def _finished(work: asyncio.Task[Any] | StreamBuffer[Any]) -> bool:
    return work.done() if isinstance(work, asyncio.Task) else work.done


def current_owner() -> TaskOwner | None:
    """The owner that work started here belongs to, if any."""
    return _current_owner.get()
