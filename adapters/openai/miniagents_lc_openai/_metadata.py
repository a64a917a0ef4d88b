"""The typed metadata of an `AssistantMessage` from what OpenAI reports: usage in LangChain's
`UsageMetadata` shape, and one finish-reason vocabulary for both APIs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata

__all__ = ["responses_finish_reason", "usage_metadata"]

# Responses API `incomplete_details.reason` in Chat Completions' finish-reason words.
_INCOMPLETE_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}

# Where each API puts its input count, output count and input details.
_CHAT_NAMES = ("prompt_tokens", "completion_tokens", "prompt_tokens_details")
_RESPONSES_NAMES = ("input_tokens", "output_tokens", "input_tokens_details")


def usage_metadata(usage: Mapping[str, Any]) -> UsageMetadata:
    """A Chat Completions or Responses API `usage` as `UsageMetadata`: cached input tokens as
    `cache_read`, cache writes as `cache_creation`, reasoning tokens as `reasoning`, audio tokens
    as `audio`, each counted once, inside the input or output total, and present only when the
    API reported it."""
    names = _RESPONSES_NAMES if "input_tokens" in usage else _CHAT_NAMES
    input_name, output_name, input_details_name = names
    inputs = _count(usage, input_name) or 0
    outputs = _count(usage, output_name) or 0
    total = _count(usage, "total_tokens")
    metadata = UsageMetadata(
        input_tokens=inputs,
        output_tokens=outputs,
        total_tokens=total if total is not None else inputs + outputs,
    )
    input_details = _known(
        _details(usage, input_details_name),
        {
            "audio": "audio_tokens",
            "cache_read": "cached_tokens",
            "cache_creation": "cache_write_tokens",
        },
    )
    output_details = _known(
        _details(usage, output_name + "_details"),
        {"audio": "audio_tokens", "reasoning": "reasoning_tokens"},
    )
    if input_details:
        metadata["input_token_details"] = cast(InputTokenDetails, input_details)
    if output_details:
        metadata["output_token_details"] = cast(OutputTokenDetails, output_details)
    return metadata


def responses_finish_reason(status: str | None, incomplete_reason: str | None, calls: bool) -> str:
    """A Responses API outcome in Chat Completions' words: "tool_calls" or "stop" for a
    completed response (with or without function calls), "length" or "content_filter" for an
    incomplete one, any other reason or status as the API gave it."""
    if status == "completed":
        return "tool_calls" if calls else "stop"
    if status == "incomplete" and incomplete_reason:
        return _INCOMPLETE_REASONS.get(incomplete_reason, incomplete_reason)
    return status or "unknown"


def _count(usage: Mapping[str, Any], name: str) -> int | None:
    value = usage.get(name)
    return value if isinstance(value, int) else None


def _details(usage: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    details = usage.get(name)
    return details if isinstance(details, Mapping) else {}


def _known(details: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, int]:
    """The LangChain detail fields whose OpenAI counts were reported."""
    return {
        ours: count
        for ours, theirs in names.items()
        if (count := _count(details, theirs)) is not None
    }
