"""Calls made piece by piece: `initiate_call`, `send_message`, `reply_sequence`, `finish`,
and the agent side of them: `message_promises` and `finish_early`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from miniagents_lc import (
    AgentCall,
    AppendClosedError,
    InteractionContext,
    Message,
    MiniAgents,
    miniagent,
)
from miniagents_lc.testing import settle

EVENT_TIMEOUT = 5.0


@miniagent
async def echo(ctx: InteractionContext) -> None:
    """Replies `echo: <text>` to every message it receives."""
    async for message_promise in ctx.message_promises:
        ctx.reply(f"echo: {await message_promise}")


async def test_initiate_call_with_two_send_message_then_reply_sequence(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    async with agents_context():
        call = echo.initiate_call(schedule_immediately=scheduling.schedule_immediately)
        assert isinstance(call, AgentCall)
        call.send_message("one")
        call.send_message(Message(text="two"))
        messages = await call.reply_sequence().acollect_messages()

    assert [str(m) for m in messages] == ["echo: one", "echo: two"]


async def test_send_message_returns_the_call_for_chaining(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    async with agents_context():
        call = echo.initiate_call(schedule_immediately=scheduling.schedule_immediately)
        messages = await (
            call.send_message("a").send_message(["b", "c"]).reply_sequence().acollect_messages()
        )

    assert [str(m) for m in messages] == ["echo: a", "echo: b", "echo: c"]


async def test_send_message_after_reply_sequence_raises_naming_the_agent(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    async with agents_context():
        call = echo.initiate_call(schedule_immediately=scheduling.schedule_immediately)
        call.send_message("one")
        replies = call.reply_sequence()
        with pytest.raises(AppendClosedError, match="echo"):
            call.send_message("two")
        messages = await replies.acollect_messages()

    assert [str(m) for m in messages] == ["echo: one"]


async def test_send_message_after_finish_raises_naming_the_agent(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    async with agents_context():
        call = echo.initiate_call(schedule_immediately=scheduling.schedule_immediately)
        call.send_message("one")
        call.finish()
        with pytest.raises(AppendClosedError, match="echo"):
            call.send_message("two")
        messages = await call.reply_sequence().acollect_messages()

    assert [str(m) for m in messages] == ["echo: one"]


async def test_reply_sequence_without_finishing_keeps_the_call_open(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    async with agents_context():
        call = echo.initiate_call(schedule_immediately=scheduling.schedule_immediately)
        call.send_message("one")
        replies = call.reply_sequence(finish_call=False)
        call.send_message("two")
        call.finish()
        messages = await replies.acollect_messages()

    assert [str(m) for m in messages] == ["echo: one", "echo: two"]


async def test_agent_consumes_message_promises_token_by_token_while_caller_still_sends(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    tokens_to_send: asyncio.Queue[str | None] = asyncio.Queue()
    agent_saw: list[str] = []
    agent_saw_token = asyncio.Event()

    async def fed_over_time() -> AsyncIterator[str]:
        while (token := await tokens_to_send.get()) is not None:
            yield token

    @miniagent
    async def listener(ctx: InteractionContext) -> None:
        async for message_promise in ctx.message_promises:
            async for token in message_promise:
                agent_saw.append(token)
                agent_saw_token.set()
            ctx.reply(f"heard: {await message_promise}")

    async with agents_context():
        call = listener.initiate_call(schedule_immediately=scheduling.schedule_immediately)
        call.send_message(Message.promise(fed_over_time()))
        replies = call.reply_sequence(finish_call=False)
        # Consuming the replies is what starts a deferred agent; it runs alongside the caller.
        collecting = asyncio.ensure_future(replies.acollect_messages())

        for number, token in enumerate(["to", "ken", "s"], start=1):
            agent_saw_token.clear()
            tokens_to_send.put_nowait(token)
            await asyncio.wait_for(agent_saw_token.wait(), EVENT_TIMEOUT)
            # The agent has this token while the message (and the call) are still open.
            assert len(agent_saw) == number
            assert not collecting.done()

        call.send_message("second message")
        call.finish()
        tokens_to_send.put_nowait(None)
        messages = await asyncio.wait_for(collecting, EVENT_TIMEOUT)

    assert agent_saw == ["to", "ken", "s", "second message"]
    assert [str(m) for m in messages] == ["heard: tokens", "heard: second message"]


async def test_finish_early_ends_the_reply_sequence_while_the_function_keeps_running(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    release = asyncio.Event()
    log: list[str] = []

    @miniagent
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply("the answer")
        ctx.finish_early()
        log.append("finished early")
        await asyncio.wait_for(release.wait(), EVENT_TIMEOUT)
        log.append("kept running")

    async with agents_context():
        messages = await asyncio.wait_for(
            agent.trigger(schedule_immediately=scheduling.schedule_immediately).acollect_messages(),
            EVENT_TIMEOUT,
        )
        # The caller has every reply while the function is still running.
        assert log == ["finished early"]
        release.set()

    assert [str(m) for m in messages] == ["the answer"]
    assert log == ["finished early", "kept running"]


async def test_finish_early_keeps_replies_that_are_still_streaming(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    async def slow_tokens() -> AsyncIterator[str]:
        for token in ["still ", "streaming"]:
            await settle()  # the agent function has returned by now
            yield token

    @miniagent
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply(Message.promise(slow_tokens()))
        ctx.finish_early()

    async with agents_context():
        messages = await agent.trigger(
            schedule_immediately=scheduling.schedule_immediately
        ).acollect_messages()

    assert [str(m) for m in messages] == ["still streaming"]


async def test_input_ends_after_the_messages_sent(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    @miniagent
    async def counter(ctx: InteractionContext) -> None:
        messages = await ctx.message_promises.acollect_messages()
        ctx.reply(f"{len(messages)} messages")

    async with agents_context():
        nothing = counter.trigger(schedule_immediately=scheduling.schedule_immediately)
        three = counter.trigger(
            ["a", ["b", "c"]], schedule_immediately=scheduling.schedule_immediately
        )
        results = [await nothing.acollect_messages(), await three.acollect_messages()]

    assert [str(m) for (m,) in results] == ["0 messages", "3 messages"]


async def test_a_call_left_open_is_finished_when_the_context_exits(
    immediate_scheduling: Any,
) -> None:
    """Nobody can send to a call after its context's body has ended: the agent sees its
    input end, replies, and the exit returns instead of waiting forever."""
    seen: list[str] = []

    @miniagent
    async def collector(ctx: InteractionContext) -> None:
        async for message_promise in ctx.message_promises:
            seen.append(str(await message_promise))
        seen.append("<end of input>")

    async def body() -> None:
        async with MiniAgents(schedule_immediately_by_default=immediate_scheduling.context_default):
            call = collector.initiate_call(
                schedule_immediately=immediate_scheduling.schedule_immediately
            )
            call.send_message("one")

    await asyncio.wait_for(body(), EVENT_TIMEOUT)
    assert seen == ["one", "<end of input>"]


async def test_a_call_still_fed_by_a_running_task_is_not_cut_at_exit() -> None:
    """Exit finishes only the calls nobody can feed any more: a task still sending keeps its
    call open until it finishes it itself."""
    seen: list[str] = []

    @miniagent
    async def collector(ctx: InteractionContext) -> None:
        async for message_promise in ctx.message_promises:
            seen.append(str(await message_promise))

    @miniagent
    async def feeder(ctx: InteractionContext) -> None:
        call = collector.initiate_call()
        call.send_message("first")
        await settle()
        call.send_message("second")
        ctx.reply(call.reply_sequence())

    async def body() -> None:
        async with MiniAgents():
            feeder.trigger()

    await asyncio.wait_for(body(), EVENT_TIMEOUT)
    assert seen == ["first", "second"]
