"""The projections of a run: messages, lifecycle, output, sub-agent handles; the sync stream."""

from __future__ import annotations

import asyncio

import pytest

from miniagents_lc import InteractionContext, StreamCancelledError, miniagent
from miniagents_lc.langchain import chat_model_agent
from miniagents_lc.testing.chat_models import ScriptedChatModel
from tests.protocol.trees import SHAPES, TreeShape, build_tree, data


@pytest.mark.parametrize("shape", SHAPES, ids=str)
async def test_output_is_the_message_ainvoke_returns(shape: TreeShape) -> None:
    agent = build_tree(shape)
    invoked = await agent.ainvoke("go")
    async with await agent.astream_events("go", version="v3") as run:
        output = await run.output
    assert output.content == invoked.content
    assert output.id is not None
    assert output.id.startswith("lc_run-")


async def test_message_streams_hand_out_text_while_it_is_produced() -> None:
    model = ScriptedChatModel(
        reply="one two three four five", first_token_delay=0.0, token_delay=0.05
    )
    agent = chat_model_agent(model, alias="talker")
    loop = asyncio.get_running_loop()
    async with await agent.astream_events("go", version="v3") as run:
        stream = await anext(aiter(run.messages))
        arrivals = [loop.time() async for _ in stream.text]
        message = await stream
    assert message.text == "one two three four five"
    # Five tokens 50 ms apart: the first delta comes long before the last.
    assert arrivals[-1] - arrivals[0] > 0.1


async def test_lifecycle_lists_every_call_as_it_starts_and_ends() -> None:
    shape = TreeShape(2, 2)
    async with await build_tree(shape).astream_events("go", version="v3") as run:
        lifecycle = [payload async for payload in run.lifecycle]
    started = [p["namespace"] for p in lifecycle if p["event"] == "started"]
    completed = [p["namespace"] for p in lifecycle if p["event"] == "completed"]
    assert sorted(map(tuple, started)) == sorted(map(tuple, completed))
    assert {p["graph_name"] for p in lifecycle} == {"root", *shape.leaf_aliases}


async def test_a_subagent_handle_streams_that_calls_reply_and_status() -> None:
    shape = TreeShape(3, 2)
    async with await build_tree(shape).astream_events("go", version="v3") as run:
        handles = [handle async for handle in run.subagents]
        texts = {
            tuple(handle.namespace): [await s.text async for s in handle.messages]
            for handle in handles
        }
        grandchildren = [
            [grandchild.namespace async for grandchild in handle.subagents] for handle in handles
        ]
        nested_events = [event async for event in handles[0].events()]
    assert [handle.namespace for handle in handles] == [["root_0:0"], ["root_1:1"]]
    assert [handle.status for handle in handles] == ["completed", "completed"]
    assert texts[("root_0:0",)][0] == "[root_0]"
    assert texts[("root_0:0",)][1].startswith("leaf0")
    assert grandchildren[1] == [["root_1:1", "root_1_0:0"], ["root_1:1", "root_1_1:1"]]
    assert {tuple(e["params"]["namespace"][:1]) for e in nested_events} == {("root_0:0",)}


async def test_a_failed_run_raises_from_output_and_from_the_events() -> None:
    @miniagent
    async def broken(ctx: InteractionContext) -> None:
        ctx.reply("before")
        raise KeyError("lost")

    async with await broken.astream_events("go", version="v3") as run:
        with pytest.raises(KeyError, match="lost"):
            await run.output
        with pytest.raises(KeyError, match="lost"):
            [event async for event in run]
        assert run.status == "failed"
        assert isinstance(run.error, KeyError)
        last = run.log.snapshot[-1]
    assert data(last)["event"] == "failed"


def test_sync_stream_events_gives_the_same_events_and_projections() -> None:
    shape = TreeShape(2, 2)
    agent = build_tree(shape)
    with agent.stream_events("go", version="v3") as run:
        events = list(run)
        texts = [str(stream.text) for stream in run.messages]
        output = run.output
        resumed = list(run.events(since=3))
        lifecycle = list(run.lifecycle)
    assert [event["seq"] for event in events] == list(range(1, len(events) + 1))
    assert resumed == events[3:]
    assert "\n\n".join(texts) == output.content
    assert sum(1 for p in lifecycle if p["event"] == "completed") == 1 + shape.fan_out


def test_leaving_the_sync_stream_early_stops_the_run() -> None:
    model = ScriptedChatModel(reply=" ".join(["word"] * 200), first_token_delay=0, token_delay=0.01)
    agent = chat_model_agent(model, alias="talker")
    with agent.stream_events("go", version="v3") as run:
        for event in run:
            if event["method"] == "messages" and data(event)["event"] == "content-block-delta":
                break
    # The run was stopped: no output, and no more events after those already handed over.
    with pytest.raises(StreamCancelledError, match="with` block was left"):
        run.output  # noqa: B018
    assert list(run.events(channels=["lifecycle"]))[-1]["params"]["data"]["event"] != "completed"
