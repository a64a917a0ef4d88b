"""A remote agent behaves as a local one: its reply, in order, from a real server on loopback."""

from __future__ import annotations

import re
import time

import pytest

from miniagents_lc import MiniAgents, miniagent
from miniagents_lc.remote import RemoteAgent, RemoteAgentError, RemoteRunLostError, create_app

from .served import count, relay, token
from .support import CuttingProxy, read_tokens, serve_in_thread

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


def expected_text(n: int) -> str:
    return "".join(token(index) for index in range(n))


async def texts_of(agent: RemoteAgent, **kwargs: object) -> list[str]:
    return [str(message) for message in await agent.trigger("go", **kwargs).acollect_messages()]


async def test_reply_is_rebuilt_message_by_message(base_url: str) -> None:
    async with MiniAgents():
        texts = await texts_of(RemoteAgent(base_url, "count"), n=25)
    assert texts[0].startswith("[count")
    assert texts[1:] == [expected_text(25)]


async def test_same_reply_as_the_local_agent(base_url: str) -> None:
    async with MiniAgents():
        remote = [
            str(m)
            for m in await RemoteAgent(base_url, "count").trigger("go", n=7).acollect_messages()
        ]
        local = [str(m) for m in await count.trigger("go", n=7).acollect_messages()]
    assert remote == local


async def test_works_through_astream_and_nested_in_a_local_agent(base_url: str) -> None:
    remote = RemoteAgent(base_url, "count", alias="counter")

    @miniagent
    async def host(ctx) -> None:  # type: ignore[no-untyped-def]
        ctx.reply("[host]")
        ctx.reply(remote.trigger(ctx.message_promises, n=5))

    chunks = [chunk.content async for chunk in host.astream("go")]
    text = "".join(str(chunk) for chunk in chunks)
    assert text.startswith("[host]\n\n[count")
    assert text.endswith(expected_text(5))


async def test_two_level_remote_tree_streams_continuously() -> None:
    """Client -> relay (server A) -> count (server B): order kept, first token long before
    the last is produced."""
    first_token_at: list[float] = []

    def first_token() -> None:
        first_token_at.append(time.monotonic() - started)

    with (
        serve_in_thread(create_app([count])) as inner_url,
        serve_in_thread(create_app([relay])) as outer_url,
    ):
        async with MiniAgents():
            started = time.monotonic()
            reply = RemoteAgent(outer_url, "relay").trigger(
                "go", inner_url=inner_url, n=40, pace=0.01
            )
            texts = await read_tokens(reply, [], at=1, then=first_token)
            total = time.monotonic() - started
    assert texts[0] == "[relay]"
    assert texts[1].startswith("[count")
    assert texts[2] == expected_text(40)
    # 40 tokens 10 ms apart take at least 0.4 s; the first arrives well before that.
    assert total >= 0.4
    assert first_token_at[0] < total / 2


async def test_server_error_arrives_after_the_partial_tokens(base_url: str) -> None:
    received: list[str] = []
    async with MiniAgents():
        reply = RemoteAgent(base_url, "failing", alias="flaky").trigger("go", n=3)
        with pytest.raises(RemoteAgentError) as caught:
            await read_tokens(reply, received)
    assert received == [token(0), token(1), token(2)]
    assert caught.value.alias == "flaky"
    assert caught.value.error_type == "ValueError"
    assert caught.value.message == "failed after 3 tokens"


async def test_resumes_after_the_connection_is_cut_mid_stream(base_url: str) -> None:
    async with CuttingProxy([base_url]) as proxy, MiniAgents():
        agent = RemoteAgent(proxy.url, "count")
        reply = agent.trigger("go", n=120, pace=0.005)
        texts = await read_tokens(reply, [], at=20, then=proxy.cut)
    assert texts[1] == expected_text(120)
    assert proxy.connections_by_upstream == [2]


@pytest.mark.parametrize(
    ("limits", "attempts"),
    [
        ({"max_retries": 2}, r"3 attempt\(s\) over \d+\.\d s"),
        ({"reconnect_window": 0.3}, r"\d+ attempt\(s\) over 0\.[3-9] s"),
    ],
    ids=["max-retries", "window"],
)
async def test_a_call_that_reaches_no_server_gives_up_without_calling_a_run_lost(
    limits: dict[str, float], attempts: str
) -> None:
    async with MiniAgents():
        agent = RemoteAgent("http://127.0.0.1:9", "count", backoff=0.01, **limits)  # type: ignore[arg-type]
        started = time.monotonic()
        with pytest.raises(RemoteAgentError) as caught:
            await agent.trigger("go").acollect_messages()
    assert not isinstance(caught.value, RemoteRunLostError)
    assert caught.value.error_type == "ConnectError"
    assert re.search(
        rf"did not get through to http://127.0.0.1:9 \({attempts}\)", str(caught.value)
    )
    assert time.monotonic() - started < 5


async def test_a_fork_calls_the_same_remote_agent_under_its_own_alias(base_url: str) -> None:
    fork = RemoteAgent(base_url, "failing").fork("other-alias")
    async with MiniAgents():
        with pytest.raises(RemoteAgentError) as caught:
            await fork.trigger("go", n=1).acollect_messages()
    assert caught.value.alias == "other-alias"
