"""`tool_agent` over an `AnthropicAgent`: the tools reach the Messages API in its own shape, the
tool use and its result go back in the next request, and the loop ends on the model's answer."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.tools import tool
from miniagents_lc import MiniAgentChatModel, tool_agent

from miniagents_lc_anthropic import AnthropicAgent
from miniagents_lc_anthropic.testing import AnthropicMock, ToolUse

MODEL = "claude-sonnet-4-5"
calls: list[dict[str, Any]] = []


async def get_weather(city: str, days: int) -> str:
    """Get the weather in a city for the next days."""
    calls.append({"city": city, "days": days})
    return f"Sunny in {city} for {days} days"


@tool
def get_weather_tool(city: str, days: int) -> str:
    """Get the weather in a city for the next days."""
    calls.append({"city": city, "days": days})
    return f"Sunny in {city} for {days} days"


@pytest.mark.parametrize("weather", [get_weather, get_weather_tool], ids=["function", "@tool"])
async def test_tool_agent_runs_a_tool_loop_over_anthropic(
    weather: Any, anthropic_mock: AnthropicMock
) -> None:
    calls.clear()
    name = "get_weather" if weather is get_weather else "get_weather_tool"
    use = ToolUse(name, ['{"city": "Par', 'is", "days": 2}'], id="toolu_w")
    first = anthropic_mock.messages(["Let me check."], tool_uses=[use])
    second = anthropic_mock.messages(["Sunny", " all week."])
    model = AnthropicAgent.fork(model=MODEL, client=anthropic_mock.async_client())

    reply = await tool_agent(model, [weather]).ainvoke("Weather in Paris?")

    assert calls == [{"city": "Paris", "days": 2}]
    assert reply.text.endswith("Sunny all week.")
    assert reply.text.startswith("Let me check.")
    assert reply.tool_calls == []
    assert first.request is not None
    assert second.request is not None
    (sent_tool,) = first.request.json["tools"]
    assert sent_tool["name"] == name
    assert sent_tool["description"] == "Get the weather in a city for the next days."
    assert sent_tool["input_schema"]["properties"].keys() == {"city", "days"}
    assert sorted(sent_tool["input_schema"]["required"]) == ["city", "days"]
    history = second.request.json["messages"]
    assert history[1:] == [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me check."},
                {
                    "type": "tool_use",
                    "id": "toolu_w",
                    "name": name,
                    "input": {"city": "Paris", "days": 2},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_w",
                    "content": "Sunny in Paris for 2 days",
                }
            ],
        },
    ]


async def test_tools_already_in_anthropic_shape_are_sent_as_given(
    anthropic_mock: AnthropicMock,
) -> None:
    reply = anthropic_mock.messages(["ok"])
    tools = [
        {"name": "w", "description": "Weather.", "input_schema": {"type": "object"}},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 2},
    ]
    agent = AnthropicAgent.fork(model=MODEL, client=anthropic_mock.async_client())

    assert (await agent.ainvoke("Hi", tools=tools)).content == "ok"

    assert reply.request is not None
    assert reply.request.json["tools"] == tools


#: tool_choice as given (LangChain's words, OpenAI's and Anthropic's dicts) -> as sent.
CHOICES: dict[str, tuple[Any, dict[str, Any]]] = {
    "auto": ("auto", {"type": "auto"}),
    "none": ("none", {"type": "none"}),
    "any": ("any", {"type": "any"}),
    "required": ("required", {"type": "any"}),
    "true": (True, {"type": "any"}),
    "a-tool-name": ("get_weather", {"type": "tool", "name": "get_weather"}),
    "openai-chat-dict": (
        {"type": "function", "function": {"name": "get_weather"}},
        {"type": "tool", "name": "get_weather"},
    ),
    "openai-responses-dict": (
        {"type": "function", "name": "get_weather"},
        {"type": "tool", "name": "get_weather"},
    ),
    "anthropic-dict": (
        {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
        {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
    ),
}


@pytest.mark.parametrize(("choice", "expected"), list(CHOICES.values()), ids=list(CHOICES))
async def test_tool_choice_is_sent_in_the_apis_shape(
    choice: Any, expected: dict[str, Any], anthropic_mock: AnthropicMock
) -> None:
    reply = anthropic_mock.messages(["ok"])
    agent = AnthropicAgent.fork(model=MODEL, client=anthropic_mock.async_client())

    await agent.ainvoke("Hi", tools=[get_weather], tool_choice=choice)

    assert reply.request is not None
    assert reply.request.json["tool_choice"] == expected


async def test_a_chat_model_binding_tools_with_a_choice_drives_anthropic(
    anthropic_mock: AnthropicMock,
) -> None:
    """What LangChain code does with any chat model (`bind_tools(..., tool_choice="any")`)
    reaches the Messages API in its own shape."""
    reply = anthropic_mock.messages(["ok"])
    agent = AnthropicAgent.fork(model=MODEL, client=anthropic_mock.async_client())
    model = MiniAgentChatModel(agent=agent).bind_tools([get_weather_tool], tool_choice="any")

    assert (await model.ainvoke("Hi")).content == "ok"

    assert reply.request is not None
    assert reply.request.json["tool_choice"] == {"type": "any"}
    assert [tool["name"] for tool in reply.request.json["tools"]] == ["get_weather_tool"]
