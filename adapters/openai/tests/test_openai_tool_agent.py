"""`tool_agent` over an `OpenAIAgent`: the tools and the history with tool calls and tool
results reach either API in its own shape, and the loop ends on the model's answer."""

from __future__ import annotations

from typing import Any

import pytest
from miniagents_lc import tool_agent

from miniagents_lc_openai import OpenAIAgent
from miniagents_lc_openai.testing import OpenAIMock, ToolCall


async def get_weather(city: str) -> str:
    """Get the weather in a city."""
    return f"Sunny in {city}"


def script(mock: OpenAIMock, api: str) -> tuple[Any, Any]:
    calls = [ToolCall("get_weather", ['{"city": "Paris"}'], id="call_w")]
    if api == "chat":
        return mock.chat([], tool_calls=calls, finish_reason="tool_calls"), mock.chat(["Sunny."])
    return mock.responses([], tool_calls=calls), mock.responses(["Sunny."])


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_tool_agent_runs_a_tool_loop_over_openai(api: str, openai_mock: OpenAIMock) -> None:
    first, second = script(openai_mock, api)
    model = OpenAIAgent.fork(model="m", client=openai_mock.async_client(), api=api)

    reply = await tool_agent(model, [get_weather]).ainvoke("Weather in Paris?")

    assert reply.text.endswith("Sunny.")
    assert reply.tool_calls == []
    assert first.request is not None
    assert second.request is not None
    tools = first.request.json["tools"]
    assert [tool.get("name") or tool["function"]["name"] for tool in tools] == ["get_weather"]
    history = second.request.json["messages" if api == "chat" else "input"]
    results = [
        item
        for item in history
        if item.get("role") == "tool" or item.get("type") == "function_call_output"
    ]
    assert [item.get("content") or item.get("output") for item in results] == ["Sunny in Paris"]
    assert [item.get("tool_call_id") or item.get("call_id") for item in results] == ["call_w"]
