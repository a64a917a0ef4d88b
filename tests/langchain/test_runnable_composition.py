"""An agent as a Runnable among others: naming, config, retry, composition, the inputs it
takes and the errors it raises."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda

from miniagents_lc import InteractionContext, Message, MiniAgent, miniagent


class Boom(Exception):
    """What a failing agent raises."""


def _echo() -> MiniAgent:
    @miniagent(alias="echo")
    async def echo(ctx: InteractionContext) -> None:
        """Replies with each input message, prefixed by its role."""
        for message in await ctx.message_promises.acollect_messages():
            ctx.reply(f"{message.role}: {message.text}")

    return echo


def _failing() -> MiniAgent:
    @miniagent(alias="failing")
    async def failing(ctx: InteractionContext) -> None:
        ctx.reply("partial")
        raise Boom("the agent broke")

    return failing


async def _read_into(received: list[str], chunks: AsyncIterator[AIMessageChunk]) -> None:
    async for chunk in chunks:
        received.append(chunk.text)


def test_get_name_is_the_alias() -> None:
    agent = _echo()
    assert agent.get_name() == "echo"
    assert agent.fork(alias="echo2").get_name() == "echo2"


async def test_with_config_run_name_names_the_run() -> None:
    renamed = _echo().with_config(run_name="renamed")
    events = [event async for event in renamed.astream_events("hi", version="v2")]
    assert events[0]["event"] == "on_chain_start"
    assert events[0]["name"] == "renamed"
    assert (await renamed.ainvoke("hi")).text == "user: hi"


async def test_with_retry_runs_the_agent_again_after_a_failure() -> None:
    attempts: list[int] = []

    @miniagent(alias="flaky")
    async def flaky(ctx: InteractionContext) -> None:
        attempts.append(len(attempts))
        if len(attempts) == 1:
            raise Boom("first attempt fails")
        ctx.reply("second attempt works")

    retrying = flaky.with_retry(
        stop_after_attempt=2, retry_if_exception_type=(Boom,), wait_exponential_jitter=False
    )
    assert (await retrying.ainvoke("go")).text == "second attempt works"
    assert attempts == [0, 1]


async def test_prompt_agent_parser_composition_passes_roles_and_returns_text() -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "be {style}"), ("user", "{question}")])
    chain = prompt | _echo() | StrOutputParser()
    result = await chain.ainvoke({"style": "brief", "question": "why?"})
    assert result == "system: be brief\n\nuser: why?"


async def test_agent_output_feeds_the_next_runnable() -> None:
    exclaim: RunnableLambda[str, str] = RunnableLambda(lambda text: f"{text}!")
    text_of: RunnableLambda[AIMessage, str] = RunnableLambda(lambda message: message.text)
    chain = exclaim | _echo() | text_of
    assert await chain.ainvoke("hey") == "user: hey!"
    assert chain.invoke("hey") == "user: hey!"


async def test_one_agent_feeds_another() -> None:
    chain = _echo() | _echo().fork(alias="second")
    assert (await chain.ainvoke("hey")).text == "assistant: user: hey"


@pytest.mark.parametrize(
    "value",
    [
        "plain text",
        HumanMessage("plain text"),
        [SystemMessage("rules"), HumanMessage("plain text")],
        Message(text="plain text", role="user"),
        {"text": "plain text", "role": "user"},
        {"role": "user", "content": "plain text"},
    ],
    ids=["str", "BaseMessage", "list", "Message", "dict", "message-dict"],
)
async def test_accepted_inputs_reach_the_agent(value: Any) -> None:
    reply = await _echo().ainvoke(value)
    assert reply.text.endswith("user: plain text")


@pytest.mark.parametrize("value", [42, object(), b"bytes"], ids=["int", "object", "bytes"])
async def test_unsupported_input_is_a_type_error_naming_the_type_and_what_is_accepted(
    value: Any,
) -> None:
    with pytest.raises(TypeError) as raised:
        await _echo().ainvoke(value)
    assert type(value).__name__ in str(raised.value)
    assert "Accepted:" in str(raised.value)
    assert "PromptValue" in str(raised.value)


@pytest.mark.parametrize(
    "value",
    [{"topic": "x"}, {}, [{"question": "why?"}]],
    ids=["prompt-variables", "empty", "in-a-list"],
)
async def test_a_dict_without_text_or_content_is_a_type_error_naming_the_prompt_fix(
    value: Any,
) -> None:
    """Template variables sent straight to an agent would be an empty message."""
    with pytest.raises(TypeError, match=r"neither `text` nor `content`.*prompt template") as raised:
        await _echo().ainvoke(value)
    assert "ChatPromptTemplate" in str(raised.value)


def test_unsupported_input_to_sync_invoke_is_the_same_type_error() -> None:
    with pytest.raises(TypeError, match=r"can't take a int as input.*Accepted:"):
        _echo().invoke(42)


def test_invoke_raises_the_agent_exception_unchanged_with_the_alias_noted() -> None:
    with pytest.raises(Boom, match="the agent broke") as raised:
        _failing().invoke("go")
    assert type(raised.value) is Boom
    assert any("'failing'" in note for note in getattr(raised.value, "__notes__", []))


async def test_ainvoke_and_astream_raise_the_agent_exception_with_the_alias_noted() -> None:
    with pytest.raises(Boom) as from_ainvoke:
        await _failing().ainvoke("go")
    received: list[str] = []
    with pytest.raises(Boom) as from_astream:
        await _read_into(received, _failing().astream("go"))
    assert "".join(received) == "partial"
    for raised in (from_ainvoke, from_astream):
        assert any("'failing'" in note for note in getattr(raised.value, "__notes__", []))


async def test_agent_output_type_is_ai_message() -> None:
    assert _echo().OutputType is AIMessage
