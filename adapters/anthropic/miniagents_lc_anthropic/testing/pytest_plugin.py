"""pytest fixtures of the Anthropic test kit, registered by the package's `pytest11` entry point.

Importing this module needs no optional dependency: the kit is imported when a test first asks
for `anthropic_mock` or `anthropic_client`, and without the `testing` extra that raises a
`pytest.UsageError` naming `pip install -e ".[testing]" -e "./adapters/anthropic[testing]"`.
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
    import anthropic

    from ._mock import AnthropicMock

__all__ = ["anthropic_client", "anthropic_mock", "pytest_runtest_makereport"]

INSTALL = '-e ".[testing]" -e "./adapters/anthropic[testing]"'


@pytest.fixture(name="anthropic_mock")
def anthropic_mock(request: pytest.FixtureRequest) -> Iterator[AnthropicMock]:
    """An active `AnthropicMock` at "https://api.anthropic.test" for one test.

    After a passing test it fails the teardown if a request went unscripted or a scripted
    reply was never requested.
    """
    kit = load_kit(f"{__package__}._mock", install=INSTALL)
    yield from serve_for_test(request, kit.AnthropicMock(kit.DEFAULT_BASE_URL))


@pytest.fixture(name="anthropic_client")
def anthropic_client(
    request: pytest.FixtureRequest, anthropic_mock: AnthropicMock
) -> anthropic.AsyncAnthropic:
    """An `anthropic.AsyncAnthropic` aimed at `anthropic_mock`, with `max_retries=0`.

    Override its options with indirect parametrization, e.g.
    `@pytest.mark.parametrize("anthropic_client", [{"max_retries": 1}], indirect=True)`.
    It is not closed afterwards: every request is mocked, so it never holds a socket.
    """
    overrides: dict[str, Any] = getattr(request, "param", None) or {}
    return anthropic_mock.async_client(**overrides)
