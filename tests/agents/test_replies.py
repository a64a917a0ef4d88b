"""Replies: their order, their nesting across agents, and their streaming to the consumer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from miniagents_lc import InteractionContext, Message, MiniAgents, miniagent
from miniagents_lc.promising.lowlevel import buffer_of
from miniagents_lc.testing import settle

EVENT_TIMEOUT = 5.0


def texts(messages: tuple[Message, ...]) -> list[str]:
    return [str(message) for message in messages]


async def test_aggregator_replies_intro_then_each_sub_agent_then_closing_line(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    flag = scheduling.schedule_immediately

    @miniagent
    async def agent1(ctx: InteractionContext) -> None:
        await settle()  # the slower one (all else that can run goes first), replied first
        ctx.reply("agent1: first")
        ctx.reply(["agent1: second", "agent1: third"])

    @miniagent
    async def agent2(ctx: InteractionContext) -> None:
        ctx.reply("agent2: only")

    @miniagent
    async def aggregator(ctx: InteractionContext) -> None:
        ctx.reply(
            [
                "intro",
                agent1.trigger(schedule_immediately=flag),
                agent2.trigger(schedule_immediately=flag),
            ]
        )
        ctx.reply("closing")

    async with agents_context():
        messages = await aggregator.trigger(schedule_immediately=flag).acollect_messages()

    assert texts(messages) == [
        "intro",
        "agent1: first",
        "agent1: second",
        "agent1: third",
        "agent2: only",
        "closing",
    ]


async def test_reply_order_is_the_order_of_reply_calls_not_of_resolution(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    resolved: list[str] = []
    fast_done, medium_done = asyncio.Event(), asyncio.Event()

    async def tokens(
        name: str, after: asyncio.Event | None, done: asyncio.Event
    ) -> AsyncIterator[str]:
        if after is not None:
            await after.wait()
        yield name
        resolved.append(name)
        done.set()

    @miniagent
    async def agent(ctx: InteractionContext) -> None:
        # Produced in the background whatever the mode, so the later replies resolve first.
        ctx.reply(
            Message.promise(tokens("slow", medium_done, asyncio.Event()), schedule_immediately=True)
        )
        ctx.reply(
            Message.promise(tokens("medium", fast_done, medium_done), schedule_immediately=True)
        )
        ctx.reply(Message.promise(tokens("fast", None, fast_done), schedule_immediately=True))

    async with agents_context():
        messages = await agent.trigger(
            schedule_immediately=scheduling.schedule_immediately
        ).acollect_messages()

    assert resolved == ["fast", "medium", "slow"]
    assert texts(messages) == ["slow", "medium", "fast"]


async def test_sub_agent_replies_keep_trigger_order_when_a_later_agent_finishes_first(
    immediate_scheduling: Any,
) -> None:
    flag = immediate_scheduling.schedule_immediately
    finished: list[str] = []

    @miniagent
    async def worker(ctx: InteractionContext, last: bool) -> None:
        if last:
            await settle()  # the other worker runs to its end first
        ctx.reply(ctx.this_agent.alias)
        finished.append(ctx.this_agent.alias)

    slow = worker.fork("slow", last=True)
    fast = worker.fork("fast", last=False)

    @miniagent
    async def aggregator(ctx: InteractionContext) -> None:
        ctx.reply(slow.trigger(schedule_immediately=flag))
        ctx.reply(fast.trigger(schedule_immediately=flag))

    async with MiniAgents(schedule_immediately_by_default=immediate_scheduling.context_default):
        messages = await aggregator.trigger(schedule_immediately=flag).acollect_messages()

    assert finished == ["fast", "slow"]
    assert texts(messages) == ["slow", "fast"]


async def test_consumer_reads_first_reply_tokens_while_later_replies_are_still_produced(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    first_token_seen = asyncio.Event()
    log: list[str] = []

    async def first_reply_tokens() -> AsyncIterator[str]:
        yield "Hel"
        # The rest of the first reply waits for the consumer to have read its first token.
        await asyncio.wait_for(first_token_seen.wait(), EVENT_TIMEOUT)
        yield "lo"

    @miniagent
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply(Message.promise(first_reply_tokens()))
        # The second reply exists only once the consumer has streamed part of the first.
        await asyncio.wait_for(first_token_seen.wait(), EVENT_TIMEOUT)
        log.append("second replied")
        ctx.reply("world")

    async with agents_context():
        replies = agent.trigger(schedule_immediately=scheduling.schedule_immediately)
        received: list[list[str]] = []
        async for message_promise in replies:
            received.append([])
            async for token in message_promise:
                if not first_token_seen.is_set():
                    log.append(f"consumer got {token!r}")
                    first_token_seen.set()
                received[-1].append(token)

    assert log == ["consumer got 'Hel'", "second replied"]
    assert received == [["Hel", "lo"], ["world"]]


async def test_replies_are_replayed_to_every_consumer(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    runs: list[str] = []

    @miniagent
    async def agent(ctx: InteractionContext) -> None:
        runs.append("run")
        ctx.reply(["one", "two"])

    async with agents_context():
        replies = agent.trigger(schedule_immediately=scheduling.schedule_immediately)
        first, second = await asyncio.gather(
            replies.acollect_messages(), replies.acollect_messages()
        )
        third = await replies.acollect_messages()

    assert texts(first) == texts(second) == texts(third) == ["one", "two"]
    assert runs == ["run"]


async def test_agent_reads_the_messages_it_was_triggered_with(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    @miniagent
    async def echo(ctx: InteractionContext) -> None:
        async for message_promise in ctx.message_promises:
            ctx.reply(f"echo: {await message_promise}")

    async with agents_context():
        messages = await echo.trigger(
            ["hello", Message(text="there")], schedule_immediately=scheduling.schedule_immediately
        ).acollect_messages()

    assert texts(messages) == ["echo: hello", "echo: there"]


async def test_agent_without_replies_gives_an_empty_sequence(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    ran = asyncio.Event()

    @miniagent
    async def silent(ctx: InteractionContext) -> None:
        ran.set()

    async with agents_context():
        messages = await silent.trigger(
            schedule_immediately=scheduling.schedule_immediately
        ).acollect_messages()

    assert messages == ()
    assert ran.is_set()


async def test_an_agent_replying_only_messages_runs_no_task_besides_its_own(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    seen_tasks: set[str] = set()

    @miniagent
    async def plain(ctx: InteractionContext) -> None:
        ctx.reply("one")
        ctx.reply(Message(text="two"))
        await asyncio.sleep(0)
        seen_tasks.update(task.get_name() for task in asyncio.all_tasks())

    async with agents_context():
        replies = plain.trigger(schedule_immediately=scheduling.schedule_immediately)
        async with asyncio.timeout(EVENT_TIMEOUT):
            messages = await replies.acollect_messages()

    assert texts(messages) == ["one", "two"]
    assert "miniagent:plain" in seen_tasks
    assert not any("Flat" in name or "Sequence" in name for name in seen_tasks), seen_tasks


async def test_a_message_replied_three_agents_deep_is_in_the_top_reply_in_the_same_step() -> None:
    held_at_top: list[int] = []
    replied = asyncio.Event()

    @miniagent
    async def deepest(ctx: InteractionContext) -> None:
        await replied.wait()
        ctx.reply("from below")
        # No task switch since the reply: the top call's reply holds it already.
        held_at_top.append(len(buffer_of(top).pieces))

    @miniagent
    async def middle(ctx: InteractionContext) -> None:
        ctx.reply(deepest.trigger())

    @miniagent
    async def upper(ctx: InteractionContext) -> None:
        ctx.reply(middle.trigger())

    async with MiniAgents():
        top = upper.trigger()
        await settle()
        assert buffer_of(top).pieces == []
        replied.set()
        messages = await top.acollect_messages()

    assert held_at_top == [1]
    assert [str(message) for message in messages] == ["from below"]
