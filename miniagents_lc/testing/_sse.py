"""Server-sent event framing: encoding events, splitting recorded bodies, and reply plans."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["StreamPlan", "encode_sse", "split_sse"]


def encode_sse(data: Mapping[str, Any] | str, *, event: str | None = None) -> bytes:
    """Encode one server-sent event: an optional `event:` line, one `data:` line, a blank line.

    A mapping becomes compact JSON with raw UTF-8, as provider APIs send it; a string (such as
    "[DONE]") is sent verbatim.
    """
    payload = (
        data
        if isinstance(data, str)
        else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    )
    head = f"event: {event}\n" if event is not None else ""
    return f"{head}data: {payload}\n\n".encode()


def split_sse(body: bytes) -> list[bytes]:
    """Split a raw SSE body into events, one network read each, keeping every separator.

    A trailing piece without its blank line is kept as it is, so a body that stops mid-event
    still stops mid-event when served.
    """
    pieces = body.split(b"\n\n")
    events = [piece + b"\n\n" for piece in pieces[:-1]]
    if pieces[-1]:
        events.append(pieces[-1])
    return events


@dataclass(frozen=True)
class StreamPlan:
    """The SSE events of one streamed reply, split so a fault can cut it after N payload events.

    `head` is the framing sent before any content, `payload` holds one event per token (or
    tool-call piece, or any unit a provider streams) and `tail` the closing events.
    """

    head: tuple[bytes, ...]
    payload: tuple[bytes, ...]
    tail: tuple[bytes, ...] = field(default=())

    def events(self) -> list[bytes]:
        """Return every event in order, as one complete reply."""
        return [*self.head, *self.payload, *self.tail]

    def body(self) -> bytes:
        """Return the complete reply as one SSE body."""
        return b"".join(self.events())
