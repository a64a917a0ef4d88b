"""Agents served over HTTP and called as local ones (offline: everything on loopback).

A server (started here, in this process, on a free loopback port) serves two agents. A local
`team` calls both through `RemoteAgent`: they run in parallel on the server, and their replies
reach the team's reader in order, token by token, as if they were local. Then the raw wire:
the first events of a run as server-sent events (`id:` = `seq`), and a resume from a `seq`.

Run it with `python examples/remote_agents.py`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator

import httpx
import uvicorn
from httpx_sse import aconnect_sse

from miniagents_lc import InteractionContext, Message, MiniAgents, miniagent
from miniagents_lc.remote import RemoteAgent, RemoteAgentError, create_app


async def _words(text: str, pause: float) -> AsyncIterator[str]:
    for word in text.split(" "):
        yield word + " "
        await asyncio.sleep(pause)


@miniagent
async def researcher(ctx: InteractionContext) -> None:
    """Answers slowly, word by word."""
    messages = await ctx.message_promises.acollect_messages()
    question = " ".join(str(message) for message in messages)
    ctx.reply(Message(text="[researcher]", role="assistant"))
    answer = f"On '{question}': tokens should reach the reader as soon as they exist."
    ctx.reply(Message.promise(_words(answer, 0.03), role="assistant"))


@miniagent
async def critic(ctx: InteractionContext) -> None:
    """Answers fast."""
    ctx.reply(Message(text="[critic]", role="assistant"))
    ctx.reply(Message.promise(_words("Resuming must not lose a token.", 0.01), role="assistant"))


@miniagent
async def broken(ctx: InteractionContext) -> None:
    """Streams a little, then fails on the server."""

    async def tokens() -> AsyncIterator[str]:
        yield "Half an answer "
        raise RuntimeError("the database is down")

    ctx.reply(Message.promise(tokens(), role="assistant"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def main() -> None:
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(
        uvicorn.Config(
            create_app([researcher, critic, broken]),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)

    remote_researcher = RemoteAgent(base_url, "researcher")
    remote_critic = RemoteAgent(base_url, "critic")

    @miniagent
    async def team(ctx: InteractionContext) -> None:
        question = ctx.message_promises
        ctx.reply(remote_researcher.trigger(question))
        ctx.reply(remote_critic.trigger(question))

    started = time.monotonic()
    async with MiniAgents():
        print("== a local team of two remote agents, in reply order ==")
        async for message in team.trigger("Why stream?"):
            print(f"[{time.monotonic() - started:.2f}s] ", end="", flush=True)
            async for token in message:
                print(token, end="", flush=True)
            print()

        print("\n== a remote failure, after the tokens that made it ==")
        try:
            async for message in RemoteAgent(base_url, "broken").trigger("go"):
                async for token in message:
                    print(token, end="", flush=True)
        except RemoteAgentError as error:
            print(
                f"\n{type(error).__name__}: alias={error.alias!r}, "
                f"error_type={error.error_type!r}, message={error.message!r}"
            )

    print("\n== the wire: a run's first events, then a resume after seq 3 ==")
    async with httpx.AsyncClient(base_url=base_url) as client:
        async with aconnect_sse(
            client, "POST", "/agents/critic/runs", json={"input": "Why stream?"}
        ) as source:
            run_id = source.response.headers["x-run-id"]
            async for sse in source.aiter_sse():
                event = json.loads(sse.data)
                print(f"id: {sse.id}  {event['method']:9} {event['params']['data']['event']}")
                if sse.id == "3":
                    break  # the connection drops here
        async with aconnect_sse(
            client, "GET", f"/runs/{run_id}/events", headers={"Last-Event-ID": "3"}
        ) as source:
            kinds = [sse.event for sse in [sse async for sse in source.aiter_sse()]]
            print(f"resumed: {kinds.count('message')} more events, then {kinds[-1]!r}")

    server.should_exit = True
    await serving


if __name__ == "__main__":
    asyncio.run(main())
