"""`tool_agent`: a tool-calling loop whose reply streams agent tools in call order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool

from miniagents_lc import MiniAgent, ToolLoopLimitError, chat_model_agent, tool_agent
from miniagents_lc.testing.chat_models import ScriptedToolModel
from tests.langchain.tool_scripts import (
    broken,
    broken_mid_stream,
    call,
    calling_model,
    first_token_at,
    timed_agent,
)


async def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@tool
def shout(text: str) -> str:
    """Say it loudly."""
    return text.upper()


async def fails(reason: str) -> str:
    """A tool that fails."""
    raise ValueError(reason)


def tool_messages(model: ScriptedToolModel, turn: int = 1) -> list[ToolMessage]:
    return [m for m in model.inputs[turn] if isinstance(m, ToolMessage)]


@pytest.mark.parametrize("as_agent", [False, True], ids=["chat-model", "miniagent-model"])
async def test_the_model_gets_every_tool_result_and_answers(as_agent: bool) -> None:
    model = calling_model(
        call("add", "c1", a=2, b=3),
        call("shout", "c2", text="hi"),
        call("echo", "c3", request="yo"),
    )
    echo = timed_agent("echo", 0.0, tokens=1)
    loop = tool_agent(chat_model_agent(model) if as_agent else model, [add, shout, echo])

    reply = await loop.ainvoke("go")

    assert reply.text.endswith("all done")
    assert [(m.tool_call_id, m.text) for m in tool_messages(model)] == [
        ("c1", "5"),
        ("c2", "HI"),
        ("c3", "echo0 "),
    ]
    assert model.bound_tools[0] == ["add", "shout", "echo"]


async def test_its_reply_carries_no_tool_calls_the_loop_already_ran() -> None:
    loop = tool_agent(calling_model(call("add", "c1", a=1, b=1)), [add])
    reply = await loop.ainvoke("go")
    assert reply.tool_calls == []
    assert reply.invalid_tool_calls == []


async def test_agent_tools_run_in_parallel_and_stream_in_call_order_not_finish_order() -> None:
    slow, fast, middle = (
        timed_agent("slow", 0.4),
        timed_agent("fast", 0.05),
        timed_agent("mid", 0.2),
    )
    model = calling_model(
        call("slow", "c1", request="a"),
        call("fast", "c2", request="b"),
        call("mid", "c3", request="c"),
    )
    loop = tool_agent(model, [slow, fast, middle])
    started = asyncio.get_running_loop().time()

    text = "".join([chunk.text async for chunk in loop.astream("go")])

    elapsed = asyncio.get_running_loop().time() - started
    assert first_token_at["fast"] < first_token_at["mid"] < first_token_at["slow"]
    positions = [text.index(f"{alias}0") for alias in ("slow", "fast", "mid")]
    assert positions == sorted(positions)
    for alias in ("slow", "fast", "mid"):
        assert f"{alias}0 {alias}1 {alias}2 " in text  # each reply contiguous
    assert elapsed < 10  # nothing hung (the order of the first tokens above proves parallel)


async def test_without_streaming_tool_replies_only_the_model_text_streams() -> None:
    model = calling_model(call("echo", "c1", request="a"), answer="the answer")
    loop = tool_agent(model, [timed_agent("echo", 0.0)], stream_tool_replies=False)

    text = "".join([chunk.text async for chunk in loop.astream("go")])

    assert "echo0" not in text
    assert text.endswith("the answer")
    assert [m.text for m in tool_messages(model)] == ["echo0 echo1 echo2 "]


@pytest.mark.parametrize(
    ("tools", "args", "error"),
    [
        ([broken], {"request": "x"}, "ValueError: the broken agent broke"),
        ([broken_mid_stream], {"request": "x"}, "ValueError: broke mid-stream"),
        ([fails], {"reason": "no luck"}, "ValueError: no luck"),
    ],
    ids=["agent-tool", "agent-tool-mid-stream", "function-tool"],
)
async def test_a_failing_tool_becomes_an_error_tool_message(
    tools: list[Any], args: dict[str, Any], error: str
) -> None:
    name = tools[0].alias if isinstance(tools[0], MiniAgent) else tools[0].__name__
    model = calling_model(call(name, "c1", **args))
    reply = await tool_agent(model, tools).ainvoke("go")
    [result] = tool_messages(model)
    assert error in result.text
    assert result.status == "error"
    assert reply.text.endswith("all done")


@pytest.mark.parametrize(
    ("tools", "error"),
    [([broken], "the broken agent broke"), ([fails], "x")],
    ids=["agent-tool", "function-tool"],
)
async def test_a_failing_tool_fails_the_agent_when_told_to_raise(
    tools: list[Any], error: str
) -> None:
    name = tools[0].alias if isinstance(tools[0], MiniAgent) else tools[0].__name__
    arg = "request" if isinstance(tools[0], MiniAgent) else "reason"
    loop = tool_agent(calling_model(call(name, "c1", **{arg: "x"})), tools, tool_errors="raise")
    with pytest.raises(ValueError, match=error):
        await loop.ainvoke("go")


async def test_an_unknown_tool_name_is_reported_to_the_model() -> None:
    model = calling_model(call("nope", "c1"))
    await tool_agent(model, [add]).ainvoke("go")
    [result] = tool_messages(model)
    assert "no tool named 'nope'" in result.text
    assert "add" in result.text


async def test_a_model_that_never_stops_calling_tools_hits_max_turns() -> None:
    turn = AIMessage(content="again", tool_calls=[call("add", "c", a=1, b=1)])
    loop = tool_agent(ScriptedToolModel(turns=[turn] * 5), [add], max_turns=3)
    with pytest.raises(ToolLoopLimitError, match="max_turns=3"):
        await loop.ainvoke("go")


@pytest.mark.parametrize(
    ("tools", "kwargs", "message"),
    [
        ([add, add], {}, "Two tools are named 'add'"),
        ([add], {"max_turns": 0}, "max_turns >= 1"),
        ([add], {"tool_errors": "ignore"}, "tool_errors must be"),
    ],
    ids=["duplicate-names", "no-turns", "unknown-error-policy"],
)
def test_bad_configuration_is_refused(
    tools: list[Any], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        tool_agent(calling_model(), tools, **kwargs)
