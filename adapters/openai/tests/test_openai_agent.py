"""OpenAIAgent against the offline kit: the real SDK, scripted and recorded streams.

What every adapter promises is checked by the adapter contract (test_openai_contract.py); here
is what is OpenAI's own: the recorded streams, the request it sends, the API's error events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest
from miniagents_lc import MiniAgents
from miniagents_lc.messages import AssistantMessage, MessagePromise
from miniagents_lc.testing.adapter_contract import consume, read_tokens

from miniagents_lc_openai import OpenAIAgent, OpenAIStreamError
from miniagents_lc_openai.testing import (
    OpenAIMock,
    ResponsesStreamBuilder,
    responses_usage,
)

# Recorded OpenAI streams, kept with the tests (fixtures/openai_sse/README.md describes them).
FIXTURES = Path(__file__).with_name("fixtures") / "openai_sse"
EXPECTED: dict[str, dict[str, Any]] = json.loads((FIXTURES / "expected.json").read_text("utf-8"))


# The fixtures that end well; the truncated and failing ones have tests of their own below.
CLEAN_FIXTURES = sorted(
    name
    for name, expected in EXPECTED.items()
    if expected.get("finish_reason") or expected.get("status") == "completed"
)


@pytest.mark.parametrize("name", CLEAN_FIXTURES)
async def test_fixture_served_raw_gives_recorded_reply(name: str, openai_mock: OpenAIMock) -> None:
    expected = EXPECTED[name]
    api = expected["api"]
    openai_mock.sse(
        "/chat/completions" if api == "chat" else "/responses", (FIXTURES / name).read_bytes()
    )
    agent = OpenAIAgent.fork(model="gpt-4o-mini", client=openai_mock.async_client(), api=api)
    tokens: list[str] = []
    async with MiniAgents():
        promises = await consume(agent.trigger("Hi"), tokens)
    assert len(promises) == 1
    message = await promises[0]
    assert tokens == expected["tokens"]
    assert message.text == expected["text"]
    assert isinstance(message, AssistantMessage)
    assert message.role == "assistant"
    assert message.usage is not None
    usage = expected["usage"]
    # The recorded usage in LangChain's words: prompt → input, completion → output.
    input_tokens = usage.get("prompt_tokens", usage.get("input_tokens"))
    output_tokens = usage.get("completion_tokens", usage.get("output_tokens"))
    assert (message.usage["input_tokens"], message.usage["output_tokens"]) == (
        input_tokens,
        output_tokens,
    )
    assert message.usage["total_tokens"] == usage["total_tokens"]
    if "model" in expected:
        assert message.model_name == expected["model"]
    if api == "chat":
        assert message.finish_reason == expected["finish_reason"]
        assert [(call["id"], call["name"], call["args"]) for call in message.tool_calls] == [
            (call["id"], call["name"], json.loads(call["arguments"]))
            for call in expected.get("tool_calls", [])
        ]
        assert message.invalid_tool_calls == ()
    else:
        assert getattr(message, "status", None) == expected["status"]


async def test_sends_system_then_messages_with_usage_requested(openai_mock: OpenAIMock) -> None:
    reply = openai_mock.chat(["ok"])
    agent = OpenAIAgent.fork(model="gpt-4o-mini", client=openai_mock.async_client())
    async with MiniAgents():
        replies = await agent.trigger("Hi", system="Be brief.", temperature=0).acollect_messages()
    assert [str(message) for message in replies] == ["ok"]
    assert reply.request is not None
    sent = reply.request.json
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["temperature"] == 0


async def test_error_midstream_raises_api_error_after_tokens(openai_mock: OpenAIMock) -> None:
    openai_mock.sse("/chat/completions", (FIXTURES / "chat_error_midstream.sse").read_bytes())
    agent = OpenAIAgent.fork(model="gpt-4o-mini", client=openai_mock.async_client())
    tokens: list[str] = []
    promises: list[MessagePromise] = []
    async with MiniAgents():
        with pytest.raises(openai.APIError) as raised:
            await consume(agent.trigger("Hi"), tokens, promises)
        assert type(raised.value) is openai.APIError
        assert tokens == EXPECTED["chat_error_midstream.sse"]["tokens"]
        replayed: list[str] = []
        with pytest.raises(openai.APIError):
            await read_tokens(promises[0], replayed)
        assert replayed == tokens


async def test_truncated_stream_raises_stream_error_after_tokens(openai_mock: OpenAIMock) -> None:
    openai_mock.sse("/chat/completions", (FIXTURES / "chat_truncated.sse").read_bytes())
    agent = OpenAIAgent.fork(model="gpt-4o-mini", client=openai_mock.async_client())
    tokens: list[str] = []
    async with MiniAgents():
        with pytest.raises(OpenAIStreamError, match="truncated"):
            await consume(agent.trigger("Hi"), tokens)
    assert tokens == ["This", " reply", " will", " be", " cut"]


async def test_responses_failed_raises_stream_error_after_tokens(openai_mock: OpenAIMock) -> None:
    openai_mock.sse("/responses", (FIXTURES / "responses_failed.sse").read_bytes())
    agent = OpenAIAgent.fork(
        model="gpt-4o-mini", client=openai_mock.async_client(), api="responses"
    )
    tokens: list[str] = []
    async with MiniAgents():
        with pytest.raises(OpenAIStreamError) as raised:
            await consume(agent.trigger("Hi"), tokens)
    assert tokens == ["Let", " me", " think"]
    assert EXPECTED["responses_failed.sse"]["error"]["message"] in str(raised.value)


async def test_http_500_raises_internal_server_error(openai_mock: OpenAIMock) -> None:
    openai_mock.chat(status=500)
    agent = OpenAIAgent.fork(model="gpt-4o-mini", client=openai_mock.async_client())
    async with MiniAgents():
        with pytest.raises(openai.InternalServerError):
            await consume(agent.trigger("Hi"), [])


async def test_a_flat_responses_error_event_raises_stream_error_after_tokens(
    openai_mock: OpenAIMock,
) -> None:
    # The older flat shape (code and message beside the type), which the SDK yields.
    builder = ResponsesStreamBuilder(response_id="resp_flat", model="gpt-4o-mini")
    head = builder.plan(["a", "b"], usage=responses_usage(input_tokens=1, output_tokens=2))
    error = builder.error_event(len(head.head) + 2, "server_error", "boom", flat=True)
    openai_mock.sse("/responses", [*head.head, *head.payload, error])
    agent = OpenAIAgent.fork(
        model="gpt-4o-mini", client=openai_mock.async_client(), api="responses"
    )
    tokens: list[str] = []
    async with MiniAgents():
        with pytest.raises(OpenAIStreamError, match=r"sent an error \(server_error\): boom"):
            await consume(agent.trigger("Hi"), tokens)
    assert tokens == ["a", "b"]
