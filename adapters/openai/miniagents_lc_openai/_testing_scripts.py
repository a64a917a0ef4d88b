"""Compile scripted replies into body steps, once per request.

A script is compiled when a request consumes it, because a faithful reply depends on the
request: the model is echoed back and the chat usage chunk follows `stream_options`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from ._testing_body import Step
from ._testing_faults import ErrorEvent, Fault, ResponseFailed, compile_stream, delays_for
from ._testing_responses import ResponsesStreamBuilder
from ._testing_sse import (
    DEFAULT_MODEL,
    ChatStreamBuilder,
    StreamPlan,
    ToolCall,
    chat_error_event,
    chat_usage,
    encode_sse,
    responses_usage,
    split_sse,
)

__all__ = [
    "DEFAULT_PROMPT_TOKENS",
    "Build",
    "Delay",
    "SSEBody",
    "UsageSpec",
    "chat_script",
    "responses_script",
    "sse_script",
]

#: Prompt size reported in generated usage when the script gives none.
DEFAULT_PROMPT_TOKENS = 10

#: Turns the decoded JSON request body into the steps of its reply.
Build = Callable[[Mapping[str, Any]], list[Step]]
Delay = float | Sequence[float]
UsageSpec = Mapping[str, int] | bool | Literal["auto"] | None
SSEBody = bytes | str | Sequence[bytes | Mapping[str, Any]]


def chat_script(
    serial: int,
    tokens: Sequence[str],
    *,
    delay: Delay,
    tool_calls: Sequence[ToolCall],
    finish_reason: str | None,
    usage: UsageSpec,
    model: str | None,
    fault: Fault | None,
) -> Build:
    """Script a streamed Chat Completions reply (see `OpenAIMock.chat`)."""
    if isinstance(fault, ResponseFailed):
        raise ValueError("ResponseFailed applies to the Responses API only")

    def build(payload: Mapping[str, Any]) -> list[Step]:
        builder = ChatStreamBuilder(
            completion_id=f"chatcmpl-test{serial:04d}",
            model=_model(model, payload),
            with_usage_field=_wants_usage(usage, payload),
        )
        plan = builder.plan(
            tokens,
            tool_calls=tool_calls,
            finish_reason=finish_reason,
            usage=_chat_usage(usage, payload, tokens, tool_calls),
        )
        return _steps(plan, delay, fault, _chat_fault_event)

    return _checked(build)


def responses_script(
    serial: int,
    tokens: Sequence[str],
    *,
    delay: Delay,
    usage: Mapping[str, int] | None,
    model: str | None,
    fault: Fault | None,
) -> Build:
    """Script a streamed Responses API text reply (see `OpenAIMock.responses`)."""
    counts = usage or {"input_tokens": DEFAULT_PROMPT_TOKENS, "output_tokens": len(tokens)}

    def build(payload: Mapping[str, Any]) -> list[Step]:
        builder = ResponsesStreamBuilder(
            response_id=f"resp_test{serial:04d}", model=_model(model, payload)
        )
        plan = builder.plan(tokens, usage=responses_usage(**counts))

        def fault_event(cut: Fault, after: int) -> bytes:
            number = len(plan.head) + after
            if isinstance(cut, ResponseFailed):
                text = "".join(tokens[:after])
                return builder.failed_event(number, text, cut.code, cut.message)
            assert isinstance(cut, ErrorEvent)
            return builder.error_event(number, cut.code or cut.error_type, cut.message)

        return _steps(plan, delay, fault, fault_event)

    return _checked(build)


def sse_script(body: SSEBody, *, delay: Delay, fault: Fault | None) -> Build:
    """Script a raw SSE body, one event per read (see `OpenAIMock.sse`)."""
    if isinstance(fault, ResponseFailed):
        raise ValueError("ResponseFailed needs the Responses builder; use responses()")
    plan = StreamPlan(head=(), payload=tuple(_sse_events(body)))
    return _checked(lambda _payload: _steps(plan, delay, fault, _chat_fault_event))


def _checked(build: Build) -> Build:
    build({})  # Surface script mistakes (fault position, delay count) where the test scripts.
    return build


def _model(model: str | None, payload: Mapping[str, Any]) -> str:
    return model or str(payload.get("model") or DEFAULT_MODEL)


def _wants_usage(usage: UsageSpec, payload: Mapping[str, Any]) -> bool:
    if usage == "auto":
        options = payload.get("stream_options")
        return isinstance(options, Mapping) and bool(options.get("include_usage"))
    return usage is True or isinstance(usage, Mapping)


def _chat_usage(
    usage: UsageSpec,
    payload: Mapping[str, Any],
    tokens: Sequence[str],
    tool_calls: Sequence[ToolCall],
) -> dict[str, Any] | None:
    if not _wants_usage(usage, payload):
        return None
    if isinstance(usage, Mapping):
        return chat_usage(**usage)
    pieces = len(tokens) + sum(len(call.fragments()) for call in tool_calls)
    return chat_usage(DEFAULT_PROMPT_TOKENS, pieces)


def _chat_fault_event(fault: Fault, after: int) -> bytes:
    assert isinstance(fault, ErrorEvent)
    return chat_error_event(fault.message, error_type=fault.error_type, code=fault.code)


def _steps(
    plan: StreamPlan, delay: Delay, fault: Fault | None, fault_event: Callable[[Fault, int], bytes]
) -> list[Step]:
    return compile_stream(plan, delays_for(delay, len(plan.payload)), fault, fault_event)


def _sse_events(body: SSEBody) -> list[bytes]:
    if isinstance(body, str):
        return split_sse(body.encode())
    if isinstance(body, bytes):
        return split_sse(body)
    return [item if isinstance(item, bytes) else encode_sse(item) for item in body]
