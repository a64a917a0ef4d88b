"""`settle()` returns once every other task waits on something pending, and never before."""

from __future__ import annotations

import asyncio

import pytest

from miniagents_lc.testing import settle


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
