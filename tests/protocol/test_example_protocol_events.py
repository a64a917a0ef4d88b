"""examples/protocol_events.py runs offline and prints the team's tree of namespaces."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "protocol_events.py"


def test_the_example_prints_every_call_of_the_team_as_a_namespace() -> None:
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
    lines = result.stdout.splitlines()
    calls = [line.strip().split(":")[0] for line in lines if "started #" in line]
    assert calls == [
        "team []",
        "researcher",
        "researcher-model",
        "skeptic",
        "skeptic-model",
        "planner",
        "planner-model",
        "estimator",
        "estimator-model",
    ]
    assert all("completed #" in line for line in lines if "started #" in line)
    assert "top level only: 2 events, all in namespace []" in lines
    assert "run.messages: 8 messages, in reply order: '[researcher]' first" in lines
