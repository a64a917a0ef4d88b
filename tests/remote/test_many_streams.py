"""Many remote streams at once from one client to one server process, every one correct:
250 in README command 2, the full 1,000 in CI (.ci/run sets MINIAGENTS_LC_FULL_SIZE=1)."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from miniagents_lc import MiniAgents
from miniagents_lc.remote import RemoteAgent

from .served import token

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

STREAMS = 1000 if os.environ.get("MINIAGENTS_LC_FULL_SIZE") == "1" else 250
TOKENS = 5


async def test_a_thousand_concurrent_remote_streams(base_url: str) -> None:
    agent = RemoteAgent(base_url, "count")
    expected = "".join(token(index) for index in range(TOKENS))
    async with MiniAgents():
        started = time.monotonic()
        replies = [agent.trigger("go", n=TOKENS) for _ in range(STREAMS)]
        results = await asyncio.gather(*(reply.acollect_messages() for reply in replies))
        wall = time.monotonic() - started
    print(f"\n{STREAMS} remote streams x {TOKENS} tokens: {wall:.2f} s")
    assert all(str(messages[1]) == expected for messages in results)
    assert len(results) == STREAMS
