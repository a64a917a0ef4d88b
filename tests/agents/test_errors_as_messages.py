"""Error-tolerant replies: with `errors_as_messages`, an error takes its place in the replies as
an `ErrorMessage` and what follows it goes on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from miniagents_lc import (
    ErrorMessage,
    InteractionContext,
    Message,
    MessageSequencePromise,
    MiniAgent,
    MiniAgents,
    miniagent,
)
from miniagents_lc.testing import settle


class Boom(Exception):
    """The error the failing parts raise."""


async def failing_tokens() -> AsyncIterator[str]:
    yield "Hel"
    await settle()  # the first token is out before the rest
    yield "lo"
    raise Boom("mid-stream")


def failing_part(where: str) -> tuple[Any, list[str]]:
    """Something to reply that fails as `where` says, and the texts of what it replies before
    the error."""

    @miniagent(alias="raiser")
    async def raiser(ctx: InteractionContext) -> None:
        ctx.reply("raiser: before")
        await settle()  # the reply is out before the error
        raise Boom("raised")

    async def failing_iterable() -> AsyncIterator[str]:
        yield "iterable: before"
        raise Boom("iterated")

    parts: dict[str, tuple[Any, list[str]]] = {
        "nested agent raises": (lambda: raiser.trigger(), ["raiser: before"]),
        "exception replied": (lambda: Boom("replied"), []),
        "model stream fails mid-way": (lambda: Message.promise(failing_tokens()), ["Hello"]),
        "async iterable fails": (failing_iterable, ["iterable: before"]),
        "unsupported item": (lambda: 42, []),
    }
    make, before = parts[where]
    return make, before


WHERE = [
    "nested agent raises",
    "exception replied",
    "model stream fails mid-way",
    "async iterable fails",
    "unsupported item",
]


def replier(make_part: Callable[[], Any], **agent_options: Any) -> MiniAgent:
    @miniagent(alias="replier", **agent_options)
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply(["first", make_part(), "sibling"])
        ctx.reply("last")

    return agent


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("setting_on", ["context", "agent"])
async def test_an_error_becomes_a_message_in_its_place_and_its_siblings_go_on(
    where: str, setting_on: str, scheduling: Any
) -> None:
    make_part, before = failing_part(where)
    agent = replier(make_part, **({"errors_as_messages": True} if setting_on == "agent" else {}))

    async with MiniAgents(
        schedule_immediately_by_default=scheduling.context_default,
        errors_as_messages=setting_on == "context",
    ):
        messages = await agent.trigger(
            schedule_immediately=scheduling.schedule_immediately
        ).acollect_messages()

    texts = [str(message) for message in messages]
    assert texts[: 1 + len(before)] == ["first", *before]
    error = messages[1 + len(before)]
    assert isinstance(error, ErrorMessage)
    assert error.error_type == ("TypeError" if where == "unsupported item" else "Boom")
    assert texts[2 + len(before) :] == ["sibling", "last"]
    assert not any(isinstance(message, ErrorMessage) for message in messages[2 + len(before) :])


@pytest.mark.parametrize("setting_on", ["context", "agent"])
async def test_the_function_raising_ends_its_reply_with_an_error_message_naming_the_agent(
    setting_on: str,
) -> None:
    @miniagent(alias="unlucky", **({"errors_as_messages": True} if setting_on == "agent" else {}))
    async def unlucky(ctx: InteractionContext) -> None:
        ctx.reply("before")
        raise Boom("in the function")

    async with MiniAgents(errors_as_messages=setting_on == "context"):
        messages = await unlucky.trigger().acollect_messages()

    assert [type(message) for message in messages] == [Message, ErrorMessage]
    error = messages[1]
    assert isinstance(error, ErrorMessage)
    assert (error.agent_alias, error.error_type, error.error_message) == (
        "unlucky",
        "Boom",
        "in the function",
    )
    assert error.error_traceback is None
    assert str(error) == "[error in agent 'unlucky'] Boom: in the function"


@pytest.mark.parametrize(
    ("context_setting", "agent_setting", "tolerant"),
    [
        pytest.param(False, None, False, id="default-raises"),
        pytest.param(True, False, False, id="agent-off-wins"),
        pytest.param(False, True, True, id="agent-on-wins"),
        pytest.param(True, None, True, id="context-on"),
    ],
)
async def test_the_agents_setting_wins_over_the_contexts(
    context_setting: bool, agent_setting: bool | None, tolerant: bool
) -> None:
    @miniagent(errors_as_messages=agent_setting)
    async def agent(ctx: InteractionContext) -> None:
        raise Boom("which way")

    async with MiniAgents(errors_as_messages=context_setting):
        replies = agent.trigger()
        if tolerant:
            (message,) = await replies.acollect_messages()
            assert isinstance(message, ErrorMessage)
        else:
            with pytest.raises(Boom, match="which way"):
                await replies.acollect_messages()


@pytest.mark.parametrize("setting_on", ["context", "agent"])
@pytest.mark.parametrize("tracebacks", [True, False])
async def test_tracebacks_are_in_error_messages_only_when_asked_for(
    setting_on: str, tracebacks: bool
) -> None:
    options = {"error_tracebacks_in_messages": tracebacks} if setting_on == "agent" else {}

    @miniagent(errors_as_messages=True, **options)
    async def deep_failure(ctx: InteractionContext) -> None:
        raise Boom("with a trace")

    async with MiniAgents(
        error_tracebacks_in_messages=tracebacks if setting_on == "context" else not tracebacks
    ):
        (error,) = await deep_failure.trigger().acollect_messages()

    assert isinstance(error, ErrorMessage)
    if tracebacks:
        assert error.error_traceback is not None
        assert "Traceback" in error.error_traceback
        assert "deep_failure" in error.error_traceback
        assert error.error_traceback in str(error)
    else:
        assert error.error_traceback is None
        assert "Traceback" not in str(error)


async def test_an_error_raised_in_a_nested_agent_names_that_agent() -> None:
    @miniagent(alias="inner")
    async def inner(ctx: InteractionContext) -> None:
        raise Boom("deep")

    @miniagent(alias="outer", errors_as_messages=True)
    async def outer(ctx: InteractionContext) -> None:
        ctx.reply(inner.trigger())

    async with MiniAgents():
        (error,) = await outer.trigger().acollect_messages()

    assert isinstance(error, ErrorMessage)
    assert error.agent_alias == "inner"


async def test_a_model_stream_failing_mid_way_streams_its_tokens_then_the_error() -> None:
    @miniagent(errors_as_messages=True)
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply(Message.promise(failing_tokens(), role="assistant"))

    async with MiniAgents():
        replies: MessageSequencePromise = agent.trigger()
        seen: list[tuple[str, list[str]]] = []
        async for promise in replies:
            seen.append((type(await promise).__name__, [token async for token in promise]))

    assert seen[0] == ("Message", ["Hel", "lo"])
    assert seen[1][0] == "ErrorMessage"
    assert "mid-stream" in "".join(seen[1][1])
    assert len(seen) == 2


async def test_error_messages_are_replayed_the_same_to_every_reader() -> None:
    @miniagent(errors_as_messages=True)
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply(["a", Boom("once"), "b"])

    async with MiniAgents():
        replies = agent.trigger()
        first = await replies.acollect_messages()
        second = await replies.acollect_messages()

    assert first == second
    assert [type(message) for message in first] == [Message, ErrorMessage, Message]


async def test_a_cancelled_reader_of_a_tolerant_reply_still_stops_the_work_it_alone_read() -> None:
    cancelled = asyncio.Event()

    async def endless_tokens() -> AsyncIterator[str]:
        try:
            yield "."
            await asyncio.Event().wait()  # the rest never comes: only cancellation ends it
        except asyncio.CancelledError:
            cancelled.set()
            raise

    @miniagent
    async def inner(ctx: InteractionContext) -> None:
        ctx.reply(Message.promise(endless_tokens()))

    @miniagent(errors_as_messages=True)
    async def outer(ctx: InteractionContext) -> None:
        ctx.reply(["first", inner.trigger()])

    async with MiniAgents():
        reading = asyncio.create_task(outer.trigger().acollect_messages())
        await settle()  # reading, and the endless tokens waiting for more
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)
        await asyncio.wait_for(cancelled.wait(), 5)

    assert cancelled.is_set()
