"""Ctrl-C during `MiniAgents().run(...)`: every agent is cancelled, its `finally` runs, and the
process ends promptly with KeyboardInterrupt."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import asyncio
import sys

from miniagents_lc import InteractionContext, Message, MiniAgents, miniagent


async def endless_tokens(index: int):
    try:
        yield str(index)
        await asyncio.Event().wait()  # more tokens never come: only Ctrl-C ends it
    finally:
        print(f"tokens {index} finalized", flush=True)


@miniagent
async def leaf(ctx: InteractionContext, index: int) -> None:
    ctx.reply(Message.promise(endless_tokens(index)))
    try:
        await asyncio.Event().wait()
    finally:
        print(f"leaf {index} finalized", flush=True)


@miniagent
async def top(ctx: InteractionContext) -> None:
    ctx.reply([leaf.trigger(index=index) for index in range(3)])


async def main() -> None:
    replies = top.trigger()
    async for promise in replies:
        async for _token in promise:
            print("streaming", flush=True)
            break


MiniAgents().run(main())
"""


def test_ctrl_c_during_run_cancels_every_agent_and_returns_promptly() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert process.stdout is not None
    try:
        assert process.stdout.readline().strip() == "streaming"
        interrupted_at = time.monotonic()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        process.kill()
    seconds = time.monotonic() - interrupted_at

    assert seconds < 5.0
    assert process.returncode != 0
    assert "KeyboardInterrupt" in stderr
    finalized = set(stdout.splitlines())
    for index in range(3):
        assert f"leaf {index} finalized" in finalized, stdout
        assert f"tokens {index} finalized" in finalized, stdout
