"""Agents need an active `MiniAgents` context; without one the error names the fix."""

from __future__ import annotations

import pytest

from miniagents_lc import (
    InteractionContext,
    MiniAgents,
    NoActiveContextError,
    PromisingContext,
    miniagent,
)

FIX = "async with MiniAgents()"


@miniagent
async def agent(ctx: InteractionContext) -> None:
    ctx.reply("hi")


def test_trigger_outside_any_context_raises_naming_the_fix() -> None:
    with pytest.raises(NoActiveContextError, match=FIX):
        agent.trigger("hello")


def test_initiate_call_outside_any_context_raises_naming_the_fix() -> None:
    with pytest.raises(NoActiveContextError, match=FIX):
        agent.initiate_call()


async def test_trigger_in_a_running_loop_without_context_raises_naming_the_fix() -> None:
    with pytest.raises(NoActiveContextError, match=FIX):
        agent.trigger("hello")


async def test_trigger_inside_a_plain_promising_context_raises_naming_the_fix() -> None:
    async with PromisingContext():
        with pytest.raises(NoActiveContextError, match=FIX):
            agent.trigger("hello")


async def test_trigger_after_the_context_ended_raises_naming_the_fix() -> None:
    async with MiniAgents():
        pass
    with pytest.raises(NoActiveContextError, match=FIX):
        agent.trigger("hello")


def test_no_active_context_error_is_a_runtime_error() -> None:
    with pytest.raises(RuntimeError):
        agent.trigger()


def test_run_from_sync_code_provides_the_context() -> None:
    async def main() -> list[str]:
        return [str(m) for m in await agent.trigger().acollect_messages()]

    assert MiniAgents().run(main()) == ["hi"]
