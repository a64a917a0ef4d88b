"""The tools and tool choice an OpenAIAgent sends: any kind of tool, in the shape each API takes,
bound per fork or given per call; and clear errors for what is not a tool."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.tools import tool
from miniagents_lc import MiniAgents
from pydantic import BaseModel, Field

from miniagents_lc_openai import OpenAIAgent
from miniagents_lc_openai.testing import OpenAIMock


@tool
def get_weather(city: str) -> str:
    """Get the weather in a city."""
    return f"Sunny in {city}"


class GetTime(BaseModel):
    """Get the time in a time zone."""

    tz: str = Field(description="An IANA time zone")


def add(a: int, b: int) -> int:
    """Add two numbers.

    Args:
        a: The first number.
        b: The second number.
    """
    return a + b


WEATHER = {
    "name": "get_weather",
    "description": "Get the weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
TIME = {
    "name": "GetTime",
    "description": "Get the time in a time zone.",
    "parameters": {
        "type": "object",
        "properties": {"tz": {"type": "string", "description": "An IANA time zone"}},
        "required": ["tz"],
    },
}
ADD = {
    "name": "add",
    "description": "Add two numbers.",
    "parameters": {
        "type": "object",
        "properties": {
            "a": {"type": "integer", "description": "The first number."},
            "b": {"type": "integer", "description": "The second number."},
        },
        "required": ["a", "b"],
    },
}
HOSTED = {"type": "web_search"}
CHAT_SHAPED = {"type": "function", "function": WEATHER}
RESPONSES_SHAPED = {"type": "function", **WEATHER}


def answer(mock: OpenAIMock, api: str) -> Any:
    return mock.chat(["ok"]) if api == "chat" else mock.responses(["ok"])


def sent(reply: Any) -> dict[str, Any]:
    assert reply.request is not None
    body: dict[str, Any] = reply.request.json
    return body


async def run(agent: Any, **kwargs: Any) -> None:
    async with MiniAgents():
        replies = await agent.trigger("Hi", **kwargs).acollect_messages()
    assert [str(message) for message in replies] == ["ok"]


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_every_kind_of_tool_is_sent_in_the_apis_shape(
    api: str, openai_mock: OpenAIMock
) -> None:
    reply = answer(openai_mock, api)
    tools = [get_weather, GetTime, add, CHAT_SHAPED, RESPONSES_SHAPED, HOSTED]
    agent = OpenAIAgent.fork(model="m", client=openai_mock.async_client(), api=api, tools=tools)

    await run(agent)

    def function(definition: dict[str, Any]) -> dict[str, Any]:
        if api == "chat":
            return {"type": "function", "function": definition}
        return {"type": "function", **definition}

    assert sent(reply)["tools"] == [
        function(WEATHER),
        function(TIME),
        function(ADD),
        function(WEATHER),
        function(WEATHER),
        HOSTED,
    ]


CHOICES = {
    "auto": ("auto", "auto", "auto"),
    "any-means-required": ("any", "required", "required"),
    "true-means-required": (True, "required", "required"),
    "a-tool-name": (
        "get_weather",
        {"type": "function", "function": {"name": "get_weather"}},
        {"type": "function", "name": "get_weather"},
    ),
    "a-chat-dict": (
        {"type": "function", "function": {"name": "get_weather"}},
        {"type": "function", "function": {"name": "get_weather"}},
        {"type": "function", "name": "get_weather"},
    ),
    "a-responses-dict": (
        {"type": "function", "name": "get_weather"},
        {"type": "function", "function": {"name": "get_weather"}},
        {"type": "function", "name": "get_weather"},
    ),
}


@pytest.mark.parametrize("api", ["chat", "responses"])
@pytest.mark.parametrize(
    ("choice", "for_chat", "for_responses"), list(CHOICES.values()), ids=list(CHOICES)
)
async def test_tool_choice_is_sent_in_the_apis_shape(
    api: str, choice: Any, for_chat: Any, for_responses: Any, openai_mock: OpenAIMock
) -> None:
    reply = answer(openai_mock, api)
    agent = OpenAIAgent.fork(model="m", client=openai_mock.async_client(), api=api)

    await run(agent, tools=[get_weather], tool_choice=choice)

    assert sent(reply)["tool_choice"] == (for_chat if api == "chat" else for_responses)


async def test_tools_bound_by_fork_are_replaced_by_the_tools_of_a_call(
    openai_mock: OpenAIMock,
) -> None:
    bound_reply = openai_mock.chat(["ok"])
    call_reply = openai_mock.chat(["ok"])
    agent = OpenAIAgent.fork(
        model="m", client=openai_mock.async_client(), tools=[get_weather], tool_choice="auto"
    )

    await run(agent)
    await run(agent, tools=[add], tool_choice="add")

    assert sent(bound_reply)["tools"] == [{"type": "function", "function": WEATHER}]
    assert sent(bound_reply)["tool_choice"] == "auto"
    assert sent(call_reply)["tools"] == [{"type": "function", "function": ADD}]
    assert sent(call_reply)["tool_choice"] == {"type": "function", "function": {"name": "add"}}


async def test_without_tools_no_tool_keys_are_sent(openai_mock: OpenAIMock) -> None:
    reply = openai_mock.chat(["ok"])
    agent = OpenAIAgent.fork(model="m", client=openai_mock.async_client())

    await run(agent)

    assert "tools" not in sent(reply)
    assert "tool_choice" not in sent(reply)


BAD_INPUT = {
    "not-a-tool": ({"tools": [42]}, "can't use 42 as a tool"),
    "bad-tool-choice": ({"tools": [get_weather], "tool_choice": 3}, "can't use tool_choice=3"),
}


@pytest.mark.parametrize(("kwargs", "says"), list(BAD_INPUT.values()), ids=list(BAD_INPUT))
async def test_what_is_not_a_tool_is_a_value_error_before_any_request(
    kwargs: dict[str, Any], says: str, openai_mock: OpenAIMock
) -> None:
    agent = OpenAIAgent.fork(model="m", client=openai_mock.async_client(), **kwargs)

    async with MiniAgents():
        with pytest.raises(ValueError, match=says):
            await agent.trigger("Hi").acollect_messages()

    assert openai_mock.calls("/chat/completions") == []
