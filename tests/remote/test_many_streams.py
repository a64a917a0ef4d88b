"""Many remote streams at once from one client to one server process, every one correct:
250 in README command 2, the full 1,000 in CI (.ci/run sets MINIAGENTS_LC_FULL_SIZE=1)."""

from __future__ import annotations

import asyncio
import os
import time

import pytest
import redis.asyncio as aioredis

from miniagents_lc import MiniAgents
from miniagents_lc.remote import RemoteAgent, create_app

from .served import AGENTS, token
from .support import serve_in_thread

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

STREAMS = 1000 if os.environ.get("MINIAGENTS_LC_FULL_SIZE") == "1" else 250
TOKENS = 5
RUNS = 200


async def test_every_one_of_many_concurrent_remote_streams_arrives_whole(base_url: str) -> None:
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


async def test_hundreds_of_runs_share_a_bounded_redis_pool(redis_url: str) -> None:
    """200 concurrent runs on a server with Redis: every one exact, and the server opened no
    more connections to Redis than its pool (4 here) and its one presence connection."""
    app = create_app(AGENTS, redis_url=redis_url, redis_max_connections=4)
    async with aioredis.from_url(redis_url) as watcher:
        before = (await watcher.info("stats"))["total_connections_received"]
        with serve_in_thread(app) as base_url:
            agent = RemoteAgent(base_url, "count")
            async with MiniAgents():
                replies = [agent.trigger("go", n=TOKENS) for _ in range(RUNS)]
                results = await asyncio.gather(*(r.acollect_messages() for r in replies))
            opened = (await watcher.info("stats"))["total_connections_received"] - before
    expected = "".join(token(index) for index in range(TOKENS))
    assert [str(messages[1]) for messages in results] == [expected] * RUNS
    assert 1 < opened <= 4 + 1
