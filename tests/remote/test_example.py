"""examples/remote_agents.py runs offline on loopback and shows what it says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "remote_agents.py"


def test_the_example_serves_calls_and_resumes() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        cwd=REPO_ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = [line.split("] ", 1)[-1] for line in result.stdout.splitlines()]
    assert lines[1:5] == [
        "[researcher]",
        "On 'Why stream?': tokens should reach the reader as soon as they exist. ",
        "[critic]",
        "Resuming must not lose a token. ",
    ]
    assert (
        "RemoteAgentError: alias='broken', error_type='RuntimeError', "
        "message='the database is down'"
    ) in lines
    assert "id: 3  messages  content-block-start" in lines
    assert "resumed: 14 more events, then 'end'" in lines
