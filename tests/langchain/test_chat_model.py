"""`MiniAgentChatModel`: an agent standing where a chat model is expected."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import operator
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.load import dumpd
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.utils import message_chunk_to_message

from miniagents_lc import InteractionContext, Message, MiniAgent, MiniAgents, miniagent
from miniagents_lc.langchain import MiniAgentChatModel
from tests.langchain.scripted import OuterContext, three_leaf_tree


def _recording_agent(
    received: list[tuple[Message, ...]], kwargs: list[dict[str, Any]]
) -> MiniAgent:
    @miniagent(alias="recorder")
    async def recorder(ctx: InteractionContext, **call_kwargs: Any) -> None:
        messages = await ctx.message_promises.acollect_messages()
        received.append(messages)
        kwargs.append(call_kwargs)
        ctx.reply(["first reply", "second reply"])

    return recorder


async def test_astream_yields_the_agent_tree_tokens_as_one_message() -> None:
    tree = three_leaf_tree()
    model = MiniAgentChatModel(agent=tree.agent)
    chunks = [chunk async for chunk in model.astream("hi")]
    assert "".join(chunk.text for chunk in chunks) == tree.text
    assert len([chunk for chunk in chunks if chunk.text]) >= 6
    assert len({chunk.id for chunk in chunks}) == 1


async def test_first_token_arrives_while_the_leaves_still_stream() -> None:
    tree = three_leaf_tree()
    model = MiniAgentChatModel(agent=tree.agent)
    loop = asyncio.get_running_loop()
    first_arrival = None
    async for chunk in model.astream("hi"):
        if chunk.text and first_arrival is None:
            first_arrival = loop.time()
    assert first_arrival is not None
    # Long before the middle leaf's last token (about 0.14 s later): streamed, not buffered.
    assert first_arrival < tree.models["leaf_mid"].token_times[-1]


async def test_only_the_last_chunk_is_last_and_carries_usage_and_model_name() -> None:
    tree = three_leaf_tree()
    chunks = [chunk async for chunk in MiniAgentChatModel(agent=tree.agent).astream("hi")]
    assert chunks[-1].chunk_position == "last"
    assert all(chunk.chunk_position is None for chunk in chunks[:-1])
    total = functools.reduce(operator.add, chunks)
    assert isinstance(total, AIMessageChunk)
    assert total.usage_metadata == {"input_tokens": 30, "output_tokens": 12, "total_tokens": 42}
    assert total.response_metadata["model_name"] == "aggregator"
    assert total.response_metadata["finish_reason"] == "stop"
    assert sum(1 for chunk in chunks if chunk.response_metadata.get("model_name")) == 1


async def test_ainvoke_is_the_sum_of_the_stream() -> None:
    tree = three_leaf_tree()
    model = MiniAgentChatModel(agent=tree.agent)
    chunks = [chunk async for chunk in model.astream("hi")]
    streamed = message_chunk_to_message(functools.reduce(operator.add, chunks))
    invoked = await model.ainvoke("hi")
    assert isinstance(invoked, AIMessage)
    assert isinstance(streamed, AIMessage)
    assert invoked.text == streamed.text == tree.text
    assert invoked.usage_metadata == streamed.usage_metadata
    assert invoked.response_metadata["model_name"] == "aggregator"


def test_sync_invoke_and_stream_give_the_same_reply() -> None:
    tree = three_leaf_tree()
    model = MiniAgentChatModel(agent=tree.agent)
    streamed = "".join(chunk.text for chunk in model.stream("hi"))
    assert streamed == model.invoke("hi").text == tree.text


async def test_sync_invoke_works_inside_a_running_loop() -> None:
    tree = three_leaf_tree()
    assert MiniAgentChatModel(agent=tree.agent).invoke("hi").text == tree.text


async def test_input_messages_reach_the_agent_with_their_roles() -> None:
    received: list[tuple[Message, ...]] = []
    model = MiniAgentChatModel(agent=_recording_agent(received, []))
    reply = await model.ainvoke(
        [
            SystemMessage("rules"),
            HumanMessage("question"),
            AIMessage("", tool_calls=[{"name": "f", "args": {}, "id": "c1"}]),
            ToolMessage("result", tool_call_id="c1"),
            ChatMessage(role="user", content="again"),
        ]
    )
    assert reply.text == "first reply\n\nsecond reply"
    (messages,) = received
    assert [(m.role, m.text) for m in messages] == [
        ("system", "rules"),
        ("user", "question"),
        ("assistant", ""),
        ("tool", "result"),
        ("user", "again"),
    ]


async def test_call_kwargs_reach_the_agent_function() -> None:
    kwargs: list[dict[str, Any]] = []
    model = MiniAgentChatModel(agent=_recording_agent([], kwargs))
    await model.ainvoke("hi", style="terse")
    await model.bind(style="bound").ainvoke("hi")
    assert kwargs == [{"style": "terse"}, {"style": "bound"}]


@pytest.mark.parametrize("role", ["critic", "function"])
async def test_an_unknown_role_is_a_value_error_naming_it(role: str) -> None:
    model = MiniAgentChatModel(agent=_recording_agent([], []))
    with pytest.raises(ValueError, match=rf"role '{role}'.*user, assistant, system and tool"):
        await model.ainvoke([ChatMessage(role=role, content="x")])


async def test_streams_with_or_without_an_outer_miniagents_context(
    outer_context: OuterContext,
) -> None:
    tree = three_leaf_tree()
    model = MiniAgentChatModel(agent=tree.agent)
    async with outer_context() as context:
        streamed = "".join([chunk.text async for chunk in model.astream("hi")])
        invoked = (await model.ainvoke("hi")).text
        assert context is None or (isinstance(context, MiniAgents) and context.is_active)
    assert streamed == invoked == tree.text


async def test_early_break_out_of_astream_stops_the_agent_tree_soon() -> None:
    """`BaseChatModel.astream` leaves closing `_astream` to the event loop's async-generator
    finalizer, so the tree stops a few loop iterations after the break, long before it
    would have finished (about 0.2 s)."""
    tree = three_leaf_tree()
    model = MiniAgentChatModel(agent=tree.agent)
    stream = model.astream("hi")
    assert isinstance(stream, AsyncGenerator)
    async with contextlib.aclosing(stream):
        async for chunk in stream:
            if chunk.text:
                break
    for _ in range(5):
        if others := _other_tasks():
            await asyncio.wait(others, timeout=0.1)
    assert _other_tasks() == []
    assert tree.finished == ["interrupted"] * 3


def _other_tasks() -> list[asyncio.Task[Any]]:
    return [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]


async def test_agent_error_reaches_the_caller_unchanged() -> None:
    class Broken(Exception):
        pass

    @miniagent(alias="broken")
    async def broken(ctx: InteractionContext) -> None:
        raise Broken("no reply")

    with pytest.raises(Broken) as raised:
        await MiniAgentChatModel(agent=broken).ainvoke("hi")
    assert "raised in agent 'broken'" in getattr(raised.value, "__notes__", [])


async def test_astream_events_show_the_model_run_streaming_the_agent_tokens() -> None:
    tree = three_leaf_tree()
    model = MiniAgentChatModel(agent=tree.agent)
    events = [event async for event in model.astream_events("hi", version="v2")]
    own = [
        event
        for event in events
        if event["event"] == "on_chat_model_stream" and event["name"] == "MiniAgentChatModel"
    ]
    assert "".join(event["data"]["chunk"].text for event in own) == tree.text
    assert events[0]["event"] == "on_chat_model_start"
    assert events[0]["metadata"]["ls_model_name"] == "aggregator"


def test_model_name_defaults_to_the_alias_and_drives_the_tracing_params() -> None:
    tree = three_leaf_tree()
    model: BaseChatModel = MiniAgentChatModel(agent=tree.agent)
    params = model._get_ls_params()
    assert params["ls_model_name"] == "aggregator"
    assert params["ls_provider"] == "miniagents"
    assert params["ls_model_type"] == "chat"
    named = MiniAgentChatModel(agent=tree.agent, model="team-v2")
    assert named._get_ls_params()["ls_model_name"] == "team-v2"


def test_the_model_is_not_serializable_and_dumps_as_such() -> None:
    model = MiniAgentChatModel(agent=three_leaf_tree().agent)
    assert not MiniAgentChatModel.is_lc_serializable()
    assert dumpd(model)["type"] == "not_implemented"
