"""examples/anthropic_agents.py runs offline, on the kit, when no API key is set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_the_example_runs_offline_without_a_key_and_shows_what_the_replies_carry() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "PYTEST_"))}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / "anthropic_agents.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "offline" in lines[0]
    assert "Hello from the offline kit!" in lines
    assert "  [thinking: A greeting is asked for.]" in lines
    assert "Let me check Paris." in lines
    assert "  [tool call: get_weather({'city': 'Paris'})]" in lines
    assert "'input_tokens': 2060" in done.stdout  # 12 + 2048 cache reads, counted once
