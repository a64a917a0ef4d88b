"""The main job: `python -m miniagents_lc` streams the team's answer offline and measures it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("OPENAI_API_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "miniagents_lc", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
        check=False,
    )


def _seconds(label: str, output: str) -> float:
    match = re.search(rf"{label}\s+([0-9.]+) s", output)
    assert match, f"no figure for {label!r} in:\n{output}"
    return float(match.group(1))


def test_demo_streams_every_specialist_in_order_and_is_faster_in_parallel() -> None:
    result = _run()
    assert result.returncode == 0, result.stderr
    output = result.stdout
    positions = [output.index(f"[{name}]") for name in ("researcher", "skeptic", "planner")]
    assert positions == sorted(positions)
    assert output.index("[planner]") < output.index("[estimator]")
    first_token = _seconds("time to first token", output)
    first_model_token = _seconds("time to first model token", output)
    parallel = _seconds("total, agents in parallel", output)
    sequential = _seconds("total, one after another", output)
    assert first_token <= first_model_token < parallel
    assert parallel * 1.5 < sequential


def test_demo_prints_the_run_tree_with_nested_model_runs() -> None:
    result = _run("--events")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    team = next(line for line in lines if line.strip() == "on_chain_start team")
    model_runs = [line for line in lines if line.strip().startswith("on_chat_model_start")]
    assert len(model_runs) == 4
    indent = len(team) - len(team.lstrip())
    assert all(len(line) - len(line.lstrip()) > indent for line in model_runs)


def test_demo_without_an_api_key_names_the_variable() -> None:
    result = _run("--openai", "gpt-4o-mini")
    assert result.returncode != 0
    assert "OPENAI_API_KEY" in result.stderr
