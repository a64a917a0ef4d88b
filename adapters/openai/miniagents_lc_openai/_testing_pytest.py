"""pytest fixtures of the test kit, registered by the `pytest11` entry point of the package."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import openai
import pytest

from ._testing_mock import DEFAULT_BASE_URL, OpenAIMock

__all__ = ["openai_client", "openai_mock", "pytest_runtest_makereport"]

_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember whether a test body failed, so `openai_mock` does not pile a teardown error
    (unused replies) on top of the real failure."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


@pytest.fixture(name="openai_mock")
def openai_mock(request: pytest.FixtureRequest) -> Iterator[OpenAIMock]:
    """An active `OpenAIMock` at "https://api.openai.test/v1" for one test.

    After a passing test it fails the teardown if a request went unscripted or a scripted
    reply was never requested.
    """
    mock = OpenAIMock(DEFAULT_BASE_URL).start()
    try:
        yield mock
    finally:
        mock.stop(verify=request.node.stash.get(_CALL_FAILED, True) is False)


@pytest.fixture(name="openai_client")
def openai_client(request: pytest.FixtureRequest, openai_mock: OpenAIMock) -> openai.AsyncOpenAI:
    """An `openai.AsyncOpenAI` aimed at `openai_mock`, with `max_retries=0`.

    Override its options with indirect parametrization, e.g.
    `@pytest.mark.parametrize("openai_client", [{"max_retries": 1}], indirect=True)`.
    It is not closed afterwards: every request is mocked, so it never holds a socket.
    """
    overrides: dict[str, Any] = getattr(request, "param", None) or {}
    return openai_mock.async_client(**overrides)
