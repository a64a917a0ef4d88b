"""The kit's scripted tool-call streams, as the real openai SDK parses them: parallel calls,
interleaving, argument splits and the provider quirks `ToolStream` adds, for both APIs."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from miniagents_lc_openai.testing import (
    ErrorEvent,
    OpenAIMock,
    ResponseFailed,
    ToolCall,
    ToolStream,
)

CALLS = [ToolCall("f", ['{"x":', "1}"], id="a"), ToolCall("g", ["{}"], id="b")]

# (index, id, name, arguments) of each tool-call delta, after one text token.
CHAT_DELTAS: dict[str, tuple[ToolStream, list[tuple[Any, ...]]]] = {
    "plain": (
        ToolStream(),
        [
            (0, "a", "f", ""),
            (0, None, None, '{"x":'),
            (0, None, None, "1}"),
            (1, "b", "g", ""),
            (1, None, None, "{}"),
        ],
    ),
    "interleaved": (
        ToolStream(interleave=True),
        [
            (0, "a", "f", ""),
            (1, "b", "g", ""),
            (0, None, None, '{"x":'),
            (1, None, None, "{}"),
            (0, None, None, "1}"),
        ],
    ),
    "shared-index": (
        ToolStream(index="same"),
        [
            (0, "a", "f", ""),
            (0, None, None, '{"x":'),
            (0, None, None, "1}"),
            (0, "b", "g", ""),
            (0, None, None, "{}"),
        ],
    ),
    "missing-index": (
        ToolStream(index="missing"),
        [
            (None, "a", "f", ""),
            (None, None, None, '{"x":'),
            (None, None, None, "1}"),
            (None, "b", "g", ""),
            (None, None, None, "{}"),
        ],
    ),
    "cumulative": (
        ToolStream(cumulative=True),
        [
            (0, "a", "f", ""),
            (0, None, None, '{"x":'),
            (0, None, None, '{"x":1}'),
            (1, "b", "g", ""),
            (1, None, None, "{}"),
        ],
    ),
    "repeated-header": (
        ToolStream(repeat_header=True),
        [
            (0, "a", "f", ""),
            (0, "a", "f", '{"x":'),
            (0, "a", "f", "1}"),
            (1, "b", "g", ""),
            (1, "b", "g", "{}"),
        ],
    ),
    "no-ids": (
        ToolStream(ids=False),
        [
            (0, None, "f", ""),
            (0, None, None, '{"x":'),
            (0, None, None, "1}"),
            (1, None, "g", ""),
            (1, None, None, "{}"),
        ],
    ),
}


@pytest.mark.asyncio
@pytest.mark.parametrize(("stream", "deltas"), list(CHAT_DELTAS.values()), ids=list(CHAT_DELTAS))
async def test_chat_tool_streams_send_the_deltas_they_describe(
    stream: ToolStream,
    deltas: list[tuple[Any, ...]],
    openai_mock: OpenAIMock,
    openai_client: openai.AsyncOpenAI,
) -> None:
    openai_mock.chat(["One moment."], tool_calls=CALLS, tool_stream=stream)

    chunks = await openai_client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "Hi"}], stream=True
    )
    seen = []
    async for chunk in chunks:
        for choice in chunk.choices:
            for call in choice.delta.tool_calls or []:
                assert call.function is not None
                seen.append((call.index, call.id, call.function.name, call.function.arguments))

    assert seen == deltas


RESPONSES_STREAMS = {
    "plain": (ToolStream(), [(1, '{"x":'), (1, "1}"), (2, "{}")]),
    "interleaved": (ToolStream(interleave=True), [(1, '{"x":'), (2, "{}"), (1, "1}")]),
    "cumulative": (ToolStream(cumulative=True), [(1, '{"x":'), (1, '{"x":1}'), (2, "{}")]),
}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("stream", "deltas"), list(RESPONSES_STREAMS.values()), ids=list(RESPONSES_STREAMS)
)
async def test_responses_function_calls_stream_as_output_items_with_argument_deltas(
    stream: ToolStream,
    deltas: list[tuple[int, str]],
    openai_mock: OpenAIMock,
    openai_client: openai.AsyncOpenAI,
) -> None:
    openai_mock.responses(["One moment."], tool_calls=CALLS, tool_stream=stream)

    events = [
        event
        async for event in await openai_client.responses.create(model="m", input="Hi", stream=True)
    ]

    assert [e.sequence_number for e in events] == list(range(len(events)))
    added = [e.item for e in events if e.type == "response.output_item.added"]
    assert [(item.type, getattr(item, "call_id", None)) for item in added] == [
        ("message", None),
        ("function_call", "a"),
        ("function_call", "b"),
    ]
    argument_deltas = [
        (e.output_index, e.delta)
        for e in events
        if e.type == "response.function_call_arguments.delta"
    ]
    assert argument_deltas == deltas
    done = {
        e.output_index: e.arguments
        for e in events
        if e.type == "response.function_call_arguments.done"
    }
    assert done == {1: '{"x":1}', 2: "{}"}
    final = events[-1]
    assert final.type == "response.completed"
    assert final.response.output_text == "One moment."
    calls = [item for item in final.response.output if item.type == "function_call"]
    assert [(c.call_id, c.name, c.arguments) for c in calls] == [
        ("a", "f", '{"x":1}'),
        ("b", "g", "{}"),
    ]
    assert final.response.usage is not None
    assert final.response.usage.output_tokens == 4  # one token and three fragments


@pytest.mark.asyncio
async def test_a_responses_reply_of_only_calls_has_no_message_item(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    openai_mock.responses(tool_calls=CALLS)

    events = [
        event
        async for event in await openai_client.responses.create(model="m", input="Hi", stream=True)
    ]

    assert [e.item.type for e in events if e.type == "response.output_item.added"] == [
        "function_call",
        "function_call",
    ]
    assert [e.output_index for e in events if e.type == "response.output_item.done"] == [0, 1]


@pytest.mark.asyncio
@pytest.mark.parametrize("after", [1, 2, 3])
async def test_a_responses_fault_counts_text_and_argument_deltas(
    after: int, openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    openai_mock.responses(["Wait", "."], tool_calls=CALLS[:1], fault=ResponseFailed(after=after))

    events = [
        event
        async for event in await openai_client.responses.create(model="m", input="Hi", stream=True)
    ]

    deltas = [e for e in events if e.type.endswith(".delta")]
    assert len(deltas) == after
    assert events[-1].type == "response.failed"
    assert events[-1].response.output_text == "".join(["Wait", "."][:after])
    assert [e.sequence_number for e in events] == list(range(len(events)))


@pytest.mark.asyncio
async def test_a_responses_reply_can_end_incomplete_with_its_reason(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    openai_mock.responses(["Cut"], incomplete="max_output_tokens")

    events = [
        event
        async for event in await openai_client.responses.create(model="m", input="Hi", stream=True)
    ]

    final = events[-1]
    assert final.type == "response.incomplete"
    assert final.response.status == "incomplete"
    assert final.response.incomplete_details is not None
    assert final.response.incomplete_details.reason == "max_output_tokens"
    assert final.response.output_text == "Cut"


@pytest.mark.parametrize(
    "stream",
    [ToolStream(index="same"), ToolStream(repeat_header=True), ToolStream(ids=False)],
    ids=["shared-index", "repeated-header", "no-ids"],
)
def test_chat_only_quirks_are_refused_for_the_responses_api(
    stream: ToolStream, openai_mock: OpenAIMock
) -> None:
    with pytest.raises(ValueError, match="Chat Completions only"):
        openai_mock.responses(tool_calls=CALLS, tool_stream=stream)


@pytest.mark.asyncio
async def test_an_error_event_after_argument_deltas_raises_after_numbered_events(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    openai_mock.responses(tool_calls=CALLS, fault=ErrorEvent(after=2, message="boom"))
    events: list[Any] = []

    async def read() -> None:
        async for event in await openai_client.responses.create(model="m", input="Hi", stream=True):
            events.append(event)

    with pytest.raises(openai.APIError, match="boom"):
        await read()

    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[-1].type == "response.function_call_arguments.delta"
