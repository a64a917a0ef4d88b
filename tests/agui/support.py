"""Real parts for the AG-UI tests: uvicorn serving an app on a loopback port it picks (in a
thread), the agents served, and a reader that validates every event with ag-ui-protocol."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
from ag_ui.core import BaseEvent, Event, EventType
from httpx_sse import aconnect_sse
from pydantic import TypeAdapter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from miniagents_lc import InteractionContext, MiniAgent, miniagent
from miniagents_lc import Message as OurMessage
from miniagents_lc.demo.team import Specialist, build_team
from miniagents_lc.langchain import chat_model_agent
from miniagents_lc.testing.chat_models import ScriptedChatModel
from tests.servers import serve_in_thread as serve_in_thread  # re-exported

EVENT: TypeAdapter[Any] = TypeAdapter(Event)


class DisconnectClock:
    """ASGI middleware noting when the server learns that a client has gone."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.noticed: list[float] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def noting() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.noticed.append(time.monotonic())
            return message

        await self.app(scope, noting, send)


def run_input(text: str = "How?", **forwarded: Any) -> dict[str, Any]:
    """A `RunAgentInput` as an AG-UI client posts it."""
    return {
        "threadId": f"thread-{uuid.uuid4().hex[:8]}",
        "runId": f"run-{uuid.uuid4().hex[:8]}",
        "messages": [{"id": "m1", "role": "user", "content": text}],
        "tools": [],
        "context": [],
        "state": {},
        "forwardedProps": forwarded,
    }


async def read_events(
    url: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> list[BaseEvent]:
    """Every event of one run, each validated by ag-ui-protocol's models (strictly: the JSON
    as sent, discriminated by its `type`)."""
    events: list[BaseEvent] = []
    async for event in stream_events(url, body, headers):
        events.append(event)
    return events


async def stream_events(
    url: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> AsyncIterator[BaseEvent]:
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client,
        aconnect_sse(client, "POST", url, json=body, headers=dict(headers or {})) as source,
    ):
        assert source.response.status_code == 200, await source.response.aread()
        assert source.response.headers["content-type"].startswith("text/event-stream")
        async for sse in source.aiter_sse():
            assert set(json.loads(sse.data)) >= {"type"}
            yield EVENT.validate_json(sse.data)


def parse_sse_text(text: str) -> list[BaseEvent]:
    """The events of a whole SSE body, each validated."""
    return [
        EVENT.validate_json(line[len("data: ") :])
        for line in text.splitlines()
        if line.startswith("data: ")
    ]


def of_type(events: list[BaseEvent], kind: EventType) -> list[Any]:
    return [event for event in events if event.type == kind]


def texts_by_message(events: list[BaseEvent]) -> list[str]:
    """The text of each message, in the order the messages started."""
    texts: dict[str, list[str]] = {}
    for event in events:
        if event.type == EventType.TEXT_MESSAGE_START:
            texts[event.message_id] = []  # type: ignore[attr-defined]
        elif event.type == EventType.TEXT_MESSAGE_CONTENT:
            texts[event.message_id].append(event.delta)  # type: ignore[attr-defined]
    return ["".join(parts) for parts in texts.values()]


TEAM_CALLERS = {
    "researcher": None,
    "skeptic": None,
    "planner": None,
    "estimator": "planner",
    "researcher-model": "researcher",
    "skeptic-model": "skeptic",
    "planner-model": "planner",
    "estimator-model": "estimator",
}
"""Each call of the demo team, by alias, and the alias of the call that made it."""

TEAM_AUTHORS = [
    "researcher",
    "researcher-model",
    "skeptic",
    "skeptic-model",
    "planner",
    "planner-model",
    "estimator",
    "estimator-model",
]
"""The call that produced each message of the demo team's reply, in reply order."""


def quick_team() -> MiniAgent:
    """The demo team on the scripted model with short delays."""

    def model_agent(specialist: Specialist) -> MiniAgent:
        model = ScriptedChatModel(
            reply=specialist.scripted_reply, first_token_delay=0.005, token_delay=0.001
        )
        return chat_model_agent(model, alias=f"{specialist.alias}-model")

    return build_team(model_agent)


async def astream_text(agent: MiniAgent, text: str, **kwargs: Any) -> str:
    """What `.astream()` gives for `text`, as one string."""
    return "".join([str(chunk.content) async for chunk in agent.astream(text, **kwargs)])


@miniagent
async def greeter(ctx: InteractionContext, greeting: str = "hello") -> None:
    """Replies `greeting`, then the last thing it was told."""
    messages = await ctx.message_promises.acollect_messages()
    ctx.reply(OurMessage(text=f"{greeting}: {messages[-1].text}", role="assistant"))


@miniagent
async def broken(ctx: InteractionContext) -> None:
    """Fails at once."""
    raise ValueError("broken on purpose")


def endless(stopped: list[float], stopped_event: threading.Event) -> MiniAgent:
    """An agent whose sub-agent streams a token every 5 ms until cancelled; its `finally`
    notes when."""

    @miniagent
    async def ticker(ctx: InteractionContext) -> None:
        async def tokens() -> AsyncIterator[str]:
            try:
                while True:
                    yield "tick "
                    await asyncio.sleep(0.005)
            finally:
                stopped.append(time.monotonic())
                stopped_event.set()

        ctx.reply(OurMessage.promise(tokens(), role="assistant"))

    @miniagent
    async def forever(ctx: InteractionContext) -> None:
        ctx.reply(ticker.trigger(ctx.message_promises))

    return forever
