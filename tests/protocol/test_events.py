"""What a run emits: the envelope, one namespace per agent call, lifecycle, message events."""

from __future__ import annotations

import time

import pytest
from langchain_core.messages import ToolCall, UsageMetadata

from miniagents_lc import InteractionContext, Message, miniagent
from miniagents_lc.protocol import AgentRunStream, ProtocolEvent
from tests.protocol.trees import SHAPES, TreeShape, assistant_reply, build_tree, data


async def collect(run: AgentRunStream) -> list[ProtocolEvent]:
    return [event async for event in run]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
async def test_every_event_has_the_protocol_envelope_and_the_next_seq(shape: TreeShape) -> None:
    before = int(time.time() * 1000)
    async with await build_tree(shape).astream_events("go", version="v3") as run:
        events = await collect(run)
    after = int(time.time() * 1000)
    assert [event["seq"] for event in events] == list(range(1, len(events) + 1))
    for event in events:
        assert event["type"] == "event"
        assert event["method"] in {"lifecycle", "messages"}
        assert isinstance(event["params"]["namespace"], list)
        assert before <= event["params"]["timestamp"] <= after


@pytest.mark.parametrize("shape", SHAPES, ids=str)
async def test_each_agent_call_is_one_namespace_segment_nested_as_calls_nest(
    shape: TreeShape,
) -> None:
    async with await build_tree(shape).astream_events("go", version="v3") as run:
        events = await collect(run)
    started = [
        event["params"]["namespace"]
        for event in events
        if event["method"] == "lifecycle" and data(event)["event"] == "started"
    ]
    calls = sum(shape.fan_out**level for level in range(shape.depth))
    leaves = shape.fan_out ** (shape.depth - 1)
    # Every inner agent is one call; every leaf is a chat_model_agent call.
    assert len(started) == calls
    assert started[0] == []
    for namespace in started[1:]:
        parent, segment = namespace[:-1], namespace[-1]
        assert parent in started, f"{namespace} nests under a call that never started"
        alias, _, index = segment.rpartition(":")
        assert alias
        assert index.isdigit()
    siblings: dict[tuple[str, ...], list[str]] = {}
    for namespace in started[1:]:
        siblings.setdefault(tuple(namespace[:-1]), []).append(namespace[-1].rpartition(":")[2])
    assert all(len(set(indexes)) == len(indexes) for indexes in siblings.values())
    assert sum(1 for namespace in started if len(namespace) == shape.depth - 1) == leaves


@pytest.mark.parametrize("shape", SHAPES, ids=str)
async def test_every_call_starts_then_completes_in_its_own_namespace(shape: TreeShape) -> None:
    async with await build_tree(shape).astream_events("go", version="v3") as run:
        events = await collect(run)
    statuses: dict[tuple[str, ...], list[str]] = {}
    for event in events:
        if event["method"] == "lifecycle":
            assert data(event)["namespace"] == event["params"]["namespace"]
            statuses.setdefault(tuple(event["params"]["namespace"]), []).append(
                str(data(event)["event"])
            )
    assert set(map(tuple, statuses.values())) == {("started", "completed")}
    assert events[-1]["method"] == "lifecycle"
    assert events[-1]["params"]["namespace"] == []


@pytest.mark.parametrize("failing", ["leaf", "root"])
async def test_a_failed_call_reports_failed_with_its_error(failing: str) -> None:
    @miniagent
    async def leaf(ctx: InteractionContext) -> None:
        ctx.reply("partial")
        if failing == "leaf":
            raise ValueError("leaf broke")

    @miniagent
    async def root(ctx: InteractionContext) -> None:
        ctx.reply(leaf.trigger())
        if failing == "root":
            raise ValueError("root broke")

    async with await root.astream_events("go", version="v3") as run:
        with pytest.raises(ValueError, match="broke"):
            await collect(run)
        events = list(run.log.snapshot)
    failed = {
        tuple(event["params"]["namespace"]): data(event)
        for event in events
        if event["method"] == "lifecycle" and data(event)["event"] == "failed"
    }
    # The error fails the call it was raised in and every reply it passed through.
    expected = {(), ("leaf:0",)} if failing == "leaf" else {()}
    assert set(failed) == expected
    assert all(f"ValueError: {failing} broke" == payload["error"] for payload in failed.values())


async def test_a_message_streams_as_start_block_deltas_block_finish_and_finish() -> None:
    @miniagent
    async def talker(ctx: InteractionContext) -> None:
        ctx.reply(assistant_reply(["Hel", "lo ", "there"], delay=0.001))

    async with await talker.astream_events("go", version="v3") as run:
        events = [e for e in await collect(run) if e["method"] == "messages"]
    kinds = [data(event)["event"] for event in events]
    assert kinds[:2] == ["message-start", "content-block-start"]
    assert kinds[-2:] == ["content-block-finish", "message-finish"]
    assert set(kinds[2:-2]) == {"content-block-delta"}
    deltas = "".join(data(event)["delta"]["text"] for event in events[2:-2])  # type: ignore[index]
    assert deltas == "Hello there" == data(events[-2])["content"]["text"]  # type: ignore[index]
    assert data(events[0])["role"] == "ai"


USAGE = UsageMetadata(input_tokens=7, output_tokens=3, total_tokens=10)
CALL = ToolCall(name="search", args={"query": "streams"}, id="call-1", type="tool_call")


@pytest.mark.parametrize(
    ("fields", "finish"),
    [
        (
            {"usage": USAGE, "finish_reason": "stop", "model_name": "m-1"},
            {
                "event": "message-finish",
                "usage": {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10},
                "metadata": {"model_name": "m-1", "finish_reason": "stop"},
            },
        ),
        ({}, {"event": "message-finish"}),
    ],
    ids=["usage-and-finish-reason", "no-metadata"],
)
async def test_message_finish_carries_the_assistant_message_metadata(
    fields: dict[str, object], finish: dict[str, object]
) -> None:
    @miniagent
    async def talker(ctx: InteractionContext) -> None:
        ctx.reply(assistant_reply(["hi"], **fields))

    async with await talker.astream_events("go", version="v3") as run:
        events = await collect(run)
    finishes = [data(e) for e in events if e["method"] == "messages"]
    assert finishes[-1] == finish


async def test_a_plain_message_has_no_usage_even_with_usage_like_fields() -> None:
    @miniagent
    async def talker(ctx: InteractionContext) -> None:
        ctx.reply(Message(text="hi", role="user", usage_metadata=dict(USAGE)))

    async with await talker.astream_events("go", version="v3") as run:
        events = [data(e) for e in await collect(run) if e["method"] == "messages"]
    assert events[0]["role"] == "human"
    assert events[-1] == {"event": "message-finish"}


async def test_tool_calls_become_tool_call_blocks_after_the_text() -> None:
    @miniagent
    async def caller(ctx: InteractionContext) -> None:
        ctx.reply(assistant_reply(["Let me look."], tool_calls=[CALL], finish_reason="tool_calls"))

    async with await caller.astream_events("go", version="v3") as run:
        blocks = [
            data(e)
            for e in await collect(run)
            if e["method"] == "messages" and data(e).get("index") == 1
        ]
        streams = [stream async for stream in run.messages]
    assert blocks == [
        {
            "event": "content-block-start",
            "index": 1,
            "content": {"type": "tool_call", "id": "call-1", "name": "search", "args": {}},
        },
        {
            "event": "content-block-finish",
            "index": 1,
            "content": {
                "type": "tool_call",
                "id": "call-1",
                "name": "search",
                "args": {"query": "streams"},
            },
        },
    ]
    (stream,) = streams
    calls = await stream.tool_calls
    assert [(call["name"], call["args"]) for call in calls] == [("search", {"query": "streams"})]


async def test_a_message_that_fails_while_streaming_ends_with_an_error_event() -> None:
    async def broken() -> object:
        yield "half"
        raise RuntimeError("cut off")

    @miniagent
    async def talker(ctx: InteractionContext) -> None:
        ctx.reply(Message.promise(broken()))

    async with await talker.astream_events("go", version="v3") as run:
        with pytest.raises(RuntimeError, match="cut off"):
            await collect(run)
        events = [data(e) for e in run.log.snapshot if e["method"] == "messages"]
    assert events[-1] == {"event": "error", "message": "RuntimeError: cut off"}
    assert {"event": "message-finish"} not in events


async def test_bad_input_is_a_type_error_at_await() -> None:
    agent = build_tree(TreeShape(1, 1))
    with pytest.raises(TypeError, match="can't take a bytes"):
        await agent.astream_events(b"raw", version="v3")


@pytest.mark.parametrize("how", ["ainvoke", "astream"])
async def test_an_agent_run_inside_an_agent_is_a_call_of_its_own(how: str) -> None:
    @miniagent
    async def helper(ctx: InteractionContext) -> None:
        ctx.reply("helped")

    @miniagent
    async def asker(ctx: InteractionContext) -> None:
        if how == "ainvoke":
            answer = str((await helper.ainvoke("please")).content)
        else:
            answer = "".join([str(chunk.content) async for chunk in helper.astream("please")])
        ctx.reply(f"got {answer}")

    async with await asker.astream_events("go", version="v3") as run:
        events = await collect(run)
    texts = {
        tuple(e["params"]["namespace"]): data(e)["content"]["text"]  # type: ignore[index]
        for e in events
        if e["method"] == "messages" and data(e)["event"] == "content-block-finish"
    }
    assert texts == {(): "got helped", ("helper:0",): "helped"}
