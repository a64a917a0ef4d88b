"""Order (reply order per namespace and across the top level) and replay from any `seq`."""

from __future__ import annotations

import asyncio

import pytest

from miniagents_lc import InteractionContext, miniagent
from miniagents_lc.protocol import ProtocolEvent
from tests.protocol.trees import (
    SHAPES,
    TreeShape,
    assistant_reply,
    build_tree,
    data,
    messages_by_namespace,
)


@pytest.mark.parametrize("slow_first", [True, False], ids=["slow-then-fast", "fast-then-slow"])
async def test_a_namespace_emits_its_messages_in_reply_order(slow_first: bool) -> None:
    slow = (["slow ", "one"], 0.03)
    fast = (["fast ", "one"], 0.0)
    order = [slow, fast] if slow_first else [fast, slow]

    @miniagent
    async def talker(ctx: InteractionContext) -> None:
        ctx.reply([assistant_reply(words, delay) for words, delay in order])

    async with await talker.astream_events("go", version="v3") as run:
        events = [event async for event in run]
    kinds = [
        (data(e)["event"], data(e).get("id"))
        for e in events
        if e["method"] == "messages" and data(e)["event"] in {"message-start", "message-finish"}
    ]
    # One message after the other, never interleaved, in the order they were replied.
    assert [kind for kind, _ in kinds] == ["message-start", "message-finish"] * 2
    assert messages_by_namespace(events)[()] == ["".join(words) for words, _ in order]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
async def test_top_level_messages_have_the_text_of_astream(shape: TreeShape) -> None:
    agent = build_tree(shape)
    streamed = "".join([str(chunk.content) async for chunk in agent.astream("go")])
    async with await agent.astream_events("go", version="v3") as run:
        texts = [await stream.text async for stream in run.messages]
    assert "\n\n".join(texts) == streamed


@pytest.mark.parametrize("shape", SHAPES, ids=str)
async def test_each_namespace_holds_the_messages_its_call_replied_itself(
    shape: TreeShape,
) -> None:
    async with await build_tree(shape).astream_events("go", version="v3") as run:
        events = [event async for event in run]
    by_namespace = messages_by_namespace(events)
    for namespace, texts in by_namespace.items():
        alias = namespace[-1].rpartition(":")[0] if namespace else "root"
        if alias in shape.leaf_aliases:
            assert len(texts) == 1
            assert texts[0].startswith("leaf")
        else:
            assert texts == [f"[{alias}]"]
    all_texts = sorted(text for texts in by_namespace.values() for text in texts)
    top = [await stream.text async for stream in run.messages]
    assert all_texts == sorted(top), "every top-level message is emitted once, somewhere"


@pytest.fixture
async def finished_events() -> list[ProtocolEvent]:
    async with await build_tree(TreeShape(2, 3)).astream_events("go", version="v3") as run:
        return [event async for event in run]


@pytest.mark.parametrize("fraction", [0.0, 0.3, 0.7, 1.0])
async def test_since_replays_every_event_after_that_seq(fraction: float) -> None:
    async with await build_tree(TreeShape(2, 3)).astream_events("go", version="v3") as run:
        everything = [event async for event in run]
        since = int(len(everything) * fraction)
        replayed = [event async for event in run.events(since=since)]
    assert replayed == everything[since:]


@pytest.mark.parametrize("stop_after", [1, 5, 20])
async def test_a_consumer_resuming_with_since_misses_and_repeats_nothing(stop_after: int) -> None:
    # Slow leaves (about 40 ms each), so that the consumer resumes while the run goes on.
    agent = build_tree(TreeShape(2, 3, token_delay=0.01))
    async with await agent.astream_events("go", version="v3") as run:
        first: list[ProtocolEvent] = []
        async for event in run:
            first.append(event)
            if len(first) == stop_after:
                break
        live_when_resumed = not run.log.done
        rest = [event async for event in run.events(since=first[-1]["seq"])]
        everything = [event async for event in run]
    assert live_when_resumed, "the resume happened while the run was still streaming"
    assert first + rest == everything


async def test_consumers_attached_at_any_time_see_the_same_events() -> None:
    # Paced leaves, so that the second consumer attaches while the run goes on.
    agent = build_tree(TreeShape(2, 3, token_delay=0.01))
    async with await agent.astream_events("go", version="v3") as run:
        early: list[ProtocolEvent] = []
        first_seen = asyncio.Event()

        async def collect_early() -> None:
            async for event in run.events():
                early.append(event)
                first_seen.set()

        early_task = asyncio.create_task(collect_early())
        await first_seen.wait()
        live_when_attached = not run.log.done
        late = asyncio.create_task(_collect(run.events()))
        await run.output
        after_the_end = await _collect(run.events())
        await early_task
    assert live_when_attached, "the second consumer attached while the run was streaming"
    assert early == await late == after_the_end


async def _collect(events: object) -> list[ProtocolEvent]:
    return [event async for event in events]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("request_", "keeps"),
    [
        ({"channels": ["lifecycle"]}, lambda e: e["method"] == "lifecycle"),
        (
            {"namespaces": [["root_0:0"]]},
            lambda e: e["params"]["namespace"][:1] == ["root_0:0"],
        ),
        ({"depth": 0}, lambda e: e["params"]["namespace"] == []),
        (
            {"namespaces": [["root_1:1"]], "depth": 0, "channels": ["messages"]},
            lambda e: e["params"]["namespace"] == ["root_1:1"] and e["method"] == "messages",
        ),
    ],
    ids=["channels", "namespace-prefix", "depth-0", "all-three"],
)
async def test_filters_keep_what_a_subscription_asks_for(
    request_: dict[str, object], keeps: object
) -> None:
    async with await build_tree(TreeShape(3, 2)).astream_events("go", version="v3") as run:
        everything = [event async for event in run]
        kept = [event async for event in run.events(**request_)]  # type: ignore[arg-type]
    assert kept == [event for event in everything if keeps(event)]  # type: ignore[operator]
    assert kept, "the filter keeps something"


@pytest.mark.parametrize(
    ("arguments", "message"), [({"since": -1}, "since=-1"), ({"depth": -2}, "depth=-2")]
)
async def test_bad_replay_arguments_say_what_is_allowed(
    arguments: dict[str, int], message: str
) -> None:
    async with await build_tree(TreeShape(1, 1)).astream_events("go", version="v3") as run:
        with pytest.raises(ValueError, match=message):
            await _collect(run.events(**arguments))  # type: ignore[arg-type]
