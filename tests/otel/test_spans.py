"""`miniagents_lc.otel`: the span tree of a run is its agent call tree, with GenAI
attributes, whatever the calls do (fan out, call tools, fail, get cut short)."""

from __future__ import annotations

import asyncio
import json
from contextlib import aclosing

import pytest
from langchain_core.messages import UsageMetadata
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from miniagents_lc import (
    InteractionContext,
    MiniAgent,
    MiniAgents,
    chat_model_agent,
    instrumented,
    miniagent,
)
from miniagents_lc.demo.team import Specialist, build_team
from miniagents_lc.otel import instrument
from miniagents_lc.testing.chat_models import ScriptedChatModel

from .spans import agent, leaf, model_agent, named, scripted, span_tree, tools_agent

MODEL = "scripted-demo-model"


def offline_model_agent(specialist: Specialist) -> MiniAgent:
    return chat_model_agent(scripted(specialist.scripted_reply), alias=f"{specialist.alias}_llm")


async def test_the_demo_teams_span_tree_is_its_call_tree(
    tracer_provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    team = build_team(offline_model_agent)
    async with MiniAgents(instruments=[instrument(tracer_provider)]):
        await team.trigger("What now?").acollect_messages()
    assert span_tree(exporter.get_finished_spans()) == [
        agent(
            "team",
            agent("researcher", model_agent("researcher_llm", MODEL)),
            agent("skeptic", model_agent("skeptic_llm", MODEL)),
            agent(
                "planner",
                model_agent("planner_llm", MODEL),
                agent("estimator", model_agent("estimator_llm", MODEL)),
            ),
        )
    ]
    spans = exporter.get_finished_spans()
    assert len({span.context.trace_id for span in spans}) == 1


async def test_an_agent_span_lasts_until_its_reply_has_ended(
    tracer_provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    # The team replies with its specialists' promises and returns at once; its span still
    # covers their answers.
    team = build_team(offline_model_agent)
    async with MiniAgents(instruments=[instrument(tracer_provider)]):
        await team.trigger("What now?").acollect_messages()
    spans = exporter.get_finished_spans()
    by_id = {span.context.span_id: span for span in spans}
    for span in spans:
        if span.parent is not None and span.parent.span_id in by_id:
            parent = by_id[span.parent.span_id]
            assert parent.end_time is not None
            assert span.end_time is not None
            assert parent.end_time >= span.end_time, (parent.name, span.name)


async def test_a_tool_agents_tools_are_execute_tool_spans_and_agent_tools_nest_as_calls(
    tracer_provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    tools = tools_agent()
    async with MiniAgents(instruments=[instrument(tracer_provider)]):
        await tools.trigger("go").acollect_messages()
    model_turn = model_agent("ScriptedToolModel", "scripted-tool-model")
    assert span_tree(exporter.get_finished_spans()) == [
        agent(
            "tools",
            model_turn,
            model_turn,
            leaf("execute_tool lookup"),
            leaf("execute_tool helper"),
            model_agent("helper", MODEL),
        )
    ]
    lookup_span = named(exporter.get_finished_spans(), "execute_tool lookup")
    assert lookup_span.attributes is not None
    assert lookup_span.attributes["gen_ai.tool.call.id"] == "c1"
    assert lookup_span.attributes["gen_ai.operation.name"] == "execute_tool"


async def test_a_failing_branch_ends_its_span_with_the_error_and_its_siblings_succeed(
    tracer_provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    @miniagent
    async def broken(ctx: InteractionContext) -> None:
        raise ValueError("the broken agent broke")

    fine = chat_model_agent(scripted(), alias="fine")

    @miniagent
    async def parent(ctx: InteractionContext) -> None:
        ctx.reply(broken.trigger("x"))
        ctx.reply(fine.trigger("x"))

    async with MiniAgents(instruments=[instrument(tracer_provider)], errors_as_messages=True):
        await parent.trigger("go").acollect_messages()
    spans = exporter.get_finished_spans()
    assert span_tree(spans) == [agent("parent", agent("broken"), model_agent("fine", MODEL))]
    failed = named(spans, "invoke_agent broken")
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes is not None
    assert failed.attributes["error.type"] == "ValueError"
    (event,) = failed.events
    assert event.name == "exception"
    assert event.attributes is not None
    assert event.attributes["exception.message"] == "the broken agent broke"
    others = [span for span in spans if span is not failed]
    assert all(span.status.status_code is StatusCode.UNSET for span in others)


async def test_an_early_stop_ends_every_span_it_started(
    tracer_provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    slow = chat_model_agent(
        ScriptedChatModel(reply="a b c d e f g h", first_token_delay=0, token_delay=0.05),
        alias="slow",
    )

    @miniagent
    async def parent(ctx: InteractionContext) -> None:
        ctx.reply(slow.trigger("x"))

    with instrumented(instrument(tracer_provider)):
        async with aclosing(parent.astream("go")) as chunks:
            async for chunk in chunks:
                if chunk.content:
                    break
    spans = exporter.get_finished_spans()
    assert span_tree(spans) == [agent("parent", model_agent("slow", MODEL))]
    cut = named(spans, f"chat {MODEL}")
    assert cut.status.status_code is StatusCode.ERROR
    assert cut.attributes is not None
    assert cut.attributes["error.type"] == "CancelledError"


async def test_a_call_made_inside_a_span_is_its_child(
    tracer_provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    tracer = tracer_provider.get_tracer("test")
    async with MiniAgents(instruments=[instrument(tracer_provider)]):
        with tracer.start_as_current_span("request"):
            await chat_model_agent(scripted(), alias="leaf").trigger("x").acollect_messages()
    assert span_tree(exporter.get_finished_spans()) == [("request", (model_agent("leaf", MODEL),))]


USAGE = UsageMetadata(
    input_tokens=30,
    output_tokens=7,
    total_tokens=37,
    input_token_details={"cache_read": 12, "cache_creation": 5},
    output_token_details={"reasoning": 2},
)


async def test_chat_spans_carry_the_usage_and_the_agent_span_sums_its_own(
    tracer_provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    model = scripted(usage=USAGE, model="m-1")
    llm = chat_model_agent(model, alias="llm")

    @miniagent
    async def twice(ctx: InteractionContext) -> None:
        await llm.trigger("a").acollect_messages()
        await llm.trigger("b").acollect_messages()

    async with MiniAgents(instruments=[instrument(tracer_provider)]):
        await twice.trigger("go").acollect_messages()
    spans = exporter.get_finished_spans()
    expected = {
        "gen_ai.usage.input_tokens": 30,
        "gen_ai.usage.output_tokens": 7,
        "gen_ai.usage.cache_read.input_tokens": 12,
        "gen_ai.usage.cache_creation.input_tokens": 5,
        "gen_ai.usage.reasoning.output_tokens": 2,
    }
    chats = [span for span in spans if span.name == "chat m-1"]
    assert len(chats) == 2
    for chat in chats:
        assert chat.attributes is not None
        assert {key: chat.attributes.get(key) for key in expected} == expected
        assert chat.attributes["gen_ai.response.finish_reasons"] == ("stop",)
        assert chat.attributes["gen_ai.response.model"] == "m-1"
        assert chat.attributes["gen_ai.request.model"] == "m-1"
    llm_spans = [span for span in spans if span.name == "invoke_agent llm"]
    assert all(
        span.attributes is not None and span.attributes["gen_ai.usage.input_tokens"] == 30
        for span in llm_spans
    )
    outer = named(spans, "invoke_agent twice")
    assert outer.attributes is not None
    assert "gen_ai.usage.input_tokens" not in outer.attributes  # no model call of its own


@pytest.mark.parametrize("capture_content", [False, True])
async def test_content_is_recorded_only_when_asked(
    tracer_provider: TracerProvider, exporter: InMemorySpanExporter, capture_content: bool
) -> None:
    llm = chat_model_agent(scripted("secret answer"), alias="llm")
    inst = instrument(tracer_provider, capture_content=capture_content)
    async with MiniAgents(instruments=[inst]):
        await llm.trigger("secret question").acollect_messages()
    chat = named(exporter.get_finished_spans(), f"chat {MODEL}")
    assert chat.attributes is not None
    recorded = json.dumps(dict(chat.attributes))
    assert ("secret" in recorded) is capture_content
    if capture_content:
        inputs = json.loads(str(chat.attributes["gen_ai.input.messages"]))
        assert inputs == [
            {"role": "user", "parts": [{"type": "text", "content": "secret question"}]}
        ]


async def test_calls_running_in_parallel_keep_their_own_parents(
    tracer_provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    leafs = [chat_model_agent(scripted(), alias=f"leaf{index}") for index in range(3)]

    def branch(index: int) -> MiniAgent:
        @miniagent(alias=f"branch{index}")
        async def run(ctx: InteractionContext) -> None:
            await asyncio.sleep(0)
            ctx.reply(leafs[index].trigger("x"))

        return run

    branches = [branch(index) for index in range(3)]

    @miniagent
    async def root(ctx: InteractionContext) -> None:
        for item in branches:
            ctx.reply(item.trigger("x"))

    async with MiniAgents(instruments=[instrument(tracer_provider)]):
        await root.trigger("go").acollect_messages()
    assert span_tree(exporter.get_finished_spans()) == [
        agent("root", *(agent(f"branch{i}", model_agent(f"leaf{i}", MODEL)) for i in range(3)))
    ]
