"""Helpers shared by the reliability tests."""

from __future__ import annotations

import asyncio
import time

import pytest


def other_tasks() -> set[asyncio.Task[object]]:
    """Unfinished tasks of the running loop, except the caller's own."""
    current = asyncio.current_task()
    return {task for task in asyncio.all_tasks() if task is not current and not task.done()}


async def seconds_until_no_other_task(limit: float = 1.0) -> float:
    """How long it takes until only the caller's task is left; fails after `limit` seconds."""
    start = time.perf_counter()
    while remaining := other_tasks():
        elapsed = time.perf_counter() - start
        if elapsed > limit:
            pytest.fail(f"tasks still running after {elapsed:.3f} s: {remaining}")
        # Woken by the first of them to end (new ones may start meanwhile: look again).
        await asyncio.wait(remaining, timeout=limit - elapsed, return_when=asyncio.FIRST_COMPLETED)
    return time.perf_counter() - start
