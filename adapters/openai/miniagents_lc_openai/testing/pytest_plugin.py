"""pytest fixtures of the OpenAI test kit, registered by the package's `pytest11` entry point.

Importing this module needs no optional dependency: the kit is imported when a test first asks
for `openai_mock` or `openai_client`, and without the `testing` extra that raises a
`pytest.UsageError` naming `pip install -e ".[testing]" -e "./adapters/openai[testing]"`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from miniagents_lc.testing.pytest_support import (
    load_kit,
    pytest_runtest_makereport,
    serve_for_test,
)

if TYPE_CHECKING:
    import openai

    from ._mock import OpenAIMock

__all__ = ["openai_client", "openai_mock", "pytest_runtest_makereport"]

INSTALL = '-e ".[testing]" -e "./adapters/openai[testing]"'


@pytest.fixture(name="openai_mock")
def openai_mock(request: pytest.FixtureRequest) -> Iterator[OpenAIMock]:
    """An active `OpenAIMock` at "https://api.openai.test/v1" for one test.

    After a passing test it fails the teardown if a request went unscripted or a scripted
    reply was never requested.
    """
    kit = load_kit(f"{__package__}._mock", install=INSTALL)
    yield from serve_for_test(request, kit.OpenAIMock(kit.DEFAULT_BASE_URL))


@pytest.fixture(name="openai_client")
def openai_client(request: pytest.FixtureRequest, openai_mock: OpenAIMock) -> openai.AsyncOpenAI:
    """An `openai.AsyncOpenAI` aimed at `openai_mock`, with `max_retries=0`.

    Override its options with indirect parametrization, e.g.
    `@pytest.mark.parametrize("openai_client", [{"max_retries": 1}], indirect=True)`.
    It is not closed afterwards: every request is mocked, so it never holds a socket.
    """
    overrides: dict[str, Any] = getattr(request, "param", None) or {}
    return openai_mock.async_client(**overrides)
