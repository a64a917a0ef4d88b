"""Error-tolerant replies through the LangChain faces: `.astream()` marks the error's text and
its chunk's metadata, v3 events report the failed call and the error message, and the chat
model face carries both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk

from miniagents_lc import (
    InteractionContext,
    Message,
    MessagePromise,
    MiniAgent,
    MiniAgentChatModel,
    miniagent,
)
from miniagents_lc.testing import settle


class Boom(Exception):
    """The error the failing agent raises."""


MARKED = "[error in agent 'failing'] Boom: broken"
EXPECTED_ERROR = {
    "agent_alias": "failing",
    "error_type": "Boom",
    "error_message": "broken",
    "error_traceback": None,
}


def tolerant_tree(**failing_options: Any) -> MiniAgent:
    @miniagent(alias="failing", **failing_options)
    async def failing(ctx: InteractionContext) -> None:
        ctx.reply("partial")
        raise Boom("broken")

    @miniagent(alias="top", errors_as_messages=True)
    async def top(ctx: InteractionContext) -> None:
        ctx.reply(["before", failing.trigger(), "after"])

    return top


@pytest.mark.parametrize("failing_tolerant", [True, None], ids=["own-setting", "parents"])
async def test_astream_shows_the_error_as_marked_text_in_a_chunk_that_says_so(
    failing_tolerant: bool | None,
) -> None:
    top = tolerant_tree(errors_as_messages=failing_tolerant)

    chunks = [chunk async for chunk in top.astream("go")]

    error_chunks = [chunk for chunk in chunks if chunk.response_metadata.get("errors")]
    assert [chunk.content for chunk in error_chunks] == [MARKED]
    assert error_chunks[0].response_metadata["errors"] == [EXPECTED_ERROR]
    text = "".join(str(chunk.content) for chunk in chunks)
    assert text == f"before\n\npartial\n\n{MARKED}\n\nafter"


async def test_ainvoke_equals_the_sum_of_the_chunks_errors_included() -> None:
    top = tolerant_tree()

    chunks = [chunk async for chunk in top.astream("go")]
    whole = await top.ainvoke("go")

    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    assert whole.content == total.content
    assert whole.response_metadata["errors"] == total.response_metadata["errors"]
    assert whole.response_metadata["errors"] == [EXPECTED_ERROR]


async def test_astream_without_errors_has_no_error_metadata() -> None:
    @miniagent(errors_as_messages=True)
    async def fine(ctx: InteractionContext) -> None:
        ctx.reply(["a", "b"])

    chunks = [chunk async for chunk in fine.astream("go")]

    assert all("errors" not in chunk.response_metadata for chunk in chunks)
    assert "errors" not in (await fine.ainvoke("go")).response_metadata


@pytest.mark.parametrize("failing_tolerant", [True, None], ids=["own-setting", "parents"])
async def test_v3_events_report_the_failed_call_and_the_error_message(
    failing_tolerant: bool | None,
) -> None:
    top = tolerant_tree(errors_as_messages=failing_tolerant)

    async with await top.astream_events("go", version="v3") as run:
        events = [event async for event in run]

    ends = {
        tuple(event["params"]["namespace"]): event["params"]["data"]
        for event in events
        if event["method"] == "lifecycle" and event["params"]["data"]["event"] != "started"
    }
    assert ends[("failing:0",)]["event"] == "failed"
    assert "broken" in ends[("failing:0",)]["error"]
    assert ends[()]["event"] == "completed"
    deltas = "".join(
        event["params"]["data"]["delta"]["text"]
        for event in events
        if event["method"] == "messages"
        and event["params"]["data"].get("event") == "content-block-delta"
    )
    assert MARKED in deltas
    assert deltas.index("partial") < deltas.index(MARKED) < deltas.index("after")


@pytest.mark.parametrize("streaming", [True, False], ids=["astream", "ainvoke"])
async def test_the_chat_model_face_carries_the_marked_text_and_the_error_metadata(
    streaming: bool,
) -> None:
    model = MiniAgentChatModel(agent=tolerant_tree())

    if streaming:
        chunks: list[AIMessageChunk] = [chunk async for chunk in model.astream("go")]
        error_chunks = [chunk for chunk in chunks if chunk.response_metadata.get("errors")]
        assert [chunk.content for chunk in error_chunks] == [MARKED]
        assert error_chunks[0].response_metadata["errors"] == [EXPECTED_ERROR]
    else:
        message = await model.ainvoke("go")
        assert MARKED in str(message.content)
        assert message.response_metadata["errors"] == [EXPECTED_ERROR]


@pytest.mark.parametrize("errors_as_messages", [True, False])
async def test_the_reply_takes_its_first_models_message_id_in_either_mode(
    errors_as_messages: bool,
) -> None:
    async def tokens(promise: MessagePromise) -> AsyncIterator[str]:
        await settle()  # the id comes with the first token, not before
        promise.set_fields(id="model-message-id")
        yield "hi"
        await settle()
        yield " there"

    @miniagent(errors_as_messages=errors_as_messages)
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply(Message.promise(tokens))

    chunks = [chunk async for chunk in agent.astream("go")]

    assert {chunk.id for chunk in chunks} == {"model-message-id"}
