"""Cancelling a consumer stops the agents only it was waiting for: a reply that nobody else
reads is abandoned, with the work behind it; a reply still read elsewhere keeps going."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from miniagents_lc import (
    InteractionContext,
    Message,
    MessagePromise,
    MessageSequencePromise,
    MiniAgent,
    MiniAgents,
    StreamCancelledError,
    miniagent,
)
from miniagents_lc.testing import apoll_until

from ._support import other_tasks

TOKENS = 40
TOKEN_DELAY = 0.005
LIMIT = 1.0  # generous: the target is 100 ms


@dataclass
class Work:
    """Which pieces of work started, which ran to their end, and which were stopped early."""

    started: set[str] = field(default_factory=set)
    completed: set[str] = field(default_factory=set)
    stopped: set[str] = field(default_factory=set)
    first_tokens: asyncio.Event = field(default_factory=asyncio.Event)
    working: asyncio.Event = field(default_factory=asyncio.Event)

    async def tokens(self, label: str) -> AsyncIterator[str]:
        self.started.add(label)
        finished = False
        try:
            for index in range(TOKENS):
                await asyncio.sleep(TOKEN_DELAY)
                if index == 3:
                    self.first_tokens.set()
                yield f"{label}{index} "
            finished = True
        finally:
            (self.completed if finished else self.stopped).add(label)

    async def lingers(self, label: str) -> None:
        """The agent function itself keeps working after it has replied."""
        self.started.add(label)
        self.working.set()
        finished = False
        try:
            await asyncio.sleep(TOKENS * TOKEN_DELAY)
            finished = True
        finally:
            (self.completed if finished else self.stopped).add(label)


def agents(work: Work) -> tuple[MiniAgent, MiniAgent]:
    """`parent` streams a message, replies with `child`'s reply, and goes on working."""

    @miniagent
    async def child(ctx: InteractionContext) -> None:
        ctx.reply(Message.promise(work.tokens("child-tokens")))
        await work.lingers("child-function")

    @miniagent
    async def parent(ctx: InteractionContext, child_scheduling: Any) -> None:
        ctx.reply(Message.promise(work.tokens("parent-tokens")))
        ctx.reply(child.trigger(schedule_immediately=child_scheduling))
        await work.lingers("parent-function")

    return parent, child


async def read_tokens(replies: MessageSequencePromise) -> None:
    async for promise in replies:
        async for _token in promise:
            pass


async def collect_into(promises: list[MessagePromise], replies: MessageSequencePromise) -> None:
    async for promise in replies:
        promises.append(promise)


async def read_with_cursor(replies: MessageSequencePromise) -> None:
    cursor = replies.cursor()
    while batch := await cursor.read():
        for promise in batch:
            await promise


async def read_messages(replies: MessageSequencePromise) -> None:
    await replies.acollect_messages()


async def await_whole(replies: MessageSequencePromise) -> None:
    await replies


CONSUMERS: dict[str, Callable[[MessageSequencePromise], Awaitable[None]]] = {
    "tokens": read_tokens,
    "cursor": read_with_cursor,
    "acollect_messages": read_messages,
    "await": await_whole,
}

EVERY_PART = {"parent-tokens", "parent-function", "child-tokens", "child-function"}


def trigger_parent(parent: MiniAgent, scheduling: Any) -> MessageSequencePromise:
    """`parent`'s replies, with it and its child scheduled in `scheduling`'s mode."""
    return parent.trigger(
        schedule_immediately=scheduling.schedule_immediately,
        child_scheduling=scheduling.schedule_immediately,
    )


async def cancel_when(reader: asyncio.Task[Any], ready: asyncio.Event, after: float = 0.0) -> None:
    """Cancel `reader` `after` seconds once `ready` is set, and see it end cancelled."""
    async with asyncio.timeout(5):
        await ready.wait()
        await asyncio.sleep(after)
        reader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reader


async def seconds_until_stopped(work: Work, parts: set[str]) -> float:
    """How long until `parts` all stopped and no task is left but the caller's."""
    start = time.perf_counter()
    await apoll_until(
        lambda: parts <= work.stopped and not other_tasks(),
        what=lambda: (
            f"{sorted(parts)} stopped and no task left (stopped {work.stopped}, "
            f"completed {work.completed}, tasks {other_tasks()})"
        ),
        within=LIMIT,
        interval=0.001,
    )
    return time.perf_counter() - start


@pytest.mark.parametrize("consume", list(CONSUMERS.values()), ids=list(CONSUMERS))
async def test_cancelling_the_only_consumer_stops_the_agents_it_was_waiting_for(
    consume: Callable[[MessageSequencePromise], Awaitable[None]], scheduling: Any
) -> None:
    work = Work()
    parent, _child = agents(work)
    async with MiniAgents(schedule_immediately_by_default=scheduling.context_default):
        consumer = asyncio.create_task(consume(trigger_parent(parent, scheduling)))
        await cancel_when(consumer, work.working, after=TOKEN_DELAY * 5)

        latency = await seconds_until_stopped(work, work.started)

    assert latency < LIMIT
    assert "parent-function" in work.started
    assert work.completed == set()


async def test_a_reply_abandoned_that_way_ends_with_stream_cancelled_error_naming_the_agent() -> (
    None
):
    work = Work()
    parent, _child = agents(work)
    async with MiniAgents():
        replies = parent.trigger(child_scheduling=True)
        await cancel_when(asyncio.create_task(read_tokens(replies)), work.first_tokens)
        await seconds_until_stopped(work, EVERY_PART)

        promises: list[MessagePromise] = []
        with pytest.raises(StreamCancelledError, match="'parent' was cancelled"):
            await collect_into(promises, replies)
        with pytest.raises(StreamCancelledError):
            await promises[0]
        assert promises[0].cursor().read_nowait(), "the tokens produced before the stop are kept"


async def test_a_reply_still_read_elsewhere_keeps_going(scheduling: Any) -> None:
    work = Work()
    parent, _child = agents(work)
    async with MiniAgents(schedule_immediately_by_default=scheduling.context_default):
        replies = trigger_parent(parent, scheduling)
        cancelled = asyncio.create_task(read_tokens(replies))
        survivor = asyncio.create_task(replies.acollect_messages())
        await cancel_when(cancelled, work.first_tokens)
        messages = await asyncio.wait_for(survivor, timeout=5)

    assert [len(str(message).split()) for message in messages] == [TOKENS, TOKENS]
    assert work.completed == EVERY_PART
    assert work.stopped == set()


async def test_a_nested_reply_read_elsewhere_keeps_going_while_its_parent_stops() -> None:
    work = Work()
    child_replies: list[MessageSequencePromise] = []

    @miniagent
    async def child(ctx: InteractionContext) -> None:
        ctx.reply(Message.promise(work.tokens("child-tokens")))

    @miniagent
    async def parent(ctx: InteractionContext) -> None:
        ctx.reply(Message.promise(work.tokens("parent-tokens")))
        child_replies.append(child.trigger())
        ctx.reply(child_replies[-1])
        await work.lingers("parent-function")

    async with MiniAgents():
        replies = parent.trigger()
        cancelled = asyncio.create_task(read_tokens(replies))
        await asyncio.wait_for(work.first_tokens.wait(), timeout=5)
        survivor = asyncio.create_task(child_replies[0].acollect_messages())
        await cancel_when(cancelled, work.first_tokens, after=0.0)
        (message,) = await asyncio.wait_for(survivor, timeout=5)

    assert len(str(message).split()) == TOKENS
    assert work.completed == {"child-tokens"}
    assert work.stopped == {"parent-tokens", "parent-function"}


MESSAGE_READERS = {name: CONSUMERS[name] for name in ("tokens", "cursor", "acollect_messages")}


@pytest.mark.parametrize("consume", list(MESSAGE_READERS.values()), ids=list(MESSAGE_READERS))
async def test_cancelling_a_consumer_leaves_agents_it_did_not_wait_for_running(
    consume: Callable[[MessageSequencePromise], Awaitable[None]],
) -> None:
    work = Work()

    @miniagent
    async def streamer(ctx: InteractionContext, label: str) -> None:
        ctx.reply(Message.promise(work.tokens(label)))

    async with MiniAgents():
        waited_for = streamer.trigger(label="waited-for")
        other = streamer.trigger(label="other")
        await cancel_when(asyncio.create_task(consume(waited_for)), work.first_tokens)
        (message,) = await asyncio.wait_for(other.acollect_messages(), timeout=5)

    assert len(str(message).split()) == TOKENS
    assert work.completed == {"other"}
    assert work.stopped == {"waited-for"}


async def test_a_consumer_that_only_stops_reading_does_not_stop_the_agent() -> None:
    work = Work()
    parent, _child = agents(work)
    async with MiniAgents():
        replies = parent.trigger(child_scheduling=True)
        async for _promise in replies:
            break
        messages = await replies.acollect_messages()

    assert len(messages) == 2
    assert work.completed == EVERY_PART


def agent_awaiting_its_message(work: Work) -> MiniAgent:
    """Replies one streamed message and awaits it, as a model adapter does (so the agent
    function itself reads its message too)."""

    @miniagent
    async def streamer(ctx: InteractionContext) -> None:
        promise = Message.promise(work.tokens("tokens"))
        ctx.reply(promise)
        await promise

    return streamer


@pytest.mark.parametrize("consume", list(CONSUMERS.values()), ids=list(CONSUMERS))
async def test_once_the_cancelled_only_reader_is_awaited_the_reply_is_already_abandoned(
    consume: Callable[[MessageSequencePromise], Awaitable[None]],
) -> None:
    work = Work()
    async with MiniAgents():
        replies = agent_awaiting_its_message(work).trigger()
        await cancel_when(asyncio.create_task(consume(replies)), work.first_tokens)
        # At once, with no task switch in between: a new read comes too late to keep it going.
        with pytest.raises(StreamCancelledError):
            await replies.acollect_messages()
        await seconds_until_stopped(work, {"tokens"})

    assert work.completed == set()
