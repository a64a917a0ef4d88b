"""Promise: a value computed once by its fulfiller, then cached (exception included)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from miniagents_lc.promising import Promise


async def awaited(awaitable: Any) -> Any:
    """`await awaitable` as a fresh coroutine (gather would merge repeated awaitables)."""
    return await awaitable


class Fulfiller:
    """An async fulfiller that counts its runs and can be held at a gate."""

    def __init__(self, result: Any = None, error: Exception | None = None) -> None:
        self.result = result if result is not None else object()
        self.error = error
        self.calls = 0
        self.started = asyncio.Event()
        self.gate = asyncio.Event()
        self.gate.set()
        self.finished = False

    async def __call__(self, _promise: Promise[Any]) -> Any:
        self.calls += 1
        self.started.set()
        await self.gate.wait()
        self.finished = True
        if self.error is not None:
            raise self.error
        return self.result


async def test_the_fulfiller_runs_once_and_every_await_returns_the_same_object(scheduling):
    fulfiller = Fulfiller()
    async with scheduling.context():
        promise: Promise[Any] = Promise(
            fulfiller=fulfiller, schedule_immediately=scheduling.schedule_immediately
        )
        concurrent = await asyncio.gather(awaited(promise), awaited(promise), promise.acollect())
        later = [await promise, await promise.acollect()]

    assert all(result is fulfiller.result for result in [*concurrent, *later])
    assert fulfiller.calls == 1


async def test_the_fulfillers_exception_is_cached_and_raised_to_every_awaiter(scheduling):
    error = ValueError("failed once")
    fulfiller = Fulfiller(error=error)
    async with scheduling.context():
        promise: Promise[Any] = Promise(
            fulfiller=fulfiller, schedule_immediately=scheduling.schedule_immediately
        )
        outcomes = await asyncio.gather(
            awaited(promise), promise.acollect(), return_exceptions=True
        )
        for await_again in (promise.acollect, lambda: promise):
            with pytest.raises(ValueError, match="failed once") as raised:
                await await_again()
            outcomes.append(raised.value)

    assert all(outcome is error for outcome in outcomes)
    assert fulfiller.calls == 1


async def test_cancelling_one_awaiter_does_not_cancel_the_fulfiller(scheduling):
    fulfiller = Fulfiller()
    fulfiller.gate.clear()
    async with scheduling.context():
        promise: Promise[Any] = Promise(
            fulfiller=fulfiller, schedule_immediately=scheduling.schedule_immediately
        )
        cancelled_awaiter = asyncio.create_task(promise.acollect())
        other_awaiter = asyncio.create_task(promise.acollect())
        async with asyncio.timeout(5):
            await fulfiller.started.wait()

            cancelled_awaiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await cancelled_awaiter

            fulfiller.gate.set()
            assert await other_awaiter is fulfiller.result
            assert await promise is fulfiller.result

    assert fulfiller.finished
    assert fulfiller.calls == 1


async def test_the_fulfiller_starts_without_an_awaiter_exactly_when_scheduled_immediately(
    scheduling,
):
    fulfiller = Fulfiller()
    async with scheduling.context():
        promise: Promise[Any] = Promise(
            fulfiller=fulfiller, schedule_immediately=scheduling.schedule_immediately
        )
        assert fulfiller.calls == 0, "creating a promise must not run its fulfiller on the spot"

        for _ in range(20):
            await asyncio.sleep(0)
        assert fulfiller.finished is scheduling.immediate
        assert promise.done is scheduling.immediate

        assert await promise is fulfiller.result
        assert promise.done
    assert fulfiller.calls == 1


async def test_a_prefilled_promise_needs_no_fulfiller_and_no_context():
    result = object()
    promise: Promise[object] = Promise(prefill_result=result)
    assert promise.done
    assert await promise is result
    assert await promise.acollect() is result


async def _async_generator_fulfiller(_promise: Any) -> Any:
    yield "not a result"


@pytest.mark.parametrize(
    "fulfiller",
    [
        pytest.param("not callable", id="not-callable"),
        pytest.param(lambda _promise: "result", id="sync-function"),
        pytest.param(_async_generator_fulfiller, id="async-generator-function"),
    ],
)
async def test_a_fulfiller_that_is_not_an_async_function_raises_type_error(scheduling, fulfiller):
    async with scheduling.context():
        promise: Promise[Any] = Promise(
            fulfiller=fulfiller, schedule_immediately=scheduling.schedule_immediately
        )
        with pytest.raises(TypeError, match="fulfiller"):
            await promise
