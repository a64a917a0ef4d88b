"""The last token of a Responses API stream reaches a waiting reader as soon as it arrives, in
a fresh process too: not after the SDK's first (slow) parse of the closing events behind it.

The measurement is `last_token_lag.py` (next to this file), run in a new interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import miniagents_lc

import miniagents_lc_openai

PROBE = Path(__file__).with_name("last_token_lag.py")


def test_a_fresh_process_sees_the_last_token_before_the_closing_events_are_read() -> None:
    # The child imports the code under test, from wherever this process imports it.
    roots = [
        Path(str(package.__file__)).parents[1] for package in (miniagents_lc, miniagents_lc_openai)
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(root) for root in roots)}

    # The agent's reply read directly (the process's first call), then through LangChain's face
    # (`astream`), whose run relays each token to its reader.
    done = subprocess.run(
        [sys.executable, str(PROBE), "promise", "astream"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    measured = [json.loads(line) for line in done.stdout.splitlines()]
    assert [m["face"] for m in measured] == ["promise", "astream"]
    for reader in measured:
        assert reader["seen_before_next_event"] is True, reader
        assert reader["lag_ms"] < 250, reader  # about a millisecond on a loaded machine
