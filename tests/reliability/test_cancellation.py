"""Cancellation: a consumer that stops anywhere in a nested reply leaves no task behind, and
every token producer that started gets to run its `finally`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field

import pytest

from miniagents_lc import (
    InteractionContext,
    Message,
    MessagePromise,
    MiniAgent,
    MiniAgents,
    miniagent,
)

from ._support import seconds_until_no_other_task

LEAVES = 3
TOKENS = 50
TOKEN_DELAY = 0.005
LIMIT = 1.0  # generous: the target is 100 ms


class StopReading(Exception):
    """The consumer's own reason to leave `async with MiniAgents()`."""


@dataclass
class Leaves:
    """Which leaf token producers started, and which ran their `finally`."""

    started: set[int] = field(default_factory=set)
    finalized: set[int] = field(default_factory=set)

    def assert_every_started_leaf_finalized(self) -> None:
        assert self.finalized == self.started


def tree(leaves: Leaves) -> MiniAgent:
    """top -> 3 sub-agents -> each one MessagePromise of 50 tokens, 5 ms apart."""

    async def tokens(index: int) -> AsyncIterator[str]:
        leaves.started.add(index)
        try:
            for _ in range(TOKENS):
                await asyncio.sleep(TOKEN_DELAY)
                yield str(index)
        finally:
            leaves.finalized.add(index)

    @miniagent
    async def sub(ctx: InteractionContext, index: int) -> None:
        ctx.reply(Message.promise(tokens(index)))

    @miniagent
    async def top(ctx: InteractionContext) -> None:
        ctx.reply([sub.trigger(index=index) for index in range(LEAVES)])

    return top


# Where the engine consumer stops: (message index, tokens read of that message).
ENGINE_STOPS = {
    "before-first-token": (0, 0),
    "mid-message": (0, TOKENS // 2),
    "between-messages": (1, 0),
    "at-last-token": (LEAVES - 1, TOKENS),
}


async def read_until(replies: AsyncIterable[MessagePromise], stop: tuple[int, int]) -> None:
    """Read the replies token by token; return when `stop` is reached."""
    stop_message, stop_tokens = stop
    message_index = 0
    async for promise in replies:
        read = 0
        if (message_index, read) == stop:
            return
        async for _token in promise:
            read += 1
            if (message_index, read) == stop:
                return
        message_index += 1
    pytest.fail(f"the replies ended before the stop point {stop_message, stop_tokens}")


# Where the astream() consumer stops: after this many tokens (the chunks batch tokens, so
# "before the first token" becomes "at the first chunk").
ASTREAM_STOPS = {
    "at-first-chunk": 1,
    "mid-message": TOKENS // 2,
    "between-messages": TOKENS,
    "at-last-token": LEAVES * TOKENS,
}


@pytest.mark.parametrize("threshold", list(ASTREAM_STOPS.values()), ids=list(ASTREAM_STOPS))
async def test_astream_consumer_breaking_leaves_no_task(threshold: int) -> None:
    leaves = Leaves()
    top = tree(leaves)

    async with aclosing(top.astream("go")) as chunks:
        received = 0
        async for chunk in chunks:
            received += len(str(chunk.content).replace("\n", ""))
            if received >= threshold:
                break
    assert received >= threshold

    latency = await seconds_until_no_other_task(LIMIT)
    assert latency < LIMIT
    assert leaves.started
    leaves.assert_every_started_leaf_finalized()


async def read_then_leave_context(
    top: MiniAgent, stop: tuple[int, int], stopped_at: list[float]
) -> None:
    """Read the replies up to `stop`, note the time, then leave the context with an error."""
    async with MiniAgents():
        await read_until(top.trigger(), stop)
        stopped_at.append(time.perf_counter())
        raise StopReading


@pytest.mark.parametrize("stop", list(ENGINE_STOPS.values()), ids=list(ENGINE_STOPS))
async def test_leaving_context_with_exception_leaves_no_task(stop: tuple[int, int]) -> None:
    leaves = Leaves()
    top = tree(leaves)

    stopped_at: list[float] = []

    with pytest.raises(StopReading):
        await read_then_leave_context(top, stop, stopped_at)

    exit_seconds = time.perf_counter() - stopped_at[0]
    assert exit_seconds + await seconds_until_no_other_task(LIMIT) < LIMIT
    leaves.assert_every_started_leaf_finalized()


@pytest.mark.parametrize("stop", list(ENGINE_STOPS.values()), ids=list(ENGINE_STOPS))
async def test_cancelling_consumer_task_leaves_no_task(stop: tuple[int, int]) -> None:
    leaves = Leaves()
    top = tree(leaves)
    reached = asyncio.Event()

    async def consumer() -> None:
        async with MiniAgents():
            await read_until(top.trigger(), stop)
            reached.set()
            await asyncio.Event().wait()  # until cancelled

    task = asyncio.create_task(consumer())
    await asyncio.wait_for(reached.wait(), timeout=5)
    stopped_at = time.perf_counter()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    exit_seconds = time.perf_counter() - stopped_at
    assert exit_seconds + await seconds_until_no_other_task(LIMIT) < LIMIT
    leaves.assert_every_started_leaf_finalized()


@pytest.mark.parametrize("after", [0.0, 0.03, 0.12], ids=["at-once", "30ms", "120ms"])
async def test_cancelling_a_run_style_task_returns_promptly(after: float) -> None:
    leaves = Leaves()
    top = tree(leaves)

    async def main() -> tuple[Message, ...]:
        async with MiniAgents():
            return await top.trigger().acollect_messages()

    task = asyncio.create_task(main())
    await asyncio.sleep(after)
    cancelled_at = time.perf_counter()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert time.perf_counter() - cancelled_at < LIMIT
    assert await seconds_until_no_other_task(LIMIT) < LIMIT
    leaves.assert_every_started_leaf_finalized()
