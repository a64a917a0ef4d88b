"""Errors of agents: where they surface, what they say, and what is refused."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from miniagents_lc import (
    AppendClosedError,
    InteractionContext,
    MessageSequencePromise,
    MiniAgent,
    MiniAgents,
    miniagent,
)
from miniagents_lc.testing import settle


class DeepError(Exception):
    """The error the innermost agent raises."""


def three_level_tree(flag: Any) -> MiniAgent:
    """top -> middle -> bottom; bottom replies once, then raises DeepError."""

    @miniagent
    async def bottom(ctx: InteractionContext) -> None:
        ctx.reply("bottom: before the error")
        await settle()  # everything else that can run has run before the error
        raise DeepError("three levels down")

    @miniagent
    async def middle(ctx: InteractionContext) -> None:
        ctx.reply(["middle: first", bottom.trigger(schedule_immediately=flag), "middle: after"])

    @miniagent
    async def top(ctx: InteractionContext) -> None:
        ctx.reply(["top: first", middle.trigger(schedule_immediately=flag)])
        ctx.reply("top: after")

    return top


async def read_until_error(replies: MessageSequencePromise) -> tuple[list[str], BaseException]:
    received: list[str] = []
    try:
        async for message_promise in replies:
            received.append(str(await message_promise))
    except Exception as error:
        return received, error
    pytest.fail(f"the replies ended without an error after {received}")


EARLIER_REPLIES = ["top: first", "middle: first", "bottom: before the error"]


async def test_error_three_levels_down_reaches_top_consumer_after_earlier_replies(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    top = three_level_tree(scheduling.schedule_immediately)

    async with agents_context():
        received, error = await read_until_error(
            top.trigger(schedule_immediately=scheduling.schedule_immediately)
        )

    assert received == EARLIER_REPLIES
    assert isinstance(error, DeepError)
    assert str(error) == "three levels down"


async def test_error_notes_name_every_agent_it_passed_through(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    top = three_level_tree(scheduling.schedule_immediately)

    async with agents_context():
        _, error = await read_until_error(
            top.trigger(schedule_immediately=scheduling.schedule_immediately)
        )

    notes = "\n".join(getattr(error, "__notes__", []))
    for alias in ("bottom", "middle", "top"):
        assert f"'{alias}'" in notes


async def test_failing_agent_does_not_raise_at_trigger(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    @miniagent
    async def failing(ctx: InteractionContext) -> None:
        raise DeepError("at once")

    async with agents_context():
        replies = failing.trigger(schedule_immediately=scheduling.schedule_immediately)
        await settle()  # the function has had every chance to run (or not)
        with pytest.raises(DeepError, match="at once"):
            await replies.acollect_messages()


async def test_error_is_raised_at_its_position_on_every_iteration(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    top = three_level_tree(scheduling.schedule_immediately)

    async with agents_context():
        replies = top.trigger(schedule_immediately=scheduling.schedule_immediately)
        first_received, first_error = await read_until_error(replies)
        second_received, second_error = await read_until_error(replies)

    assert first_received == second_received == EARLIER_REPLIES
    assert isinstance(first_error, DeepError)
    assert second_error is first_error


async def test_error_is_raised_when_the_replies_are_collected_or_awaited(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    top = three_level_tree(scheduling.schedule_immediately)

    async with agents_context():
        replies = top.trigger(schedule_immediately=scheduling.schedule_immediately)
        with pytest.raises(DeepError):
            await replies.acollect_messages()
        with pytest.raises(DeepError):
            await replies


async def test_error_of_an_unconsumed_agent_does_not_break_the_context(
    immediate_scheduling: Any,
) -> None:
    ran = asyncio.Event()

    @miniagent
    async def failing(ctx: InteractionContext) -> None:
        ran.set()
        raise DeepError("nobody listens")

    async with MiniAgents(schedule_immediately_by_default=immediate_scheduling.context_default):
        failing.trigger(schedule_immediately=immediate_scheduling.schedule_immediately)
        await asyncio.wait_for(ran.wait(), 5)

    assert ran.is_set()


async def test_reply_after_the_function_returned_raises_append_closed_error_naming_agent(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    contexts: list[InteractionContext] = []

    @miniagent(alias="late_replier")
    async def agent(ctx: InteractionContext) -> None:
        contexts.append(ctx)
        ctx.reply("in time")

    async with agents_context():
        messages = await agent.trigger(
            schedule_immediately=scheduling.schedule_immediately
        ).acollect_messages()
        with pytest.raises(AppendClosedError, match="late_replier"):
            contexts[0].reply("too late")

    assert [str(m) for m in messages] == ["in time"]


async def test_reply_after_finish_early_raises_append_closed_error_naming_agent(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    errors: list[BaseException] = []

    @miniagent(alias="early_finisher")
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply("before finishing")
        ctx.finish_early()
        try:
            ctx.reply("after finishing")
        except AppendClosedError as error:
            errors.append(error)

    async with agents_context():
        messages = await agent.trigger(
            schedule_immediately=scheduling.schedule_immediately
        ).acollect_messages()

    assert [str(m) for m in messages] == ["before finishing"]
    assert len(errors) == 1
    assert "early_finisher" in str(errors[0])


def test_decorating_a_sync_function_is_a_type_error() -> None:
    def not_async(ctx: InteractionContext) -> None:
        pass

    with pytest.raises(TypeError, match="async"):
        miniagent(not_async)  # type: ignore[arg-type]


def test_decorating_a_sync_function_with_arguments_is_a_type_error() -> None:
    def not_async(ctx: InteractionContext) -> None:
        pass

    decorate = miniagent(alias="x", description="y", bound=1)
    with pytest.raises(TypeError, match="async"):
        decorate(not_async)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "not_an_agent_function",
    [
        pytest.param(lambda ctx: None, id="lambda"),
        pytest.param(print, id="builtin"),
        pytest.param("agent", id="str"),
    ],
)
def test_decorating_a_non_async_callable_is_a_type_error(not_an_agent_function: Any) -> None:
    with pytest.raises(TypeError, match="async def"):
        miniagent(not_an_agent_function)


def test_decorating_an_async_generator_function_is_a_type_error() -> None:
    async def generator(ctx: InteractionContext) -> Any:
        yield "not how agents reply"

    with pytest.raises(TypeError, match="async def"):
        miniagent(generator)


async def test_error_after_finish_early_is_logged_not_swallowed(
    scheduling: Any,
    agents_context: Callable[[], MiniAgents],
    caplog: pytest.LogCaptureFixture,
) -> None:
    @miniagent(alias="finishes_then_fails")
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply("the answer")
        ctx.finish_early()
        await settle()  # the caller has its reply before the error
        raise DeepError("after the caller was served")

    caplog.set_level(logging.ERROR)
    async with agents_context():
        messages = await agent.trigger(
            schedule_immediately=scheduling.schedule_immediately
        ).acollect_messages()

    assert [str(m) for m in messages] == ["the answer"]
    logged = [r for r in caplog.records if r.exc_info and r.exc_info[0] is DeepError]
    assert len(logged) == 1
    assert "finishes_then_fails" in "\n".join(getattr(logged[0].exc_info[1], "__notes__", []))


async def test_reply_after_finish_early_left_uncaught_is_logged_naming_the_agent(
    scheduling: Any,
    agents_context: Callable[[], MiniAgents],
    caplog: pytest.LogCaptureFixture,
) -> None:
    @miniagent(alias="careless")
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply("first")
        ctx.finish_early()
        ctx.reply("second")

    caplog.set_level(logging.ERROR)
    async with agents_context():
        messages = await agent.trigger(
            schedule_immediately=scheduling.schedule_immediately
        ).acollect_messages()

    assert [str(m) for m in messages] == ["first"]
    logged = [r for r in caplog.records if r.exc_info and r.exc_info[0] is AppendClosedError]
    assert len(logged) == 1
    assert "careless" in str(logged[0].exc_info[1])


async def test_unsupported_reply_type_is_a_type_error_at_its_position(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    @miniagent(alias="sloppy")
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply("fine")
        ctx.reply(42)  # type: ignore[arg-type]
        ctx.reply("never reached")

    async with agents_context():
        received, error = await read_until_error(
            agent.trigger(schedule_immediately=scheduling.schedule_immediately)
        )

    assert received == ["fine"]
    assert isinstance(error, TypeError)
    assert "int" in str(error)
    assert "sloppy" in "\n".join(getattr(error, "__notes__", []))


async def test_exception_replied_as_a_message_is_raised_at_its_position(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    @miniagent
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply(["before", DeepError("replied, not raised")])
        ctx.reply("after")

    async with agents_context():
        received, error = await read_until_error(
            agent.trigger(schedule_immediately=scheduling.schedule_immediately)
        )

    assert received == ["before"]
    assert isinstance(error, DeepError)
