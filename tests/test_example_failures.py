"""The provider examples, run with a key set but no API to reach: one line on stderr naming
what to do, as the demo says it, not a traceback (the key never shown)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from miniagents_lc.demo.cli import ANTHROPIC, OPENAI, Provider, describe_failure
from tests.example_runs import refused_url

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-example-secret"


EXAMPLES = {"openai_agents.py": (OPENAI, "/v1"), "anthropic_agents.py": (ANTHROPIC, "")}


def _run(example: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / example), *args],
        capture_output=True,
        text=True,
        timeout=90,
        env=environment,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.enable_socket
@pytest.mark.parametrize("example", list(EXAMPLES))
def test_an_unreachable_api_is_one_line_naming_what_to_check(example: str) -> None:
    provider, path = EXAMPLES[example]
    result = _run(
        example,
        **{provider.key_variable: KEY, provider.base_url_variable: refused_url() + path},
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: agent 'greeter' failed with APIConnectionError")
    assert f"Check the network connection and {provider.base_url_variable}" in lines[0]
    assert KEY not in result.stderr + result.stdout


class _StreamError(Exception):
    """An adapter's own error, raised from the SDK's."""


class APITimeoutError(Exception):
    """Named as the SDKs name theirs."""


@pytest.mark.parametrize("provider", [OPENAI, ANTHROPIC], ids=["openai", "anthropic"])
def test_the_advice_comes_from_the_error_an_adapter_error_was_raised_from(
    provider: Provider,
) -> None:
    try:
        try:
            raise APITimeoutError("stalled")
        except APITimeoutError as sdk_error:
            raise _StreamError("the stream stalled") from sdk_error
    except _StreamError as error:
        line = describe_failure(error, provider)
    assert line.startswith("the run failed with _StreamError: the stream stalled.")
    assert f"Check the network connection and {provider.base_url_variable}" in line
