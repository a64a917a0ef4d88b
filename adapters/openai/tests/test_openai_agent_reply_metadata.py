"""The typed metadata of an OpenAIAgent reply: usage in LangChain's `UsageMetadata` shape and one
finish-reason vocabulary, from either API."""

from __future__ import annotations

from typing import Any

import pytest
from miniagents_lc import MiniAgents
from miniagents_lc.messages import AssistantMessage

from miniagents_lc_openai import OpenAIAgent
from miniagents_lc_openai.testing import OpenAIMock, ToolCall

COUNTS = {"cached_tokens": 30, "reasoning_tokens": 4}


def script_usage(mock: OpenAIMock, api: str) -> None:
    """Script an "ok" reply that used 50 input tokens (30 cached) and 9 output (4 reasoning)."""
    if api == "chat":
        mock.chat(["ok"], usage={"prompt_tokens": 50, "completion_tokens": 9, **COUNTS})
    else:
        mock.responses(["ok"], usage={"input_tokens": 50, "output_tokens": 9, **COUNTS})


async def reply_of(mock: OpenAIMock, api: str) -> AssistantMessage:
    agent = OpenAIAgent.fork(model="gpt-4o-mini", client=mock.async_client(), api=api)
    async with MiniAgents():
        (message,) = await agent.trigger("Hi").acollect_messages()
    assert isinstance(message, AssistantMessage)
    return message


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_usage_is_langchain_usage_metadata_with_cache_and_reasoning_details(
    api: str, openai_mock: OpenAIMock
) -> None:
    script_usage(openai_mock, api)

    message = await reply_of(openai_mock, api)

    # Each API reports its own detail fields: chat audio tokens, Responses cache writes.
    details, output_details = {
        "chat": ({"audio": 0, "cache_read": 30}, {"audio": 0, "reasoning": 4}),
        "responses": ({"cache_read": 30, "cache_creation": 0}, {"reasoning": 4}),
    }[api]
    assert message.usage == {
        "input_tokens": 50,
        "output_tokens": 9,
        "total_tokens": 59,
        "input_token_details": details,
        "output_token_details": output_details,
    }
    assert message.model_name == "gpt-4o-mini"
    assert "model" not in message.model_dump()  # no OpenAI-shaped extras beside the typed fields


ENDINGS: dict[str, tuple[dict[str, Any], str, str]] = {
    "text": ({}, "stop", "completed"),
    "tool-calls": ({"tool_calls": [ToolCall("f", {"x": 1}, id="c")]}, "tool_calls", "completed"),
    "max-output-tokens": ({"incomplete": "max_output_tokens"}, "length", "incomplete"),
    "content-filter": ({"incomplete": "content_filter"}, "content_filter", "incomplete"),
}


@pytest.mark.parametrize(
    ("script", "finish_reason", "status"), list(ENDINGS.values()), ids=list(ENDINGS)
)
async def test_a_responses_outcome_is_a_chat_finish_reason_and_keeps_its_status(
    script: dict[str, Any], finish_reason: str, status: str, openai_mock: OpenAIMock
) -> None:
    openai_mock.responses(["Some", " text"], **script)

    message = await reply_of(openai_mock, "responses")

    assert message.text == "Some text"
    assert message.finish_reason == finish_reason
    assert getattr(message, "status", None) == status
