"""Checks for every test of the repository: asyncio's reports of lost tasks fail the test, and
test ids must be the same in every process (README command 2 runs the suite on pytest-xdist).

asyncio does not warn about a task destroyed while pending, or one whose exception nobody
retrieved: it logs an error, often after the test has passed. Here those log lines fail the test
during which they appear (or, for the ones only a full collection finds, the session).
"""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import Iterator

import pytest

ASYNCIO_TASK_LEAKS = ("Task was destroyed but it is pending", "Task exception was never retrieved")


class AsyncioTaskLeaks(logging.Handler):
    """Collects asyncio's log lines about lost tasks."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.reports: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if any(leak in message for leak in ASYNCIO_TASK_LEAKS):
            self.reports.append(message)


_LEAKS = AsyncioTaskLeaks()


def pytest_configure(config: pytest.Config) -> None:
    logging.getLogger("asyncio").addHandler(_LEAKS)


# A test id holding a memory address (`<function f at 0x7f...>`) differs between processes, so
# pytest-xdist's workers, which each collect the suite, disagree and the run stops.
_ADDRESS_IN_ID = re.compile(r" at 0x[0-9a-fA-F]+")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    unstable = [item.nodeid for item in items if _ADDRESS_IN_ID.search(item.nodeid)]
    if unstable:
        raise pytest.UsageError(
            "These test ids hold a memory address, which differs in each pytest-xdist worker: "
            "give their parametrize ids= names instead: " + ", ".join(unstable)
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Lost tasks that only a full collection reaches are reported here, after the last test.
    gc.collect()
    logging.getLogger("asyncio").removeHandler(_LEAKS)
    if _LEAKS.reports:
        print("\nasyncio reported lost tasks:\n" + "\n".join(_LEAKS.reports))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def asyncio_task_leaks() -> Iterator[AsyncioTaskLeaks]:
    """Fails the test if asyncio reports a lost task during it or at the young-generation
    collection right after it (a full collection per test would double the suite's time)."""
    _LEAKS.reports.clear()
    yield _LEAKS
    gc.collect(1)
    if _LEAKS.reports:
        reports, _LEAKS.reports[:] = list(_LEAKS.reports), []
        pytest.fail("asyncio reported lost tasks:\n" + "\n".join(reports))
