"""The agents the A2A tests serve, and the switches a test flips from its own thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator

from miniagents_lc import InteractionContext, Message, miniagent
from miniagents_lc.testing import apoll_until, settle


class Gate:
    """A switch shared by the test (in its thread) and an agent (in the server's loop)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.at: float | None = None

    def open(self) -> None:
        self.at = time.monotonic()
        self._event.set()

    @property
    def is_open(self) -> bool:
        return self._event.is_set()

    async def passed(self) -> None:
        """Wait in an event loop (cancellably) until the gate opens (10 s at most)."""
        await apoll_until(self._event.is_set, what="the gate opened", within=10, interval=0.002)


GATES: dict[str, Gate] = {}
"""By the input text the agent gets: the gate it waits at before its last token."""
STOPPED: dict[str, Gate] = {}
"""By input text: opened by the agent's `finally` (how it ended is `STATES`)."""
PRODUCED: dict[str, float] = {}
"""By input text: when the agent produced its last token."""


async def _tokens(tokens: list[str], delay: float) -> AsyncIterator[str]:
    for token in tokens:
        await asyncio.sleep(delay)
        yield token


@miniagent
async def words(ctx: InteractionContext) -> None:
    """Streams the words of its input back, one token each, then `done.`"""
    text = " ".join(str(message) for message in await ctx.message_promises.acollect_messages())
    ctx.reply(Message.promise(_tokens([f"{word} " for word in text.split()] + ["done."], 0.001)))


@miniagent
async def gated(ctx: InteractionContext) -> None:
    """Streams `first `, waits at the gate named by its input, then streams `last`; opens the
    stop gate of that name however it ends."""
    key = str((await ctx.message_promises.acollect_messages())[0])
    stopped = STOPPED.setdefault(key, Gate())

    async def produce() -> AsyncIterator[str]:
        try:
            yield "first "
            await GATES.setdefault(key, Gate()).passed()
            PRODUCED[key] = time.monotonic()
            yield "last"
        finally:
            stopped.open()

    ctx.reply(Message.promise(produce()))


@miniagent
async def slow(ctx: InteractionContext) -> None:
    """Slow to start, slow to finish."""
    ctx.reply(Message.promise(_tokens(["slow ", "and ", "steady"], 0.03)))


@miniagent
async def quick(ctx: InteractionContext) -> None:
    """Quick."""
    ctx.reply(Message.promise(_tokens(["quick ", "one"], 0.001)))


@miniagent
async def team(ctx: InteractionContext) -> None:
    """Asks `slow` and `quick` at once; replies with slow's answer first."""
    ctx.reply("team here")
    ctx.reply([slow.trigger(ctx.message_promises), quick.trigger(ctx.message_promises)])


class Boom(Exception):
    """The failure of `failing`."""


@miniagent
async def failing(ctx: InteractionContext) -> None:
    """Streams two tokens, then fails."""

    async def produce() -> AsyncIterator[str]:
        yield "partial "
        await settle()  # the first token is on its way before the rest
        yield "text "
        raise Boom("the tool broke")

    ctx.reply(Message.promise(produce()))


@miniagent
async def traced(ctx: InteractionContext) -> None:
    """Replies with the id of the trace it runs in (`none` outside one)."""
    from opentelemetry import trace

    trace_id = trace.get_current_span().get_span_context().trace_id
    ctx.reply(f"{trace_id:032x}" if trace_id else "none")
