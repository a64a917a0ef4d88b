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

from ._chat import DEFAULT_MODEL, PLAIN_TOOL_STREAM, ToolCall, ToolStream

__all__ = [
    "ResponseFailed",
    "ResponsesLayout",
    "ResponsesStreamBuilder",
    "check_tool_stream",
    "responses_usage",
]

JSON = dict[str, Any]
_CREATED_AT = 1749590514


@dataclass(frozen=True)
class ResponseFailed:
    """Responses API only: send `response.failed` after `after` deltas (yielded, not raised)."""

    after: int
    code: str = "server_error"
    message: str = "An error occurred while processing your request."


def responses_usage(
    input_tokens: int,
    output_tokens: int,
    total_tokens: int | None = None,
    *,
    cached_tokens: int = 0,
    reasoning_tokens: int = 0,
) -> JSON:
    """Build a Responses API `usage` object with its detail fields."""
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached_tokens, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": total_tokens if total_tokens is not None else input_tokens + output_tokens,
    }


@dataclass(frozen=True)
class ResponsesLayout:
    """A scripted reply's plan, and what has been sent after each number of payload entries:
    `events[n]` events in all (the next sequence number) and `text[n]`, the text so far."""

    plan: StreamPlan
    events: tuple[int, ...]
    text: tuple[str, ...]


# One event of a reply as it is being laid out: its type, fields and the text delta it adds
# (None for an event that is not a delta: text and argument deltas are the payload).
_Event = tuple[str, JSON, str | None]


@dataclass(frozen=True)
class ResponsesStreamBuilder:
    """Makes the events of one streamed reply (a text message, function calls, or both),
    which share a response id and message id."""

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
        incomplete: str | None = None,
    ) -> JSON:
        """Build the `response` object that created/in_progress/completed/failed/incomplete
        events carry; `incomplete` is the reason of an incomplete one."""
        return {
            "id": self.response_id,
            "object": "response",
            "created_at": _CREATED_AT,
            "status": status,
            "background": False,
            "completed_at": _CREATED_AT + 1 if status == "completed" else None,
            "error": dict(error) if error is not None else None,
            "incomplete_details": None if incomplete is None else {"reason": incomplete},
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

    def function_call(self, index: int, call: ToolCall, arguments: str | None, status: str) -> JSON:
        """Build a function-call output item; `arguments=None` gives the empty one of
        `output_item.added`."""
        return {
            "id": f"fc_{self.response_id.removeprefix('resp_')}{index}",
            "type": "function_call",
            "status": status,
            "arguments": arguments if arguments is not None else "",
            "call_id": call.id if call.id is not None else f"call_{self.response_id[-8:]}{index}",
            "name": call.name,
        }

    def plan(self, tokens: Sequence[str], *, usage: Mapping[str, Any]) -> StreamPlan:
        """Build a whole text reply (`layout` builds one with function calls too)."""
        return self.layout(tokens, usage=usage).plan

    def layout(
        self,
        tokens: Sequence[str],
        *,
        usage: Mapping[str, Any],
        tool_calls: Sequence[ToolCall] = (),
        tool_stream: ToolStream = PLAIN_TOOL_STREAM,
        incomplete: str | None = None,
    ) -> ResponsesLayout:
        """Lay out a whole reply: created and in_progress; the message (unless there are only
        tool calls) with one `output_text.delta` per token; each function call's
        `output_item.added`, one `function_call_arguments.delta` per fragment (arranged by
        `tool_stream`), `function_call_arguments.done` and `output_item.done`; then
        `response.completed` carrying `usage`, or `response.incomplete` with that reason.

        Each payload entry is one delta with the events that lead up to it, so a fault placed
        after N entries cuts the stream after N deltas.
        """
        check_tool_stream(tool_stream)
        status = "incomplete" if incomplete is not None else "completed"
        events: list[_Event] = [
            ("response.created", {"response": self.response("in_progress")}, None),
            ("response.in_progress", {"response": self.response("in_progress")}, None),
        ]
        output: list[JSON] = []
        if tokens or not tool_calls:
            events += self._message_events(tokens, status)
            output.append(self.message("".join(tokens), status))
        first = len(output)
        calls = [
            self._call_events(first + n, call, tool_stream) for n, call in enumerate(tool_calls)
        ]
        events += [opened for opened, _, _ in calls]
        events += tool_stream.order([deltas for _, deltas, _ in calls])
        for n, (_, _, closed) in enumerate(calls):
            events += closed
            output.append(
                self.function_call(first + n, tool_calls[n], _whole(tool_calls[n]), status)
            )
        final = self.response(status, output=output, usage=usage, incomplete=incomplete)
        events.append((f"response.{status}", {"response": final}, None))
        return self._group(events)

    def _message_events(self, tokens: Sequence[str], status: str) -> list[_Event]:
        text = "".join(tokens)
        where: JSON = {"item_id": self.message_id, "output_index": 0, "content_index": 0}
        return [
            (
                "response.output_item.added",
                {"output_index": 0, "item": self.message(None, "in_progress")},
                None,
            ),
            ("response.content_part.added", {**where, "part": self._text_part("")}, None),
            *(
                ("response.output_text.delta", {**where, "delta": t, "logprobs": []}, t)
                for t in tokens
            ),
            ("response.output_text.done", {**where, "text": text, "logprobs": []}, None),
            ("response.content_part.done", {**where, "part": self._text_part(text)}, None),
            (
                "response.output_item.done",
                {"output_index": 0, "item": self.message(text, status)},
                None,
            ),
        ]

    def _call_events(
        self, index: int, call: ToolCall, style: ToolStream
    ) -> tuple[_Event, list[_Event], list[_Event]]:
        """One call's opening event, its argument deltas, and its closing events."""
        item = self.function_call(index, call, None, "in_progress")
        where: JSON = {"item_id": item["id"], "output_index": index}
        whole = _whole(call)
        opened: _Event = ("response.output_item.added", {"output_index": index, "item": item}, None)
        deltas: list[_Event] = [
            ("response.function_call_arguments.delta", {**where, "delta": piece}, "")
            for piece in style.pieces(call)
        ]
        done = self.function_call(index, call, whole, "completed")
        closed: list[_Event] = [
            ("response.function_call_arguments.done", {**where, "arguments": whole}, None),
            ("response.output_item.done", {"output_index": index, "item": done}, None),
        ]
        return opened, deltas, closed

    def _group(self, events: list[_Event]) -> ResponsesLayout:
        """Number the events and split them into head, payload entries (the events up to and
        including each delta) and tail."""
        encoded = [
            self.event(number, event_type, **fields)
            for number, (event_type, fields, _) in enumerate(events)
        ]
        deltas = [n for n, (_, _, added) in enumerate(events) if added is not None]
        if deltas:
            head_end, tail_start = deltas[0], deltas[-1] + 1
            starts = [deltas[0], *(n + 1 for n in deltas[:-1])]
            payload = tuple(
                b"".join(encoded[start : end + 1])
                for start, end in zip(starts, deltas, strict=True)
            )
        else:  # Nothing streams: the openings are the head, the rest the tail.
            opening = (
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added",
            )
            head_end = tail_start = next(
                (n for n, (kind, _, _) in enumerate(events) if kind not in opening), len(events)
            )
            payload = ()
        texts = [""]
        for n in deltas:
            texts.append(texts[-1] + (events[n][2] or ""))
        return ResponsesLayout(
            plan=StreamPlan(
                head=tuple(encoded[:head_end]),
                payload=payload,
                tail=tuple(encoded[tail_start:]),
            ),
            events=(head_end, *(n + 1 for n in deltas)),
            text=tuple(texts),
        )

    def failed_event(
        self, sequence_number: int, partial_text: str, code: str, message: str
    ) -> bytes:
        """Encode `response.failed`: the message is left incomplete and usage is null."""
        output = [self.message(partial_text, "incomplete")]
        failed = self.response("failed", output=output, error={"code": code, "message": message})
        return self.event(sequence_number, "response.failed", response=failed)

    def error_event(
        self,
        sequence_number: int,
        code: str | None,
        message: str,
        param: str | None = None,
        *,
        error_type: str = "server_error",
        flat: bool = False,
    ) -> bytes:
        """Encode an `error` event as the API sends it today, its error object nested
        (`{"type": "error", "error": {"type", "code", "message", "param"}}`), which the SDK
        raises as `openai.APIError`; `flat=True` gives the older flat shape (code and message
        beside the type), which the SDK yields as a `ResponseErrorEvent` instead."""
        if flat:
            return self.event(sequence_number, "error", code=code, message=message, param=param)
        error = {"type": error_type, "code": code, "message": message, "param": param}
        return self.event(sequence_number, "error", error=error)

    @staticmethod
    def _text_part(text: str) -> JSON:
        return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def check_tool_stream(tool_stream: ToolStream) -> None:
    """Refuse the `ToolStream` options a Responses API stream cannot have."""
    if tool_stream.index != "distinct" or tool_stream.repeat_header or not tool_stream.ids:
        raise ValueError(
            "ToolStream(index=..., repeat_header=..., ids=...) applies to Chat Completions "
            "only: Responses API events name their item."
        )


def _whole(call: ToolCall) -> str:
    return "".join(call.fragments())
