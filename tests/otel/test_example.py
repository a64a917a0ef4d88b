"""`examples/otel_console.py` prints the demo team's span tree and a budget stopping one
branch, offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_console_example_prints_the_span_tree_and_the_stopped_branch() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "examples" / "otel_console.py")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        cwd=REPO_ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    names = [line.lstrip("├└─│ ").split("  ")[0] for line in lines[1:14]]
    assert names == [
        "invoke_agent team",
        "invoke_agent researcher",
        "invoke_agent researcher-model",
        "chat scripted-demo-model",
        "invoke_agent skeptic",
        "invoke_agent skeptic-model",
        "chat scripted-demo-model",
        "invoke_agent planner",
        "invoke_agent planner-model",
        "chat scripted-demo-model",
        "invoke_agent estimator",
        "invoke_agent estimator-model",
        "chat scripted-demo-model",
    ]
    replies = lines[
        lines.index("A budget of 25 tokens on `runaway` (10 tokens per model call):") + 1 :
    ]
    assert replies[:5] == ["steady answer"] * 2 + ["runaway answer"] * 3
    assert "BudgetExceededError" in replies[5]
    assert "'runaway'" in replies[5]
    assert replies[6:] == ["quick answer"]
