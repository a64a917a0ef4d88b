"""Context helpers of agent code: out-of-order replies, work the replies wait for, and the
current call and its agent trace from anywhere in an agent's code."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from miniagents_lc import (
    InteractionContext,
    Message,
    MiniAgents,
    NoActiveContextError,
    current_agent_trace,
    miniagent,
)
from miniagents_lc.testing import settle


async def after(event: asyncio.Event | None, text: str, done: asyncio.Event) -> AsyncIterator[str]:
    """`text` as soon as `event` is set (at once without one); sets `done` once it is out."""
    if event is not None:
        await event.wait()
    yield text
    done.set()


async def once_settled(text: str) -> AsyncIterator[str]:
    """`text`, once everything else that can run has run."""
    await settle()
    yield text


class Boom(Exception):
    """The error of the failing parts."""


async def test_out_of_order_replies_are_placed_first_resolved_first(scheduling: Any) -> None:
    quick_done, middle_done = asyncio.Event(), asyncio.Event()

    @miniagent
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply_out_of_order(
            [
                Message.promise(after(middle_done, "slow", asyncio.Event())),
                Message.promise(after(None, "quick", quick_done)),
                Message.promise(after(quick_done, "middle", middle_done)),
            ]
        )

    async with MiniAgents(schedule_immediately_by_default=scheduling.context_default):
        messages = await agent.trigger(
            schedule_immediately=scheduling.schedule_immediately
        ).acollect_messages()

    assert [str(message) for message in messages] == ["quick", "middle", "slow"]


async def test_in_order_replies_keep_their_order_while_out_of_order_ones_go_ahead() -> None:
    out_of_order_done = asyncio.Event()

    @miniagent
    async def slow_agent(ctx: InteractionContext) -> None:
        ctx.reply(Message.promise(after(out_of_order_done, "in order, slow", asyncio.Event())))

    @miniagent
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply(slow_agent.trigger())
        ctx.reply("in order, after the slow one")
        ctx.reply_out_of_order(Message.promise(after(None, "out of order", out_of_order_done)))

    async with MiniAgents():
        messages = await agent.trigger().acollect_messages()

    # The in-order slow message is placed at once (not resolved): it comes first.
    assert [str(message) for message in messages] == [
        "in order, slow",
        "in order, after the slow one",
        "out of order",
    ]


async def test_an_out_of_order_reply_waits_for_nothing_replied_before_it() -> None:
    @miniagent
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply_out_of_order(Message.promise(once_settled("slow")))
        ctx.reply_out_of_order("ready at once")

    async with MiniAgents():
        messages = await agent.trigger().acollect_messages()

    assert [str(message) for message in messages] == ["ready at once", "slow"]


async def test_a_failing_out_of_order_message_raises_where_it_is_placed() -> None:
    async def failing() -> AsyncIterator[str]:
        await settle()  # "quick" is placed first
        yield "half"
        raise Boom("out of order, broken")

    @miniagent
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply_out_of_order([Message.promise(failing()), "quick"])

    received: list[str] = []

    async def read_all() -> None:
        async for promise in agent.trigger():
            received.append(str(await promise))

    async with MiniAgents():
        with pytest.raises(Boom, match="out of order, broken"):
            await read_all()

    assert received == ["quick"]


@pytest.mark.parametrize("given_as", ["coroutine", "task"])
async def test_the_replies_stay_open_until_the_work_to_wait_for_is_done(given_as: str) -> None:
    done: list[str] = []

    async def background() -> None:
        await settle()  # anything not waiting for it (the end of the replies) happens first
        done.append("background")

    @miniagent
    async def agent(ctx: InteractionContext) -> None:
        work = background()
        ctx.make_sure_to_wait(work if given_as == "coroutine" else asyncio.ensure_future(work))
        ctx.reply("replied at once")

    async with MiniAgents():
        replies = agent.trigger()
        messages = await replies.acollect_messages()
        assert done == ["background"]  # the replies ended only once it was done

    assert [str(message) for message in messages] == ["replied at once"]


@pytest.mark.parametrize("errors_as_messages", [False, True])
async def test_the_waited_works_error_is_the_agents_error(errors_as_messages: bool) -> None:
    async def background() -> None:
        await settle()  # the reply is out first
        raise Boom("in the background")

    @miniagent(alias="waiter", errors_as_messages=errors_as_messages)
    async def agent(ctx: InteractionContext) -> None:
        ctx.make_sure_to_wait(background())
        ctx.reply("before")

    async with MiniAgents():
        replies = agent.trigger()
        if errors_as_messages:
            messages = await replies.acollect_messages()
            assert [type(message).__name__ for message in messages] == ["Message", "ErrorMessage"]
            assert "in the background" in str(messages[1])
        else:
            with pytest.raises(Boom, match="in the background") as caught:
                await replies.acollect_messages()
            assert "waiter" in "\n".join(caught.value.__notes__)


async def test_the_current_context_and_agent_trace_are_found_from_anywhere_in_agent_code() -> None:
    found: dict[str, Any] = {}

    def helper_without_ctx() -> tuple[str, ...]:
        return InteractionContext.get_current().agent_trace

    @miniagent(alias="leaf")
    async def leaf(ctx: InteractionContext) -> None:
        found["same context"] = InteractionContext.get_current() is ctx
        found["in function"] = current_agent_trace()
        found["in helper"] = helper_without_ctx()
        found["in a task"] = await asyncio.create_task(_trace_later())
        ctx.reply("leaf")

    @miniagent(alias="middle")
    async def middle(ctx: InteractionContext) -> None:
        ctx.reply(leaf.trigger())

    @miniagent(alias="root")
    async def root(ctx: InteractionContext) -> None:
        ctx.reply(middle.trigger())

    async with MiniAgents():
        await root.trigger().acollect_messages()

    expected = ("leaf", "middle", "root")
    assert found == {
        "same context": True,
        "in function": expected,
        "in helper": expected,
        "in a task": expected,
    }


async def _trace_later() -> tuple[str, ...]:
    await asyncio.sleep(0)
    return current_agent_trace()


async def test_outside_agent_code_there_is_no_current_call() -> None:
    async with MiniAgents():
        assert current_agent_trace() == ()
        with pytest.raises(NoActiveContextError, match="agent function"):
            InteractionContext.get_current()


async def test_a_call_triggered_outside_agent_code_has_a_trace_of_its_own_alias() -> None:
    traces: list[tuple[str, ...]] = []

    @miniagent(alias="alone")
    async def alone(ctx: InteractionContext) -> None:
        traces.append(ctx.agent_trace)

    async with MiniAgents():
        await alone.trigger().acollect_messages()

    assert traces == [("alone",)]
