"""Real parts for the A2A tests: uvicorn on a loopback port of the test's choosing (in a thread
with its own loop), a TCP relay that can sever its connections, and the a2a-sdk client."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
import uuid
from collections.abc import AsyncIterator

import httpx
from a2a.client import A2ACardResolver, Client, ClientConfig, ClientFactory
from a2a.types import Message, Part, Role, SendMessageRequest, StreamResponse
from a2a_agents import Gate

from miniagents_lc import MiniAgent
from tests.servers import serve_in_thread as served  # noqa: F401 - re-exported

STOP_WITHIN = 1.0
"""A stop the tests prove prompt: the agents they stop would otherwise go on for longer (a gate
that never opens, an SDK agent with 0.5 s between chunks). Each test prints its figure; the
issue's bound, 100 ms, is measured by `python -m benchmarks.a2a` (about 2 ms on a quiet
machine), not by a timed test, which a loaded machine can delay past it."""

TOKEN = "a2a-test-token"
"""The bearer token of the token-protected test server."""


def loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class SeveringRelay:
    """Forwards loopback TCP connections to `target`; `sever()` aborts all open ones."""

    def __init__(self, target: str) -> None:
        self._target_port = int(target.rsplit(":", 1)[1])
        self._sockets: list[asyncio.StreamWriter] = []
        self._listener: asyncio.Server | None = None
        self.url = ""
        self.accepted = 0
        self.reconnected = asyncio.Event()
        """Set once a second connection has come in."""

    async def __aenter__(self) -> SeveringRelay:
        self._listener = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._listener.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self.sever()
        assert self._listener is not None
        self._listener.close()
        await self._listener.wait_closed()

    def sever(self) -> None:
        sockets, self._sockets = self._sockets, []
        for writer in sockets:
            writer.transport.abort()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.accepted >= 2:
            self.reconnected.set()
        target_reader, target_writer = await asyncio.open_connection("127.0.0.1", self._target_port)
        self._sockets += [writer, target_writer]

        async def forward(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while chunk := await source.read(1 << 16):
                    sink.write(chunk)
                    await sink.drain()
            except OSError:
                pass
            finally:
                sink.transport.abort()

        await asyncio.gather(forward(reader, target_writer), forward(target_reader, writer))


@contextlib.asynccontextmanager
async def sdk_client(base_url: str, token: str | None = None) -> AsyncIterator[Client]:
    """a2a-sdk's own client for the agent at `base_url`, from its card."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(headers=headers, timeout=10.0) as http:
        card = await A2ACardResolver(http, base_url).get_agent_card()
        yield ClientFactory(ClientConfig(httpx_client=http)).create(card)


def user_message(text: str) -> SendMessageRequest:
    return SendMessageRequest(
        message=Message(role=Role.ROLE_USER, message_id=uuid.uuid4().hex, parts=[Part(text=text)])
    )


def artifact_texts(responses: list[StreamResponse]) -> dict[str, str]:
    """Each artifact's text assembled from its chunks, in order of first appearance."""
    texts: dict[str, str] = {}
    for response in responses:
        if response.HasField("artifact_update"):
            update = response.artifact_update
            chunk = "".join(part.text for part in update.artifact.parts)
            previous = texts.get(update.artifact.artifact_id, "") if update.append else ""
            texts[update.artifact.artifact_id] = previous + chunk
    return texts


async def seconds_to_stop(remote: MiniAgent, text: str, first: str, stopped: Gate) -> float:
    """Stream `remote`'s reply to `text`, leave after its first text (which must start with
    `first`: a consumer slowed down by a loaded machine may find the next piece buffered too,
    and `astream` hands over what is buffered in one chunk), and wait for the remote side to
    open `stopped`: how long it took after leaving."""
    chunks = remote.astream(text)
    async for chunk in chunks:
        if not chunk.text:
            continue
        assert chunk.text.startswith(first), chunk.text
        break
    left = time.monotonic()
    await chunks.aclose()
    await stopped.passed()
    assert stopped.at is not None
    print(f"\nthe remote side stopped {(stopped.at - left) * 1000:.1f} ms after the consumer left")
    return stopped.at - left
