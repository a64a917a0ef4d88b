"""pytest support for the fixtures of provider test kits.

A provider kit's pytest plugin imports only this module (pytest and the standard library) at
import time, so installing the provider without its `testing` extra never breaks a pytest run:
the kit itself is imported when a test first asks for one of its fixtures, through `load_kit`,
which turns a missing extra into a `pytest.UsageError` naming the install command.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from types import ModuleType
from typing import Any, Protocol, TypeVar

import pytest

from ._lazy import MissingExtraError, import_kit_module

__all__ = ["CALL_FAILED", "load_kit", "pytest_runtest_makereport", "serve_for_test"]

#: Set on each test item once its body has run: whether the body failed.
CALL_FAILED = pytest.StashKey[bool]()


class _Mock(Protocol):
    def start(self) -> Any: ...

    def stop(self, *, verify: bool = True) -> None: ...


MockT = TypeVar("MockT", bound=_Mock)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember whether a test body failed, so a mock fixture does not pile a teardown error
    (unused replies) on top of the real failure. A kit's plugin exposes this hook."""
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


def serve_for_test(request: pytest.FixtureRequest, mock: MockT) -> Iterator[MockT]:
    """Run `mock` for one test: start it, yield it, and stop it afterwards.

    After a passing test the stop verifies the mock, failing the teardown if a request went
    unscripted or a scripted reply was never requested; after a failed one it only stops.
    """
    mock.start()
    try:
        yield mock
    finally:
        mock.stop(verify=request.node.stash.get(CALL_FAILED, True) is False)


def load_kit(module: str, *, install: str) -> ModuleType:
    """Import a kit module for a fixture; a missing extra raises `pytest.UsageError` saying
    `pip install <install>`."""
    try:
        return import_kit_module(module, install=install)
    except MissingExtraError as error:
        raise pytest.UsageError(str(error)) from error
