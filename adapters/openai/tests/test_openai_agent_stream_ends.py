"""How an OpenAIAgent reply ends when the stream does not end well: a stream cut before the
usage it was asked for, and a line that is not JSON, both raise `OpenAIStreamError` after the
tokens already received, which stay replayable."""

from __future__ import annotations

import json
from typing import Any

import pytest
from miniagents_lc import MiniAgents
from miniagents_lc.messages import MessagePromise

from miniagents_lc_openai import OpenAIAgent, OpenAIStreamError
from miniagents_lc_openai.testing import ChatStreamBuilder, MalformedLine, OpenAIMock, chat_usage

TOKENS = ["par", "tial"]
PLAN = ChatStreamBuilder("chatcmpl-ends", with_usage_field=True).plan(
    TOKENS, usage=chat_usage(3, 2)
)
FINISH, USAGE, DONE = PLAN.tail


async def read_reply(reply: Any) -> tuple[list[str], Exception, MessagePromise]:
    """Read `reply` token by token until it fails; return the tokens, the error, the promise."""
    tokens: list[str] = []
    promises: list[MessagePromise] = []
    try:
        async for promise in reply:
            promises.append(promise)
            async for token in promise:
                tokens.append(token)
    except Exception as error:
        return tokens, error, promises[0]
    raise AssertionError(f"the reply ended well after {tokens}")


async def replay(promise: MessagePromise) -> tuple[list[str], Exception]:
    """Read `promise` again from its first token until it fails; return the tokens, the error."""
    tokens: list[str] = []
    try:
        async for token in promise:
            tokens.append(token)
    except Exception as error:
        return tokens, error
    raise AssertionError(f"the replay ended well after {tokens}")


# Streams that had their finish chunk but not the usage chunk include_usage asks for.
WITHOUT_USAGE = {
    "cut-after-finish": [*PLAN.head, *PLAN.payload, FINISH],
    "done-without-usage": [*PLAN.head, *PLAN.payload, FINISH, DONE],
}


@pytest.mark.parametrize("events", list(WITHOUT_USAGE.values()), ids=list(WITHOUT_USAGE))
async def test_a_chat_stream_without_the_requested_usage_raises_after_its_tokens(
    events: list[bytes], openai_mock: OpenAIMock
) -> None:
    openai_mock.sse("/chat/completions", events)
    agent = OpenAIAgent.fork(model="m", client=openai_mock.async_client())
    async with MiniAgents():
        tokens, error, promise = await read_reply(agent.trigger("Hi"))
        replayed, replay_error = await replay(promise)

    assert tokens == replayed == TOKENS
    assert type(error) is type(replay_error) is OpenAIStreamError
    assert "usage" in str(error)
    assert "stream_options={'include_usage': False}" in str(error)  # names the fix


async def test_without_include_usage_a_chat_stream_may_end_at_its_finish_chunk(
    openai_mock: OpenAIMock,
) -> None:
    openai_mock.sse("/chat/completions", [*PLAN.head, *PLAN.payload, FINISH, DONE])
    agent = OpenAIAgent.fork(
        model="m", client=openai_mock.async_client(), stream_options={"include_usage": False}
    )
    async with MiniAgents():
        (message,) = await agent.trigger("Hi").acollect_messages()

    assert str(message) == "partial"
    assert message.model_dump()["finish_reason"] == "stop"
    assert message.model_dump()["usage"] is None


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_a_malformed_line_raises_stream_error_from_the_decode_error_after_the_tokens(
    api: str, openai_mock: OpenAIMock
) -> None:
    script = openai_mock.chat if api == "chat" else openai_mock.responses
    script(["par", "tial", " lost"], fault=MalformedLine(after=2))
    agent = OpenAIAgent.fork(model="m", client=openai_mock.async_client(), api=api)
    async with MiniAgents():
        tokens, error, promise = await read_reply(agent.trigger("Hi"))
        replayed, replay_error = await replay(promise)

    assert tokens == replayed == TOKENS
    assert type(error) is type(replay_error) is OpenAIStreamError
    assert "malformed" in str(error)
    assert isinstance(error.__cause__, json.JSONDecodeError)
