"""The provider adapters with `client=None`: one default client per event loop, made from the
environment at its first use there, shared by the calls in that loop and closed when the loop
ends. One specification for every adapter.

The kits' transport mock keeps no connections, so a client reused across loops only breaks on
a real socket: these tests serve each provider's SSE body from an HTTP server on a loopback
port.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from miniagents_lc_anthropic import AnthropicAgent
from miniagents_lc_anthropic.testing import MessagesStreamBuilder
from miniagents_lc_openai import OpenAIAgent
from miniagents_lc_openai.testing import ChatStreamBuilder, chat_usage

from miniagents_lc import MiniAgent, MiniAgents
from miniagents_lc.testing import LoopbackSSEServer

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


@dataclass(frozen=True)
class Provider:
    """An adapter, the body its API streams ("Hello"), the environment that aims its default
    client at a server, and the credential that client then sends."""

    agent: MiniAgent
    body: bytes
    prefix: str  # of the environment variables the SDK reads
    environment: Callable[[str], dict[str, str]]
    authorization: str


PROVIDERS = {
    "openai": Provider(
        OpenAIAgent.fork(model="gpt-4o-mini"),
        ChatStreamBuilder("chatcmpl-loopback", with_usage_field=True)
        .plan(["Hel", "lo"], usage=chat_usage(3, 2))
        .body(),
        "OPENAI_",
        lambda url: {"OPENAI_API_KEY": "sk-loopback", "OPENAI_BASE_URL": url + "/v1"},
        "Bearer sk-loopback",
    ),
    "anthropic": Provider(
        AnthropicAgent.fork(model="claude-sonnet-4-5"),
        MessagesStreamBuilder("msg_loopback").plan(["Hel", "lo"]).body(),
        "ANTHROPIC_",
        lambda url: {"ANTHROPIC_API_KEY": "sk-ant-loopback", "ANTHROPIC_BASE_URL": url},
        "Bearer sk-ant-loopback",
    ),
}


@pytest.fixture(params=list(PROVIDERS.values()), ids=list(PROVIDERS))
def provider(request: pytest.FixtureRequest) -> Provider:
    chosen: Provider = request.param
    return chosen


@pytest.fixture
def server(
    provider: Provider, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[LoopbackSSEServer]:
    """A loopback server that the provider's default client (built from an environment that
    names it and nothing else of the reader's) talks to."""
    for name in [name for name in os.environ if name.startswith(provider.prefix)]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))  # no credential profiles on disk
    with LoopbackSSEServer(provider.body) as loopback:
        for name, value in provider.environment(loopback.base_url).items():
            monkeypatch.setenv(name, value)
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
def test_runs_on_one_loop_after_another_each_get_the_reply(
    run: Callable[[MiniAgent], str], provider: Provider, server: LoopbackSSEServer
) -> None:
    assert [run(provider.agent) for _ in range(3)] == ["Hello"] * 3
    assert server.opened == 3  # one client, and so one connection, per loop
    assert server.authorizations == [provider.authorization] * 3


@pytest.mark.parametrize("run", list(RUNNERS.values()), ids=list(RUNNERS))
def test_the_default_client_closes_its_connections_when_its_loop_ends(
    run: Callable[[MiniAgent], str], provider: Provider, server: LoopbackSSEServer
) -> None:
    assert run(provider.agent) == "Hello"
    assert server.opened == 1
    assert server.wait_all_closed() == 0


def test_calls_in_one_loop_share_the_default_clients_connection(
    provider: Provider, server: LoopbackSSEServer
) -> None:
    async def main() -> list[str]:
        texts = []
        async with MiniAgents():
            for _ in range(3):
                (message,) = await provider.agent.trigger("Hi").acollect_messages()
                texts.append(str(message))
        return texts

    assert asyncio.run(main()) == ["Hello"] * 3
    assert server.opened == 1  # kept alive from one call to the next, not one per call
    assert server.wait_all_closed() == 0
