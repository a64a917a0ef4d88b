"""`python -m miniagents_lc.remote`: one line to say what is served where, the access log,
a clean Ctrl-C, one-line errors for a wrong `MODULE:ATTR`, and a `--help` that documents it all."""

from __future__ import annotations

import asyncio
import re
import signal
import sys

import httpx
import pytest

from miniagents_lc.remote.__main__ import main

from .support import TESTS_DIR, subprocess_env

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


@pytest.fixture
def in_tests_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run `main` as from the tests' directory, leaving `sys.path` and the environment as
    they were."""
    monkeypatch.chdir(TESTS_DIR)
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in ("AGENTS", "GRACE", "REDIS_CONNECTIONS", "REDIS_URL"):
        monkeypatch.delenv(f"MINIAGENTS_REMOTE_{name}", raising=False)


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("nowhere:AGENTS", "No module named 'nowhere' (from 'nowhere:AGENTS'): run from"),
        ("remote.served:NOPE", "Module 'remote.served' has no attribute 'NOPE'"),
        ("remote.served:EVENTS", "remote.served:EVENTS: create_app serves agents; 'stopped'"),
        ("remote.served:token", "create_app serves one agent, a list of agents or a mapping"),
        ("remote.served", "give the agents as MODULE:ATTR"),
    ],
    ids=["missing-module", "missing-attribute", "not-agents", "not-a-collection", "no-attr"],
)
@pytest.mark.usefixtures("in_tests_dir")
def test_a_wrong_target_is_one_line(target: str, says: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main([target, "--port", "0"])
    message = str(exited.value.code)
    assert message.startswith("python -m miniagents_lc.remote: ")
    assert says in message
    assert "\n" not in message


def test_help_documents_every_option_and_the_token_variable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    shown = capsys.readouterr().out
    usage, _, rest = shown.partition("\n\n")
    options = re.findall(r"\[(--[a-z-]+)", usage)
    assert {"--host", "--port", "--workers", "--redis-url", "--disconnect-grace"} <= set(options)
    for option in options:
        # each option is listed with a description of its own after its metavar
        assert re.search(rf"^  {option} [A-Z_]+\s+\S", rest, re.MULTILINE) or re.search(
            rf"^  {option} [A-Z_]+\n\s+\w", rest, re.MULTILINE
        ), option
    assert re.search(r"MINIAGENTS_REMOTE_TOKEN\s+when set, every request needs", rest)


async def test_serves_one_agent_says_where_logs_requests_and_stops_on_ctrl_c() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "miniagents_lc.remote",
        "remote.served:endless",
        "--port",
        "0",
        cwd=TESTS_DIR,
        env=subprocess_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    try:
        first = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        served = re.fullmatch(
            r"Serving endless at (http://127\.0\.0\.1:\d+) \(1 worker; runs kept in memory\)\n",
            first,
        )
        assert served, first
        async with httpx.AsyncClient(base_url=served.group(1)) as client:
            listed = await client.get("/agents")
            # a run streaming while Ctrl-C comes: the server still stops, and cleanly
            async with client.stream("POST", "/agents/endless/runs", json={"input": "go"}) as run:
                await anext(run.aiter_raw())
                process.send_signal(signal.SIGINT)
                rest = (await asyncio.wait_for(process.stdout.read(), 30)).decode()
        code = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert listed.json() == {"agents": ["endless"]}
    assert '"GET /agents HTTP/1.1" 200' in rest
    assert "Traceback" not in rest
    assert rest.endswith("Stopped.\n")
    assert code == 0
