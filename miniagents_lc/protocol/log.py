"""`EventLog`: the events of one run, numbered by one `seq` counter and replayable from any of
them; what a transport serves (`since=seq` resumes a client without loss or duplicates)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any

from miniagents_lc.promising.lowlevel import StreamBuffer
from miniagents_lc.protocol.events import ProtocolEvent, protocol_event, text_delta


class EventLog:
    """An append-only list of protocol events; the event with `seq` n is the n-th appended.

    Emitting is synchronous and cheap; reading replays from any position and waits only at
    the end. The log ends once, cleanly or with the run's error, which every reader gets after
    the last event.

    A long run emits an event per text delta. To keep that many events alive cheaply, each is
    kept as a flat tuple of immutable parts (a text delta as its text alone): the garbage
    collector stops scanning them, where nested dicts would be scanned again and again. Readers
    get the protocol's dicts, built as they read (treat them as read-only).
    """

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer: StreamBuffer[_Entry] = StreamBuffer()

    def emit(self, method: str, namespace: Sequence[str], data: Any) -> None:
        """Append an event; it gets the next `seq` and the current time."""
        timestamp = int(time.time() * 1000)
        where = tuple(namespace)
        if method == "messages" and data["event"] == "content-block-delta":
            delta = data["delta"]
            if delta["type"] == "text-delta" and data["index"] == 0:
                self._buffer.push((timestamp, where, delta["text"]))
                return
        self._buffer.push((timestamp, where, method, data))

    def end(self, error: BaseException | None = None) -> None:
        """No more events (`error`: the run failed with it); later calls are ignored."""
        self._buffer.end(error)

    @property
    def done(self) -> bool:
        """Whether the log has ended."""
        return self._buffer.done

    def __len__(self) -> int:
        return len(self._buffer.pieces)

    @property
    def snapshot(self) -> Sequence[ProtocolEvent]:
        """The events emitted so far, in `seq` order."""
        return [_event(seq, entry) for seq, entry in enumerate(self._buffer.pieces, start=1)]

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
                entry = pieces[index]
                index += 1
                if wanted.keeps(entry):
                    yield _event(index, entry)
            if buffer.done:
                if buffer.error is not None:
                    raise buffer.error
                return
            await buffer.wait_beyond(index)


_Entry = tuple[int, tuple[str, ...], str] | tuple[int, tuple[str, ...], str, Any]
"""(timestamp, namespace, text) for a text delta, (timestamp, namespace, method, data) else."""


def _event(seq: int, entry: _Entry) -> ProtocolEvent:
    if len(entry) == 3:
        timestamp, where, text = entry
        return protocol_event(seq, "messages", list(where), text_delta(text), timestamp)
    timestamp, where, method, data = entry
    return protocol_event(seq, method, list(where), data, timestamp)


class _Filter:
    __slots__ = ("_channels", "_depth", "_prefixes")

    def __init__(
        self,
        channels: Collection[str] | None,
        namespaces: Collection[Sequence[str]] | None,
        depth: int | None,
    ) -> None:
        self._channels = frozenset(channels) if channels is not None else None
        self._prefixes = (
            [tuple(prefix) for prefix in namespaces] if namespaces is not None else None
        )
        if depth is not None and self._prefixes is None:
            self._prefixes = [()]
        self._depth = depth

    def keeps(self, entry: _Entry) -> bool:
        """Whether a kept entry of the log passes."""
        return self._keeps("messages" if len(entry) == 3 else entry[2], entry[1])

    def keeps_event(self, event: ProtocolEvent) -> bool:
        """Whether an event passes."""
        return self._keeps(event["method"], tuple(event["params"]["namespace"]))

    def _keeps(self, method: str, namespace: tuple[str, ...]) -> bool:
        if self._channels is not None and method not in self._channels:
            return False
        if self._prefixes is None:
            return True
        depth = self._depth
        return any(
            namespace[: len(prefix)] == prefix
            and (depth is None or len(namespace) - len(prefix) <= depth)
            for prefix in self._prefixes
        )


__all__ = ["EventLog"]
