"""Builders for Responses API streaming events (`client.responses.create(stream=True)`), and the
Responses-only fault `ResponseFailed`.

Every event carries its type twice, as the API does: on the `event:` line and in the JSON
`type`; the SDK only reads the JSON. Sequence numbers count from 0 across the whole stream.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from miniagents_lc.testing import StreamPlan, encode_sse

from ._chat import DEFAULT_MODEL

__all__ = ["ResponseFailed", "ResponsesStreamBuilder", "responses_usage"]

JSON = dict[str, Any]
_CREATED_AT = 1749590514


@dataclass(frozen=True)
class ResponseFailed:
    """Responses API only: send `response.failed` after `after` deltas (yielded, not raised)."""

    after: int
    code: str = "server_error"
    message: str = "An error occurred while processing your request."


def responses_usage(input_tokens: int, output_tokens: int, total_tokens: int | None = None) -> JSON:
    """Build a Responses API `usage` object with its detail fields."""
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": total_tokens if total_tokens is not None else input_tokens + output_tokens,
    }


@dataclass(frozen=True)
class ResponsesStreamBuilder:
    """Makes the events of one streamed text reply, which share a response id and message id."""

    response_id: str
    model: str = DEFAULT_MODEL

    @property
    def message_id(self) -> str:
        """Id of the single output message, derived from the response id."""
        return "msg_" + self.response_id.removeprefix("resp_")

    def response(
        self,
        status: str,
        *,
        output: Sequence[JSON] = (),
        usage: Mapping[str, Any] | None = None,
        error: Mapping[str, Any] | None = None,
    ) -> JSON:
        """Build the `response` object that created/in_progress/completed/failed events carry."""
        return {
            "id": self.response_id,
            "object": "response",
            "created_at": _CREATED_AT,
            "status": status,
            "background": False,
            "completed_at": _CREATED_AT + 1 if status == "completed" else None,
            "error": dict(error) if error is not None else None,
            "incomplete_details": None,
            "instructions": None,
            "max_output_tokens": None,
            "max_tool_calls": None,
            "model": self.model,
            "output": list(output),
            "parallel_tool_calls": True,
            "previous_response_id": None,
            "prompt_cache_key": None,
            "reasoning": {"effort": None, "summary": None},
            "safety_identifier": None,
            "service_tier": "default",
            "store": True,
            "temperature": 1.0,
            "text": {"format": {"type": "text"}, "verbosity": "medium"},
            "tool_choice": "auto",
            "tools": [],
            "top_logprobs": 0,
            "top_p": 1.0,
            "truncation": "disabled",
            "usage": dict(usage) if usage is not None else None,
            "user": None,
            "metadata": {},
        }

    def message(self, text: str | None, status: str) -> JSON:
        """Build the output message item; `text=None` gives the empty one of `output_item.added`."""
        content = [] if text is None else [self._text_part(text)]
        return {
            "id": self.message_id,
            "type": "message",
            "status": status,
            "content": content,
            "role": "assistant",
        }

    def event(self, sequence_number: int, event_type: str, **fields: Any) -> bytes:
        """Encode one event with its `event:` line, `type` and `sequence_number`."""
        data = {"type": event_type, "sequence_number": sequence_number, **fields}
        return encode_sse(data, event=event_type)

    def plan(self, tokens: Sequence[str], *, usage: Mapping[str, Any]) -> StreamPlan:
        """Build a whole text reply: 4 opening events, one `output_text.delta` per token, then
        the done events and `response.completed` carrying `usage`."""
        text = "".join(tokens)
        where: JSON = {"item_id": self.message_id, "output_index": 0, "content_index": 0}
        head: list[tuple[str, JSON]] = [
            ("response.created", {"response": self.response("in_progress")}),
            ("response.in_progress", {"response": self.response("in_progress")}),
            (
                "response.output_item.added",
                {"output_index": 0, "item": self.message(None, "in_progress")},
            ),
            ("response.content_part.added", {**where, "part": self._text_part("")}),
        ]
        payload: list[tuple[str, JSON]] = [
            ("response.output_text.delta", {**where, "delta": t, "logprobs": []}) for t in tokens
        ]
        done_message = self.message(text, "completed")
        tail: list[tuple[str, JSON]] = [
            ("response.output_text.done", {**where, "text": text, "logprobs": []}),
            ("response.content_part.done", {**where, "part": self._text_part(text)}),
            ("response.output_item.done", {"output_index": 0, "item": done_message}),
            (
                "response.completed",
                {"response": self.response("completed", output=[done_message], usage=usage)},
            ),
        ]
        events = [
            self.event(number, event_type, **fields)
            for number, (event_type, fields) in enumerate([*head, *payload, *tail])
        ]
        return StreamPlan(
            head=tuple(events[: len(head)]),
            payload=tuple(events[len(head) : len(head) + len(payload)]),
            tail=tuple(events[len(head) + len(payload) :]),
        )

    def failed_event(
        self, sequence_number: int, partial_text: str, code: str, message: str
    ) -> bytes:
        """Encode `response.failed`: the message is left incomplete and usage is null."""
        output = [self.message(partial_text, "incomplete")]
        failed = self.response("failed", output=output, error={"code": code, "message": message})
        return self.event(sequence_number, "response.failed", response=failed)

    def error_event(
        self, sequence_number: int, code: str | None, message: str, param: str | None = None
    ) -> bytes:
        """Encode a bare `error` event, which the SDK yields (as ResponseErrorEvent), not raises."""
        return self.event(sequence_number, "error", code=code, message=message, param=param)

    @staticmethod
    def _text_part(text: str) -> JSON:
        return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
