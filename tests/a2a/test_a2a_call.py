"""`A2AAgent`: an agent served over A2A called like a local one, by the test agents' servers."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from a2a.types import CancelTaskRequest
from a2a_agents import GATES, PRODUCED, STOPPED, Gate, team, words
from a2a_support import STOP_WITHIN, TOKEN, SeveringRelay, sdk_client, seconds_to_stop, served
from langchain_core.messages import AIMessage, AIMessageChunk, ToolCall
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from miniagents_lc import InteractionContext, MiniAgents, miniagent
from miniagents_lc.a2a import A2AAgent, A2AAgentError
from miniagents_lc.langchain import tool_agent
from miniagents_lc.remote import create_app
from miniagents_lc.testing.chat_models import ScriptedToolModel

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


async def texts_of(agent: A2AAgent | object, text: str) -> list[str]:
    """The messages of the agent's reply to `text`."""
    async with MiniAgents():
        return [str(message) for message in await agent.trigger(text).acollect_messages()]  # type: ignore[attr-defined]


async def test_alias_and_description_come_from_the_card(agents_url: str) -> None:
    remote = await A2AAgent.afrom_url(f"{agents_url}/words")
    assert (remote.alias, remote.description) == ("words", words.description)
    assert "token" not in repr(A2AAgent(f"{agents_url}/words", alias="w", token=TOKEN))


async def test_without_an_alias_in_async_code_the_constructor_says_what_to_do(
    agents_url: str,
) -> None:
    with pytest.raises(RuntimeError, match="afrom_url"):
        A2AAgent(f"{agents_url}/words")


async def test_outside_an_event_loop_the_constructor_reads_the_card(agents_url: str) -> None:
    remote = await asyncio.to_thread(A2AAgent, f"{agents_url}/words")
    assert (remote.alias, remote.description) == ("words", words.description)


async def test_the_reply_streams_the_same_text_as_the_local_agent(agents_url: str) -> None:
    remote = A2AAgent(f"{agents_url}/team", alias="team")
    local_text = "".join([chunk.text async for chunk in team.astream("go")])
    assert "".join([chunk.text async for chunk in remote.astream("go")]) == local_text


async def test_a_remote_agent_takes_its_place_in_a_team_of_local_agents(agents_url: str) -> None:
    remote = A2AAgent(f"{agents_url}/team", alias="remote-team")

    @miniagent
    async def mixed(ctx: InteractionContext) -> None:
        ctx.reply("local before")
        ctx.reply(remote.trigger(ctx.message_promises))
        ctx.reply(words.trigger(ctx.message_promises))

    assert await texts_of(mixed, "go") == [
        "local before",
        "team here",
        "slow and steady",
        "quick one",
        "go done.",
    ]


async def test_tokens_arrive_while_the_remote_agent_still_works(agents_url: str) -> None:
    key = uuid.uuid4().hex
    gate = GATES[key] = Gate()
    remote = A2AAgent(f"{agents_url}/gated", alias="gated")
    seen = []
    async for chunk in remote.astream(key):
        seen.append(chunk.text)
        if chunk.text == "first ":
            received = time.monotonic()
            gate.open()
    assert "".join(seen) == "first last"
    assert received < PRODUCED[key]


async def test_as_a_tool_it_answers_with_its_reply_text(agents_url: str) -> None:
    tool = A2AAgent(f"{agents_url}/words", alias="words").as_tool()
    assert await tool.ainvoke({"request": "a b"}) == "a b done."


async def test_a_failed_task_ends_the_reply_after_its_partial_tokens(agents_url: str) -> None:
    remote = A2AAgent(f"{agents_url}/failing", alias="flaky")
    seen: list[str] = []
    with pytest.raises(A2AAgentError) as raised:
        await _read_into(remote.astream("go"), seen)
    assert "".join(seen) == "partial text "
    assert (raised.value.alias, raised.value.state) == ("flaky", "failed")
    assert raised.value.message == "Boom: the tool broke"


async def test_a_consumer_that_stops_early_cancels_the_remote_task(agents_url: str) -> None:
    key = uuid.uuid4().hex
    stopped = STOPPED[key] = Gate()
    remote = A2AAgent(f"{agents_url}/gated", alias="gated")
    assert await seconds_to_stop(remote, key, "first ", stopped) < STOP_WITHIN


async def _read_into(chunks: AsyncIterator[AIMessageChunk], seen: list[str]) -> None:
    async for chunk in chunks:
        seen.append(chunk.text)


async def test_a_task_cancelled_on_the_server_ends_the_reply(
    agents_url: str,
) -> None:
    key = uuid.uuid4().hex
    remote = A2AAgent(f"{agents_url}/gated", alias="gated")
    async with MiniAgents():
        reply = remote.trigger(key)
        messages = aiter(reply)
        message = await anext(messages)
        tokens = aiter(message)
        assert await anext(tokens) == "first "
        async with sdk_client(f"{agents_url}/gated") as client:
            task_ids = [t.id async for t in _tasks(client)]
            cancelled = time.monotonic()
            await client.cancel_task(CancelTaskRequest(id=task_ids[-1]))
        with pytest.raises(A2AAgentError) as raised:
            await anext(tokens)
        ended = time.monotonic() - cancelled
        print(f"\nthe reply ended {ended * 1000:.1f} ms after CancelTask was sent")
        assert ended < STOP_WITHIN
    assert raised.value.state == "canceled"


async def _tasks(client: object) -> AsyncIterator[object]:
    from a2a.types import ListTasksRequest, TaskState

    page = await client.list_tasks(ListTasksRequest())  # type: ignore[attr-defined]
    for task in page.tasks:
        if task.status.state == TaskState.TASK_STATE_WORKING:
            yield task


@pytest.mark.parametrize("ends_while_down", [True, False], ids=["ends-while-down", "goes-on"])
async def test_a_cut_stream_is_resubscribed_nothing_lost_or_repeated(
    agents_url: str, caplog: pytest.LogCaptureFixture, ends_while_down: bool
) -> None:
    key = uuid.uuid4().hex
    gate = GATES[key] = Gate()
    caplog.set_level(logging.INFO, logger="miniagents_lc.a2a")
    async with SeveringRelay(agents_url) as relay:

        async def open_once_resubscribed() -> None:
            await relay.reconnected.wait()
            gate.open()

        remote = A2AAgent(f"{relay.url}/gated", alias="gated")
        seen = []
        opener: asyncio.Task[None] | None = None
        async for chunk in remote.astream(key):
            seen.append(chunk.text)
            if chunk.text == "first ":
                relay.sever()
                if ends_while_down:
                    gate.open()  # "last", and the task's end, while nobody listens
                else:
                    opener = asyncio.create_task(open_once_resubscribed())
        if opener is not None:
            await opener
    assert "".join(seen) == "first last"
    assert relay.accepted >= 2
    assert "resubscribing" in caplog.text
    if ends_while_down:
        assert "streamed 4 characters while the stream was down" in caplog.text


async def test_a_wrong_token_is_an_error_naming_the_agent(guarded_url: str) -> None:
    remote = A2AAgent(guarded_url, alias="guarded", token="wrong")
    with pytest.raises(A2AAgentError, match=r"'guarded'.*401"):
        await remote.ainvoke("x")
    right = A2AAgent(guarded_url, alias="guarded", token=TOKEN)
    assert (await right.ainvoke("x y")).content == "x y done."


async def test_create_app_serves_each_agent_over_a2a_too() -> None:
    with served(create_app([words])) as url:
        remote = await A2AAgent.afrom_url(f"{url}/a2a/words")
        assert (await remote.ainvoke("a")).content == "a done."


async def test_in_a_tool_loop_it_answers_as_the_local_agent_does(agents_url: str) -> None:
    def script() -> ScriptedToolModel:
        call = ToolCall(name="words", args={"request": "hi"}, id="1")
        return ScriptedToolModel(
            turns=[AIMessage(content="", tool_calls=[call]), AIMessage(content="That was it.")]
        )

    remote = A2AAgent(f"{agents_url}/words", alias="words")
    answer = await tool_agent(script(), [remote]).ainvoke("go")
    assert answer.content == (await tool_agent(script(), [words]).ainvoke("go")).content
    assert "hi done." in answer.content


async def test_the_callers_trace_context_reaches_the_remote_agents(agents_url: str) -> None:
    trace_id = 0x4BF92F3577B34DA6A3CE929D0E0E4736
    caller = SpanContext(
        trace_id=trace_id, span_id=0x00F067AA0BA902B7, is_remote=False, trace_flags=TraceFlags(1)
    )
    remote = A2AAgent(f"{agents_url}/traced", alias="traced")
    with trace.use_span(NonRecordingSpan(caller)):
        assert (await remote.ainvoke("x")).content == f"{trace_id:032x}"
    assert (await remote.ainvoke("x")).content == "none"
