"""Remote streaming, side by side: `python -m benchmarks.remote [--quick]`.

Four ways to stream the same server-side token generator over HTTP on loopback:

- `plain`: a bare sse-starlette endpoint read with httpx-sse, one event per token (the limit);
- `plain-batched`: the same, every token already produced sent in one event;
- `langserve`: LangServe's `add_routes` read with `RemoteRunnable.astream`;
- `remote-agent`: `create_app` read with `RemoteAgent` (protocol events, resumable).

Then the balanced cluster of docs/remote.md (`benchmarks/remote_cluster.py`; `--cluster` runs
only that): 1,000 concurrent team calls through nginx and 3 servers beside one server alone.

Per way: the first token of one hop (median of sequential requests: from sending the request to
receiving the first token), one stream of 100,000 tokens (tokens/s), and 1,000 concurrent
streams of 100 tokens (wall, and the peak RSS of server and client). Every server and client
runs in a fresh process of its own; the figures print as one table, with the issue's targets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import AsyncIterator
from typing import Any

from benchmarks import remote_cluster

TOKEN = "tok "
WAYS = ("plain", "plain-batched", "langserve", "remote-agent")
SIZES = {
    "full": {"latency_runs": 50, "long": 100_000, "streams": 1000, "tokens": 100},
    "quick": {"latency_runs": 10, "long": 10_000, "streams": 100, "tokens": 100},
}


# -- the server ------------------------------------------------------------------------------


async def produce(count: int) -> AsyncIterator[str]:
    """The one token generator every way serves: as fast as it can, giving the loop a turn
    every 100 tokens."""
    for index in range(count):
        yield TOKEN
        if index % 100 == 99:
            await asyncio.sleep(0)


def build_server() -> Any:
    """One FastAPI app serving every way (so every server process imports the same code)."""
    from fastapi import FastAPI
    from langchain_core.runnables import RunnableGenerator
    from langserve import add_routes
    from sse_starlette import EventSourceResponse

    from miniagents_lc import InteractionContext, Message, miniagent
    from miniagents_lc.remote import create_app

    app = FastAPI()

    @app.get("/plain")
    async def plain(n: int) -> EventSourceResponse:
        async def events() -> AsyncIterator[dict[str, str]]:
            async for token in produce(n):
                yield {"data": token}
            yield {"event": "end", "data": ""}

        return EventSourceResponse(events())

    @app.get("/plain-batched")
    async def plain_batched(n: int) -> EventSourceResponse:
        async def events() -> AsyncIterator[dict[str, str]]:
            buffer: list[str] = []
            ready = asyncio.Event()
            done = False

            async def fill() -> None:
                nonlocal done
                async for token in produce(n):
                    buffer.append(token)
                    ready.set()
                done = True
                ready.set()

            filler = asyncio.create_task(fill())
            try:
                while True:
                    await ready.wait()
                    ready.clear()
                    if buffer:
                        text = "".join(buffer)
                        buffer.clear()
                        yield {"data": text}
                    if done and not buffer:
                        break
                yield {"event": "end", "data": ""}
            finally:
                filler.cancel()

        return EventSourceResponse(events())

    async def langserve_tokens(inputs: AsyncIterator[int]) -> AsyncIterator[str]:
        async for n in inputs:
            async for token in produce(n):
                yield token

    add_routes(app, RunnableGenerator(langserve_tokens), path="/langserve")

    @miniagent
    async def tokens(ctx: InteractionContext, n: int) -> None:
        ctx.reply(Message.promise(produce(n), role="assistant"))

    app.mount("/ma", create_app([tokens]))
    return app


def serve(port: int) -> None:
    import uvicorn

    warnings.filterwarnings("ignore")
    uvicorn.run(build_server(), host="127.0.0.1", port=port, log_level="error", access_log=False)


# -- the clients -----------------------------------------------------------------------------


async def read_plain(client: Any, base_url: str, way: str, n: int, first: list[float]) -> int:
    from httpx_sse import aconnect_sse

    chars = 0
    async with aconnect_sse(client, "GET", f"{base_url}/{way}", params={"n": n}) as source:
        async for event in source.aiter_sse():
            if event.event == "end":
                break
            if not chars:
                first.append(time.perf_counter())
            chars += len(event.data)
    return chars


async def read_langserve(remote: Any, n: int, first: list[float]) -> int:
    chars = 0
    async for chunk in remote.astream(n):
        if not chars:
            first.append(time.perf_counter())
        chars += len(chunk)
    return chars


async def read_remote_agent(agent: Any, n: int, first: list[float]) -> int:
    chars = 0
    async for message in agent.trigger(n=n):
        async for token in message:
            if not chars:
                first.append(time.perf_counter())
            chars += len(token)
    return chars


async def run_client(
    way: str, base_url: str, measurement: str, sizes: dict[str, int]
) -> dict[str, Any]:
    import httpx

    from miniagents_lc import MiniAgents

    warnings.filterwarnings("ignore")
    async with (
        MiniAgents(),
        httpx.AsyncClient(
            timeout=httpx.Timeout(600), limits=httpx.Limits(max_connections=None)
        ) as client,
    ):
        if way == "langserve":
            from langserve import RemoteRunnable

            remote: Any = RemoteRunnable(f"{base_url}/langserve", timeout=600)

            def read(n: int, first: list[float]) -> Any:
                return read_langserve(remote, n, first)

        elif way == "remote-agent":
            from miniagents_lc.remote import RemoteAgent

            agent = RemoteAgent(f"{base_url}/ma", "tokens", timeout=600)

            def read(n: int, first: list[float]) -> Any:
                return read_remote_agent(agent, n, first)

        else:

            def read(n: int, first: list[float]) -> Any:
                return read_plain(client, base_url, way, n, first)

        await read(10, [])  # warm up connections and lazy imports
        if measurement == "latency":
            samples = []
            for _ in range(sizes["latency_runs"]):
                first: list[float] = []
                started = time.perf_counter()
                await read(1, first)
                samples.append(first[0] - started)
            return {"first_token_ms": statistics.median(samples) * 1000}
        if measurement == "long":
            n = sizes["long"]
            started = time.perf_counter()
            chars = await read(n, [])
            elapsed = time.perf_counter() - started
            _check(chars, n)
            return {"tokens_per_s": n / elapsed}
        started = time.perf_counter()
        counts = await asyncio.gather(*(read(sizes["tokens"], []) for _ in range(sizes["streams"])))
        elapsed = time.perf_counter() - started
        for chars in counts:
            _check(chars, sizes["tokens"])
        return {"wall_s": elapsed, "client_peak_rss_mb": remote_cluster.peak_rss_mb(os.getpid())}


def _check(chars: int, tokens: int) -> None:
    if chars != tokens * len(TOKEN):
        raise AssertionError(f"got {chars} chars, expected {tokens * len(TOKEN)}")


# -- the runner ------------------------------------------------------------------------------


def _measure(way: str, measurement: str, sizes_name: str) -> dict[str, Any]:
    """Start a fresh server, run one client process against it, stop the server."""
    port = remote_cluster.free_port()
    server = subprocess.Popen([sys.executable, "-m", __spec__.name, "_serve", str(port)])
    try:
        remote_cluster.wait_for(port, server, "the benchmark server")
        client = subprocess.run(
            [
                sys.executable,
                "-m",
                __spec__.name,
                "_client",
                way,
                f"http://127.0.0.1:{port}",
                measurement,
                sizes_name,
            ],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        if client.returncode != 0:
            return {"error": client.stderr.strip().splitlines()[-1:]}
        result: dict[str, Any] = json.loads(client.stdout.strip().splitlines()[-1])
        if measurement == "concurrent":
            result["server_peak_rss_mb"] = remote_cluster.peak_rss_mb(server.pid)
        return result
    finally:
        server.terminate()
        server.wait(30)


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    parser.add_argument("--ways", default=",".join(WAYS), help="comma-separated subset")
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="only the balanced cluster (nginx, 3 servers, Redis) beside one server",
    )
    parser.add_argument(
        "--calls", type=int, default=None, help="concurrent team calls of the cluster (1,000)"
    )
    args = parser.parse_args(argv)
    calls = args.calls or (100 if args.quick else 1000)
    if args.cluster:
        remote_cluster.report(calls, 100)
        return 0
    sizes_name = "quick" if args.quick else "full"
    sizes = SIZES[sizes_name]
    results: dict[str, dict[str, Any]] = {}
    for way in args.ways.split(","):
        results[way] = {}
        for measurement in ("latency", "long", "concurrent"):
            print(f"{way}: {measurement} ...", file=sys.stderr, flush=True)
            results[way].update(_measure(way, measurement, sizes_name))
    print(
        f"\nRemote streaming on loopback ({sizes_name}: first token median of "
        f"{sizes['latency_runs']}; one stream of {sizes['long']:,} tokens; "
        f"{sizes['streams']:,} concurrent streams x {sizes['tokens']} tokens)\n"
    )
    columns = ("first token", "tokens/s", "concurrent", "server RSS", "client RSS")
    header = f"{'way':15} " + " ".join(f"{column:>12}" for column in columns)
    print(header)
    print("-" * len(header))
    for way, result in results.items():
        if "error" in result:
            print(f"{way:15} error: {result['error']}")
            continue
        print(
            f"{way:15} {_fmt(result.get('first_token_ms'), '.2f'):>9} ms "
            f"{_fmt(result.get('tokens_per_s'), ',.0f'):>12} "
            f"{_fmt(result.get('wall_s'), '.2f'):>10} s "
            f"{_fmt(result.get('server_peak_rss_mb'), '.0f'):>9} MB "
            f"{_fmt(result.get('client_peak_rss_mb'), '.0f'):>9} MB"
        )
    ours, plain, batched, langserve = (
        results.get(way, {}) for way in ("remote-agent", "plain", "plain-batched", "langserve")
    )
    print("\nTargets (remote-agent):")
    checks = [
        (
            "first token <= plain + 1 ms",
            ours.get("first_token_ms"),
            plain.get("first_token_ms"),
            lambda a, b: a <= b + 1,
        ),
        (
            ">= 50% of plain-batched tokens/s",
            ours.get("tokens_per_s"),
            batched.get("tokens_per_s"),
            lambda a, b: a >= 0.5 * b,
        ),
        (
            "concurrent wall <= 1.2x plain",
            ours.get("wall_s"),
            plain.get("wall_s"),
            lambda a, b: a <= 1.2 * b,
        ),
        (
            "concurrent wall < langserve",
            ours.get("wall_s"),
            langserve.get("wall_s"),
            lambda a, b: a < b,
        ),
    ]
    for label, value, reference, ok in checks:
        if value is None or reference is None:
            print(f"  ?    {label}: not measured")
            continue
        verdict = "ok  " if ok(value, reference) else "MISS"
        print(f"  {verdict} {label}: {value:,.2f} vs {reference:,.2f}")
    print()
    remote_cluster.report(calls, 100)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_serve":
        serve(int(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "_client":
        _, _, way, url, measurement, sizes_name = sys.argv
        print(json.dumps(asyncio.run(run_client(way, url, measurement, SIZES[sizes_name]))))
    else:
        sys.exit(main())
