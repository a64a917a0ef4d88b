"""A mixed team over Agent2Agent, offline: one local agent, one A2A agent written with a2a-sdk
alone, served on a loopback port picked here.

`poet` knows nothing of miniagents_lc: it is an a2a-sdk `AgentExecutor` streaming a haiku as
one artifact, line by line. `A2AAgent` makes it a `MiniAgent`; the local `team` asks it and a
local `critic` at once and replies with both, in order, streamed token by token. Then the team
itself is served with `create_a2a_app` and read by a2a-sdk's own client: one artifact per reply
message, appended chunk by chunk.

Run it with `python examples/a2a_agents.py`.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import uvicorn
from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    Message,
    Part,
    Role,
    SendMessageRequest,
    Task,
    TaskState,
    TaskStatus,
)
from starlette.applications import Starlette

from miniagents_lc import InteractionContext, miniagent
from miniagents_lc import Message as MiniMessage
from miniagents_lc.a2a import A2AAgent, create_a2a_app

START = time.monotonic()
HAIKU = ["Tokens in the stream\n", "each agent writes as it thinks\n", "the reader keeps up"]


def say(text: str) -> None:
    print(f"[{time.monotonic() - START:.2f}s] {text}", flush=True)


class PoetExecutor(AgentExecutor):
    """A plain a2a-sdk agent: one artifact, a line per chunk."""

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        updater = TaskUpdater(event_queue, context.task_id or "", context.context_id or "")
        task = Task(id=updater.task_id, context_id=updater.context_id)
        task.status.CopyFrom(TaskStatus(state=TaskState.TASK_STATE_SUBMITTED))
        await event_queue.enqueue_event(task)
        await updater.start_work()
        for index, line in enumerate(HAIKU):
            await asyncio.sleep(0.1)
            await updater.add_artifact(
                [Part(text=line)],
                artifact_id="haiku",
                name="haiku",
                append=index > 0,
                last_chunk=index == len(HAIKU) - 1,
            )
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        await TaskUpdater(event_queue, context.task_id or "", context.context_id or "").cancel()


def poet_app(url: str) -> Starlette:
    card = AgentCard(
        name="poet",
        description="Writes a haiku about the question.",
        version="1.0",
        supported_interfaces=[
            AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0")
        ],
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[AgentSkill(id="haiku", name="haiku", description="Haiku", tags=["poetry"])],
    )
    handler = DefaultRequestHandler(
        agent_executor=PoetExecutor(), task_store=InMemoryTaskStore(), agent_card=card
    )
    return Starlette(
        routes=[*create_agent_card_routes(card), *create_jsonrpc_routes(handler, rpc_url="/")]
    )


async def _words(text: str) -> AsyncIterator[str]:
    for word in text.split(" "):
        await asyncio.sleep(0.02)
        yield word + " "


@miniagent
async def critic(ctx: InteractionContext) -> None:
    """A local agent: a short verdict, word by word."""
    ctx.reply(MiniMessage.promise(_words("Short, and it streams."), role="assistant"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def serving(app: Starlette, port: int) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
    return server, task


async def main() -> None:
    poet_port, team_port = free_port(), free_port()
    servers = [await serving(poet_app(f"http://127.0.0.1:{poet_port}/"), poet_port)]
    try:
        poet = await A2AAgent.afrom_url(f"http://127.0.0.1:{poet_port}")
        say(f"{poet!r}: {poet.description}")

        @miniagent
        async def team(ctx: InteractionContext) -> None:
            """Asks the poet (over A2A) and the critic (local) at once."""
            ctx.reply([poet.trigger(ctx.message_promises), critic.trigger(ctx.message_promises)])

        say("team, streamed through LangChain's astream():")
        async for chunk in team.astream("streaming agents"):
            say(f"  {chunk.text!r}")

        servers.append(await serving(create_a2a_app(team), team_port))
        say("the team served over A2A, read by a2a-sdk's client:")
        async with httpx.AsyncClient() as http:
            card = await A2ACardResolver(http, f"http://127.0.0.1:{team_port}").get_agent_card()
            client = ClientFactory(ClientConfig(httpx_client=http)).create(card)
            request = SendMessageRequest(
                message=Message(
                    role=Role.ROLE_USER, message_id=uuid.uuid4().hex, parts=[Part(text="again")]
                )
            )
            async for response in client.send_message(request):
                if response.HasField("artifact_update"):
                    update = response.artifact_update
                    say(
                        f"  artifact {update.artifact.artifact_id} append={update.append} "
                        f"last={update.last_chunk}: {update.artifact.parts[0].text!r}"
                    )
                elif response.HasField("status_update"):
                    status = response.status_update.status
                    note = "".join(part.text for part in status.message.parts)
                    say(f"  status {TaskState.Name(status.state)} {note}".rstrip())
    finally:
        for server, task in servers:
            server.should_exit = True
            await task


if __name__ == "__main__":
    asyncio.run(main())
