"""A `RemoteAgent` hop keeps one trace: the client sends the W3C `traceparent` of the remote
call's span and the server's run continues it (real uvicorn on loopback)."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from remote.support import serve_in_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from miniagents_lc import (
    Instrument,
    InteractionContext,
    MiniAgents,
    chat_model_agent,
    instrumented,
    miniagent,
)
from miniagents_lc.otel import instrument
from miniagents_lc.remote import RemoteAgent, create_app
from miniagents_lc.testing.chat_models import ScriptedChatModel

from .spans import agent, model_agent, span_tree

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


def instrumented_app(app: ASGIApp, instruments: list[Instrument]) -> ASGIApp:
    """`app` whose requests run their agents under `instruments` (a scope per request)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        with instrumented(*instruments):
            await app(scope, receive, send)

    return wrapped


async def test_a_remote_hop_continues_the_callers_trace(
    tracer_provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    model = ScriptedChatModel(reply="served words", first_token_delay=0, token_delay=0)
    llm = chat_model_agent(model, alias="llm")

    @miniagent
    async def answer(ctx: InteractionContext) -> None:
        ctx.reply(llm.trigger(ctx.message_promises))

    app = instrumented_app(create_app([answer]), [instrument(tracer_provider)])
    with serve_in_thread(app) as base_url:
        remote = RemoteAgent(base_url, "answer", alias="far")

        @miniagent
        async def near(ctx: InteractionContext) -> None:
            ctx.reply(remote.trigger(ctx.message_promises))

        async with MiniAgents(instruments=[instrument(tracer_provider)]):
            messages = await near.trigger("go").acollect_messages()
    assert [str(message) for message in messages] == ["served words"]
    spans = exporter.get_finished_spans()
    assert span_tree(spans) == [
        agent("near", agent("far", agent("answer", model_agent("llm", "scripted-demo-model"))))
    ]
    assert len({span.context.trace_id for span in spans}) == 1
