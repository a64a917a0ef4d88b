"""The READMEs open with commands that work and show code that runs exactly as written.

Every fenced block of README.md and the adapters' READMEs is checked:

- `python` blocks that define `test_...` functions are pytest files: each is written to an
  empty folder (no project configuration) and run with pytest in a subprocess.
- other `python` blocks are scripts: each runs in a subprocess. A script that talks to OpenAI
  or Anthropic meets the adapter's test kit on the API's real address (with a dummy key), so
  it runs as shown, offline.
- `bash` blocks are not run here: the first two of README.md are the install-and-run and
  test commands, which CI runs verbatim (checked below), from a fresh clone; the others are
  `pip install` commands run from the root of a clone, which tests/test_install_commands.py
  checks against the clone's projects. Each must be one of these two kinds, so a new kind of
  block fails here until someone decides how to check it.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
READMES = ("README.md", "adapters/openai/README.md", "adapters/anthropic/README.md")
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)

#: What each runnable block prints (or, for pytest blocks, reports), by README and block number.
EXPECTED_OUTPUT = {
    ("adapters/anthropic/README.md", 1): [
        "The Nile, the Amazon, the Yangtze.",
        "claude-sonnet-4-5 end_turn 2075",
    ],
    ("adapters/anthropic/README.md", 2): ["2 passed"],
    ("README.md", 1): ["Streams arrive early.", "Buffers cost memory."],
    ("adapters/openai/README.md", 1): ["The Nile, the Amazon, the Yangtze.", "gpt-4o-mini stop"],
    ("adapters/openai/README.md", 2): ["1 passed"],
    ("adapters/openai/README.md", 3): ["1 passed"],
}

#: Run before a script block: the APIs' addresses answer from the test kits, with scripted
#: replies.
OFFLINE_APIS = """\
from miniagents_lc_openai.testing import OpenAIMock
from miniagents_lc_anthropic.testing import AnthropicMock
_RIVERS = ["The", " Nile", ",", " the", " Amazon", ",", " the", " Yangtze", "."]
_openai = OpenAIMock("https://api.openai.com/v1", assert_all_consumed=False).start()
_openai.chat(_RIVERS, delay=0.01, usage={"prompt_tokens": 12, "completion_tokens": 9})
_anthropic = AnthropicMock("https://api.anthropic.com", assert_all_consumed=False).start()
_anthropic.messages(_RIVERS, delay=0.01, usage={"input_tokens": 14, "output_tokens": 9,
                    "cache_read_input_tokens": 2048, "cache_creation_input_tokens": 4})
"""


@dataclass(frozen=True)
class Block:
    readme: str
    language: str
    number: int  # among the README's blocks of this language, from 1
    code: str

    @property
    def name(self) -> str:
        return f"{self.readme}:{self.language}{self.number}"


def blocks(language: str) -> list[Block]:
    found = []
    for readme in READMES:
        text = (ROOT / readme).read_text(encoding="utf-8")
        codes = [code for lang, code in FENCE.findall(text) if lang == language]
        found += [Block(readme, language, number, code) for number, code in enumerate(codes, 1)]
    return found


def _readme_commands() -> list[str]:
    return [block.code.strip() for block in blocks("bash") if block.readme == "README.md"][:2]


def test_readme_opens_with_an_install_and_run_command_then_a_test_command() -> None:
    install_and_run, run_tests = _readme_commands()
    assert "python3 -m venv .venv" in install_and_run
    assert "-m miniagents_lc" in install_and_run
    assert "pytest" in run_tests


def test_ci_runs_the_readme_commands_verbatim() -> None:
    ci_script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for command in _readme_commands():
        assert command in ci_script.splitlines(), command


@pytest.mark.parametrize("block", blocks("bash"), ids=lambda block: block.name)
def test_every_bash_block_is_a_readme_command_or_pip_install_commands(block: Block) -> None:
    if block.code.strip() in _readme_commands():
        return
    for line in block.code.strip().splitlines():
        words = shlex.split(line, comments=True)
        assert words[:2] == ["pip", "install"], line


def test_every_python_block_is_checked_for_its_output() -> None:
    numbered = {(block.readme, block.number) for block in blocks("python")}

    assert numbered == set(EXPECTED_OUTPUT)


@pytest.mark.parametrize("block", blocks("python"), ids=lambda block: block.name)
def test_every_python_block_runs_as_shown(block: Block, tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OPENAI_", "ANTHROPIC_", "PYTEST_"))  # the reader's, not the test's
    }
    env["OPENAI_API_KEY"] = "sk-test"  # dummies; only the test kits answer
    env["ANTHROPIC_API_KEY"] = "sk-ant-test"
    if re.search(r"^(async )?def test_", block.code, re.MULTILINE):
        (tmp_path / "test_readme_block.py").write_text(block.code, encoding="utf-8")
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    else:
        (tmp_path / "readme_block.py").write_text(block.code, encoding="utf-8")
        run = "import runpy\nrunpy.run_path('readme_block.py', run_name='__main__')\n"
        command = [sys.executable, "-c", OFFLINE_APIS + run]

    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr
    for expected in EXPECTED_OUTPUT[(block.readme, block.number)]:
        assert expected in result.stdout, result.stdout + result.stderr
