"""`AGUIAgent` against our AG-UI server on real uvicorn: the reply streams as the served agent's
does, errors and refusals become `AGUIAgentError`, and a caller that stops cancels the call."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from ag_ui.core import RunFinishedEvent, RunStartedEvent, TextMessageChunkEvent
from ag_ui.encoder import EventEncoder
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from miniagents_lc import InteractionContext, miniagent
from miniagents_lc.agui import AGUIAgent, AGUIAgentError, create_agui_app

from .support import astream_text, broken, endless, greeter, quick_team, serve_in_thread

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

TOKEN = "client-test-token"
STOPPED: list[float] = []
STOPPED_EVENT = threading.Event()


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    agents = [quick_team(), greeter, broken, endless(STOPPED, STOPPED_EVENT)]
    with serve_in_thread(create_agui_app(agents, token=TOKEN)) as served:
        yield served


async def test_the_reply_is_the_served_agents_reply(url: str) -> None:
    remote_team = AGUIAgent(f"{url}/team", alias="remote-team", token=TOKEN)
    assert await astream_text(remote_team, "Why?") == await astream_text(quick_team(), "Why?")


async def test_the_reply_streams_inside_a_local_tree(url: str) -> None:
    remote_greeter = AGUIAgent(f"{url}/greeter", alias="remote-greeter", token=TOKEN)

    @miniagent
    async def host(ctx: InteractionContext) -> None:
        ctx.reply("local first")
        ctx.reply(remote_greeter.trigger(ctx.message_promises, greeting="hey"))

    assert await astream_text(host, "Bo") == "local first\n\nhey: Bo"


@pytest.mark.parametrize(
    ("path", "token", "says"),
    [
        ("broken", TOKEN, "broken on purpose"),
        ("team", "wrong", "HTTP 401"),
        ("nobody", TOKEN, "HTTP 404"),
    ],
    ids=["RUN_ERROR", "refused token", "unknown agent"],
)
async def test_failures_end_the_reply_with_agui_agent_error(
    url: str, path: str, token: str, says: str
) -> None:
    agent = AGUIAgent(f"{url}/{path}", alias="remote", token=token)
    with pytest.raises(AGUIAgentError, match=says) as raised:
        await agent.ainvoke("go")
    assert "wrong" not in str(raised.value)
    assert TOKEN not in str(raised.value)
    assert TOKEN not in repr(agent)


async def test_a_caller_that_stops_early_cancels_the_remote_run(url: str) -> None:
    remote = AGUIAgent(f"{url}/forever", alias="remote-forever", token=TOKEN)
    chunks = remote.astream("go")
    async for chunk in chunks:
        assert str(chunk.content).startswith("tick ")
        break
    await chunks.aclose()
    # The call's task was cancelled with its run: the request closed, the server stopped.
    assert await asyncio.to_thread(STOPPED_EVENT.wait, 5), "the remote agent never stopped"


@miniagent
async def traced(ctx: InteractionContext) -> None:
    """Replies the id of the trace it runs in."""
    span_context = trace.get_current_span().get_span_context()
    ctx.reply(f"{span_context.trace_id:032x}" if span_context.is_valid else "no trace")


async def test_the_callers_trace_continues_at_the_other_end() -> None:
    trace_id = 0x0AF7651916CD43DD8448EB211C80319C
    parent = SpanContext(
        trace_id=trace_id, span_id=0xB7AD6B7169203331, is_remote=False, trace_flags=TraceFlags(1)
    )
    with serve_in_thread(create_agui_app(traced)) as served:
        remote = AGUIAgent(f"{served}/traced", alias="remote-traced")
        token = otel_context.attach(trace.set_span_in_context(NonRecordingSpan(parent)))
        try:
            # AGUIAgent sends `traceparent`; the server runs the agent under it.
            reply = await astream_text(remote, "which trace?")
        finally:
            otel_context.detach(token)
        assert reply == f"{trace_id:032x}"
        assert await astream_text(remote, "and now?") == "no trace"


async def test_text_message_chunks_of_another_server_become_messages() -> None:
    """Another framework's server that streams with the `TEXT_MESSAGE_CHUNK` shorthand."""

    async def endpoint(_request: Request) -> Response:
        encoder = EventEncoder()
        events = [
            RunStartedEvent(thread_id="t", run_id="r"),
            TextMessageChunkEvent(message_id="a", role="assistant", delta="Hel"),
            TextMessageChunkEvent(delta="lo"),
            TextMessageChunkEvent(message_id="b", delta="Bye"),
            RunFinishedEvent(thread_id="t", run_id="r"),
        ]
        body = "".join(encoder.encode(event) for event in events)
        return Response(body, media_type=encoder.get_content_type())

    app = Starlette(routes=[Route("/agent", endpoint, methods=["POST"])])
    with serve_in_thread(app) as served:
        other = AGUIAgent(f"{served}/agent", alias="other")
        assert await astream_text(other, "hi") == "Hello\n\nBye"
