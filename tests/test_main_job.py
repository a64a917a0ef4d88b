"""The main job: `python -m miniagents_lc` streams the team's answer offline and measures it."""

from __future__ import annotations

import http.server
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from miniagents_lc.demo.team import DEFAULT_QUESTION, RESEARCHER
from miniagents_lc.testing.chat_models import split_into_tokens
from tests.example_runs import refused_url

ROOT = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        env.pop(name, None)
    return {**env, **extra}


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "miniagents_lc", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(**env),
        cwd=ROOT,
        check=False,
    )


def _seconds(label: str, output: str) -> float:
    match = re.search(rf"{label}\s+([0-9.]+) s", output)
    assert match, f"no figure for {label!r} in:\n{output}"
    return float(match.group(1))


def _answer(output: str) -> str:
    """The team's answer: from the first specialist's heading on its own line to the note
    that announces the sequential timing."""
    start = re.search(r"^\[researcher\]$", output, re.MULTILINE)
    assert start, f"no answer in:\n{output}"
    return output[start.start() : output.index("Now timing the same team")]


@pytest.mark.parametrize("mode", [[], ["--plain"]], ids=["live-tree", "plain"])
def test_demo_answers_with_every_specialist_in_order_and_is_faster_in_parallel(
    mode: list[str],
) -> None:
    result = _run(*mode)
    assert result.returncode == 0, result.stderr
    output = result.stdout
    answer = _answer(output)
    positions = [answer.index(f"[{name}]") for name in ("researcher", "skeptic", "planner")]
    assert positions == sorted(positions)
    assert answer.index("[planner]") < answer.index("[estimator]")
    # What is timed is said before the pause, the figures come after it.
    assert output.index("Now timing the same team one agent after another") < output.index(
        "Measured in this run:"
    )
    first_token = _seconds(re.escape("first text out (a [heading], no model yet)"), output)
    first_model_token = _seconds("first token a model wrote", output)
    parallel = _seconds("total, agents in parallel", output)
    sequential = _seconds("total, one after another", output)
    assert first_token <= first_model_token < parallel
    assert parallel * 1.5 < sequential


@pytest.fixture(scope="module")
def tree_output() -> str:
    """What the demo prints with `--tree` off a terminal."""
    result = _run("--tree")
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_off_a_terminal_the_demo_prints_the_finished_tree_once_without_colour(
    tree_output: str,
) -> None:
    output = tree_output
    assert "\x1b[" not in output
    for alias in ("team", "researcher", "researcher-model", "estimator", "estimator-model"):
        done = re.findall(rf"✓ {re.escape(alias)}  done \d+\.\d\ds", output)
        assert len(done) == 1, f"{alias}: {done}"  # the comparison run draws no tree
    tokens = len(
        split_into_tokens(RESEARCHER.scripted_reply.replace("{question}", DEFAULT_QUESTION))
    )
    usage = re.search(rf"✓ researcher-model  done .* (\d+) chunks?  \d+→{tokens} tok", output)
    assert usage, output
    assert 1 <= int(usage.group(1)) <= tokens


def test_the_final_screen_of_the_tree_mode_keeps_the_answer(tree_output: str) -> None:
    """After the answer come only the comparison's note and progress line and the figures:
    on a 24-line terminal the end of the answer is still on the screen."""
    answer = _answer(tree_output)
    after = tree_output[tree_output.index(answer) + len(answer) :]
    assert answer.rstrip().endswith("the streaming is free.")
    assert "✓ team" not in after
    assert len(after.strip().splitlines()) <= 9, after


@pytest.mark.parametrize("mode", [[], ["--plain"]], ids=["live-tree", "plain"])
def test_the_question_asked_is_answered_offline_too(mode: list[str]) -> None:
    question = "Why do parallel agents finish sooner?"
    result = _run(*mode, question)
    assert result.returncode == 0, result.stderr
    assert f"Question: {question}" in result.stdout
    assert question in _answer(result.stdout)


_TREE_PREFIX = re.compile(r"^((?:[│ ]  )*)(?:[├└]─ )?")


def _tree(output: str) -> list[tuple[int, str]]:
    """The printed run tree as (depth, label) lines."""
    rows = []
    for line in output.splitlines():
        match = _TREE_PREFIX.match(line)
        assert match is not None
        depth = len(match.group(1)) // 3 + (1 if match.group(0) != match.group(1) else 0)
        rows.append((depth, line[match.end() :]))
    return rows


def _subtree(rows: list[tuple[int, str]], label: str) -> list[tuple[int, str]]:
    """The rows under the first row whose label starts with `label` (itself excluded)."""
    start = next(index for index, (_, text) in enumerate(rows) if text.startswith(label))
    depth = rows[start][0]
    below = []
    for row in rows[start + 1 :]:
        if row[0] <= depth:
            break
        below.append(row)
    return below


def test_demo_events_print_every_run_under_its_parent() -> None:
    """Sub-agents start while others stream: in time order they would land under the wrong
    parent, so the runs are printed as a tree grouped by parent."""
    result = _run("--events")
    assert result.returncode == 0, result.stderr
    rows = _tree(result.stdout)
    assert rows[0][0] == 0
    assert rows[0][1].startswith("chain RunnableSequence")
    team = _subtree(rows, "chain team")
    top = [text.split(" (")[0] for depth, text in team if depth == team[0][0]]
    assert top == ["chain researcher", "chain skeptic", "chain planner"]
    planner = _subtree(rows, "chain planner")
    assert [text.split(" (")[0] for _, text in planner] == [
        "chain planner-model",
        "chat_model ScriptedChatModel",
        "chain estimator",
        "chain estimator-model",
        "chat_model ScriptedChatModel",
    ]
    for name in ("researcher", "skeptic", "planner", "estimator"):
        model = _subtree(rows, f"chain {name}-model")
        assert len(model) == 1
        assert model[0][1].startswith("chat_model ScriptedChatModel (")
        assert re.search(r"\d+ streamed chunks", model[0][1])


@pytest.fixture
def refused_openai_url() -> str:
    """An OpenAI base URL on a loopback port nothing listens on."""
    return f"{refused_url()}/v1"


class _Unauthorized(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.dumps(
            {
                "error": {
                    "message": "Incorrect API key provided.",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            }
        ).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def unauthorized_url() -> Iterator[str]:
    """An OpenAI-compatible server on a loopback port that refuses every key."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Unauthorized)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.enable_socket
@pytest.mark.parametrize(
    ("server", "error", "advice"),
    [
        ("refused_openai_url", "APIConnectionError", "network"),
        ("unauthorized_url", "AuthenticationError", "OPENAI_API_KEY"),
    ],
    ids=["connection-refused", "unauthorized"],
)
def test_an_api_error_is_one_line_naming_the_agent_and_what_to_do(
    server: str, error: str, advice: str, request: pytest.FixtureRequest
) -> None:
    url: str = request.getfixturevalue(server)
    result = _run("--openai", "gpt-4o-mini", OPENAI_API_KEY="sk-test-key", OPENAI_BASE_URL=url)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "'researcher-model'" in lines[0]
    assert error in lines[0]
    assert advice in lines[0]
    assert "--traceback" in lines[0]
    assert "sk-test-key" not in result.stderr + result.stdout


def _read_until(process: subprocess.Popen[str], marker: str) -> str:
    """Read the demo's stdout until `marker` (the child flushes as it writes)."""
    assert process.stdout is not None
    seen = ""
    while not seen.endswith(marker):
        char = process.stdout.read(1)
        assert char, f"the demo ended before {marker!r}:\n{seen}"
        seen += char
    return seen


def _interrupt(process: subprocess.Popen[str]) -> tuple[int, str]:
    """Send Ctrl-C; the exit code and stderr once the demo has ended."""
    process.send_signal(signal.SIGINT)
    try:
        _rest, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, stderr


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "miniagents_lc", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    ("mode", "marker"),
    [
        ([], "Team answering on the embedded scripted model:\n"),  # LangChain still loading
        (["--plain"], "[researcher]"),  # the agents at work
        ([], "\n[researcher]"),  # the answer out, the comparison run at work
    ],
    ids=["while-loading", "plain-answering", "live-tree-comparing"],
)
def test_ctrl_c_at_any_moment_is_one_line_and_exit_code_130(mode: list[str], marker: str) -> None:
    process = _start(*mode)
    _read_until(process, marker)
    code, stderr = _interrupt(process)
    assert code == 130
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Interrupted."), stderr


def test_the_comparison_run_shows_progress_while_it_runs() -> None:
    process = _start("--plain")
    before = _read_until(process, "Now timing the same team one agent after another")
    progress = _read_until(process, "researcher ")
    progress += _read_until(process, ".")  # a dot as its model writes
    running = process.poll() is None
    code, _stderr = _interrupt(process)
    assert "[estimator]" in before
    assert running
    assert "Measured in this run" not in progress
    assert code == 130


def test_demo_without_an_api_key_names_the_variable() -> None:
    result = _run("--openai", "gpt-4o-mini")
    assert result.returncode != 0
    assert "OPENAI_API_KEY" in result.stderr


@pytest.mark.enable_socket
def test_traceback_flag_prints_the_whole_traceback(refused_openai_url: str) -> None:
    result = _run(
        "--openai",
        "gpt-4o-mini",
        "--traceback",
        OPENAI_API_KEY="sk-x",
        OPENAI_BASE_URL=refused_openai_url,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert "APIConnectionError" in result.stderr
    assert "raised in agent 'researcher-model'" in result.stderr
