"""`EventLog`: the events of one run, numbered by one `seq` counter and replayable from any of
them; what a transport serves (`since=seq` resumes a client without loss or duplicates)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any

from miniagents_lc.promising.stream_buffer import StreamBuffer
from miniagents_lc.protocol.events import Namespace, ProtocolEvent, protocol_event


class EventLog:
    """An append-only list of protocol events; the event with `seq` n is the n-th appended.

    Emitting is synchronous and cheap (one dict, one list append); reading replays from any
    position and waits only at the end. The log ends once, cleanly or with the run's error,
    which every reader gets after the last event.
    """

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer: StreamBuffer[ProtocolEvent] = StreamBuffer()

    def emit(self, method: str, namespace: Namespace, data: Any) -> None:
        """Append an event; it gets the next `seq` and the current time."""
        buffer = self._buffer
        buffer.push(protocol_event(len(buffer.pieces) + 1, method, namespace, data))

    def end(self, error: BaseException | None = None) -> None:
        """No more events (`error`: the run failed with it); later calls are ignored."""
        self._buffer.end(error)

    @property
    def done(self) -> bool:
        """Whether the log has ended."""
        return self._buffer.done

    @property
    def snapshot(self) -> Sequence[ProtocolEvent]:
        """The events emitted so far, in `seq` order (a copy)."""
        return tuple(self._buffer.pieces)

    async def events(
        self,
        *,
        since: int = 0,
        channels: Collection[str] | None = None,
        namespaces: Collection[Sequence[str]] | None = None,
        depth: int | None = None,
    ) -> AsyncIterator[ProtocolEvent]:
        """Every event with a `seq` greater than `since`, as it is emitted, then the run's error
        if it failed.

        `channels` keeps the events of these methods (`"lifecycle"`, `"messages"`);
        `namespaces` keeps those whose namespace starts with one of these prefixes, at most
        `depth` segments below it (the fields of the protocol's subscription request).
        """
        if since < 0:
            raise ValueError(f"since={since}: a seq is 0 (from the start) or more.")
        if depth is not None and depth < 0:
            raise ValueError(f"depth={depth}: give a depth of 0 or more, or None for any depth.")
        wanted = _Filter(channels, namespaces, depth)
        buffer = self._buffer
        pieces = buffer.pieces
        index = since
        while True:
            while index < len(pieces):
                event = pieces[index]
                index += 1
                if wanted.keeps(event):
                    yield event
            if buffer.done:
                if buffer.error is not None:
                    raise buffer.error
                return
            await buffer.wait_beyond(index)


class _Filter:
    __slots__ = ("_channels", "_depth", "_prefixes")

    def __init__(
        self,
        channels: Collection[str] | None,
        namespaces: Collection[Sequence[str]] | None,
        depth: int | None,
    ) -> None:
        self._channels = frozenset(channels) if channels is not None else None
        self._prefixes = [list(prefix) for prefix in namespaces] if namespaces is not None else None
        if depth is not None and self._prefixes is None:
            self._prefixes = [[]]
        self._depth = depth

    def keeps(self, event: ProtocolEvent) -> bool:
        if self._channels is not None and event["method"] not in self._channels:
            return False
        if self._prefixes is None:
            return True
        namespace = event["params"]["namespace"]
        depth = self._depth
        return any(
            namespace[: len(prefix)] == prefix
            and (depth is None or len(namespace) - len(prefix) <= depth)
            for prefix in self._prefixes
        )


__all__ = ["EventLog"]
