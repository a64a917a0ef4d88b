"""Builders for OpenAI Chat Completions streams (`chat.completion.chunk` events) and error bodies.

The shapes mirror recorded OpenAI streams (compact JSON, raw UTF-8, one blank line after each
event), so a scripted reply parses exactly like a real one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from miniagents_lc.testing import StreamPlan, encode_sse

__all__ = [
    "DEFAULT_MODEL",
    "PLAIN_TOOL_STREAM",
    "ChatStreamBuilder",
    "ToolCall",
    "ToolStream",
    "chat_error_event",
    "chat_usage",
    "openai_error_body",
]

JSON = dict[str, Any]

#: Model name used when neither the script nor the request names one.
DEFAULT_MODEL = "gpt-4o-mini"
_CREATED = 1718064000
_FINGERPRINT = "fp_miniagents0"


def openai_error_body(
    status: int,
    *,
    message: str | None = None,
    error_type: str | None = None,
    code: str | None = None,
    param: str | None = None,
) -> JSON:
    """Build the JSON body OpenAI sends with an HTTP error status, with plausible defaults."""
    default_type, default_code, default_message = {
        400: ("invalid_request_error", None, "Invalid request."),
        401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
        404: ("invalid_request_error", "model_not_found", "The model does not exist."),
        429: ("requests", "rate_limit_exceeded", "Rate limit reached. Please try again later."),
    }.get(status, ("server_error", None, "The server had an error processing your request."))
    return {
        "error": {
            "message": message if message is not None else default_message,
            "type": error_type if error_type is not None else default_type,
            "param": param,
            "code": code if code is not None else default_code,
        }
    }


def chat_error_event(
    message: str, *, error_type: str = "server_error", code: str | None = None
) -> bytes:
    """Encode the `{"error": ...}` event that aborts a Chat Completions stream mid-way."""
    error = {"message": message, "type": error_type, "param": None, "code": code}
    return encode_sse({"error": error})


@dataclass(frozen=True)
class ToolCall:
    """One function call a scripted chat reply streams, as its argument fragments.

    `arguments` may be a complete JSON string (streamed as one fragment), a list of fragments
    (streamed one chunk each) or a mapping (dumped to compact JSON, one fragment).
    """

    name: str
    arguments: str | Sequence[str] | Mapping[str, Any] = ""
    id: str | None = None

    def fragments(self) -> list[str]:
        """Return the argument fragments in streaming order."""
        if isinstance(self.arguments, Mapping):
            return [json.dumps(self.arguments, ensure_ascii=False, separators=(",", ":"))]
        if isinstance(self.arguments, str):
            return [self.arguments] if self.arguments else []
        return list(self.arguments)


@dataclass(frozen=True)
class ToolStream:
    """How a scripted reply streams its tool calls: as OpenAI does (the defaults), or with a
    variation or a quirk some OpenAI-compatible servers have.

    - `interleave`: the calls' chunks alternate (every header first, then one argument fragment
      of each call in turn) instead of one call after the other.
    - `index` (Chat Completions only): "distinct" (0, 1, ... per call), "same" (every call
      index 0) or "missing" (no `index` key at all).
    - `cumulative`: each arguments chunk carries the whole text so far, not the new piece.
    - `repeat_header` (Chat Completions only): every chunk of a call carries its id and name,
      not only the first.
    - `ids` (Chat Completions only): False sends no call ids at all.
    """

    interleave: bool = False
    index: Literal["distinct", "same", "missing"] = "distinct"
    cumulative: bool = False
    repeat_header: bool = False
    ids: bool = True

    def pieces(self, call: ToolCall) -> list[str]:
        """The argument texts `call`'s chunks carry, in streaming order."""
        fragments = call.fragments()
        if not self.cumulative:
            return fragments
        sofar = ""
        sent = []
        for fragment in fragments:
            sofar += fragment
            sent.append(sofar)
        return sent

    def order(self, per_call: Sequence[Sequence[Any]]) -> list[Any]:
        """The chunks of all calls in streaming order: call after call, or alternating."""
        if not self.interleave:
            return [chunk for chunks in per_call for chunk in chunks]
        rounds = max((len(chunks) for chunks in per_call), default=0)
        return [chunks[n] for n in range(rounds) for chunks in per_call if n < len(chunks)]


#: Tool calls streamed as OpenAI streams them.
PLAIN_TOOL_STREAM = ToolStream()


def chat_usage(
    prompt_tokens: int,
    completion_tokens: int,
    total_tokens: int | None = None,
    *,
    cached_tokens: int = 0,
    reasoning_tokens: int = 0,
) -> JSON:
    """Build a Chat Completions `usage` object with the detail fields the API always includes
    (cached prompt tokens and reasoning tokens count inside the prompt and completion totals).
    """
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": (
            total_tokens if total_tokens is not None else prompt_tokens + completion_tokens
        ),
        "prompt_tokens_details": {"cached_tokens": cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


@dataclass(frozen=True)
class ChatStreamBuilder:
    """Makes `chat.completion.chunk` events that share one completion id and model.

    `with_usage_field` mirrors `stream_options.include_usage`: every chunk then carries
    `"usage": null` and only the extra last chunk (with `choices: []`) carries numbers.
    """

    completion_id: str
    model: str = DEFAULT_MODEL
    with_usage_field: bool = False

    def chunk(self, delta: Mapping[str, Any], finish_reason: str | None = None) -> JSON:
        """Build one chunk with a single choice carrying `delta`."""
        choice = {
            "index": 0,
            "delta": dict(delta),
            "logprobs": None,
            "finish_reason": finish_reason,
        }
        return self._envelope([choice], usage=None)

    def usage_chunk(self, usage: Mapping[str, Any]) -> JSON:
        """Build the trailing usage chunk, which has no choices at all."""
        return self._envelope([], usage=dict(usage))

    def plan(
        self,
        tokens: Sequence[str] = (),
        *,
        tool_calls: Sequence[ToolCall] = (),
        finish_reason: str | None = "stop",
        usage: Mapping[str, Any] | None = None,
        tool_stream: ToolStream = PLAIN_TOOL_STREAM,
    ) -> StreamPlan:
        """Build a whole reply: role chunk, one chunk per token and tool-call piece, finish,
        the usage chunk when `usage` is given, then `[DONE]`.

        Each tool call streams a header (id, name, empty arguments) then one chunk per argument
        fragment, as `tool_stream` arranges them. Without tokens, the first tool call's header
        rides on the role chunk, as the API does.
        """
        per_call = [
            self._tool_deltas(index, call, tool_stream) for index, call in enumerate(tool_calls)
        ]
        fold = bool(per_call) and not tokens
        role: JSON = {"role": "assistant", "content": None if fold else ""}
        if fold:
            role["tool_calls"] = [per_call[0].pop(0)]
        role["refusal"] = None
        payload = [self.chunk({"content": token}) for token in tokens]
        payload += [self.chunk({"tool_calls": [delta]}) for delta in tool_stream.order(per_call)]
        tail = [encode_sse(self.chunk({}, finish_reason))] if finish_reason is not None else []
        if usage is not None:
            tail.append(encode_sse(self.usage_chunk(usage)))
        tail.append(encode_sse("[DONE]"))
        return StreamPlan(
            head=(encode_sse(self.chunk(role)),),
            payload=tuple(encode_sse(chunk) for chunk in payload),
            tail=tuple(tail),
        )

    def tool_call_id(self, index: int, call: ToolCall) -> str:
        """The id `call` streams with: its own, or one made from the completion id."""
        return call.id if call.id is not None else f"call_{self.completion_id[-12:]}{index}"

    def _tool_deltas(self, index: int, call: ToolCall, style: ToolStream) -> list[JSON]:
        """The `tool_calls` deltas of one call: its header, then its argument pieces."""
        header: JSON = {
            "id": self.tool_call_id(index, call),
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        if not style.ids:
            del header["id"]
        deltas = [header]
        for piece in style.pieces(call):
            if style.repeat_header:
                deltas.append({**header, "function": {"name": call.name, "arguments": piece}})
            else:
                deltas.append({"function": {"arguments": piece}})
        if style.index != "missing":
            number = index if style.index == "distinct" else 0
            deltas = [{"index": number, **delta} for delta in deltas]
        return deltas

    def _envelope(self, choices: list[JSON], usage: JSON | None) -> JSON:
        chunk: JSON = {
            "id": self.completion_id,
            "object": "chat.completion.chunk",
            "created": _CREATED,
            "model": self.model,
            "service_tier": "default",
            "system_fingerprint": _FINGERPRINT,
            "choices": choices,
        }
        if self.with_usage_field or usage is not None:
            chunk["usage"] = usage
        return chunk
