"""PromisingContext: the scope that owns every background task and decides the defaults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from miniagents_lc.promising import (
    NoActiveContextError,
    Promise,
    PromisingContext,
    StreamedPromise,
)


async def _enter_and_exit(body: Callable[[PromisingContext], Awaitable[None]]) -> None:
    async with PromisingContext() as context:
        await body(context)


async def _activate_and_finalize(body: Callable[[PromisingContext], Awaitable[None]]) -> None:
    context = PromisingContext().activate()
    await body(context)
    await context.afinalize()


@pytest.mark.parametrize("lifetime", [_enter_and_exit, _activate_and_finalize])
async def test_finalization_waits_for_scheduled_tasks_and_the_tasks_they_schedule(lifetime):
    finished: list[str] = []

    async def grandchild() -> None:
        await asyncio.sleep(0)
        finished.append("grandchild")

    async def child(context: PromisingContext) -> None:
        await asyncio.sleep(0)
        context.schedule_task(grandchild())
        finished.append("child")

    async def body(context: PromisingContext) -> None:
        context.schedule_task(child(context))

    async with asyncio.timeout(5):
        await lifetime(body)
    assert finished == ["child", "grandchild"]


async def test_aflush_tasks_waits_for_every_task_scheduled_so_far():
    finished: list[str] = []

    async def work(name: str) -> None:
        await asyncio.sleep(0)
        finished.append(name)

    async with PromisingContext() as context:
        context.schedule_task(work("first"))
        context.schedule_task(work("second"))
        await context.aflush_tasks()
        assert sorted(finished) == ["first", "second"]
        assert not context.pending_tasks


async def test_schedule_task_returns_a_task_that_starts_at_the_next_task_switch():
    started = False

    async def work() -> str:
        nonlocal started
        started = True
        return "done"

    async with PromisingContext() as context:
        task = context.schedule_task(work())
        assert isinstance(task, asyncio.Task)
        assert not started
        await asyncio.sleep(0)
        assert started
        assert await task == "done"


async def test_get_current_returns_the_innermost_active_context_and_restores_the_outer_one():
    async with PromisingContext() as outer:
        assert PromisingContext.get_current() is outer
        async with PromisingContext() as inner:
            assert PromisingContext.get_current() is inner
        assert PromisingContext.get_current() is outer
    assert PromisingContext.get_current_or_none() is None


def test_get_current_without_an_active_context_raises_an_error_naming_the_fix():
    with pytest.raises(NoActiveContextError, match=r"async with MiniAgents\(\)"):
        PromisingContext.get_current()


async def _producer(_promise: Any) -> AsyncIterator[str]:
    yield "a piece"


async def _fulfiller(_promise: Any) -> str:
    return "a result"


@pytest.mark.parametrize(
    "create",
    [
        pytest.param(lambda: StreamedPromise(producer=_producer), id="StreamedPromise"),
        pytest.param(
            lambda: StreamedPromise(producer=_producer, schedule_immediately=False),
            id="deferred-StreamedPromise",
        ),
        pytest.param(lambda: Promise(fulfiller=_fulfiller), id="Promise"),
    ],
)
async def test_creating_a_promise_with_a_producer_outside_any_context_raises_no_active_context(
    create,
):
    with pytest.raises(NoActiveContextError, match=r"async with MiniAgents\(\)"):
        create()


async def test_a_failing_body_cancels_pending_tasks_and_propagates_its_error():
    never, started = asyncio.Event(), asyncio.Event()
    context = PromisingContext()
    pending: list[asyncio.Task[None]] = []

    async def waits_forever() -> None:
        started.set()
        await never.wait()

    async def failing_body() -> None:
        async with context:
            pending.append(context.schedule_task(waits_forever()))
            await started.wait()
            raise ValueError("body failed")

    async with asyncio.timeout(5):
        with pytest.raises(ValueError, match="body failed"):
            await failing_body()

    assert pending[0].cancelled()
    assert not context.is_active
    assert PromisingContext.get_current_or_none() is None


async def test_cancelling_finalization_cancels_the_remaining_tasks():
    never = asyncio.Event()
    finalizing = asyncio.Event()
    pending: list[asyncio.Task[None]] = []

    async def waits_forever() -> None:
        await never.wait()

    async def owner() -> None:
        async with PromisingContext() as context:
            pending.append(context.schedule_task(waits_forever()))
            finalizing.set()

    async with asyncio.timeout(5):
        owner_task = asyncio.create_task(owner())
        await finalizing.wait()  # the owner is now waiting in finalization
        owner_task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await owner_task

    assert pending[0].cancelled()


async def test_scheduling_on_a_finalized_context_raises_no_active_context_error():
    async with PromisingContext() as context:
        pass
    coroutine = asyncio.sleep(0)
    try:
        with pytest.raises(NoActiveContextError):
            context.schedule_task(coroutine)
    finally:
        coroutine.close()


def test_run_executes_a_coroutine_inside_the_context_from_sync_code():
    finished: list[str] = []
    context = PromisingContext()

    async def background() -> None:
        await asyncio.sleep(0)
        finished.append("background")

    async def main() -> str:
        assert PromisingContext.get_current() is context
        context.schedule_task(background())
        return "result"

    assert context.run(main()) == "result"
    assert finished == ["background"]
    assert not context.is_active
    assert PromisingContext.get_current_or_none() is None


async def test_a_task_that_forgets_itself_is_no_longer_pending_though_still_running():
    seen: list[bool] = []

    async with PromisingContext() as context:

        async def work() -> None:
            task = asyncio.current_task()
            assert task is not None
            context.forget_task(task)
            seen.append(task in context.pending_tasks)

        await context.schedule_task(work())

    assert seen == [False]
