"""What a run's SSE stream carries, as items, and how items become SSE bytes.

An item is a protocol event (`seq` and its JSON), the placement of a message in the root's
reply, or the end of the run. A feed yields them in batches: everything available at once.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import TypeAlias

from miniagents_lc.remote.wire import END_EVENT, REPLY_EVENT, EndData

EventItem: TypeAlias = tuple[int, str]
"""A protocol event: its `seq` and its JSON."""


class Batch:
    """Items available together: events in `seq` order, then reply placements `(index,
    message id)` from `first_reply` on, then maybe the end."""

    __slots__ = ("end", "events", "first_reply", "replies")

    def __init__(self) -> None:
        self.events: list[EventItem] = []
        self.first_reply = 0
        self.replies: list[str] = []
        self.end: EndData | None = None

    def encode(self) -> bytes:
        """The batch as SSE: one event per item, protocol events with `id:` = `seq`."""
        parts = [f"id: {seq}\ndata: {data}\n\n" for seq, data in self.events]
        for index, message_id in enumerate(self.replies, start=self.first_reply):
            placement = json.dumps({"index": index, "id": message_id})
            parts.append(f"event: {REPLY_EVENT}\ndata: {placement}\n\n")
        if self.end is not None:
            parts.append(f"event: {END_EVENT}\ndata: {json.dumps(self.end)}\n\n")
        return "".join(parts).encode()


Feed: TypeAlias = AsyncIterator[Batch]


async def sse_bytes(feed: Feed) -> AsyncIterator[bytes]:
    """A feed as SSE chunks, one per batch."""
    async for batch in feed:
        yield batch.encode()


__all__ = ["Batch", "EventItem", "Feed", "sse_bytes"]
