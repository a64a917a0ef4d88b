"""Tool calls on the LangChain face, agents as tools, and tool loops over a MiniAgentChatModel."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    InvalidToolCall,
    ToolMessage,
)
from langchain_core.runnables import Runnable
from pydantic import BaseModel, Field

from miniagents_lc import (
    AssistantMessage,
    InteractionContext,
    MiniAgentChatModel,
    chat_model_agent,
    miniagent,
)
from miniagents_lc.testing.chat_models import ScriptedToolModel
from tests.langchain.tool_scripts import call, calling_model, first_token_at, timed_agent

# LangGraph's prebuilt loop is deprecated in favour of LangChain's; both are tested here.
_REACT_DEPRECATED = pytest.mark.filterwarnings(
    "ignore:create_react_agent has been moved:DeprecationWarning"
)

CALLS = [call("lookup", "c1", query="cats"), call("lookup", "c2", query="dogs")]
BAD = InvalidToolCall(
    name="lookup", args="not json", id="c3", error="bad", type="invalid_tool_call"
)


@miniagent(alias="two_messages")
async def two_messages(ctx: InteractionContext, **_kwargs: Any) -> None:
    """Replies with two assistant messages, each with tool calls, the second an invalid one."""
    usage = {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}
    ctx.reply(AssistantMessage(text="first", tool_calls=CALLS[:1], usage=usage))
    ctx.reply(
        AssistantMessage(
            text="second",
            tool_calls=CALLS[1:],
            invalid_tool_calls=[BAD],
            usage=usage,
            finish_reason="tool_calls",
        )
    )


def as_runnable(kind: str) -> Runnable[Any, Any]:
    return two_messages if kind == "agent" else MiniAgentChatModel(agent=two_messages)


def tool_call_ids(message: AIMessage) -> tuple[list[str | None], list[str | None]]:
    return [c["id"] for c in message.tool_calls], [c["id"] for c in message.invalid_tool_calls]


@pytest.mark.parametrize("kind", ["agent", "chat-model"])
async def test_ainvoke_returns_the_tool_calls_of_every_reply_message(kind: str) -> None:
    reply = await as_runnable(kind).ainvoke("go")
    assert tool_call_ids(reply) == (["c1", "c2"], ["c3"])
    assert reply.tool_calls[1]["args"] == {"query": "dogs"}
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["total_tokens"] == 10
    assert reply.response_metadata["finish_reason"] == "tool_calls"


@pytest.mark.parametrize("kind", ["agent", "chat-model"])
async def test_astream_tool_call_chunks_sum_to_the_tool_calls(kind: str) -> None:
    chunks = [chunk async for chunk in as_runnable(kind).astream("go")]
    total = functools.reduce(lambda left, right: left + right, chunks)
    assert isinstance(total, AIMessageChunk)
    assert tool_call_ids(total) == (["c1", "c2"], ["c3"])
    assert [chunk for chunk in chunks[:-1] if chunk.tool_call_chunks] == []  # not per token
    assert total.usage_metadata is not None
    assert total.usage_metadata["output_tokens"] == 4


async def test_tool_messages_go_back_into_a_chat_model_agent_intact() -> None:
    model = calling_model()
    history = [
        HumanMessage("go"),
        AIMessage(content="", tool_calls=CALLS),
        ToolMessage("fur", tool_call_id="c1"),
        ToolMessage("bark", tool_call_id="c2"),
    ]
    await chat_model_agent(model).ainvoke(history)
    sent = model.inputs[0]
    assert isinstance(sent[1], AIMessage)
    assert tool_call_ids(sent[1])[0] == ["c1", "c2"]
    assert [(m.tool_call_id, m.text) for m in sent[2:] if isinstance(m, ToolMessage)] == [
        ("c1", "fur"),
        ("c2", "bark"),
    ]


class Search(BaseModel):
    """Search the web."""

    query: str = Field(description="What to search for.")
    limit: int = 3


@pytest.mark.parametrize(
    ("kwargs", "schema_fields", "sent"),
    [
        ({}, {"request"}, "find cats"),
        ({"args_schema": Search, "name": "web"}, {"query", "limit"}, '{"query": "find cats"'),
    ],
    ids=["default-request", "custom-schema"],
)
async def test_as_tool_has_a_typed_schema_and_answers_with_the_reply_text(
    kwargs: dict[str, Any], schema_fields: set[str], sent: str
) -> None:
    @miniagent(alias="echo", description="Echoes the request.")
    async def echo(ctx: InteractionContext) -> None:
        [message] = await ctx.message_promises.acollect_messages()
        ctx.reply(f"got {message.text}")

    tool = echo.as_tool(**kwargs)
    assert tool.name == kwargs.get("name", "echo")
    assert tool.description == "Echoes the request."
    assert set(tool.tool_call_schema.model_json_schema()["properties"]) == schema_fields
    field = "query" if "args_schema" in kwargs else "request"
    result = await tool.ainvoke({field: "find cats"})
    assert isinstance(result, str)
    assert result.startswith(f"got {sent}")


@_REACT_DEPRECATED
async def test_in_a_tool_node_agent_tokens_stream_on_the_tools_stream_in_call_order() -> None:
    from langgraph.prebuilt import create_react_agent

    agents = [timed_agent("slow", 0.1), timed_agent("fast", 0.0)]
    model = calling_model(call("slow", "c1", request="x"), call("fast", "c2", request="y"))
    graph = create_react_agent(model, [agent.as_tool() for agent in agents])
    deltas: list[tuple[str, str]] = []
    message_text = ""
    async for mode, data in graph.astream(
        {"messages": [("user", "go")]}, stream_mode=["tools", "messages"]
    ):
        if mode == "tools" and data["event"] == "tool-output-delta":
            deltas.append((data["tool_call_id"], data["delta"]))
        elif mode == "messages" and isinstance(data[0], AIMessageChunk):
            message_text += data[0].text
    # The fast agent finishes first, yet its output follows the slow one's, which was called first.
    assert first_token_at["fast"] < first_token_at["slow"]
    assert deltas == [("c1", f"slow{i} ") for i in range(3)] + [
        ("c2", f"fast{i} ") for i in range(3)
    ]
    assert "slow0" not in message_text
    assert "fast0" not in message_text


def react_agent(model: BaseChatModel, tools: list[Any]) -> Any:
    from langgraph.prebuilt import create_react_agent

    return create_react_agent(model, tools)


def langchain_agent(model: BaseChatModel, tools: list[Any]) -> Any:
    from langchain.agents import create_agent

    return create_agent(model, tools)


@_REACT_DEPRECATED
@pytest.mark.parametrize("build", [react_agent, langchain_agent], ids=["langgraph", "langchain"])
async def test_prebuilt_tool_loops_run_over_a_miniagent_chat_model(build: Any) -> None:
    async def lookup(query: str) -> str:
        """Look something up."""
        return f"facts about {query}"

    model = ScriptedToolModel(
        turns=[AIMessage(content="", tool_calls=CALLS), AIMessage(content="cats purr")]
    )
    graph = build(MiniAgentChatModel(agent=chat_model_agent(model)), [lookup])

    result = await graph.ainvoke({"messages": [("user", "tell me")]})

    assert result["messages"][-1].text == "cats purr"
    tool_results = [m.text for m in result["messages"] if isinstance(m, ToolMessage)]
    assert tool_results == ["facts about cats", "facts about dogs"]
    assert model.bound_tools == [["lookup"], ["lookup"]]


async def test_with_structured_output_goes_through_bound_tools() -> None:
    model = ScriptedToolModel(
        turns=[AIMessage(content="", tool_calls=[call("Search", "s1", query="q")])]
    )
    structured = MiniAgentChatModel(agent=chat_model_agent(model)).with_structured_output(Search)

    result = await structured.ainvoke("search something")

    assert result == Search(query="q")
    assert model.bound_tools == [["Search"]]


async def test_tools_for_a_model_that_cannot_bind_them_are_refused_by_name() -> None:
    from langchain_core.runnables import RunnableLambda

    agent = chat_model_agent(RunnableLambda(lambda _messages: "hi", name="plain"), alias="plain")
    with pytest.raises(TypeError, match="has no bind_tools"):
        await agent.ainvoke("go", tools=[{"type": "function", "function": {"name": "x"}}])


async def test_bind_tools_passes_the_tool_choice_to_the_agent() -> None:
    seen: list[dict[str, Any]] = []

    @miniagent(alias="recorder")
    async def recorder(ctx: InteractionContext, **kwargs: Any) -> None:
        seen.append(kwargs)
        ctx.reply("ok")

    bound = MiniAgentChatModel(agent=recorder).bind_tools([Search], tool_choice="any")
    await bound.ainvoke("go")
    assert seen[0]["tool_choice"] == "any"
    assert [tool["function"]["name"] for tool in seen[0]["tools"]] == ["Search"]
