"""The engine's own tasks and the context: the work of a call ends without costing the
event loop a step to forget it, and a failure still reaches the context's log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from miniagents_lc import InteractionContext, Message, MiniAgents, miniagent


async def _tokens(*tokens: str) -> AsyncIterator[str]:
    for token in tokens:
        yield token


@pytest.mark.parametrize("fails", [False, True], ids=["clean", "failing"])
async def test_engine_tasks_that_end_cleanly_need_no_done_callback_failing_ones_keep_it(
    fails: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """A call's task, its message's producer and its replies' flattening forget themselves as
    they end (a loop step less each); a task that fails is still seen by the context, which
    logs it."""
    done_callbacks: list[asyncio.Task[Any]] = []

    @miniagent
    async def leaf(ctx: InteractionContext) -> None:
        ctx.reply(Message.promise(_tokens("a", "b")))
        if fails:
            ctx.finish_early()  # the caller is served; the error can only fail the task
            raise ValueError("the leaf broke")

    @miniagent
    async def parent(ctx: InteractionContext) -> None:
        ctx.reply(leaf.trigger())
        ctx.reply(leaf.trigger())

    async with MiniAgents() as context:
        seen = context._on_task_done

        def counting(task: asyncio.Task[Any]) -> None:
            done_callbacks.append(task)
            seen(task)

        context._on_task_done = counting
        messages = await parent.trigger().acollect_messages()
        await context.aflush_tasks()

    assert [str(message) for message in messages] == ["ab", "ab"]
    if fails:
        assert [task.get_name() for task in done_callbacks] == ["miniagent:leaf"] * 2
        assert all(isinstance(task.exception(), ValueError) for task in done_callbacks)
        logged = [r for r in caplog.records if r.exc_info and r.exc_info[0] is ValueError]
        assert len(logged) == 2
    else:
        assert done_callbacks == []
