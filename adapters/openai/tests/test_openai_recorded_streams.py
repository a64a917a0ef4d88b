"""OpenAIAgent on streams the OpenAI API really sent, recorded by other projects.

`recordings/PROVENANCE.md` names each file's source repository, path, commit and licence. Each
is served byte for byte by the offline kit (one event per read) to the real SDK.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest
from langchain_core.messages import AIMessage
from miniagents_lc import MiniAgents
from miniagents_lc.agents.conversion import message_to_langchain
from miniagents_lc.messages import AssistantMessage

from miniagents_lc_openai import OpenAIAgent
from miniagents_lc_openai.testing import OpenAIMock, ResponsesStreamBuilder, encode_sse

RECORDINGS = Path(__file__).with_name("recordings")
PATHS = {"chat": "/chat/completions", "responses": "/responses"}


def recorded(name: str) -> bytes:
    """A recording as the API sent it; a `.chunks.txt` file (one event's JSON per line, as
    its source keeps it) gets the API's SSE framing back."""
    raw = (RECORDINGS / name).read_bytes()
    if not name.endswith(".chunks.txt"):
        return raw
    lines = raw.decode("utf-8").splitlines()
    return b"".join(encode_sse(line, event=json.loads(line)["type"]) for line in lines if line)


def agent_on(mock: OpenAIMock, api: str) -> Any:
    return OpenAIAgent.fork(model="gpt-4o", client=mock.async_client(), api=api)


async def tokens_and_message(agent: Any) -> tuple[list[str], AssistantMessage]:
    """The tokens of the agent's one-message reply, as they streamed, and the message."""
    tokens: list[str] = []
    async with MiniAgents():
        (promise,) = [promise async for promise in agent.trigger("Hi")]
        async for token in promise:
            tokens.append(token)
        message = await promise
    assert isinstance(message, AssistantMessage)
    return tokens, message


# -- n > 1: choice 0 is the reply ------------------------------------------------------------


async def test_a_stream_of_three_choices_replies_with_choice_zero_alone(
    openai_mock: OpenAIMock,
) -> None:
    openai_mock.sse(PATHS["chat"], recorded("chat_n3_choices.sse"))

    tokens, message = await tokens_and_message(agent_on(openai_mock, "chat"))

    # Choices 1 and 2 say 61 and 59 degrees; interleaved they would not even parse.
    assert json.loads(str(message)) == {"city": "San Francisco", "temperature": 65, "units": "f"}
    assert "".join(tokens) == message.text
    assert message.finish_reason == "stop"
    # The API reports one usage for the request: it counts the tokens of every choice.
    assert message.usage is not None
    assert (message.usage["output_tokens"], message.usage["total_tokens"]) == (42, 121)


# -- refusals --------------------------------------------------------------------------------

REFUSAL = "I'm sorry, I can't assist with that request."


async def test_a_chat_refusal_streams_its_text_and_is_kept_typed(
    openai_mock: OpenAIMock,
) -> None:
    openai_mock.sse(PATHS["chat"], recorded("chat_refusal.sse"))

    tokens, message = await tokens_and_message(agent_on(openai_mock, "chat"))

    assert tokens[:3] == ["I'm", " sorry", ","]
    assert "".join(tokens) == message.text == REFUSAL
    assert message.refusal == REFUSAL
    assert message.finish_reason == "stop"


async def test_a_refusal_reaches_langchain_as_additional_kwargs(
    openai_mock: OpenAIMock,
) -> None:
    openai_mock.sse(PATHS["chat"], recorded("chat_refusal.sse"))
    openai_mock.sse(PATHS["chat"], recorded("chat_refusal.sse"))
    agent = agent_on(openai_mock, "chat")

    invoked = await agent.ainvoke("Hi")
    _, message = await tokens_and_message(agent)
    converted = message_to_langchain(message)

    assert isinstance(converted, AIMessage)
    assert invoked.additional_kwargs == converted.additional_kwargs == {"refusal": REFUSAL}
    assert invoked.content == REFUSAL


def responses_refusal_body(pieces: list[str]) -> list[bytes]:
    """A Responses API stream whose message holds a refusal content part, streamed in
    `pieces` (the kit's builder; no recording of one was found: see PROVENANCE.md)."""
    builder = ResponsesStreamBuilder(response_id="resp_refusal", model="gpt-4o")
    part = {"type": "refusal", "refusal": ""}
    whole = "".join(pieces)
    done_part = {"type": "refusal", "refusal": whole}
    message = {**builder.message(None, "completed"), "content": [done_part]}
    where = {"item_id": builder.message_id, "output_index": 0, "content_index": 0}
    usage = {"input_tokens": 5, "output_tokens": len(pieces), "total_tokens": 5 + len(pieces)}
    events: list[tuple[str, dict[str, Any]]] = [
        ("response.created", {"response": builder.response("in_progress")}),
        (
            "response.output_item.added",
            {"output_index": 0, "item": builder.message(None, "in_progress")},
        ),
        ("response.content_part.added", {**where, "part": part}),
        *[("response.refusal.delta", {**where, "delta": piece}) for piece in pieces],
        ("response.refusal.done", {**where, "refusal": whole}),
        ("response.content_part.done", {**where, "part": done_part}),
        ("response.output_item.done", {"output_index": 0, "item": message}),
        (
            "response.completed",
            {"response": builder.response("completed", output=[message], usage=usage)},
        ),
    ]
    return [builder.event(n, kind, **fields) for n, (kind, fields) in enumerate(events)]


async def test_a_responses_refusal_streams_its_text_and_is_kept_typed(
    openai_mock: OpenAIMock,
) -> None:
    pieces = ["I'm", " sorry", ", I can't", " help."]
    openai_mock.sse(PATHS["responses"], responses_refusal_body(pieces))

    tokens, message = await tokens_and_message(agent_on(openai_mock, "responses"))

    assert tokens == pieces
    assert message.text == message.refusal == "I'm sorry, I can't help."
    assert message.finish_reason == "stop"


# -- the response id -------------------------------------------------------------------------

IDS = {
    "chat": ("chat_refusal.sse", "chatcmpl-ABfw4IfQfCCrcuybFm41wJyxjbkz7"),
    "responses": ("responses_text.sse", "resp_67e554a21aa88191b65876ac5e5bbe0406c52f0e511c76ed"),
}


@pytest.mark.parametrize(("name", "response_id"), list(IDS.values()), ids=list(IDS))
async def test_the_response_id_is_kept_as_langchain_keeps_it(
    name: str, response_id: str, openai_mock: OpenAIMock
) -> None:
    api = "chat" if name.startswith("chat") else "responses"
    openai_mock.sse(PATHS[api], recorded(name))
    openai_mock.sse(PATHS[api], recorded(name))
    agent = agent_on(openai_mock, api)

    _, message = await tokens_and_message(agent)
    invoked = await agent.ainvoke("Hi")

    assert message.model_dump()["id"] == response_id
    assert invoked.id == response_id
    assert invoked.response_metadata["id"] == response_id


async def test_a_recorded_responses_text_reply_streams_whole(openai_mock: OpenAIMock) -> None:
    openai_mock.sse(PATHS["responses"], recorded("responses_text.sse"))

    tokens, message = await tokens_and_message(agent_on(openai_mock, "responses"))

    assert tokens == ["The", " capital", " of", " France", " is", " Paris", "."]
    assert (message.finish_reason, message.model_name) == ("stop", "gpt-4o-2024-08-06")
    assert message.usage is not None
    assert message.usage["total_tokens"] == 287


# -- the Responses API's error event ---------------------------------------------------------


async def test_a_recorded_nested_error_event_raises_the_sdks_api_error(
    openai_mock: OpenAIMock,
) -> None:
    openai_mock.sse(PATHS["responses"], recorded("responses_error_quota.chunks.txt"))
    agent = agent_on(openai_mock, "responses")

    with pytest.raises(openai.APIError, match="exceeded your current quota") as raised:
        await tokens_and_message(agent)

    assert raised.value.code == "insufficient_quota"
    assert raised.value.type == "insufficient_quota"
