"""The check every test runs under: asyncio's reports of lost tasks are caught (see the
repository's conftest.py), so a test that loses a task fails."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from miniagents_lc.testing import settle


async def waits_forever() -> None:
    await asyncio.Event().wait()


async def fails() -> None:
    raise ValueError("nobody looks at this")


@pytest.mark.parametrize(
    ("work", "report"),
    [
        pytest.param(waits_forever, "Task was destroyed but it is pending", id="pending"),
        pytest.param(fails, "Task exception was never retrieved", id="unretrieved"),
    ],
)
def test_a_lost_task_is_reported(
    work: Callable[[], Coroutine[Any, Any, None]], report: str, asyncio_task_leaks: Any
) -> None:
    loop = asyncio.new_event_loop()
    task = loop.create_task(work())
    loop.run_until_complete(settle())  # the work has started, and failed or waits
    loop.close()
    del task
    gc.collect()

    assert any(report in line for line in asyncio_task_leaks.reports)
    asyncio_task_leaks.reports.clear()  # lost on purpose: not this test's failure
