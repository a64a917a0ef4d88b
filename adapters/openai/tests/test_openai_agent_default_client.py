"""OpenAIAgent with `client=None`: one default client per event loop, closed when the loop ends.

The kit's transport mock keeps no connections, so a client reused across loops only breaks on
a real socket: these tests serve the SSE body from an HTTP server on a loopback port.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
from miniagents_lc import MiniAgent, MiniAgents
from miniagents_lc.testing import LoopbackSSEServer

from miniagents_lc_openai import OpenAIAgent
from miniagents_lc_openai.testing import ChatStreamBuilder, chat_usage

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

REPLY = ["Hel", "lo"]
BODY = (
    ChatStreamBuilder("chatcmpl-loopback", with_usage_field=True)
    .plan(REPLY, usage=chat_usage(3, 2))
    .body()
)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackSSEServer]:
    """A loopback server that the default client (built from the environment) talks to."""
    with LoopbackSSEServer(BODY) as loopback:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-loopback")
        monkeypatch.setenv("OPENAI_BASE_URL", loopback.base_url + "/v1")
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
    run: Callable[[MiniAgent], str], server: LoopbackSSEServer
) -> None:
    agent = OpenAIAgent.fork(model="gpt-4o-mini")

    assert [run(agent), run(agent), run(agent)] == ["Hello"] * 3


@pytest.mark.parametrize("run", list(RUNNERS.values()), ids=list(RUNNERS))
def test_the_default_client_closes_its_connections_when_its_loop_ends(
    run: Callable[[MiniAgent], str], server: LoopbackSSEServer
) -> None:
    agent = OpenAIAgent.fork(model="gpt-4o-mini")

    assert run(agent) == "Hello"
    assert server.opened == 1
    assert server.wait_all_closed() == 0


def test_calls_in_one_loop_share_the_default_clients_connection(server: LoopbackSSEServer) -> None:
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
