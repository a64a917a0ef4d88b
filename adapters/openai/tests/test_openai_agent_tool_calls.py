"""Tool calls in OpenAIAgent replies: streamed fragments from either API, however a server
interleaves or labels them, become exact LangChain `ToolCall`s on the `AssistantMessage`."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.messages.tool import tool_call
from miniagents_lc import Message, MiniAgents
from miniagents_lc.messages import AssistantMessage

from miniagents_lc_openai import OpenAIAgent
from miniagents_lc_openai.testing import (
    OpenAIMock,
    ResponsesStreamBuilder,
    ToolCall,
    ToolStream,
    responses_usage,
)

# Three parallel calls, their arguments split the way models split them, one with an empty
# first fragment and one whose split would fool a naive "resent whole" check.
CALLS = [
    ToolCall("get_weather", ["", '{"city":', ' "Paris", ', '"unit": "c"}'], id="call_w"),
    ToolCall("get_time", ['{"tz":"Asia/', 'Tokyo"}'], id="call_t"),
    ToolCall("lookup", ['{"a":', '{"a":1}}'], id="call_l"),
]
EXPECTED = [
    tool_call(name="get_weather", args={"city": "Paris", "unit": "c"}, id="call_w"),
    tool_call(name="get_time", args={"tz": "Asia/Tokyo"}, id="call_t"),
    tool_call(name="lookup", args={"a": {"a": 1}}, id="call_l"),
]

CHAT_STREAMS = {
    "one-after-another": ToolStream(),
    "interleaved": ToolStream(interleave=True),
    "shared-index": ToolStream(index="same"),
    "missing-index": ToolStream(index="missing"),
    "cumulative": ToolStream(cumulative=True),
    "interleaved-cumulative": ToolStream(interleave=True, cumulative=True),
    "interleaved-shared-index-ids-repeated": ToolStream(
        interleave=True, index="same", repeat_header=True
    ),
    "interleaved-missing-index-ids-repeated-cumulative": ToolStream(
        interleave=True, index="missing", repeat_header=True, cumulative=True
    ),
}
RESPONSES_STREAMS = {
    "one-after-another": ToolStream(),
    "interleaved": ToolStream(interleave=True),
    "cumulative": ToolStream(cumulative=True),
    "interleaved-cumulative": ToolStream(interleave=True, cumulative=True),
}


async def reply_of(agent: Any, *messages: Any, **kwargs: Any) -> AssistantMessage:
    async with MiniAgents():
        (message,) = await agent.trigger(list(messages) or "Hi", **kwargs).acollect_messages()
    assert isinstance(message, AssistantMessage)
    return message


@pytest.mark.parametrize("stream", list(CHAT_STREAMS.values()), ids=list(CHAT_STREAMS))
@pytest.mark.parametrize("tokens", [[], ["Let me ", "check."]], ids=["calls-only", "with-text"])
async def test_chat_tool_calls_are_assembled_exactly(
    stream: ToolStream, tokens: list[str], openai_mock: OpenAIMock
) -> None:
    openai_mock.chat(tokens, tool_calls=CALLS, tool_stream=stream, finish_reason="tool_calls")
    agent = OpenAIAgent.fork(model="m", client=openai_mock.async_client())

    message = await reply_of(agent)

    assert list(message.tool_calls) == EXPECTED
    assert message.invalid_tool_calls == ()
    assert message.text == "".join(tokens)
    assert message.finish_reason == "tool_calls"


@pytest.mark.parametrize("stream", list(RESPONSES_STREAMS.values()), ids=list(RESPONSES_STREAMS))
@pytest.mark.parametrize("tokens", [[], ["Let me ", "check."]], ids=["calls-only", "with-text"])
async def test_responses_tool_calls_are_assembled_exactly(
    stream: ToolStream, tokens: list[str], openai_mock: OpenAIMock
) -> None:
    openai_mock.responses(tokens, tool_calls=CALLS, tool_stream=stream)
    agent = OpenAIAgent.fork(model="m", client=openai_mock.async_client(), api="responses")

    message = await reply_of(agent)

    assert list(message.tool_calls) == EXPECTED
    assert message.invalid_tool_calls == ()
    assert message.text == "".join(tokens)
    assert message.finish_reason == "tool_calls"
    assert getattr(message, "status", None) == "completed"


@pytest.mark.parametrize("index", ["same", "missing"])
async def test_without_ids_or_distinct_indexes_sequential_calls_are_told_apart_by_name(
    index: Any, openai_mock: OpenAIMock
) -> None:
    stream = ToolStream(index=index, ids=False)
    openai_mock.chat(tool_calls=CALLS, tool_stream=stream, finish_reason="tool_calls")
    agent = OpenAIAgent.fork(model="m", client=openai_mock.async_client())

    message = await reply_of(agent)

    assert list(message.tool_calls) == [{**call, "id": None} for call in EXPECTED]


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_a_reply_with_tool_calls_goes_back_as_history_with_the_tool_results(
    api: str, openai_mock: OpenAIMock
) -> None:
    first_reply = [ToolCall("get_time", {"tz": "UTC"}, id="call_t")]
    if api == "chat":
        openai_mock.chat(["Checking."], tool_calls=first_reply, finish_reason="tool_calls")
        second = openai_mock.chat(["It is noon."])
    else:
        openai_mock.responses(["Checking."], tool_calls=first_reply)
        second = openai_mock.responses(["It is noon."])
    agent = OpenAIAgent.fork(model="m", client=openai_mock.async_client(), api=api)
    asked = "What time is it?"

    called = await reply_of(agent, asked)
    result = Message(text="12:00", role="tool", tool_call_id="call_t")
    answer = await reply_of(agent, asked, called, result)

    assert answer.text == "It is noon."
    assert second.request is not None
    sent = second.request.json
    if api == "chat":
        assert sent["messages"] == [
            {"role": "user", "content": asked},
            {
                "role": "assistant",
                "content": "Checking.",
                "tool_calls": [
                    {
                        "id": "call_t",
                        "type": "function",
                        "function": {"name": "get_time", "arguments": '{"tz": "UTC"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_t", "content": "12:00"},
        ]
    else:
        assert sent["input"] == [
            {"role": "user", "content": asked},
            {"role": "assistant", "content": "Checking."},
            {
                "type": "function_call",
                "call_id": "call_t",
                "name": "get_time",
                "arguments": '{"tz": "UTC"}',
            },
            {"type": "function_call_output", "call_id": "call_t", "output": "12:00"},
        ]


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_langchain_history_with_tool_calls_and_tool_messages_goes_in_intact(
    api: str, openai_mock: OpenAIMock
) -> None:
    reply = openai_mock.chat(["Done."]) if api == "chat" else openai_mock.responses(["Done."])
    agent = OpenAIAgent.fork(model="m", client=openai_mock.async_client(), api=api)
    history = [
        HumanMessage("Weather in Paris and Rome?"),
        AIMessage(
            "",
            tool_calls=[
                tool_call(name="get_weather", args={"city": "Paris"}, id="call_p"),
                tool_call(name="get_weather", args={"city": "Rome"}, id="call_r"),
            ],
        ),
        ToolMessage("Sunny", tool_call_id="call_p"),
        ToolMessage("Rainy", tool_call_id="call_r"),
    ]

    assert (await reply_of(agent, *history)).text == "Done."

    assert reply.request is not None
    sent = reply.request.json
    arguments = ['{"city": "Paris"}', '{"city": "Rome"}']
    if api == "chat":
        assert sent["messages"] == [
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": args},
                    }
                    for call_id, args in zip(["call_p", "call_r"], arguments, strict=True)
                ],
            },
            {"role": "tool", "tool_call_id": "call_p", "content": "Sunny"},
            {"role": "tool", "tool_call_id": "call_r", "content": "Rainy"},
        ]
    else:
        assert sent["input"] == [
            {"role": "user", "content": "Weather in Paris and Rome?"},
            *(
                {"type": "function_call", "call_id": call_id, "name": "get_weather", "arguments": a}
                for call_id, a in zip(["call_p", "call_r"], arguments, strict=True)
            ),
            {"type": "function_call_output", "call_id": "call_p", "output": "Sunny"},
            {"type": "function_call_output", "call_id": "call_r", "output": "Rainy"},
        ]


async def test_a_function_call_only_in_the_final_response_is_on_the_reply(
    openai_mock: OpenAIMock,
) -> None:
    # Some proxies stream no function-call events and list the calls in the final response only.
    builder = ResponsesStreamBuilder("resp_final_only")
    call = ToolCall("get_time", {"tz": "UTC"}, id="call_t")
    item = builder.function_call(0, call, '{"tz":"UTC"}', "completed")
    completed = builder.response("completed", output=[item], usage=responses_usage(3, 2))
    openai_mock.sse(
        "/responses",
        [
            builder.event(0, "response.created", response=builder.response("in_progress")),
            builder.event(1, "response.completed", response=completed),
        ],
    )
    agent = OpenAIAgent.fork(model="m", client=openai_mock.async_client(), api="responses")

    message = await reply_of(agent)

    assert list(message.tool_calls) == [tool_call(name="get_time", args={"tz": "UTC"}, id="call_t")]
    assert message.finish_reason == "tool_calls"
