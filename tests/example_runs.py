"""Runs an example program and reads its timestamped lines, for the examples' tests; and a
loopback address nothing listens on, for the tests of programs that cannot reach their API."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"^\[(?P<seconds>\d+\.\d\d)s\] (?P<event>.*)$")


def timed_events(example: str) -> list[tuple[float, str]]:
    """`examples/<example>`'s output lines as (seconds, event), after checking it exits
    cleanly and timestamps every line."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "examples" / example)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=REPO_ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    parsed = []
    for line in result.stdout.splitlines():
        match = LINE.match(line)
        assert match, f"line without a timestamp: {line!r}"
        parsed.append((float(match["seconds"]), match["event"]))
    return parsed


def index_of(events: list[tuple[float, str]], prefix: str) -> int:
    """The position of the one event starting with `prefix`."""
    matches = [i for i, (_, event) in enumerate(events) if event.startswith(prefix)]
    assert len(matches) == 1, f"expected one line starting with {prefix!r}, got {len(matches)}"
    return matches[0]


def refused_url() -> str:
    """A base URL (no path) on a loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
