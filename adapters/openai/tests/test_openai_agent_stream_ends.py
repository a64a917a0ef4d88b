"""How an OpenAIAgent chat reply ends when its stream ends before the usage chunk it asked for,
without an SDK exception: it raises `OpenAIStreamError` after the tokens already received, which
stay replayable, and names the option that makes such a stream end well."""

from __future__ import annotations

import pytest
from miniagents_lc import MiniAgents
from miniagents_lc.messages import AssistantMessage, MessagePromise

from miniagents_lc_openai import OpenAIAgent, OpenAIStreamError
from miniagents_lc_openai.testing import ChatStreamBuilder, OpenAIMock, chat_usage

TOKENS = ["par", "tial"]
PLAN = ChatStreamBuilder("chatcmpl-ends", with_usage_field=True).plan(
    TOKENS, usage=chat_usage(3, 2)
)
FINISH, USAGE, DONE = PLAN.tail


async def tokens_until_error(promise: MessagePromise) -> tuple[list[str], Exception]:
    """Read `promise` from its first token until it fails; return the tokens and the error."""
    tokens: list[str] = []
    try:
        async for token in promise:
            tokens.append(token)
    except Exception as error:
        return tokens, error
    raise AssertionError(f"the tokens ended well after {tokens}")


INCLUDE_USAGE_OFF = "stream_options={'include_usage': False}"  # what the message says to do

# The events a chat stream that asked for usage ends with instead (the contract's faults, such as
# a line that is not JSON, are in test_openai_contract.py).
ENDINGS = {
    "cut-after-finish": [*PLAN.head, *PLAN.payload, FINISH],
    "done-without-usage": [*PLAN.head, *PLAN.payload, FINISH, DONE],
}


@pytest.mark.parametrize("events", list(ENDINGS.values()), ids=list(ENDINGS))
async def test_a_chat_stream_ending_without_its_usage_raises_stream_error_naming_the_fix(
    events: list[bytes], openai_mock: OpenAIMock
) -> None:
    openai_mock.sse("/chat/completions", events)
    agent = OpenAIAgent.fork(model="m", client=openai_mock.async_client())
    async with MiniAgents():
        promise = await anext(aiter(agent.trigger("Hi")))
        tokens, error = await tokens_until_error(promise)
        replayed, replay_error = await tokens_until_error(promise)

    assert tokens == replayed == TOKENS
    assert type(error) is type(replay_error) is OpenAIStreamError
    assert INCLUDE_USAGE_OFF in str(error)
    assert error.__cause__ is None


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
    assert isinstance(message, AssistantMessage)
    assert message.finish_reason == "stop"
    assert message.usage is None
