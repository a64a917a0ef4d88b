"""Errors far down a tree: where and how often they surface, what they carry, what is kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from miniagents_lc import InteractionContext, MessagePromise, MiniAgent, MiniAgents, miniagent
from miniagents_lc.testing import settle

DEPTH = 5
ALIASES = [f"level{depth}" for depth in range(1, DEPTH + 1)]
EARLIER_REPLIES = [f"{alias}: before" for alias in ALIASES]


class DeepError(Exception):
    """Raised by the innermost agent."""


def five_level_tree(flag: Any) -> MiniAgent:
    """level1 -> level2 -> ... -> level5; each replies once, then the next level's replies;
    level5 replies once, then raises DeepError."""

    @miniagent(alias=ALIASES[-1])
    async def innermost(ctx: InteractionContext) -> None:
        ctx.reply(f"{ALIASES[-1]}: before")
        await settle()  # every level has replied before the error
        raise DeepError("five levels down")

    agent = innermost
    for alias in reversed(ALIASES[:-1]):

        async def level(ctx: InteractionContext, inner: MiniAgent = agent) -> None:
            ctx.reply([f"{ctx.this_agent.alias}: before", inner.trigger(schedule_immediately=flag)])
            ctx.reply(f"{ctx.this_agent.alias}: after")

        agent = miniagent(alias=alias)(level)
    return agent


async def one_iteration(replies: Any) -> tuple[list[str], list[BaseException]]:
    """Read every message; keep reading after an error, to count how often one is raised."""
    received: list[str] = []
    errors: list[BaseException] = []
    iterator = aiter(replies)
    while True:
        try:
            promise = await anext(iterator)
        except StopAsyncIteration:
            return received, errors
        except Exception as error:
            errors.append(error)
            continue
        received.append(str(await promise))


async def test_error_five_levels_down_reaches_top_once_per_iteration_after_earlier_replies(
    scheduling: Any,
) -> None:
    top = five_level_tree(scheduling.schedule_immediately)

    async with MiniAgents(schedule_immediately_by_default=scheduling.context_default):
        replies = top.trigger(schedule_immediately=scheduling.schedule_immediately)
        iterations = [await one_iteration(replies) for _ in range(2)]

    for received, errors in iterations:
        assert received == EARLIER_REPLIES
        assert len(errors) == 1
        assert isinstance(errors[0], DeepError)
    assert iterations[0][1][0] is iterations[1][1][0]


async def test_error_five_levels_down_names_every_alias_in_notes(scheduling: Any) -> None:
    top = five_level_tree(scheduling.schedule_immediately)

    async with MiniAgents(schedule_immediately_by_default=scheduling.context_default):
        with pytest.raises(DeepError) as caught:
            await top.trigger(schedule_immediately=scheduling.schedule_immediately)

    notes = "\n".join(getattr(caught.value, "__notes__", []))
    for alias in ALIASES:
        assert f"{alias!r}" in notes


class TokenError(Exception):
    """Raised by a token producer after three tokens."""


async def three_tokens_then_error() -> AsyncIterator[str]:
    for token in ("one ", "two ", "three"):
        await asyncio.sleep(0)
        yield token
    raise TokenError("after three tokens")


async def tokens_until_error(promise: MessagePromise) -> tuple[list[str], BaseException]:
    tokens: list[str] = []
    try:
        async for token in promise:
            tokens.append(token)
    except Exception as error:
        return tokens, error
    pytest.fail(f"the tokens ended without an error after {tokens}")


async def test_tokens_before_a_producer_error_are_replayed_with_it(scheduling: Any) -> None:
    async with MiniAgents(schedule_immediately_by_default=scheduling.context_default):
        promise = MessagePromise(
            producer=three_tokens_then_error(),
            schedule_immediately=scheduling.schedule_immediately,
        )
        iterations = [await tokens_until_error(promise) for _ in range(2)]
        with pytest.raises(TokenError):
            await promise

    for tokens, error in iterations:
        assert tokens == ["one ", "two ", "three"]
        assert isinstance(error, TokenError)
        assert error is iterations[0][1]
