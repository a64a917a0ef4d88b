"""The demo's command line as a new user meets it: its name, its version, what to install, its
first line before the libraries load, and its text wrapped at word boundaries."""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import textwrap
from pathlib import Path

import pytest

from miniagents_lc.demo.cli import OPENAI_ADAPTER_INSTALL, describe_failure, version_line
from miniagents_lc.demo.team import DEFAULT_QUESTION, ESTIMATOR, PLANNER, RESEARCHER, SKEPTIC
from miniagents_lc.demo.text import WordWrap

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "COLUMNS", "LINES"):
        env.pop(name, None)
    return env


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**_env(), **env},
        cwd=ROOT,
        check=False,
    )


def test_version_names_the_package_langchain_and_python() -> None:
    result = _python("from miniagents_lc.demo.cli import main; main(['--version'])")
    assert result.stdout.strip() == version_line()
    assert re.fullmatch(
        r"miniagents-lc \d+\.\d+\.\d+\S* \(langchain-core \d+\.\d+\.\d+\S*, Python \d+\.\d+\.\d+\)",
        version_line(),
    )


def test_the_installed_command_names_itself_in_its_help() -> None:
    script = Path(sys.executable).parent / "miniagents-lc-demo"
    assert script.exists(), f"{script} is missing: install the package (README command 1)"
    result = subprocess.run(
        [str(script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: miniagents-lc-demo ")
    assert "--version" in result.stdout


def test_openai_without_the_adapter_says_what_to_install() -> None:
    # The adapter is installed here: hide it from the path, as on a machine without it.
    result = _python(
        """
        import sys
        sys.path[:] = [path for path in sys.path if not path.endswith("adapters/openai")]
        from miniagents_lc.demo.cli import main
        sys.exit(main(["--openai", "gpt-4o-mini"], prog="python -m miniagents_lc"))
        """,
        OPENAI_API_KEY="sk-test",
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1].endswith(OPENAI_ADAPTER_INSTALL), result.stderr
    assert "unexpected" not in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("missing", "advice"),
    [("openai", OPENAI_ADAPTER_INSTALL), ("rich", "pip install -e .")],
)
def test_a_missing_module_during_the_run_is_an_install_instruction(
    missing: str, advice: str
) -> None:
    error = ModuleNotFoundError(f"No module named {missing!r}", name=missing)
    line = describe_failure(error)
    assert advice in line
    assert "unexpected" not in line


#: What must not be loaded when the demo writes its first line.
LIBRARIES = ("langchain_core.runnables.base", "langsmith", "rich", "miniagents_lc.agents")


def test_the_first_line_is_written_before_the_libraries_load() -> None:
    result = _python(
        f"""
        import json, os, sys
        from miniagents_lc.demo.cli import main

        class FirstWrite:
            def write(self, text):
                loaded = [name for name in {LIBRARIES!r} if name in sys.modules]
                sys.__stdout__.write(json.dumps([text.splitlines()[0], loaded]))
                sys.__stdout__.flush()
                os._exit(0)

            def flush(self):
                pass

        sys.stdout = FirstWrite()
        main([])
        """
    )
    assert json.loads(result.stdout) == [f"Question: {DEFAULT_QUESTION}", []], result.stderr


_TEXT = "One two three, four five six seven: eight nine ten eleven twelve.\n\nAnd again."


def _wrapped(text: str, width: int | None, chunk: int) -> str:
    out = io.StringIO()
    wrap = WordWrap(out, width)
    for start in range(0, len(text), chunk):
        wrap.write(text[start : start + chunk])
    wrap.end()
    return out.getvalue()


@pytest.mark.parametrize("chunk", [1, 3, 7, 1000], ids=lambda size: f"chunks-of-{size}")
@pytest.mark.parametrize("width", [12, 20, 33])
def test_streamed_text_wraps_at_word_boundaries(width: int, chunk: int) -> None:
    wrapped = _wrapped(_TEXT, width, chunk)
    assert all(len(line) <= width for line in wrapped.splitlines()), wrapped
    assert wrapped.split() == _TEXT.split()
    assert wrapped.split("\n\n")[1:] == ["And again."]  # the text's own breaks are kept


def test_a_word_longer_than_a_line_is_broken_where_it_must_be() -> None:
    assert _wrapped("ab abcdefghij cd", 4, 2).splitlines() == ["ab", "abcd", "efgh", "ij", "cd"]


def test_off_a_terminal_the_text_is_not_wrapped() -> None:
    assert _wrapped(_TEXT, None, 5) == _TEXT


def _answer_words() -> set[str]:
    words: set[str] = set()
    for specialist in (RESEARCHER, SKEPTIC, PLANNER, ESTIMATOR):
        words |= set(specialist.scripted_reply.replace("{question}", DEFAULT_QUESTION).split())
    return words


def _read_pty(fd: int, until: bytes) -> bytes:
    seen = b""
    while until not in seen:
        ready, _, _ = select.select([fd], [], [], 30)
        assert ready, f"no output for 30 s; so far:\n{seen.decode(errors='replace')}"
        chunk = os.read(fd, 4096)
        assert chunk, f"the demo ended before {until!r}:\n{seen.decode(errors='replace')}"
        seen += chunk
    return seen


def test_on_a_terminal_the_streamed_answer_wraps_at_word_boundaries() -> None:
    """What a person sees in a 50-column terminal: no word cut at the edge."""
    columns = 50
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "miniagents_lc", "--plain"],
        stdin=follower,
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env=_env(),
        cwd=ROOT,
        close_fds=True,
    )
    os.close(follower)
    try:
        screen = _read_pty(leader, b"Now timing").decode()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        os.close(leader)
    answer = screen[screen.index("[researcher]") : screen.index("Now timing")]
    lines = answer.replace("\r\n", "\n").splitlines()
    assert all(len(line) <= columns for line in lines), lines
    known = _answer_words() | {"[researcher]", "[skeptic]", "[planner]", "[estimator]"}
    cut = [word for line in lines for word in line.split() if word not in known]
    assert cut == [], lines
