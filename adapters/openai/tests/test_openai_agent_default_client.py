"""OpenAIAgent with `client=None`: one default client per event loop, closed when the loop ends.

The kit's transport mock keeps no connections, so a client reused across loops only breaks on
a real socket: these tests serve the SSE body from an HTTP server on a loopback port.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from miniagents_lc import MiniAgent, MiniAgents

from miniagents_lc_openai import OpenAIAgent
from miniagents_lc_openai.testing import ChatStreamBuilder, chat_usage

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

REPLY = ["Hel", "lo"]
BODY = (
    ChatStreamBuilder("chatcmpl-loopback", with_usage_field=True)
    .plan(REPLY, usage=chat_usage(3, 2))
    .body()
)


class LoopbackOpenAI(ThreadingHTTPServer):
    """Answers every POST with the same chat stream, keeping connections alive as the API
    does, and counts the connections it has seen and those still open."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.opened = 0
        self.open = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def wait_all_closed(self, timeout: float = 5.0) -> int:
        """Wait until no connection is open, at most `timeout` s; return how many still are."""
        deadline = time.monotonic() + timeout
        while self.open and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.open


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LoopbackOpenAI

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.opened += 1
            self.server.open += 1

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.lock:
                self.server.open -= 1

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the test output is for the tests


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackOpenAI]:
    """A loopback server that the default client (built from the environment) talks to."""
    loopback = LoopbackOpenAI()
    thread = threading.Thread(target=loopback.serve_forever, name="loopback-openai")
    thread.start()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-loopback")
    monkeypatch.setenv("OPENAI_BASE_URL", loopback.base_url)
    try:
        yield loopback
    finally:
        loopback.shutdown()
        loopback.server_close()
        thread.join(timeout=5)


def run_with_asyncio_run(agent: MiniAgent) -> str:
    async def main() -> str:
        async with MiniAgents():
            (message,) = await agent.trigger("Hi").acollect_messages()
        return str(message)

    return asyncio.run(main())


def run_with_invoke(agent: MiniAgent) -> str:
    return str(agent.invoke("Hi").content)


def run_with_stream(agent: MiniAgent) -> str:
    return "".join(str(chunk.content) for chunk in agent.stream("Hi"))


RUNNERS: dict[str, Callable[[MiniAgent], str]] = {
    "asyncio.run": run_with_asyncio_run,
    "invoke": run_with_invoke,
    "stream": run_with_stream,
}


@pytest.mark.parametrize("run", list(RUNNERS.values()), ids=list(RUNNERS))
def test_runs_on_one_loop_after_another_each_get_the_reply(
    run: Callable[[MiniAgent], str], server: LoopbackOpenAI
) -> None:
    agent = OpenAIAgent.fork(model="gpt-4o-mini")

    assert [run(agent), run(agent), run(agent)] == ["Hello"] * 3


@pytest.mark.parametrize("run", list(RUNNERS.values()), ids=list(RUNNERS))
def test_the_default_client_closes_its_connections_when_its_loop_ends(
    run: Callable[[MiniAgent], str], server: LoopbackOpenAI
) -> None:
    agent = OpenAIAgent.fork(model="gpt-4o-mini")

    assert run(agent) == "Hello"
    assert server.opened == 1
    assert server.wait_all_closed() == 0


def test_calls_in_one_loop_share_the_default_clients_connection(server: LoopbackOpenAI) -> None:
    agent = OpenAIAgent.fork(model="gpt-4o-mini")

    async def main() -> list[str]:
        texts = []
        async with MiniAgents():
            for _ in range(3):
                (message,) = await agent.trigger("Hi").acollect_messages()
                texts.append(str(message))
        return texts

    assert asyncio.run(main()) == ["Hello"] * 3
    assert server.opened == 1  # kept alive from one call to the next, not one per call
    assert server.wait_all_closed() == 0
