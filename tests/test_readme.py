"""The README opens with the two commands, and CI runs exactly those."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```bash\n(.+?)\n```", text)[:2]


def test_readme_opens_with_an_install_and_run_command_then_a_test_command() -> None:
    install_and_run, run_tests = _readme_commands()
    assert "python3 -m venv .venv" in install_and_run
    assert "-m miniagents_lc" in install_and_run
    assert "pytest" in run_tests


def test_ci_runs_the_readme_commands_verbatim() -> None:
    ci_script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for command in _readme_commands():
        assert command in ci_script.splitlines(), command
