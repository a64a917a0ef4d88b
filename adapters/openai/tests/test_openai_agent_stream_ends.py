"""How an OpenAIAgent reply ends when its stream ends badly without an SDK exception: cut before
the usage chunk it asked for, or with a line that is not JSON. It raises `OpenAIStreamError`
after the tokens already received, which stay replayable."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from miniagents_lc import MiniAgents
from miniagents_lc.messages import AssistantMessage, MessagePromise

from miniagents_lc_openai import OpenAIAgent, OpenAIStreamError
from miniagents_lc_openai.testing import ChatStreamBuilder, MalformedLine, OpenAIMock, chat_usage

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


def serve(events: list[bytes]) -> Callable[[OpenAIMock], object]:
    return lambda mock: mock.sse("/chat/completions", events)


NO_CAUSE = type(None)
INCLUDE_USAGE_OFF = "stream_options={'include_usage': False}"  # what the message says to do

# (api, how the mock answers, what the error says, the type of its __cause__)
ENDINGS = {
    "chat-cut-after-finish": (
        "chat",
        serve([*PLAN.head, *PLAN.payload, FINISH]),
        INCLUDE_USAGE_OFF,
        NO_CAUSE,
    ),
    "chat-done-without-usage": (
        "chat",
        serve([*PLAN.head, *PLAN.payload, FINISH, DONE]),
        INCLUDE_USAGE_OFF,
        NO_CAUSE,
    ),
    "chat-malformed-line": (
        "chat",
        lambda mock: mock.chat([*TOKENS, " lost"], fault=MalformedLine(after=2)),
        "malformed",
        json.JSONDecodeError,
    ),
    "responses-malformed-line": (
        "responses",
        lambda mock: mock.responses([*TOKENS, " lost"], fault=MalformedLine(after=2)),
        "malformed",
        json.JSONDecodeError,
    ),
}


@pytest.mark.parametrize(
    ("api", "answer", "says", "cause"), list(ENDINGS.values()), ids=list(ENDINGS)
)
async def test_a_stream_ending_badly_raises_stream_error_after_its_replayable_tokens(
    api: str,
    answer: Callable[[OpenAIMock], object],
    says: str,
    cause: type[BaseException] | None,
    openai_mock: OpenAIMock,
) -> None:
    answer(openai_mock)
    agent = OpenAIAgent.fork(model="m", client=openai_mock.async_client(), api=api)
    async with MiniAgents():
        promise = await anext(aiter(agent.trigger("Hi")))
        tokens, error = await tokens_until_error(promise)
        replayed, replay_error = await tokens_until_error(promise)

    assert tokens == replayed == TOKENS
    assert type(error) is type(replay_error) is OpenAIStreamError
    assert says in str(error)
    assert type(error.__cause__) is cause


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
