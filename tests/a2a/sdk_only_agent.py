"""An A2A agent written with a2a-sdk alone (no miniagents_lc): it streams its answer as one
artifact in chunks (slowly when the input says `slow`, very slowly when it says `stop`), fails
when the input says `fail`, and honours cancel (its `finally` opens `SDK_STOPPED[input]`)."""

from __future__ import annotations

import asyncio

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
    Part,
    Task,
    TaskState,
    TaskStatus,
)
from a2a_agents import Gate
from starlette.applications import Starlette

SDK_STOPPED: dict[str, Gate] = {}
CHUNKS = ["Forecast: ", "sunny ", "with ", "light ", "wind."]


class ForecastExecutor(AgentExecutor):
    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        question = context.get_user_input()
        updater = TaskUpdater(event_queue, context.task_id or "", context.context_id or "")
        await event_queue.enqueue_event(
            Task(
                id=updater.task_id,
                context_id=updater.context_id,
                status=TaskStatus(state=TaskState.TASK_STATE_SUBMITTED),
            )
        )
        await updater.start_work()
        try:
            for index, chunk in enumerate(CHUNKS):
                if "fail" in question and index == 2:
                    await updater.failed(updater.new_agent_message([Part(text="no satellite")]))
                    return
                await updater.add_artifact(
                    [Part(text=chunk)],
                    artifact_id="forecast",
                    name="forecast",
                    append=index > 0,
                    last_chunk=index == len(CHUNKS) - 1,
                )
                await asyncio.sleep(_gap(question))
            await updater.complete()
        finally:
            SDK_STOPPED.setdefault(question, Gate()).open()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        updater = TaskUpdater(event_queue, context.task_id or "", context.context_id or "")
        await updater.cancel()


def _gap(question: str) -> float:
    """Seconds between chunks: long enough for a stop to tell from the end ("stop"), slow
    enough to see chunk by chunk ("slow"), else quick."""
    if "stop" in question:
        return 0.5
    return 0.05 if "slow" in question else 0.002


def forecast_app(url: str) -> Starlette:
    """The forecast agent served at `url` (its JSON-RPC endpoint) by a2a-sdk's routes."""
    card = AgentCard(
        name="forecast",
        description="Tells the weather.",
        version="1.0",
        supported_interfaces=[
            AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0")
        ],
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[AgentSkill(id="forecast", name="forecast", description="Weather", tags=["w"])],
    )
    handler = DefaultRequestHandler(
        agent_executor=ForecastExecutor(), task_store=InMemoryTaskStore(), agent_card=card
    )
    return Starlette(
        routes=[*create_agent_card_routes(card), *create_jsonrpc_routes(handler, rpc_url="/")]
    )
