"""AnthropicAgent with `client=None`: one default client per event loop, closed when the loop
ends, made from the environment; and the API key, which it sends and never shows.

The kit's transport mock keeps no connections, so a client reused across loops only breaks on
a real socket: these tests serve the SSE body from an HTTP server on a loopback port.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import anthropic
import pytest
from miniagents_lc import MiniAgent, MiniAgents
from miniagents_lc.testing import LoopbackSSEServer

from miniagents_lc_anthropic import AnthropicAgent
from miniagents_lc_anthropic.testing import AnthropicMock, MessagesStreamBuilder

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

MODEL = "claude-sonnet-4-5"
KEY = "sk-ant-api03-loopback-secret-0123456789"
BODY = MessagesStreamBuilder("msg_loopback").plan(["Hel", "lo"]).body()


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An environment where the SDK finds no credential: no key, token, federation or profile
    (the profiles on disk live under the home directory, here an empty one)."""
    for name in [name for name in os.environ if name.startswith("ANTHROPIC_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))


@pytest.fixture
def server(no_credentials: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackSSEServer]:
    """A loopback server that the default client (built from the environment) talks to."""
    with LoopbackSSEServer(BODY) as loopback:
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", loopback.base_url)
        yield loopback


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
def test_runs_on_one_loop_after_another_each_get_the_reply_and_close_their_connections(
    run: Callable[[MiniAgent], str], server: LoopbackSSEServer
) -> None:
    agent = AnthropicAgent.fork(model=MODEL)

    assert [run(agent), run(agent)] == ["Hello"] * 2
    assert server.opened == 2  # one client, and so one connection, per loop
    assert server.wait_all_closed() == 0
    assert server.authorizations == [f"Bearer {KEY}"] * 2


def test_calls_in_one_loop_share_the_default_clients_connection(server: LoopbackSSEServer) -> None:
    agent = AnthropicAgent.fork(model=MODEL)

    async def main() -> list[str]:
        async with MiniAgents():
            return [str(m) for _ in range(3) for m in await agent.trigger("Hi").acollect_messages()]

    assert asyncio.run(main()) == ["Hello"] * 3
    assert server.opened == 1  # kept alive from one call to the next, not one per call
    assert server.wait_all_closed() == 0


async def test_a_missing_key_is_named_to_the_reader_before_any_request(
    no_credentials: None, anthropic_mock: AnthropicMock
) -> None:
    agent = AnthropicAgent.fork(model=MODEL)
    async with MiniAgents():
        reply = agent.trigger("Hi")  # no error yet
        with pytest.raises(RuntimeError, match="ANTHROPIC_API_KEY") as raised:
            await reply.acollect_messages()

    assert "client=anthropic.AsyncAnthropic(api_key=...)" in str(raised.value)
    assert anthropic_mock.requests == []


async def test_the_key_never_appears_in_reprs_logs_or_errors(
    anthropic_mock: AnthropicMock, caplog: pytest.LogCaptureFixture
) -> None:
    anthropic_mock.messages(status=401)
    agent = AnthropicAgent.fork(model=MODEL, client=anthropic_mock.async_client(api_key=KEY))
    caplog.set_level(logging.DEBUG)

    async with MiniAgents():
        reply = agent.trigger("Hi")
        with pytest.raises(anthropic.AuthenticationError) as raised:
            await reply.acollect_messages()

    assert anthropic_mock.requests[0].headers["authorization"] == f"Bearer {KEY}"  # it was sent
    shown = [repr(agent), str(agent), repr(reply), str(raised.value), repr(raised.value)]
    shown += [caplog.text, repr(raised.value.body)]
    assert [text for text in shown if KEY in text] == []
