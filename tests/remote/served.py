"""The agents the remote tests serve, importable by worker processes (`remote.served:AGENTS`).

Each streams numbered tokens at a set pace; what ran and how it stopped is recorded in
`EVENTS` (in-process servers only) so tests can see the server side.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator

from miniagents_lc import InteractionContext, Message, miniagent
from miniagents_lc.remote import RemoteAgent

EVENTS: dict[str, list[float]] = {"stopped": []}
"""Monotonic times at which `endless` stopped."""


def token(index: int) -> str:
    return f"t{index} "


async def _tokens(count: int, pace: float, fail_after: int | None = None) -> AsyncIterator[str]:
    for index in range(count):
        if fail_after is not None and index == fail_after:
            raise ValueError(f"failed after {fail_after} tokens")
        yield token(index)
        await asyncio.sleep(pace)


@miniagent
async def count(ctx: InteractionContext, n: int = 10, pace: float = 0.0, size: int = 0) -> None:
    """Replies a heading, then `n` tokens `pace` seconds apart (each `size` chars if given)."""
    ctx.reply(Message(text=f"[count pid={os.getpid()}]", role="assistant"))
    tokens = _tokens(n, pace)
    if size:
        tokens = _padded(tokens, size)
    ctx.reply(Message.promise(tokens, role="assistant"))


async def _padded(tokens: AsyncIterator[str], size: int) -> AsyncIterator[str]:
    async for text in tokens:
        yield text.ljust(size, ".")


@miniagent
async def failing(ctx: InteractionContext, n: int = 3) -> None:
    """Replies `n` tokens, then fails with ValueError."""
    ctx.reply(Message.promise(_tokens(n + 10, 0.005, fail_after=n), role="assistant"))


@miniagent
async def endless(ctx: InteractionContext) -> None:
    """Streams a token every 10 ms until cancelled."""

    async def tokens() -> AsyncIterator[str]:
        index = 0
        try:
            while True:
                yield token(index)
                index += 1
                await asyncio.sleep(0.01)
        finally:
            EVENTS["stopped"].append(time.monotonic())

    ctx.reply(Message.promise(tokens(), role="assistant"))


@miniagent
async def relay(ctx: InteractionContext, inner_url: str, n: int = 10, pace: float = 0.0) -> None:
    """Replies a heading, then the reply of the remote `count` at `inner_url`."""
    ctx.reply(Message(text="[relay]", role="assistant"))
    ctx.reply(RemoteAgent(inner_url, "count").trigger(ctx.message_promises, n=n, pace=pace))


@miniagent(description="Says back what it was asked, word by word.")
async def echo(ctx: InteractionContext, pace: float = 0.01) -> None:
    """Replies "heard: " and then the words of its last input message, `pace` seconds apart."""
    request = str((await ctx.message_promises.acollect_messages())[-1])

    async def words() -> AsyncIterator[str]:
        yield "heard:"
        for word in request.split():
            await asyncio.sleep(pace)
            yield f" {word}"

    ctx.reply(Message.promise(words(), role="assistant"))


def member_token(member: int, index: int) -> str:
    return f"m{member}.{index} "


@miniagent
async def member(ctx: InteractionContext, who: int = 0, n: int = 20, pace: float = 0.0) -> None:
    """Replies `n` tokens of member `who`, `pace` seconds apart."""

    async def tokens() -> AsyncIterator[str]:
        for index in range(n):
            yield member_token(who, index)
            await asyncio.sleep(pace)

    ctx.reply(Message.promise(tokens(), role="assistant"))


@miniagent
async def team(ctx: InteractionContext, members: int = 4, n: int = 20, pace: float = 0.0) -> None:
    """Replies a heading naming its server process and the call (its input), then the replies
    of `members` members, run in parallel, `n` tokens each."""
    call = str((await ctx.message_promises.acollect_messages())[-1])
    ctx.reply(Message(text=f"[team pid={os.getpid()} call={call}]", role="assistant"))
    for who in range(members):
        ctx.reply(member.trigger("go", who=who, n=n, pace=pace))


AGENTS = [count, failing, endless, relay, echo, team]
