"""Tracing of an agent tree: `astream_events` shows each agent as a chain run named by its
alias, the models nested agents call as chat-model runs under them, and the outer config
reaches every nested run."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.callbacks import AsyncCallbackManager
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.schema import StreamEvent

from miniagents_lc import MESSAGE_SEPARATOR, InteractionContext, miniagent
from tests.langchain.scripted import OuterContext, no_context, three_leaf_tree


async def _events(
    config: RunnableConfig | None = None, outer_context: OuterContext = no_context
) -> list[StreamEvent]:
    tree = three_leaf_tree()
    async with outer_context():
        return [event async for event in tree.agent.astream_events("hi", config, version="v2")]


async def test_models_called_by_nested_agents_stream_as_chat_model_events(
    outer_context: OuterContext,
) -> None:
    events = await _events(outer_context=outer_context)
    streamed: dict[str, list[str]] = {}
    runs_by_model = {
        event["run_id"]: event["metadata"]["ls_model_name"]
        for event in events
        if event["event"] == "on_chat_model_start"
    }
    for event in events:
        if event["event"] == "on_chat_model_stream":
            model_name = runs_by_model[event["run_id"]]
            streamed.setdefault(model_name, []).append(event["data"]["chunk"].text)
    assert {name: "".join(texts) for name, texts in streamed.items()} == {
        "model-leaf_fast": "Fast leaf says hi.",
        "model-leaf_mid": "Middle leaf says hello.",
        "model-leaf_slow": "Slow leaf says goodbye.",
    }


async def test_each_agent_is_a_chain_run_named_by_its_alias_in_a_tree(
    outer_context: OuterContext,
) -> None:
    events = await _events(outer_context=outer_context)
    chain_starts = {event["name"]: event for event in events if event["event"] == "on_chain_start"}
    assert set(chain_starts) == {"aggregator", "leaf_fast", "leaf_mid", "leaf_slow"}
    root = chain_starts["aggregator"]
    assert root["parent_ids"] == []
    for leaf in ("leaf_fast", "leaf_mid", "leaf_slow"):
        assert chain_starts[leaf]["parent_ids"] == [root["run_id"]]
    model_parents = {
        event["metadata"]["ls_model_name"]: event["parent_ids"]
        for event in events
        if event["event"] == "on_chat_model_start"
    }
    for leaf in ("leaf_fast", "leaf_mid", "leaf_slow"):
        assert model_parents[f"model-{leaf}"] == [root["run_id"], chain_starts[leaf]["run_id"]]


async def test_every_run_ends_after_it_starts_and_the_root_ends_last() -> None:
    events = await _events()
    order = [(event["event"], event["run_id"]) for event in events if "chunk" not in event["data"]]
    ends = [run_id for kind, run_id in order if kind.endswith("_end")]
    starts = [run_id for kind, run_id in order if kind.endswith("_start")]
    assert sorted(ends) == sorted(starts)
    assert len(starts) == 7
    assert events[-1]["event"] == "on_chain_end"
    assert events[-1]["name"] == "aggregator"
    assert events[-1]["data"]["output"].text == three_leaf_tree().text


async def test_outer_tags_and_metadata_reach_the_nested_model_runs(
    outer_context: OuterContext,
) -> None:
    events = await _events({"tags": ["outer-tag"], "metadata": {"session": "s-1"}}, outer_context)
    model_starts = [event for event in events if event["event"] == "on_chat_model_start"]
    assert len(model_starts) == 3
    for event in model_starts:
        assert "outer-tag" in event["tags"]
        assert event["metadata"]["session"] == "s-1"
    leaf_starts = [
        event
        for event in events
        if event["event"] == "on_chain_start" and event["name"].startswith("leaf_")
    ]
    assert all("outer-tag" in event["tags"] for event in leaf_starts)


async def test_a_run_without_handlers_configures_no_callbacks_per_agent_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Tracing is decided when the run starts; re-deciding it for every agent call of the tree
    # cost about a third of a small call.
    configured: list[type[AsyncCallbackManager]] = []
    configure = AsyncCallbackManager.configure.__func__  # type: ignore[attr-defined]

    def counting(cls: type[AsyncCallbackManager], *args: Any, **kwargs: Any) -> Any:
        configured.append(cls)
        return configure(cls, *args, **kwargs)

    monkeypatch.setattr(AsyncCallbackManager, "configure", classmethod(counting))

    @miniagent
    async def leaf(ctx: InteractionContext) -> None:
        ctx.reply("leaf")

    @miniagent
    async def root(ctx: InteractionContext) -> None:
        ctx.reply([leaf.trigger() for _ in range(5)])

    reply = await root.ainvoke("hi")
    assert reply.text == MESSAGE_SEPARATOR.join(["leaf"] * 5)
    assert len(configured) == 1  # the run's own, not one more per agent call
