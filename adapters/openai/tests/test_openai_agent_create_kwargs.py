"""The `create()` keyword arguments an OpenAIAgent takes: `stream_options` merges with the usage
request of the chat API, and the arguments the agent sets itself are refused by name."""

from __future__ import annotations

from typing import Any

import pytest
from miniagents_lc import MiniAgents

from miniagents_lc_openai import OpenAIAgent
from miniagents_lc_openai.testing import OpenAIMock

# (api, stream_options given, stream_options sent)
STREAM_OPTIONS = {
    "chat-extra-option": (
        "chat",
        {"include_obfuscation": False},
        {"include_usage": True, "include_obfuscation": False},
    ),
    "chat-usage-off": ("chat", {"include_usage": False}, {"include_usage": False}),
    "responses-as-given": (
        "responses",
        {"include_obfuscation": False},
        {"include_obfuscation": False},
    ),
}


@pytest.mark.parametrize("where", ["fork", "trigger", "ainvoke"])
@pytest.mark.parametrize(
    ("api", "given", "sent"), list(STREAM_OPTIONS.values()), ids=list(STREAM_OPTIONS)
)
async def test_stream_options_are_sent_merged_with_the_usage_request(
    where: str, api: str, given: dict[str, Any], sent: dict[str, Any], openai_mock: OpenAIMock
) -> None:
    script = openai_mock.chat if api == "chat" else openai_mock.responses
    reply = script(["ok"])
    agent = OpenAIAgent.fork(model="m", client=openai_mock.async_client(), api=api)
    options: dict[str, Any] = {"stream_options": given}
    if where == "fork":
        agent, options = agent.fork(**options), {}
    if where == "ainvoke":
        text = (await agent.ainvoke("Hi", **options)).content
    else:
        async with MiniAgents():
            (message,) = await agent.trigger("Hi", **options).acollect_messages()
        text = str(message)

    assert text == "ok"
    assert reply.request is not None
    assert reply.request.json["stream"] is True
    assert reply.request.json["stream_options"] == sent


async def test_stream_true_is_what_the_agent_does_anyway(openai_mock: OpenAIMock) -> None:
    openai_mock.chat(["o", "k"])
    agent = OpenAIAgent.fork(model="m", client=openai_mock.async_client(), stream=True)
    async with MiniAgents():
        (message,) = await agent.trigger("Hi").acollect_messages()

    assert str(message) == "ok"


# (keyword, value, what the error must name); none of them reaches the API.
REFUSED = {
    "input": ("input", "x", "input messages"),
}


@pytest.mark.parametrize("api", ["chat", "responses"])
@pytest.mark.parametrize(("keyword", "value", "fix"), list(REFUSED.values()), ids=list(REFUSED))
async def test_arguments_the_agent_sets_itself_are_refused_before_any_request(
    keyword: str, value: Any, fix: str, api: str, openai_mock: OpenAIMock
) -> None:
    agent = OpenAIAgent.fork(
        model="m", client=openai_mock.async_client(), api=api, **{keyword: value}
    )
    async with MiniAgents():
        with pytest.raises(ValueError, match=fix) as raised:
            await agent.trigger("Hi").acollect_messages()

    assert repr(keyword) in str(raised.value)
    assert openai_mock.calls("/chat/completions" if api == "chat" else "/responses") == []
