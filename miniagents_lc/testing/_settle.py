"""Waiting in tests without guessing durations: `settle()`, `apoll_until()` and `poll_until()`.

A test that shows an agent has *not* run, or a message has *not* been persisted, used to sleep
and hope the time was long enough. Settling is exact instead: it returns once every other task
of the loop waits on something that has not happened yet (a future, a timer, I/O), so whatever
could have run by now has run. Like `anyio`'s `wait_all_tasks_blocked`, and for the same job.

What settling cannot see (a server in another thread or process, counters a callback updates)
is waited for by polling a condition until a deadline: `apoll_until` in a loop, `poll_until`
in a thread. Both fail naming what never happened, never after a fixed sleep that hoped.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import weakref
from collections.abc import Awaitable, Callable

_MAX_ROUNDS = 100_000
_POLL_INTERVAL = 0.005

# The tasks inside `settle()` right now: each counts the others as settled, since a settler
# only steps the loop and so is never blocked itself (two settlers would otherwise wait for
# each other forever).
_settling: weakref.WeakSet[asyncio.Task[object]] = weakref.WeakSet()


async def settle() -> None:
    """Return once every other task of the running loop is blocked (a task that is ready to
    run, or just created, is run first; another task inside `settle()` counts as blocked).
    Raises `RuntimeError` naming the tasks still ready to run if they keep being ready for
    100,000 rounds: something spins without ever waiting."""
    current = asyncio.current_task()
    assert current is not None, "settle() is awaited in a task"
    _settling.add(current)
    try:
        ready: list[asyncio.Task[object]] = []
        for _ in range(_MAX_ROUNDS):
            await asyncio.sleep(0)
            ready = [
                task
                for task in asyncio.all_tasks()
                if task is not current and task not in _settling and not _blocked(task)
            ]
            if not ready:
                return
    finally:
        _settling.discard(current)
    names = ", ".join(sorted(task.get_name() for task in ready))
    raise RuntimeError(
        f"settle(): some task never blocked in {_MAX_ROUNDS:,} rounds (still ready: {names}); "
        "a busy loop without an await on something pending never lets the others settle."
    )


def _blocked(task: asyncio.Task[object]) -> bool:
    # asyncio keeps the future a task waits on in `_fut_waiter` (anyio reads it the same way);
    # a task without one is ready to run (or running callbacks), so not settled.
    waiter = getattr(task, "_fut_waiter", None)
    return waiter is not None and not waiter.done()


async def apoll_until(
    condition: Callable[[], bool | Awaitable[bool]],
    *,
    what: str | Callable[[], str],
    within: float = 10.0,
    interval: float = _POLL_INTERVAL,
) -> None:
    """Return once `condition()` holds, checking it every `interval` seconds while the loop
    runs; raise `TimeoutError` naming `what` after `within` seconds. For states nothing can
    be awaited on (a server in another thread, counters callbacks update, a query to a
    database: `condition` may be async); `condition` may raise to give up early (a process
    that died). A callable `what` is called at the timeout, to describe the state then."""
    deadline = time.monotonic() + within
    while not await _holds(condition):
        if time.monotonic() > deadline:
            raise TimeoutError(_timed_out(what, within))
        await asyncio.sleep(interval)


async def _holds(condition: Callable[[], bool | Awaitable[bool]]) -> bool:
    outcome = condition()
    return await outcome if inspect.isawaitable(outcome) else bool(outcome)


def poll_until(
    condition: Callable[[], bool],
    *,
    what: str | Callable[[], str],
    within: float = 10.0,
    interval: float = _POLL_INTERVAL,
) -> None:
    """`apoll_until` for synchronous code (a test outside any loop, a helper thread): blocks
    the calling thread until `condition()` holds, or raises `TimeoutError` naming `what`."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(_timed_out(what, within))
        time.sleep(interval)


def _timed_out(what: str | Callable[[], str], within: float) -> str:
    described = what if isinstance(what, str) else what()
    return f"{described}: still not the case after {within:g} s"


__all__ = ["apoll_until", "poll_until", "settle"]
