"""The instrument seam: what an `Instrument` is told as an agent tree runs, and how it is
registered (a context, a scope, a run's config)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import pytest
from langchain_core.messages import UsageMetadata
from otel.spans import scripted, tools_agent

from miniagents_lc import (
    INSTRUMENTS_KEY,
    AgentCall,
    Instrument,
    InteractionContext,
    MiniAgent,
    MiniAgents,
    ModelCall,
    ToolRun,
    chat_model_agent,
    instrumented,
    miniagent,
)

USAGE = UsageMetadata(
    input_tokens=11,
    output_tokens=3,
    total_tokens=14,
    input_token_details={"cache_read": 4},
    output_token_details={"reasoning": 1},
)


class Recorder(Instrument):
    """Every hook it is told, as plain tuples."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.model_calls: list[ModelCall] = []
        self.tool_runs: list[ToolRun] = []

    def call_started(self, call: AgentCall) -> None:
        parent = call.parent
        self.events.append(("start", call.alias, parent.alias if parent else None))

    def call_finished(self, call: AgentCall, error: BaseException | None) -> None:
        self.events.append(("finish", call.alias, type(error).__name__ if error else None))

    def model_call_finished(self, model_call: ModelCall, error: BaseException | None) -> None:
        self.model_calls.append(model_call)

    def tool_call_finished(self, tool_run: ToolRun, error: BaseException | None) -> None:
        self.tool_runs.append(tool_run)

    def run_finished(
        self, agent: MiniAgent, usage: UsageMetadata | None, error: BaseException | None
    ) -> None:
        self.events.append(("run", agent.alias, usage))


def nested_agents() -> MiniAgent:
    leaf = chat_model_agent(scripted(usage=USAGE), alias="leaf")

    @miniagent
    async def middle(ctx: InteractionContext) -> None:
        ctx.reply(leaf.trigger(ctx.message_promises))

    @miniagent
    async def top(ctx: InteractionContext) -> None:
        ctx.reply(middle.trigger(ctx.message_promises))
        ctx.reply(leaf.trigger("again"))

    return top


def started(recorder: Recorder) -> list[tuple[Any, ...]]:
    return sorted(event for event in recorder.events if event[0] == "start")


Registration = Callable[[Recorder], tuple[dict[str, Any], AbstractContextManager[None]]]

REGISTRATIONS: dict[str, Registration] = {
    "context": lambda r: ({"instruments": [r]}, nullcontext()),
    "scope": lambda r: ({}, instrumented(r)),
}


@pytest.mark.parametrize("how", REGISTRATIONS)
async def test_each_call_starts_naming_the_call_that_triggered_it(how: str) -> None:
    recorder = Recorder()
    context_kwargs, scope = REGISTRATIONS[how](recorder)
    async with MiniAgents(**context_kwargs):
        with scope:
            replies = nested_agents().trigger("hi")
        await replies.acollect_messages()
    assert started(recorder) == [
        ("start", "leaf", "middle"),
        ("start", "leaf", "top"),
        ("start", "middle", "top"),
        ("start", "top", None),
    ]


async def test_a_runs_config_instruments_that_run_only() -> None:
    recorder, bystander = Recorder(), Recorder()
    agent = nested_agents()
    async with MiniAgents(instruments=[bystander]):
        await agent.ainvoke("hi", {"configurable": {INSTRUMENTS_KEY: [recorder]}})
        await agent.ainvoke("hi")
    assert len(started(recorder)) == 4
    assert len(started(bystander)) == 8


async def test_calls_created_outside_a_scope_are_not_reported_to_it() -> None:
    recorder = Recorder()
    async with MiniAgents():
        with instrumented(recorder):
            pass
        await nested_agents().trigger("hi").acollect_messages()
    assert recorder.events == []


async def test_a_call_finishes_with_the_error_that_ended_it() -> None:
    recorder = Recorder()

    @miniagent
    async def failing(ctx: InteractionContext) -> None:
        raise ValueError("no")

    async with MiniAgents(instruments=[recorder], errors_as_messages=True):
        await failing.trigger("x").acollect_messages()
    assert ("finish", "failing", "ValueError") in recorder.events


async def test_a_model_call_reports_the_providers_usage_and_response_fields() -> None:
    recorder = Recorder()
    model = chat_model_agent(scripted(usage=USAGE, model="m-1"), alias="leaf")
    async with MiniAgents(instruments=[recorder]):
        await model.trigger("hi").acollect_messages()
    (model_call,) = recorder.model_calls
    assert (model_call.call.alias, model_call.provider, model_call.request_model) == (
        "leaf",
        "ScriptedChatModel",
        "m-1",
    )
    assert (model_call.response_model, model_call.finish_reason) == ("m-1", "stop")
    assert model_call.usage == USAGE
    assert model_call.output_text == "one two three"
    assert [message.text for message in model_call.input_messages] == ["hi"]
    assert model_call.time_to_first_chunk is not None
    assert model_call.duration is not None
    assert model_call.time_to_first_chunk <= model_call.duration


async def test_each_tool_call_is_reported_with_its_result() -> None:
    recorder = Recorder()
    agent = tools_agent()
    async with MiniAgents(instruments=[recorder]):
        await agent.trigger("go").acollect_messages()
    runs = {run.call_id: run for run in recorder.tool_runs}
    assert {key: (run.name, run.result) for key, run in runs.items()} == {
        "c1": ("lookup", "Oslo is sunny"),
        "c2": ("helper", "helped"),
    }
    assert all(run.call is not None and run.call.alias == "tools" for run in runs.values())


async def test_a_run_finishes_with_its_whole_usage() -> None:
    recorder = Recorder()
    async with MiniAgents(instruments=[recorder]):
        await nested_agents().ainvoke("hi")
    (run,) = [event for event in recorder.events if event[0] == "run"]
    assert run[1] == "top"
    assert run[2]["input_tokens"] == 2 * USAGE["input_tokens"]
    assert run[2]["output_tokens"] == 2 * USAGE["output_tokens"]


class Broken(Instrument):
    def call_started(self, call: AgentCall) -> None:
        raise RuntimeError("instrument bug")


async def test_a_failing_instrument_is_logged_and_breaks_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="miniagents_lc"):
        async with MiniAgents(instruments=[Broken()]):
            messages = await nested_agents().trigger("hi").acollect_messages()
    assert [message.text for message in messages] == ["one two three"] * 2
    assert "failed in call_started" in caplog.text


def enter_scope_with(item: Any) -> None:
    with instrumented(item):
        pass


@pytest.mark.parametrize(
    "register", [enter_scope_with, lambda item: MiniAgents(instruments=[item])]
)
def test_something_that_is_not_an_instrument_is_refused_naming_the_fix(
    register: Callable[[Any], Any],
) -> None:
    with pytest.raises(TypeError, match=r"subclass miniagents_lc\.Instrument"):
        register(object())
