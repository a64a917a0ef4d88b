"""ChatOpenAI in `chat_model_agent` and `OpenAIAgent` agree over the same mocked HTTP."""

from __future__ import annotations

from typing import Any

from langchain_openai import ChatOpenAI
from miniagents_lc import MiniAgent, MiniAgents, chat_model_agent
from miniagents_lc.messages import AssistantMessage

from miniagents_lc_openai import OpenAIAgent
from miniagents_lc_openai.testing import OpenAIMock, ToolCall, ToolStream

TOKENS = ["Both", " adapters", " agree", "."]


async def _tokens_and_message(agent: MiniAgent) -> tuple[list[str], AssistantMessage]:
    async with MiniAgents():
        (promise,) = [promise async for promise in agent.trigger("Do you agree?")]
        tokens = [token async for token in promise]
        message = await promise
    assert isinstance(message, AssistantMessage)
    return tokens, message


def _both_agents(openai_mock: OpenAIMock) -> tuple[MiniAgent, MiniAgent]:
    langchain_agent = chat_model_agent(
        ChatOpenAI(
            model="gpt-4o-mini",
            api_key="sk-test",  # type: ignore[arg-type]
            base_url=openai_mock.base_url,
            stream_usage=True,
            max_retries=0,
        ),
        alias="chat-openai",
    )
    sdk_agent = OpenAIAgent.fork(
        alias="openai-sdk", model="gpt-4o-mini", client=openai_mock.async_client()
    )
    return langchain_agent, sdk_agent


async def test_chat_openai_in_chat_model_agent_streams_what_openai_agent_streams(
    openai_mock: OpenAIMock,
) -> None:
    script: dict[str, Any] = {"tokens": TOKENS, "delay": 0.005, "usage": True}
    openai_mock.chat(**script)
    openai_mock.chat(**script)
    langchain_agent, sdk_agent = _both_agents(openai_mock)

    langchain_tokens, langchain_message = await _tokens_and_message(langchain_agent)
    sdk_tokens, sdk_message = await _tokens_and_message(sdk_agent)

    assert langchain_tokens == sdk_tokens == TOKENS
    assert langchain_message.text == sdk_message.text == "".join(TOKENS)
    assert langchain_message.role == sdk_message.role == "assistant"
    assert sdk_message.usage is not None
    assert langchain_message.usage == sdk_message.usage
    assert langchain_message.finish_reason == sdk_message.finish_reason == "stop"
    assert langchain_message.model_name == sdk_message.model_name == "gpt-4o-mini"


async def test_both_adapters_assemble_the_same_parallel_tool_calls(
    openai_mock: OpenAIMock,
) -> None:
    calls = [
        ToolCall("get_weather", ["", '{"city":', ' "Paris"}'], id="call_w"),
        ToolCall("get_time", ['{"tz":"Asia/', 'Tokyo"}'], id="call_t"),
    ]
    script: dict[str, Any] = {
        "tokens": ["Checking", "."],
        "tool_calls": calls,
        "tool_stream": ToolStream(interleave=True),
        "finish_reason": "tool_calls",
        "usage": True,
    }
    openai_mock.chat(**script)
    openai_mock.chat(**script)
    langchain_agent, sdk_agent = _both_agents(openai_mock)

    _, langchain_message = await _tokens_and_message(langchain_agent)
    _, sdk_message = await _tokens_and_message(sdk_agent)

    assert [call["args"] for call in sdk_message.tool_calls] == [
        {"city": "Paris"},
        {"tz": "Asia/Tokyo"},
    ]
    assert langchain_message.tool_calls == sdk_message.tool_calls
    assert langchain_message.invalid_tool_calls == sdk_message.invalid_tool_calls == ()
    assert langchain_message.usage == sdk_message.usage
    assert langchain_message.finish_reason == sdk_message.finish_reason == "tool_calls"
