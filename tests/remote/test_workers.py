"""Two worker processes behind one address, sharing a real redis-server: a run started on one
worker resumes on the other, and a worker that dies ends its runs' streams with a clear error."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import pytest

from miniagents_lc import MiniAgents
from miniagents_lc.remote import RemoteAgent, RemoteRunLostError

from .served import token
from .support import CuttingProxy, read_tokens, redis_server, worker_process

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


@pytest.fixture(scope="module")
def shared_workers() -> Iterator[list[tuple[str, object]]]:
    """Two workers and their redis-server, for the tests that leave them running."""
    with (
        redis_server() as url,
        worker_process(url) as first,
        worker_process(url) as second,
    ):
        yield [first, second]


@pytest.fixture
def workers(redis_url: str) -> Iterator[list[tuple[str, object]]]:
    """Two workers of this test's own (it may kill one)."""
    with worker_process(redis_url) as first, worker_process(redis_url) as second:
        yield [first, second]


@pytest.fixture
async def balancer(shared_workers: list[tuple[str, object]]) -> AsyncIterator[CuttingProxy]:
    async with CuttingProxy([url for url, _ in shared_workers]) as proxy:
        yield proxy


def expected_text(n: int) -> str:
    return "".join(token(index) for index in range(n))


@pytest.mark.parametrize("resume_on", [1, 0], ids=["other-worker", "same-worker"])
async def test_resume_after_a_cut_loses_and_repeats_nothing(
    balancer: CuttingProxy, resume_on: int
) -> None:
    def cut() -> None:
        balancer.current = resume_on  # where the balancer sends new connections now
        balancer.cut()

    async with MiniAgents():
        reply = RemoteAgent(balancer.url, "count").trigger("go", n=150, pace=0.005)
        texts = await read_tokens(reply, [], at=30, then=cut)
    assert texts[1] == expected_text(150)
    assert balancer.connections_by_upstream == ([1, 1] if resume_on else [2, 0])


async def test_a_dead_worker_ends_the_stream_with_a_clear_error(
    workers: list[tuple[str, object]],
) -> None:
    first_process = workers[0][1]
    pieces: list[str] = []
    async with CuttingProxy([url for url, _ in workers]) as balancer, MiniAgents():
        agent = RemoteAgent(balancer.url, "endless", backoff=0.02)
        started = time.monotonic()

        def kill_the_first_worker() -> None:
            balancer.current = 1
            first_process.kill()  # type: ignore[attr-defined]
            balancer.cut()

        reply = agent.trigger("go")
        with pytest.raises(RemoteRunLostError) as caught:
            await read_tokens(reply, pieces, at=20, then=kill_the_first_worker)
        elapsed = time.monotonic() - started
    # Every token written before the worker died arrived once, in order.
    assert pieces == [token(index) for index in range(len(pieces))]
    assert len(pieces) >= 20
    assert caught.value.error_type == "WorkerLost"
    assert elapsed < 15  # the owner's key lapses within 3 s: no hang
