"""Compile scripted Chat Completions and Responses replies into body steps, once per request.

A script is compiled when a request consumes it, because a faithful reply depends on the
request: the model is echoed back and the chat usage chunk follows `stream_options`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from miniagents_lc.testing import (
    Build,
    ConnectionReset,
    Delay,
    ErrorEvent,
    MalformedLine,
    PlacedFault,
    Stall,
    Step,
    Truncate,
    compile_stream,
    delays_for,
)

from ._chat import (
    DEFAULT_MODEL,
    ChatStreamBuilder,
    ToolCall,
    ToolStream,
    chat_error_event,
    chat_usage,
)
from ._responses import (
    ResponseFailed,
    ResponsesStreamBuilder,
    check_tool_stream,
    responses_usage,
)

__all__ = [
    "DEFAULT_PROMPT_TOKENS",
    "Fault",
    "UsageSpec",
    "chat_script",
    "encode_chat_fault",
    "responses_script",
]

#: Prompt size reported in generated usage when the script gives none.
DEFAULT_PROMPT_TOKENS = 10

#: The faults an OpenAI stream can be scripted to end with.
Fault = Truncate | ErrorEvent | ResponseFailed | Stall | ConnectionReset | MalformedLine
UsageSpec = Mapping[str, int] | bool | Literal["auto"] | None


def chat_script(
    serial: int,
    tokens: Sequence[str],
    *,
    delay: Delay,
    tool_calls: Sequence[ToolCall],
    tool_stream: ToolStream,
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
            tool_stream=tool_stream,
        )
        return compile_stream(plan, delays_for(delay, len(plan.payload)), fault, encode_chat_fault)

    return build


def responses_script(
    serial: int,
    tokens: Sequence[str],
    *,
    delay: Delay,
    tool_calls: Sequence[ToolCall],
    tool_stream: ToolStream,
    incomplete: str | None,
    usage: Mapping[str, int] | None,
    model: str | None,
    fault: Fault | None,
) -> Build:
    """Script a streamed Responses API reply (see `OpenAIMock.responses`)."""
    check_tool_stream(tool_stream)
    counts = usage or {
        "input_tokens": DEFAULT_PROMPT_TOKENS,
        "output_tokens": _pieces(tokens, tool_calls),
    }

    def build(payload: Mapping[str, Any]) -> list[Step]:
        builder = ResponsesStreamBuilder(
            response_id=f"resp_test{serial:04d}", model=_model(model, payload)
        )
        layout = builder.layout(
            tokens,
            usage=responses_usage(**counts),
            tool_calls=tool_calls,
            tool_stream=tool_stream,
            incomplete=incomplete,
        )
        plan = layout.plan

        def encode_fault(cut: PlacedFault, after: int) -> bytes:
            number = layout.events[after]
            if isinstance(cut, ResponseFailed):
                return builder.failed_event(number, layout.text[after], cut.code, cut.message)
            assert isinstance(cut, ErrorEvent)
            return builder.error_event(
                number, cut.code or cut.error_type, cut.message, error_type=cut.error_type
            )

        return compile_stream(plan, delays_for(delay, len(plan.payload)), fault, encode_fault)

    return build


def encode_chat_fault(fault: PlacedFault, after: int) -> bytes:
    """Encode an `ErrorEvent` as the `{"error": ...}` event that aborts a chat stream."""
    if not isinstance(fault, ErrorEvent):
        raise ValueError(f"{type(fault).__name__} applies to the Responses API only")
    return chat_error_event(fault.message, error_type=fault.error_type, code=fault.code)


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
    return chat_usage(DEFAULT_PROMPT_TOKENS, _pieces(tokens, tool_calls))


def _pieces(tokens: Sequence[str], tool_calls: Sequence[ToolCall]) -> int:
    """The output tokens a scripted reply reports by default: one per token and fragment."""
    return len(tokens) + sum(len(call.fragments()) for call in tool_calls)
