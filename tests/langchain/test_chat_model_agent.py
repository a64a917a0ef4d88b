"""`chat_model_agent`: a chat model (or a Runnable streaming chunks or strings) as an agent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import RunnableGenerator, RunnableLambda

from miniagents_lc import AssistantMessage, InteractionContext, MiniAgent, MiniAgents, miniagent
from miniagents_lc.langchain import MiniAgentChatModel, chat_model_agent
from miniagents_lc.testing.chat_models import ScriptedError
from tests.langchain.scripted import scripted_model, usage


@pytest.mark.parametrize("context_default", [True, False], ids=["immediate", "deferred"])
@pytest.mark.parametrize("schedule_immediately", [True, False], ids=["trigger-now", "on-demand"])
async def test_reply_is_one_assistant_message_streaming_the_model_tokens(
    context_default: bool, schedule_immediately: bool
) -> None:
    model = scripted_model(tokens=["Hel", "lo", "", " world"], delay=0.001)
    agent = chat_model_agent(model, alias="writer")
    async with MiniAgents(schedule_immediately_by_default=context_default):
        replies = agent.trigger("hi", schedule_immediately=schedule_immediately)
        promises = [promise async for promise in replies]
        assert len(promises) == 1
        tokens = [token async for token in promises[0]]
        message = await promises[0]
    assert tokens == ["Hel", "lo", " world"]
    assert message.text == "Hello world"
    assert message.role == "assistant"


async def test_final_message_keeps_id_usage_response_metadata_and_tool_calls() -> None:
    model = scripted_model(
        tokens=["Let me ", "check."],
        usage=usage(7, 3),
        tool_call_chunks=[
            tool_call_chunk(name="lookup", args='{"city": ', id="call_1", index=0),
        ],
    )
    model.tool_call_chunks.append(tool_call_chunk(args='"Paris"}', index=0))
    agent = chat_model_agent(model, alias="caller")
    async with MiniAgents():
        (message,) = await agent.trigger("weather?").acollect_messages()
    assert isinstance(message, AssistantMessage)
    assert message.usage == {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}
    assert (message.finish_reason, message.model_name) == ("stop", "scripted")
    assert [(call["name"], call["args"], call["id"]) for call in message.tool_calls] == [
        ("lookup", {"city": "Paris"}, "call_1")
    ]
    assert str(message.model_dump()["id"]).startswith("lc_run-")


async def test_metadata_of_the_summed_chunks_is_carried_once() -> None:
    agent = chat_model_agent(scripted_model(tokens=["a", "b", "c"], usage=usage(1, 3)))
    async with MiniAgents():
        (message,) = await agent.trigger("x").acollect_messages()
    assert isinstance(message, AssistantMessage)
    assert message.finish_reason == "stop"
    assert message.usage is not None
    assert message.usage["total_tokens"] == 4


async def test_input_messages_reach_the_model_with_their_roles() -> None:
    model = scripted_model(tokens=["ok"])
    agent = chat_model_agent(model)
    conversation = [
        SystemMessage("be brief"),
        HumanMessage("what is 2+2?"),
        AIMessage("", tool_calls=[{"name": "add", "args": {"a": 2}, "id": "c1"}]),
        ToolMessage("4", tool_call_id="c1"),
    ]
    async with MiniAgents():
        await agent.trigger(conversation).acollect_messages()
    (call,) = model.calls
    received = call["messages"]
    assert [type(message) for message in received] == [
        SystemMessage,
        HumanMessage,
        AIMessage,
        ToolMessage,
    ]
    assert [message.text for message in received] == ["be brief", "what is 2+2?", "", "4"]
    assert received[2].tool_calls[0]["name"] == "add"
    assert received[3].tool_call_id == "c1"


async def test_model_kwargs_reach_every_astream_call() -> None:
    model = scripted_model(tokens=["ok"])
    agent = chat_model_agent(model, temperature=0.5, seed=7)
    async with MiniAgents():
        await agent.trigger("a").acollect_messages()
        await agent.trigger("b").acollect_messages()
    assert [call["kwargs"] for call in model.calls] == [
        {"temperature": 0.5, "seed": 7},
        {"temperature": 0.5, "seed": 7},
    ]


async def _call_with_bind(agent: MiniAgent) -> None:
    await agent.bind(temperature=0).ainvoke("hi")


async def _call_with_ainvoke_kwargs(agent: MiniAgent) -> None:
    await agent.ainvoke("hi", temperature=0)


async def _call_with_astream_kwargs(agent: MiniAgent) -> None:
    async for _chunk in agent.astream("hi", temperature=0):
        pass


async def _call_with_trigger_kwargs(agent: MiniAgent) -> None:
    async with MiniAgents():
        await agent.trigger("hi", temperature=0).acollect_messages()


async def _call_through_the_chat_model(agent: MiniAgent) -> None:
    await MiniAgentChatModel(agent=agent).ainvoke("hi", temperature=0)


async def _call_through_the_bound_chat_model(agent: MiniAgent) -> None:
    await MiniAgentChatModel(agent=agent).bind(temperature=0).ainvoke("hi")


def _call_with_sync_invoke(agent: MiniAgent) -> Awaitable[None]:
    async def call() -> None:
        await asyncio.to_thread(agent.invoke, "hi", temperature=0)

    return call()


@pytest.mark.parametrize(
    "call",
    [
        _call_with_bind,
        _call_with_ainvoke_kwargs,
        _call_with_astream_kwargs,
        _call_with_trigger_kwargs,
        _call_through_the_chat_model,
        _call_through_the_bound_chat_model,
        _call_with_sync_invoke,
    ],
    ids=["bind", "ainvoke", "astream", "trigger", "chat-model", "bound-chat-model", "invoke"],
)
async def test_per_call_kwargs_reach_the_model_over_the_agent_defaults(
    call: Callable[[MiniAgent], Awaitable[None]],
) -> None:
    model = scripted_model(tokens=["ok"])
    agent = chat_model_agent(model, alias="writer", temperature=0.7, seed=7)
    await call(agent)
    assert [entry["kwargs"] for entry in model.calls] == [{"temperature": 0, "seed": 7}]


def test_alias_defaults_to_the_model_name_and_can_be_given() -> None:
    model = scripted_model(tokens=[])
    assert chat_model_agent(model).alias == "ScriptedChatModel"
    assert chat_model_agent(model, alias="writer").alias == "writer"
    assert chat_model_agent(model, alias="writer").get_name() == "writer"
    assert chat_model_agent(model, description="Writes.").description == "Writes."


async def test_runnable_streaming_strings_becomes_an_agent() -> None:
    chain = scripted_model(tokens=["one ", "two"], delay=0.001) | StrOutputParser()
    agent = chat_model_agent(chain, alias="parsed")
    async with MiniAgents():
        (promise,) = [promise async for promise in agent.trigger("go")]
        tokens = [token async for token in promise]
        message = await promise
    assert tokens == ["one ", "two"]
    assert message.text == "one two"
    assert message.role == "assistant"


async def test_runnable_returning_a_whole_ai_message_keeps_its_metadata() -> None:
    whole = AIMessage(
        "done",
        id="msg-1",
        usage_metadata=usage(2, 1),
        tool_calls=[{"name": "f", "args": {"x": 1}, "id": "t1"}],
    )
    agent = chat_model_agent(RunnableLambda(lambda _messages: whole), alias="whole")
    async with MiniAgents():
        (message,) = await agent.trigger("go").acollect_messages()
    assert isinstance(message, AssistantMessage)
    assert message.text == "done"
    assert message.model_dump()["id"] == "msg-1"
    assert message.usage is not None
    assert message.usage["total_tokens"] == 3
    assert message.tool_calls[0]["args"] == {"x": 1}


async def test_a_chunk_of_another_type_is_a_type_error_naming_it() -> None:
    agent = chat_model_agent(RunnableLambda(lambda _messages: 42), alias="numbers")
    async with MiniAgents():
        replies = agent.trigger("go")
        with pytest.raises(TypeError, match=r"'numbers' streamed a int; expected AIMessageChunk"):
            await replies.acollect_messages()


async def test_a_stream_cut_short_by_a_bad_chunk_is_closed_at_once() -> None:
    closed: list[bool] = []

    async def text_then_number(_messages: Any) -> AsyncIterator[Any]:
        try:
            yield "fine"
            yield 42
            yield "never read"
        finally:
            closed.append(True)

    agent = chat_model_agent(RunnableGenerator(text_then_number), alias="mixed")
    async with MiniAgents():
        replies = agent.trigger("go")
        with pytest.raises(TypeError, match="streamed a int"):
            await replies.acollect_messages()
        assert closed == [True]


async def _read_into(received: list[str], tokens: AsyncIterable[str]) -> None:
    async for token in tokens:
        received.append(token)


async def test_model_error_reaches_the_consumer_after_the_tokens_it_streamed() -> None:
    agent = chat_model_agent(scripted_model(tokens=["a", "b", "c"], fail_after=2), alias="w")
    received: list[str] = []
    async with MiniAgents():
        replies = agent.trigger("go")
        promise = await anext(aiter(replies))
        with pytest.raises(ScriptedError) as raised:
            await _read_into(received, promise)
        with pytest.raises(ScriptedError) as raised_again:
            await replies.acollect_messages()
    assert received == ["a", "b"]
    assert "raised in agent 'w'" in getattr(raised.value, "__notes__", [])
    assert raised_again.value is raised.value


async def test_replies_of_other_agents_become_assistant_input() -> None:
    model = scripted_model(tokens=["ok"])
    reviewer = chat_model_agent(model, alias="reviewer")
    draft = chat_model_agent(scripted_model(tokens=["draft ", "text"]), alias="drafter")

    @miniagent
    async def pipeline(ctx: InteractionContext) -> None:
        ctx.reply(reviewer.trigger(["review this:", draft.trigger(ctx.message_promises)]))

    async with MiniAgents():
        (message,) = await pipeline.trigger("write").acollect_messages()
    received: list[Any] = model.calls[0]["messages"]
    assert [(type(m).__name__, m.text) for m in received] == [
        ("HumanMessage", "review this:"),
        ("AIMessage", "draft text"),
    ]
    assert message.text == "ok"
