"""`settle()`: wait until every other task is blocked, to prove that something did not happen.

A test that shows an agent has *not* run, or a message has *not* been persisted, used to sleep
and hope the time was long enough. Settling is exact instead: it returns once every other task
of the loop waits on something that has not happened yet (a future, a timer, I/O), so whatever
could have run by now has run. Like `anyio`'s `wait_all_tasks_blocked`, and for the same job.
"""

from __future__ import annotations

import asyncio

_MAX_ROUNDS = 100_000


async def settle() -> None:
    """Return once every other task of the running loop is blocked (a task that is ready to
    run, or just created, is run first). Raises `RuntimeError` if tasks keep being ready for
    100,000 rounds: something spins without ever waiting."""
    current = asyncio.current_task()
    for _ in range(_MAX_ROUNDS):
        await asyncio.sleep(0)
        if all(_blocked(task) for task in asyncio.all_tasks() if task is not current):
            return
    raise RuntimeError(
        "settle(): some task never blocked in 100,000 rounds; a busy loop without an await "
        "on something pending never lets the others settle."
    )


def _blocked(task: asyncio.Task[object]) -> bool:
    # asyncio keeps the future a task waits on in `_fut_waiter` (anyio reads it the same way);
    # a task without one is ready to run (or running callbacks), so not settled.
    waiter = getattr(task, "_fut_waiter", None)
    return waiter is not None and not waiter.done()


__all__ = ["settle"]
