"""`settle()` returns once every other task waits on something pending, and never before;
`apoll_until`/`poll_until` return once a condition holds, and name it when it never does."""

from __future__ import annotations

import asyncio
import threading

import pytest

from miniagents_lc.testing import apoll_until, poll_until, settle


async def test_settle_runs_what_is_ready_through_every_step_before_returning() -> None:
    steps: list[int] = []

    async def stepping() -> None:
        for step in range(50):  # many task switches, no time passing
            steps.append(step)
            await asyncio.sleep(0)
        await asyncio.Event().wait()

    task = asyncio.ensure_future(stepping())
    await settle()
    assert steps == list(range(50))
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_settle_counts_a_task_waiting_on_a_timer_as_settled() -> None:
    started = asyncio.Event()

    async def sleeper() -> None:
        started.set()
        await asyncio.sleep(3600)

    task = asyncio.ensure_future(sleeper())
    async with asyncio.timeout(5):
        await settle()
    assert started.is_set()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_settle_refuses_a_task_that_never_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    import miniagents_lc.testing._settle as settling

    monkeypatch.setattr(settling, "_MAX_ROUNDS", 20)

    async def spinner() -> None:
        for _ in range(1_000):  # always ready to run, for longer than settle() looks
            await asyncio.sleep(0)

    task = asyncio.ensure_future(spinner())
    with pytest.raises(RuntimeError, match="never blocked"):
        await settle()
    await task


async def test_settle_names_the_task_that_never_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    import miniagents_lc.testing._settle as settling

    monkeypatch.setattr(settling, "_MAX_ROUNDS", 20)

    async def spinner() -> None:
        for _ in range(1_000):
            await asyncio.sleep(0)

    task = asyncio.create_task(spinner(), name="the-spinner")
    with pytest.raises(RuntimeError, match="still ready: the-spinner"):
        await settle()
    await task


async def test_two_tasks_settling_at_once_both_return_once_the_rest_is_blocked() -> None:
    steps: list[int] = []

    async def stepping() -> None:
        for step in range(20):
            steps.append(step)
            await asyncio.sleep(0)
        await asyncio.Event().wait()

    worker = asyncio.create_task(stepping())
    other_settler = asyncio.create_task(settle())
    async with asyncio.timeout(5):
        await settle()
        await other_settler
    assert steps == list(range(20))
    worker.cancel()
    await asyncio.gather(worker, return_exceptions=True)


async def test_apoll_until_returns_once_the_condition_holds() -> None:
    flags: list[bool] = []
    loop = asyncio.get_running_loop()
    loop.call_later(0.01, flags.append, True)
    async with asyncio.timeout(5):
        await apoll_until(lambda: bool(flags), what="the flag", interval=0.001)
    assert flags == [True]


async def test_apoll_until_awaits_an_async_condition() -> None:
    checks: list[int] = []

    async def third_time_lucky() -> bool:
        await asyncio.sleep(0)
        checks.append(len(checks))
        return len(checks) == 3

    async with asyncio.timeout(5):
        await apoll_until(third_time_lucky, what="the third check", interval=0)
    assert checks == [0, 1, 2]


async def test_apoll_until_describes_the_state_at_the_timeout() -> None:
    counter = {"seen": 0}

    def never() -> bool:
        counter["seen"] += 1
        return False

    with pytest.raises(TimeoutError, match=r"checked [1-9]\d* times: still not the case"):
        await apoll_until(never, what=lambda: f"checked {counter['seen']} times", within=0.02)


async def test_apoll_until_names_what_never_happened() -> None:
    with pytest.raises(TimeoutError, match="the server started: still not the case after"):
        await apoll_until(lambda: False, what="the server started", within=0.02)


def test_poll_until_waits_for_another_thread() -> None:
    done = threading.Event()
    threading.Timer(0.01, done.set).start()
    poll_until(done.is_set, what="the timer fired", within=5, interval=0.001)
    assert done.is_set()


def test_poll_until_names_what_never_happened_and_lets_the_condition_give_up() -> None:
    with pytest.raises(TimeoutError, match=r"the port opened: still not the case after 0\.02 s"):
        poll_until(lambda: False, what="the port opened", within=0.02)

    def dead() -> bool:
        raise RuntimeError("the process died")

    with pytest.raises(RuntimeError, match="the process died"):
        poll_until(dead, what="never checked twice")
