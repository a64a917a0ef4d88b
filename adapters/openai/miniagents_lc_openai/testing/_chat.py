"""Builders for OpenAI Chat Completions streams (`chat.completion.chunk` events) and error bodies.

The shapes mirror recorded OpenAI streams (compact JSON, raw UTF-8, one blank line after each
event), so a scripted reply parses exactly like a real one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from miniagents_lc.testing import StreamPlan, encode_sse

__all__ = [
    "DEFAULT_MODEL",
    "ChatStreamBuilder",
    "ToolCall",
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


def chat_usage(prompt_tokens: int, completion_tokens: int, total_tokens: int | None = None) -> JSON:
    """Build a Chat Completions `usage` object with the detail fields the API always includes."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": (
            total_tokens if total_tokens is not None else prompt_tokens + completion_tokens
        ),
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
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
    ) -> StreamPlan:
        """Build a whole reply: role chunk, one chunk per token and tool-call piece, finish,
        the usage chunk when `usage` is given, then `[DONE]`.

        Without tokens, the first tool call's header rides on the role chunk, as the API does.
        """
        headers = [self._tool_header(index, call) for index, call in enumerate(tool_calls)]
        fold = bool(headers) and not tokens
        role: JSON = {"role": "assistant", "content": None if fold else ""}
        if fold:
            role["tool_calls"] = [headers[0]]
        role["refusal"] = None
        payload = [self.chunk({"content": token}) for token in tokens]
        for index, call in enumerate(tool_calls):
            if not (fold and index == 0):
                payload.append(self.chunk({"tool_calls": [headers[index]]}))
            payload.extend(
                self.chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
                for piece in call.fragments()
            )
        tail = [encode_sse(self.chunk({}, finish_reason))] if finish_reason is not None else []
        if usage is not None:
            tail.append(encode_sse(self.usage_chunk(usage)))
        tail.append(encode_sse("[DONE]"))
        return StreamPlan(
            head=(encode_sse(self.chunk(role)),),
            payload=tuple(encode_sse(chunk) for chunk in payload),
            tail=tuple(tail),
        )

    def _tool_header(self, index: int, call: ToolCall) -> JSON:
        call_id = call.id if call.id is not None else f"call_{self.completion_id[-12:]}{index}"
        return {
            "index": index,
            "id": call_id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }

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
