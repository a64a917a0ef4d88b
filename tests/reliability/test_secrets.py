"""The API key of an OpenAI client given to an agent never leaks: not in the agent's repr,
the resolved message, the logs, an authentication error or LangChain's stream events."""

from __future__ import annotations

import logging

import openai
import pytest
from miniagents_lc_openai import OpenAIAgent
from miniagents_lc_openai.testing import OpenAIMock

from miniagents_lc import MiniAgent, MiniAgents

SECRET = "sk-secret-XYZ"
TOKENS = ["Hello", ", ", "world"]


@pytest.fixture
def agent(openai_mock: OpenAIMock) -> MiniAgent:
    return OpenAIAgent.fork(
        "writer", model="gpt-4o-mini", client=openai_mock.async_client(api_key=SECRET)
    )


@pytest.fixture(autouse=True)
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def assert_key_was_sent(openai_mock: OpenAIMock) -> None:
    """The key really was in play: the SDK sent it to the (mock) server."""
    [request] = openai_mock.calls("/chat/completions")
    assert request.headers["authorization"] == f"Bearer {SECRET}"


def assert_no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        assert SECRET not in record.getMessage(), record
        assert SECRET not in str(record.__dict__), record


def test_secret_not_in_agent_repr(agent: MiniAgent) -> None:
    assert SECRET not in repr(agent)
    assert SECRET not in str(agent)


async def test_secret_not_in_resolved_message_nor_logs(
    agent: MiniAgent, openai_mock: OpenAIMock, debug_logs: pytest.LogCaptureFixture
) -> None:
    openai_mock.chat(TOKENS)

    async with MiniAgents():
        messages = await agent.trigger("Hi").acollect_messages()

    assert [message.text for message in messages] == ["".join(TOKENS)]
    for message in messages:
        assert SECRET not in message.model_dump_json()
        assert SECRET not in repr(message)
    assert any(record.levelno == logging.DEBUG for record in debug_logs.records)
    assert_no_secret_in_logs(debug_logs)
    assert_key_was_sent(openai_mock)


async def test_secret_not_in_authentication_error_nor_logs(
    agent: MiniAgent, openai_mock: OpenAIMock, debug_logs: pytest.LogCaptureFixture
) -> None:
    openai_mock.chat(status=401)

    async with MiniAgents():
        with pytest.raises(openai.AuthenticationError) as caught:
            await agent.trigger("Hi").acollect_messages()

    error = caught.value
    assert SECRET not in str(error)
    assert SECRET not in repr(error)
    assert SECRET not in "\n".join(getattr(error, "__notes__", []))
    assert_no_secret_in_logs(debug_logs)
    assert_key_was_sent(openai_mock)


async def test_secret_not_in_astream_events(
    agent: MiniAgent, openai_mock: OpenAIMock, debug_logs: pytest.LogCaptureFixture
) -> None:
    openai_mock.chat(TOKENS)

    events = [event async for event in agent.astream_events("Hi", version="v2")]

    assert any(event["event"] == "on_chain_stream" for event in events)
    assert SECRET not in str(events)
    assert_no_secret_in_logs(debug_logs)
    assert_key_was_sent(openai_mock)
