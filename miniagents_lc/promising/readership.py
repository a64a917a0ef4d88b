"""Who is still reading a stream: one `Readership` per stream, one `Lease` per open read.

Every read of a stream (a replay, a cursor, an await of the whole) holds a lease from its
start until it ends. A lease ends in one of three ways: the read reached the end; the read was
left early (a `break`, a closed cursor); or the read was left early because the task reading
was cancelled. Only the last kind, when it leaves no other lease open, abandons the stream, and
that is decided at the release, once: the readership then tells its one subscriber.

A read that spans task switches (a replay suspended at `yield`, a cursor between two reads) is
held by the task reading it; when that task ends, the lease ends with it, as a cancellation if
the task was cancelled. So a reader cancelled while it waits for something else, with the
stream still open, lets go of the stream before anybody awaiting that reader resumes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from miniagents_lc.promising.ownership import OwnedStream, TaskOwner, current_owner


class Readership:
    """The open reads of one stream, and the one subscriber told when they abandon it.

    The subscriber is the stream's owner, if it has one; without one, an abandoned stream stops
    its own production. Reads by the owner's own work of the stream take no lease: only reads
    from elsewhere keep the owner's work wanted.
    """

    __slots__ = ("_owner", "_stream", "open_leases")

    def __init__(self, stream: OwnedStream) -> None:
        self._stream = stream
        self.open_leases = 0
        self._owner: TaskOwner | None = None

    @property
    def is_read(self) -> bool:
        """Whether any read of the stream is open (the owner's own reads aside)."""
        return self.open_leases > 0

    def subscribe(self, owner: TaskOwner) -> None:
        """Tell `owner` (with `owner.abandoned(stream)`) when the stream is abandoned."""
        self._owner = owner

    def lease(self, *, held_by_task: bool = True) -> Lease:
        """Open a read. `held_by_task`: the read may outlive a task switch outside the
        stream's own waits, so it ends with the task that holds it (see `Lease`)."""
        owner = self._owner
        if owner is not None and current_owner() is owner:
            return _OWN_READ
        self.open_leases += 1
        return Lease(self, _current_task_or_none() if held_by_task else None)

    def lease_for(self, owner: TaskOwner | None) -> Lease:
        """Open a read on behalf of `owner`'s work, held by no task: whoever opens it releases
        it, at the end of the read or with `cancelled=True` when giving up on the stream."""
        if owner is not None and owner is self._owner:
            return _OWN_READ
        self.open_leases += 1
        return Lease(self, None)

    def _released(self, cancelled: bool) -> None:
        self.open_leases -= 1
        if cancelled and not self.open_leases:
            if self._owner is None:
                self._stream.stop_production()
            else:
                self._owner.abandoned(self._stream)


class Lease:
    """One open read of a stream. Release it once, in the `finally` of the read: with
    `cancelled=True` when the read ends because its task is being cancelled."""

    __slots__ = ("_holder", "_readership", "is_open")

    def __init__(self, readership: Readership | None, holder: asyncio.Task[Any] | None) -> None:
        self._readership = readership
        self.is_open = True
        self._holder = holder
        if holder is not None:
            holder.add_done_callback(self._holder_done)

    def release(self, *, cancelled: bool) -> None:
        """End the read; `cancelled`: it ends early because its task is being cancelled.
        Releasing twice is harmless (the first release counts)."""
        if not self.is_open:
            return
        self.is_open = False
        holder = self._holder
        if holder is not None:
            self._holder = None
            holder.remove_done_callback(self._holder_done)
        if self._readership is not None:
            self._readership._released(cancelled)

    def leave(self) -> None:
        """End the read before the end of the stream without having seen why (a generator
        being closed, a cursor closed): it counts as cancelled when the task holding it is
        being cancelled."""
        holder = self._holder
        self.release(cancelled=holder is not None and holder.cancelling() > 0)

    def hold(self) -> None:
        """Make the task running now the holder of this read, which may be continued from
        another task than the one that opened it; a read that ended with its former task
        is open again."""
        readership = self._readership
        if readership is None:
            return
        task = _current_task_or_none()
        if not self.is_open:
            self.is_open = True
            readership.open_leases += 1
        elif task is self._holder:
            return
        elif self._holder is not None:
            self._holder.remove_done_callback(self._holder_done)
        self._holder = task
        if task is not None:
            task.add_done_callback(self._holder_done)

    def _holder_done(self, task: asyncio.Task[Any]) -> None:
        self._holder = None  # the task has already dropped this callback
        self.release(cancelled=task.cancelled())


_OWN_READ = Lease(None, None)
"""The lease of every read by an owner's own work of a stream it owns: it counts for nothing."""
_OWN_READ.is_open = False


def _current_task_or_none() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running event loop
        return None


__all__ = [
    "Lease",
    "Readership",
]
