"""Builders for Anthropic Messages API streams and error bodies.

The shapes mirror the API's streams: each event has an `event:` line naming its type (the SDK
skips events without one), compact JSON, raw UTF-8 and a blank line after each. A reply is
`message_start`, a `ping`, its content blocks (thinking, text, tool uses), `message_delta` with
the stop reason and cumulative usage, then `message_stop`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from miniagents_lc.testing import (
    ConnectionReset,
    ErrorEvent,
    MalformedLine,
    PlacedFault,
    Stall,
    StreamPlan,
    Truncate,
    encode_sse,
)

__all__ = [
    "DEFAULT_INPUT_TOKENS",
    "DEFAULT_MODEL",
    "Fault",
    "MessagesStreamBuilder",
    "ToolUse",
    "anthropic_error_body",
    "anthropic_error_event",
    "encode_anthropic_fault",
    "event",
    "messages_usage",
]

JSON = dict[str, Any]

#: Model name used when neither the script nor the request names one.
DEFAULT_MODEL = "claude-sonnet-4-5"
#: Prompt size reported in generated usage when the script gives none.
DEFAULT_INPUT_TOKENS = 10

#: The faults an Anthropic stream can be scripted to end with.
Fault = Truncate | ErrorEvent | Stall | ConnectionReset | MalformedLine

_ERRORS_BY_STATUS = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use this resource."),
    404: ("not_found_error", "The requested resource was not found."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your rate limit."),
    529: ("overloaded_error", "Overloaded"),
}


def event(kind: str, **fields: Any) -> bytes:
    """Encode one Anthropic stream event: `event: <kind>` and `{"type": kind, **fields}`."""
    return encode_sse({"type": kind, **fields}, event=kind)


def anthropic_error_body(
    status: int, *, message: str | None = None, error_type: str | None = None
) -> JSON:
    """Build the JSON body Anthropic sends with an HTTP error status, with plausible defaults
    (529 is `overloaded_error`, 429 `rate_limit_error`, other 5xx `api_error`)."""
    default_type, default_message = _ERRORS_BY_STATUS.get(
        status, ("api_error", "Internal server error")
    )
    return {
        "type": "error",
        "error": {
            "type": error_type if error_type is not None else default_type,
            "message": message if message is not None else default_message,
        },
        "request_id": f"req_test{status}",
    }


def anthropic_error_event(
    message: str = "Overloaded", *, error_type: str = "overloaded_error"
) -> bytes:
    """Encode the `error` event that aborts a Messages stream mid-way (the SDK raises
    `anthropic.APIStatusError` carrying its body)."""
    return event("error", error={"type": error_type, "message": message})


def messages_usage(
    input_tokens: int = DEFAULT_INPUT_TOKENS,
    output_tokens: int = 0,
    *,
    cache_creation_input_tokens: int = 0,
    cache_read_input_tokens: int = 0,
) -> JSON:
    """Build a Messages API `usage` object (input tokens exclude the cache reads and writes,
    which have counts of their own)."""
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": cache_creation_input_tokens,
        "cache_read_input_tokens": cache_read_input_tokens,
        "output_tokens": output_tokens,
    }


@dataclass(frozen=True)
class ToolUse:
    """One tool use a scripted reply streams, its input as `input_json_delta` fragments.

    `input` may be a JSON string (one fragment), a list of fragments (one event each, split
    anywhere, even inside a string or an escape) or a mapping (compact JSON, one fragment).
    A tool use with no input streams one empty fragment, as the API does.
    """

    name: str
    input: str | Sequence[str] | Mapping[str, Any] = ""
    id: str | None = None

    def fragments(self) -> list[str]:
        """Return the input fragments in streaming order."""
        if isinstance(self.input, Mapping):
            return [json.dumps(self.input, ensure_ascii=False, separators=(",", ":"))]
        if isinstance(self.input, str):
            return [self.input]
        return list(self.input) or [""]


@dataclass(frozen=True)
class MessagesStreamBuilder:
    """Makes the events of one streamed Messages reply, sharing one message id and model.

    `cumulative_usage` mirrors the current API: `message_delta` repeats the input and cache
    counts that `message_start` gave, as running totals; without it, `message_delta` has the
    output count only, as earlier API versions sent. Either way the counts are totals, never
    increments.
    """

    message_id: str
    model: str = DEFAULT_MODEL
    cumulative_usage: bool = True
    ping: bool = True

    def plan(
        self,
        tokens: Sequence[str] = (),
        *,
        thinking: Sequence[str] = (),
        signature: str = "",
        tool_uses: Sequence[ToolUse] = (),
        stop_reason: str | None = None,
        usage: Mapping[str, int] | None = None,
    ) -> StreamPlan:
        """Build a whole reply: a thinking block (if `thinking`), a text block (if `tokens`),
        one block per tool use, then `message_delta` and `message_stop`.

        The payload events (what delays pace and faults count) are the thinking pieces, the
        text tokens and the tool-input fragments; each block's start rides with its first
        payload event, its stop (and a thinking block's signature) with the next block's start.
        `stop_reason` defaults to "tool_use" with tool uses and "end_turn" without; `usage`
        (keyword arguments of `messages_usage`) to 10 input tokens and one output token per
        payload event.
        """
        blocks: list[tuple[JSON, list[JSON], list[JSON]]] = []  # start, deltas, closing deltas
        if thinking:
            closing = [{"type": "signature_delta", "signature": signature}] if signature else []
            blocks.append(
                (
                    {"type": "thinking", "thinking": "", "signature": ""},
                    [{"type": "thinking_delta", "thinking": piece} for piece in thinking],
                    closing,
                )
            )
        if tokens:
            blocks.append(
                (
                    {"type": "text", "text": ""},
                    [{"type": "text_delta", "text": token} for token in tokens],
                    [],
                )
            )
        for number, tool_use in enumerate(tool_uses):
            tool_id = tool_use.id or f"toolu_{self.message_id[-8:]}{number:02d}"
            blocks.append(
                (
                    {"type": "tool_use", "id": tool_id, "name": tool_use.name, "input": {}},
                    [{"type": "input_json_delta", "partial_json": f} for f in tool_use.fragments()],
                    [],
                )
            )
        payload: list[bytes] = []
        pending_stop = b""
        for index, (start, deltas, closing) in enumerate(blocks):
            opening = pending_stop + event("content_block_start", index=index, content_block=start)
            for number, delta in enumerate(deltas):
                prefix = opening if number == 0 else b""
                payload.append(prefix + event("content_block_delta", index=index, delta=delta))
            pending_stop = b"".join(
                event("content_block_delta", index=index, delta=delta) for delta in closing
            ) + event("content_block_stop", index=index)
        counts = messages_usage(**{"output_tokens": len(payload), **(usage or {})})
        reason = stop_reason or ("tool_use" if tool_uses else "end_turn")
        tail = (
            pending_stop,
            self.message_delta(reason, counts),
            event("message_stop"),
        )
        head = [self.message_start(counts)]
        if self.ping:
            head.append(event("ping"))
        return StreamPlan(head=tuple(head), payload=tuple(payload), tail=tail)

    def message_start(self, counts: Mapping[str, int]) -> bytes:
        """The opening event: the empty message, with the input counts and a first output
        count (1, as the API reports before any content)."""
        usage = {**counts, "output_tokens": min(1, counts.get("output_tokens", 0))}
        message: JSON = {
            "id": self.message_id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        }
        return event("message_start", message=message)

    def message_delta(self, stop_reason: str, counts: Mapping[str, int]) -> bytes:
        """The closing delta: the stop reason and the usage totals."""
        if self.cumulative_usage:
            usage = dict(counts)
        else:
            usage = {"output_tokens": counts.get("output_tokens", 0)}
        delta = {"stop_reason": stop_reason, "stop_sequence": None}
        return event("message_delta", delta=delta, usage=usage)


def encode_anthropic_fault(fault: PlacedFault, after: int) -> bytes:
    """Encode an `ErrorEvent` as the Messages stream's `error` event, its `error_type` and
    `message` as given (`ErrorEvent(after, error_type="overloaded_error", message="Overloaded")`
    is what an overloaded API sends)."""
    if not isinstance(fault, ErrorEvent):
        raise ValueError(f"{type(fault).__name__} is not a fault of the Anthropic Messages API")
    return anthropic_error_event(fault.message, error_type=fault.error_type)
