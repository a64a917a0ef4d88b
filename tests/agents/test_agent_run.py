"""`AgentRun`, the one handle of a running agent call tree: its root call, its message records,
and the usage per agent call computed from them."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import UsageMetadata
from langchain_core.runnables import RunnableConfig

from miniagents_lc import (
    AgentRun,
    AssistantMessage,
    InteractionContext,
    MiniAgent,
    miniagent,
)


def _said(text: str, model: str, tokens: int) -> AssistantMessage:
    usage = UsageMetadata(input_tokens=tokens, output_tokens=1, total_tokens=tokens + 1)
    return AssistantMessage(text=text, model_name=model, usage=usage)


def _team() -> MiniAgent:
    """lead says "plan" (m1, 10), passes on writer's "draft" (m2, 20), and reads a checker's
    "ok" (m1, 5) without passing it on."""

    @miniagent(alias="writer")
    async def writer(ctx: InteractionContext) -> None:
        ctx.reply(_said("draft", "m2", 20))

    @miniagent(alias="checker")
    async def checker(ctx: InteractionContext) -> None:
        ctx.reply(_said("ok", "m1", 5))

    @miniagent(alias="lead")
    async def lead(ctx: InteractionContext) -> None:
        ctx.reply(_said("plan", "m1", 10))
        ctx.reply(writer.trigger(ctx.message_promises))
        await checker.trigger("check").acollect_messages()

    return lead


def _run(agent: MiniAgent, config: RunnableConfig | None = None, **options: Any) -> AgentRun:
    return AgentRun(agent, "go", config or {}, {}, **options)


async def test_the_root_call_is_none_until_the_run_makes_it() -> None:
    run = _run(_team())
    assert run.root_call is None
    await run.output()
    root = run.root_call
    assert root is not None
    assert (root.alias, root.parent) == ("lead", None)


@pytest.mark.parametrize(
    ("config", "options"),
    [({}, {"keep_records": True}), ({"configurable": {"usage_by_agent": True}}, {})],
    ids=["keep_records", "usage_by_agent config"],
)
async def test_a_run_keeping_records_has_one_per_message_its_calls_produced(
    config: RunnableConfig, options: dict[str, Any]
) -> None:
    run = _run(_team(), config, **options)
    assert (await run.output()).content == "plan\n\ndraft"
    records = {(r.alias, r.path, r.message.text if r.message else None) for r in run.records}
    assert records == {
        ("lead", (), "plan"),
        ("writer", ("writer:0",), "draft"),
        ("checker", ("checker:1",), "ok"),
    }


async def test_a_run_not_keeping_records_says_how_to_ask() -> None:
    run = _run(_team())
    await run.output()
    with pytest.raises(RuntimeError, match="keep_records=True"):
        _ = run.records


async def test_the_usage_by_agent_counts_what_a_call_read_without_passing_on() -> None:
    run = _run(_team(), keep_records=True)
    message = await run.output()
    assert message.usage_metadata is not None
    assert message.usage_metadata["input_tokens"] == 30, "the reply holds plan and draft only"
    by_agent = {entry["agent"]: entry for entry in run.usage_by_agent()}
    assert by_agent["lead"]["subtree_usage"]["input_tokens"] == 35
    assert by_agent["checker"]["models"] == {
        "m1": {"input_tokens": 5, "output_tokens": 1, "total_tokens": 6}
    }
