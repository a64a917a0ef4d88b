"""Two worker processes behind one address, sharing a real redis-server: a run started on one
worker resumes on the other, and a worker that dies ends its runs' streams with a clear error."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import redis.asyncio as aioredis
from httpx_sse import aconnect_sse

from miniagents_lc import MiniAgents
from miniagents_lc.remote import RemoteAgent, RemoteRunLostError
from miniagents_lc.testing import apoll_until

from .served import token
from .support import CuttingProxy, free_port, read_tokens, redis_server, worker_process

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


@pytest.fixture(scope="module")
def shared_workers() -> Iterator[list[tuple[str, subprocess.Popen[bytes]]]]:
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
async def balancer(
    shared_workers: list[tuple[str, subprocess.Popen[bytes]]],
) -> AsyncIterator[CuttingProxy]:
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


async def test_a_reader_elsewhere_rides_out_a_stall_of_the_owner(
    balancer: CuttingProxy, shared_workers: list[tuple[str, subprocess.Popen[bytes]]]
) -> None:
    """The owner's whole process is paused 4 s mid-run (longer than its key's 3 s lifetime):
    the reader on the other worker waits for it, and gets the run complete and exact."""
    owner = shared_workers[0][1]
    loop = asyncio.get_running_loop()
    paused: list[float] = []

    def pause_the_owner_and_move_to_the_other_worker() -> None:
        balancer.current = 1
        owner.send_signal(signal.SIGSTOP)
        paused.append(time.monotonic())
        loop.call_later(4.0, owner.send_signal, signal.SIGCONT)
        balancer.cut()

    balancer.current = 0
    try:
        async with MiniAgents():
            reply = RemoteAgent(balancer.url, "count").trigger("go", n=200, pace=0.002)
            texts = await read_tokens(
                reply, [], at=30, then=pause_the_owner_and_move_to_the_other_worker
            )
        finished = time.monotonic()
    finally:
        owner.send_signal(signal.SIGCONT)
        balancer.current = 0
    assert texts[1] == expected_text(200)
    assert finished - paused[0] >= 4.0  # the end came from the owner, after its pause


async def wait_for_a_completed_run(redis_url: str) -> None:
    """Until Redis holds the `end` of a completed run (the only run of this Redis)."""
    async with aioredis.from_url(redis_url, decode_responses=True) as redis:

        async def completed() -> bool:
            async for key in redis.scan_iter(match="miniagents:run:*:events"):
                last = await redis.xrevrange(key, count=1)
                if last and last[0][1].get("end") == '{"status": "completed"}':
                    return True
            return False

        await apoll_until(completed, what="a run completed in Redis", within=20, interval=0.05)


async def test_a_client_rides_out_a_restart_of_the_only_server(redis_url: str) -> None:
    """The only server is killed after the run completed (its events all in Redis) while the
    client was cut off, and comes back seconds later: the client resumes there, exactly."""
    port = free_port()
    pieces: list[str] = []
    with contextlib.ExitStack() as servers:
        servers.enter_context(worker_process(redis_url, port=port))
        nowhere = f"http://127.0.0.1:{free_port()}"
        async with CuttingProxy([f"http://127.0.0.1:{port}", nowhere]) as proxy, MiniAgents():

            async def restart() -> float:
                await wait_for_a_completed_run(redis_url)
                servers.close()  # kills the server
                down = time.monotonic()
                await asyncio.sleep(2.0)  # a restart that takes 2 s at least
                await asyncio.to_thread(servers.enter_context, worker_process(redis_url, port=port))
                proxy.current = 0
                return time.monotonic() - down

            restarting: list[asyncio.Task[float]] = []

            def cut_off_the_client() -> None:
                proxy.current = 1
                proxy.cut()
                restarting.append(asyncio.create_task(restart()))

            reply = RemoteAgent(proxy.url, "count").trigger("go", n=2000)
            texts = await read_tokens(reply, pieces, at=20, then=cut_off_the_client)
            downtime = await restarting[0]
    assert texts[1] == expected_text(2000)
    assert downtime >= 2.0  # longer than the client used to wait (1.55 s)
    assert proxy.connections_by_upstream[0] == 2  # the POST, then the resume after restart


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


GRACE = 1.0


@pytest.fixture(scope="module")
def impatient_workers() -> Iterator[tuple[str, str]]:
    """Two workers that cancel a run nobody follows after 1 s, and their redis-server."""
    with (
        redis_server() as url,
        worker_process(url, grace=GRACE) as (owner_url, _),
        worker_process(url, grace=GRACE) as (other_url, _),
    ):
        yield owner_url, other_url


async def test_a_reader_elsewhere_that_reads_slowly_keeps_the_run(
    impatient_workers: tuple[str, str],
) -> None:
    """A client on the other worker stops reading for 3 grace periods (its server cannot send,
    so it reads nothing from Redis meanwhile): its lease is kept all the same, and the run
    is not cancelled under it."""
    owner_url, other_url = impatient_workers
    body = {"input": "go", "kwargs": {"n": 1000, "pace": 0.003, "size": 16384}}
    async with (
        httpx.AsyncClient(base_url=owner_url) as owner,
        owner.stream("POST", "/agents/count/runs", json=body) as started,
    ):
        run_id = started.headers["x-run-id"]
    async with (
        httpx.AsyncClient(base_url=other_url) as other,
        aconnect_sse(other, "GET", f"/runs/{run_id}/events") as sse,
    ):
        events = sse.aiter_sse()
        first = await anext(events)
        await asyncio.sleep(3 * GRACE)  # the reader stalls; the sockets' buffers fill up
        rest = [event async for event in events]
    tokens = [json.loads(e.data) for e in [first, *rest] if e.event == "message"]
    deltas = [
        e["params"]["data"]["delta"]["text"]
        for e in tokens
        if e["params"]["data"]["event"] == "content-block-delta"
    ]
    assert json.loads(rest[-1].data) == {"status": "completed"}
    assert "".join(deltas).count(".") >= 1000 * 16000  # every padded token came through


async def test_a_reader_on_the_other_worker_keeps_the_run_until_it_leaves(
    impatient_workers: tuple[str, str],
) -> None:
    """The owner sees no reader of its own, yet does not cancel a run followed on the other
    worker; once that reader leaves too, the run is cancelled after the grace period."""
    grace = GRACE
    owner_url, other_url = impatient_workers
    async with (
        httpx.AsyncClient(base_url=owner_url) as owner,
        aconnect_sse(owner, "POST", "/agents/endless/runs", json={"input": "go"}) as sse,
    ):
        run_id = sse.response.headers["x-run-id"]
        async for event in sse.aiter_sse():
            if "t2 " in event.data:
                last = event.id
                break
    seqs: list[int] = []
    async with httpx.AsyncClient(base_url=other_url) as other:
        path = f"/runs/{run_id}/events"
        async with aconnect_sse(other, "GET", path, params={"since": last}) as sse:
            started = time.monotonic()
            async for event in sse.aiter_sse():
                assert event.event != "end", event.data
                if event.event == "message":
                    seqs.append(json.loads(event.data)["seq"])
                if time.monotonic() - started > 3 * grace:
                    break
        await asyncio.sleep(3 * grace)
        async with aconnect_sse(other, "GET", path, params={"since": seqs[-1]}) as sse:
            ends = [json.loads(e.data) async for e in sse.aiter_sse() if e.event == "end"]
    assert seqs == list(range(int(last) + 1, int(last) + 1 + len(seqs)))
    assert len(seqs) > 100  # 3 s of tokens every 10 ms, each a few events
    assert [end["status"] for end in ends] == ["cancelled"]
