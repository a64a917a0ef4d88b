"""When agent functions run: at once in the background, or on first consumption; in parallel."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from miniagents_lc import DEFAULT, InteractionContext, MiniAgents, miniagent
from miniagents_lc.testing import settle

SIBLINGS = 5
EVENT_TIMEOUT = 5.0  # only reached when the siblings run one after the other: a failure


def recording_agent(log: list[str]) -> Any:
    @miniagent
    async def agent(ctx: InteractionContext) -> None:
        log.append("started")
        ctx.reply("done")

    return agent


async def test_trigger_returns_before_the_agent_function_runs(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    log: list[str] = []
    agent = recording_agent(log)

    async with agents_context():
        replies = agent.trigger(schedule_immediately=scheduling.schedule_immediately)
        assert log == []
        await replies.acollect_messages()

    assert log == ["started"]


async def test_scheduled_immediately_agent_runs_at_next_task_switch_without_consumer(
    immediate_scheduling: Any,
) -> None:
    log: list[str] = []
    agent = recording_agent(log)

    async with MiniAgents(schedule_immediately_by_default=immediate_scheduling.context_default):
        agent.trigger(schedule_immediately=immediate_scheduling.schedule_immediately)
        assert log == []
        await asyncio.sleep(0)
        assert log == ["started"]


@pytest.mark.parametrize(
    ("schedule_immediately", "context_default"),
    [pytest.param(False, True, id="False"), pytest.param(DEFAULT, False, id="DEFAULT-ctx-False")],
)
async def test_deferred_agent_runs_only_when_its_replies_are_first_consumed(
    schedule_immediately: Any, context_default: bool
) -> None:
    log: list[str] = []
    agent = recording_agent(log)

    async with MiniAgents(schedule_immediately_by_default=context_default):
        replies = agent.trigger(schedule_immediately=schedule_immediately)
        await settle()
        assert log == []
        async for _ in replies:
            assert log == ["started"]
            break
        assert log == ["started"]


async def test_deferred_agent_that_is_never_consumed_never_runs() -> None:
    log: list[str] = []
    agent = recording_agent(log)

    async with MiniAgents(schedule_immediately_by_default=False):
        agent.trigger()
        await settle()

    assert log == []


async def test_sibling_agents_triggered_by_an_aggregator_run_in_parallel(
    immediate_scheduling: Any,
) -> None:
    flag = immediate_scheduling.schedule_immediately

    # Each sibling waits until all of them run at once: run one after the other, they never do.
    all_running = asyncio.Barrier(SIBLINGS)

    @miniagent
    async def sibling(ctx: InteractionContext, number: int) -> None:
        await all_running.wait()
        ctx.reply(f"sibling {number}")

    @miniagent
    async def aggregator(ctx: InteractionContext) -> None:
        ctx.reply([sibling.trigger(schedule_immediately=flag, number=n) for n in range(SIBLINGS)])

    async with MiniAgents(schedule_immediately_by_default=immediate_scheduling.context_default):
        async with asyncio.timeout(EVENT_TIMEOUT):
            messages = await aggregator.trigger(schedule_immediately=flag).acollect_messages()

    assert [str(m) for m in messages] == [f"sibling {n}" for n in range(SIBLINGS)]


async def test_sibling_agents_consumed_concurrently_run_in_parallel(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    all_running = asyncio.Barrier(SIBLINGS)

    @miniagent
    async def sibling(ctx: InteractionContext, number: int) -> None:
        await all_running.wait()
        ctx.reply(f"sibling {number}")

    async with agents_context():
        replies = [
            sibling.trigger(schedule_immediately=scheduling.schedule_immediately, number=n)
            for n in range(SIBLINGS)
        ]
        async with asyncio.timeout(EVENT_TIMEOUT):
            results = await asyncio.gather(*(r.acollect_messages() for r in replies))

    assert [str(m) for (m,) in results] == [f"sibling {n}" for n in range(SIBLINGS)]


async def test_context_exit_waits_for_triggered_agents_to_finish(
    immediate_scheduling: Any,
) -> None:
    log: list[str] = []

    may_finish = asyncio.Event()

    @miniagent
    async def background(ctx: InteractionContext) -> None:
        await may_finish.wait()
        log.append("finished")

    async def release_once_the_exit_waits() -> None:
        await settle()  # the test's task has reached the context exit and waits there
        may_finish.set()

    async with MiniAgents(schedule_immediately_by_default=immediate_scheduling.context_default):
        background.trigger(schedule_immediately=immediate_scheduling.schedule_immediately)
        releaser = asyncio.create_task(release_once_the_exit_waits())

    assert log == ["finished"]
    await releaser
