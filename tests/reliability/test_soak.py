"""Soak: many concurrent agent calls, several rounds in one process: no errors, correct text,
no task left behind, and no memory growth from round to round."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from miniagents_lc import InteractionContext, Message, MiniAgents, miniagent
from tests.reliability._support import other_tasks

ROOT = Path(__file__).resolve().parents[2]

ROUNDS = 4
MAX_GROWTH = 1.10
# README command 2 runs rounds of 500 calls (a leak of a few hundred bytes per call still grows
# a round by more than MAX_GROWTH allows); CI runs 2,000 once more (.ci/run sets
# MINIAGENTS_LC_FULL_SIZE=1), and `-m soak` 10,000.
CALLS = 2_000 if os.environ.get("MINIAGENTS_LC_FULL_SIZE") == "1" else 500


def expected_text(call: int, tokens: int) -> str:
    return "".join(f"{call}.{index} " for index in range(tokens))


async def _tokens(call: int, tokens: int) -> AsyncIterator[str]:
    for index in range(tokens):
        await asyncio.sleep(0)
        yield f"{call}.{index} "


@miniagent
async def streamer(ctx: InteractionContext, call: int, tokens: int) -> None:
    ctx.reply(Message.promise(_tokens(call, tokens)))


async def one_round(calls: int, tokens: int) -> None:
    async with MiniAgents():
        replies = [streamer.trigger(call=call, tokens=tokens) for call in range(calls)]
        results = await asyncio.gather(*(reply.acollect_messages() for reply in replies))
    assert not other_tasks()
    for call, messages in enumerate(results):
        assert [message.text for message in messages] == [expected_text(call, tokens)]


def _measured() -> int:
    gc.collect()
    current, _peak = tracemalloc.get_traced_memory()
    return current


async def measured_rounds(calls: int, tokens: int, rounds: int) -> list[int]:
    """The traced memory after each of `rounds` rounds (tracing from the first)."""
    tracemalloc.start()
    try:
        after_round: list[int] = []
        for _ in range(rounds):
            await one_round(calls, tokens)
            after_round.append(_measured())
        return after_round
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("calls", "tokens"),
    [
        pytest.param(CALLS, 50, id=f"{CALLS}x50"),
        pytest.param(
            10_000, 100, id="10000x100", marks=[pytest.mark.soak, pytest.mark.timeout(3600)]
        ),
    ],
)
def test_rounds_of_concurrent_calls_finish_correctly_without_memory_growth(
    calls: int, tokens: int
) -> None:
    # In a process of its own: tracemalloc counts every thread of a process, and a test
    # worker may still be closing another test's server thread while this one measures.
    done = subprocess.run(
        [sys.executable, "-m", "tests.reliability.test_soak", str(calls), str(tokens)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    after_round: list[int] = json.loads(done.stdout)
    assert len(after_round) == ROUNDS
    # The first round pays what a process pays once (lazily loaded layers, interpreter and
    # library caches that fill up to a steady size), so growth counts from the second; a leak
    # grows every round.
    assert after_round[-1] <= after_round[1] * MAX_GROWTH, after_round


if __name__ == "__main__":  # the measuring process of the test above
    rounds = asyncio.run(measured_rounds(int(sys.argv[1]), int(sys.argv[2]), ROUNDS))
    print(json.dumps(rounds))
