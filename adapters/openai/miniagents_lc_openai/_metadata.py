"""The typed metadata of an `AssistantMessage` from what OpenAI reports: usage in LangChain's
`UsageMetadata` shape, and one finish-reason vocabulary for both APIs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata

__all__ = ["chat_usage_metadata", "responses_finish_reason", "responses_usage_metadata"]

# Responses API `incomplete_details.reason` in Chat Completions' finish-reason words.
_INCOMPLETE_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}


def chat_usage_metadata(usage: Mapping[str, Any]) -> UsageMetadata:
    """Chat Completions `usage` as `UsageMetadata`: cached prompt tokens as `cache_read`,
    reasoning tokens as `reasoning`, audio tokens as `audio` (each counted once, inside the
    input or output total)."""
    prompt = _details(usage, "prompt_tokens_details")
    completion = _details(usage, "completion_tokens_details")
    return _usage_metadata(
        usage.get("prompt_tokens"),
        usage.get("completion_tokens"),
        usage.get("total_tokens"),
        {
            "audio": prompt.get("audio_tokens"),
            "cache_read": prompt.get("cached_tokens"),
            "cache_creation": prompt.get("cache_write_tokens"),
        },
        {"audio": completion.get("audio_tokens"), "reasoning": completion.get("reasoning_tokens")},
    )


def responses_usage_metadata(usage: Mapping[str, Any]) -> UsageMetadata:
    """Responses API `usage` as `UsageMetadata`, with the same details as for chat."""
    inputs = _details(usage, "input_tokens_details")
    outputs = _details(usage, "output_tokens_details")
    return _usage_metadata(
        usage.get("input_tokens"),
        usage.get("output_tokens"),
        usage.get("total_tokens"),
        {
            "cache_read": inputs.get("cached_tokens"),
            "cache_creation": inputs.get("cache_write_tokens"),
        },
        {"reasoning": outputs.get("reasoning_tokens")},
    )


def responses_finish_reason(status: str | None, incomplete_reason: str | None, calls: bool) -> str:
    """A Responses API outcome in Chat Completions' words: "tool_calls" or "stop" for a
    completed response (with or without function calls), "length" or "content_filter" for an
    incomplete one, any other reason or status as the API gave it."""
    if status == "completed":
        return "tool_calls" if calls else "stop"
    if status == "incomplete" and incomplete_reason:
        return _INCOMPLETE_REASONS.get(incomplete_reason, incomplete_reason)
    return status or "unknown"


def _details(usage: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    details = usage.get(name)
    return details if isinstance(details, Mapping) else {}


def _usage_metadata(
    input_tokens: Any,
    output_tokens: Any,
    total_tokens: Any,
    input_details: dict[str, Any],
    output_details: dict[str, Any],
) -> UsageMetadata:
    inputs = input_tokens if isinstance(input_tokens, int) else 0
    outputs = output_tokens if isinstance(output_tokens, int) else 0
    metadata = UsageMetadata(
        input_tokens=inputs,
        output_tokens=outputs,
        total_tokens=total_tokens if isinstance(total_tokens, int) else inputs + outputs,
    )
    known_inputs = {k: v for k, v in input_details.items() if isinstance(v, int)}
    known_outputs = {k: v for k, v in output_details.items() if isinstance(v, int)}
    if known_inputs:
        metadata["input_token_details"] = cast(InputTokenDetails, known_inputs)
    if known_outputs:
        metadata["output_token_details"] = cast(OutputTokenDetails, known_outputs)
    return metadata
