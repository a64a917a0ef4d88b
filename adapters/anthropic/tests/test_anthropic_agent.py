"""AnthropicAgent against the offline kit: the real SDK, scripted streams.

What every adapter promises is checked by the adapter contract (test_anthropic_contract.py);
here is what is Anthropic's own: thinking blocks, cache counts in the usage, the request's
shape (system prompt, history, model parameters) and the transport error beneath a broken
stream.
"""

from __future__ import annotations

from typing import Any

import anthropic
import httpx2
import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from miniagents_lc import Message, MiniAgents
from miniagents_lc.messages import thaw
from miniagents_lc.testing.adapter_contract import consume

from miniagents_lc_anthropic import DEFAULT_MAX_TOKENS, AnthropicAgent, AnthropicStreamError
from miniagents_lc_anthropic.testing import (
    AnthropicMock,
    ConnectionReset,
    MalformedLine,
    MessagesStreamBuilder,
    Stall,
    ToolUse,
    Truncate,
    event,
)

MODEL = "claude-sonnet-4-5"


async def reply_of(agent: Any, *messages: Any, **kwargs: Any) -> tuple[list[str], Any]:
    """The tokens and the resolved message of the agent's one-message reply."""
    tokens: list[str] = []
    async with MiniAgents():
        (promise,) = await consume(agent.trigger(list(messages) or "Hi", **kwargs), tokens)
        message = await promise
    return tokens, message


def agent_on(mock: AnthropicMock, **options: Any) -> Any:
    return AnthropicAgent.fork(model=MODEL, client=mock.async_client(), **options)


# -- the reply ------------------------------------------------------------------------------


async def test_thinking_stays_out_of_the_text_and_is_kept_on_the_message(
    anthropic_mock: AnthropicMock,
) -> None:
    anthropic_mock.messages(
        ["The answer", " is 4."], thinking=["2 + 2", " makes 4."], signature="sig-1"
    )

    tokens, message = await reply_of(agent_on(anthropic_mock))

    assert tokens == ["The answer", " is 4."]
    assert message.text == "The answer is 4."
    fields = message.model_dump()
    assert fields["thinking"] == "2 + 2 makes 4."
    assert thaw(fields["thinking_blocks"]) == [
        {"type": "thinking", "thinking": "2 + 2 makes 4.", "signature": "sig-1"}
    ]


async def test_redacted_thinking_is_kept_for_the_next_turn_and_adds_no_text(
    anthropic_mock: AnthropicMock,
) -> None:
    plan = MessagesStreamBuilder("msg_redacted").plan(["Fine."])
    redacted = {"type": "redacted_thinking", "data": "EmwKAhgBEgy..."}
    block = event("content_block_start", index=0, content_block=redacted) + event(
        "content_block_stop", index=0
    )
    renumbered = [piece.replace(b'"index":0', b'"index":1') for piece in plan.payload]
    tail = [piece.replace(b'"index":0', b'"index":1') for piece in plan.tail]
    anthropic_mock.sse("/v1/messages", [*plan.head, block, *renumbered, *tail])

    tokens, message = await reply_of(agent_on(anthropic_mock))

    assert tokens == ["Fine."]
    fields = message.model_dump()
    assert fields["thinking"] == ""
    assert thaw(fields["thinking_blocks"]) == [redacted]


# Anthropic counts cache reads and writes apart from input_tokens; LangChain's input_tokens
# includes them: 7 + 300 + 2000 = 2307 in, 40 out.
CACHE_USAGE = {
    "input_tokens": 7,
    "output_tokens": 40,
    "cache_creation_input_tokens": 300,
    "cache_read_input_tokens": 2000,
}
EXPECTED_USAGE = {
    "input_tokens": 2307,
    "output_tokens": 40,
    "total_tokens": 2347,
    "input_token_details": {"cache_read": 2000, "cache_creation": 300},
}


@pytest.mark.parametrize("cumulative", [True, False], ids=["cumulative-delta", "output-only-delta"])
async def test_usage_counts_each_token_once_with_the_cache_inside_the_input(
    cumulative: bool, anthropic_mock: AnthropicMock
) -> None:
    anthropic_mock.messages(["ok"], usage=CACHE_USAGE, cumulative_usage=cumulative)

    _, message = await reply_of(agent_on(anthropic_mock))

    assert thaw(message.usage) == EXPECTED_USAGE


# -- the request ----------------------------------------------------------------------------


async def test_history_with_tool_calls_and_results_is_sent_as_anthropic_turns(
    anthropic_mock: AnthropicMock,
) -> None:
    reply = anthropic_mock.messages(["It is sunny."])
    history = [
        SystemMessage("Use the tools."),
        HumanMessage("Weather and time in Paris?"),
        AIMessage(
            "Checking.",
            tool_calls=[
                {"name": "get_weather", "args": {"city": "Paris"}, "id": "toolu_a"},
                {"name": "get_time", "args": {"tz": "Europe/Paris"}, "id": "toolu_b"},
            ],
        ),
        ToolMessage("sunny", tool_call_id="toolu_a"),
        ToolMessage("noon", tool_call_id="toolu_b", status="error"),
        HumanMessage("Thanks!"),
    ]

    final = await agent_on(anthropic_mock, system="Be brief.").ainvoke(history)

    assert final.content == "It is sunny."
    assert reply.request is not None
    sent = reply.request.json
    assert sent["system"] == "Be brief.\n\nUse the tools."
    assert sent["messages"] == [
        {"role": "user", "content": "Weather and time in Paris?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {
                    "type": "tool_use",
                    "id": "toolu_a",
                    "name": "get_weather",
                    "input": {"city": "Paris"},
                },
                {
                    "type": "tool_use",
                    "id": "toolu_b",
                    "name": "get_time",
                    "input": {"tz": "Europe/Paris"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_a", "content": "sunny"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_b",
                    "content": "noon",
                    "is_error": True,
                },
                {"type": "text", "text": "Thanks!"},
            ],
        },
    ]
    assert sent["max_tokens"] == DEFAULT_MAX_TOKENS
    assert sent["stream"] is True


async def test_a_reply_with_thinking_and_tool_calls_goes_back_with_its_signed_blocks(
    anthropic_mock: AnthropicMock,
) -> None:
    anthropic_mock.messages(
        thinking=["Need weather."], signature="sig-9", tool_uses=[ToolUse("w", {"c": 1}, id="t1")]
    )
    second = anthropic_mock.messages(["Done."])
    agent = agent_on(anthropic_mock)

    async with MiniAgents():
        (first_reply,) = await agent.trigger("Go").acollect_messages()
        result = Message(text="42", role="tool", tool_call_id="t1")
        await agent.trigger(["Go", first_reply, result]).acollect_messages()

    assert second.request is not None
    assert second.request.json["messages"][1] == {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "Need weather.", "signature": "sig-9"},
            {"type": "tool_use", "id": "t1", "name": "w", "input": {"c": 1}},
        ],
    }
    assert second.request.json["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "t1", "content": "42"}
    ]


async def test_a_system_prompt_of_blocks_keeps_its_cache_control(
    anthropic_mock: AnthropicMock,
) -> None:
    reply = anthropic_mock.messages(["ok"])
    system = [{"type": "text", "text": "Long rules.", "cache_control": {"type": "ephemeral"}}]

    await reply_of(
        agent_on(anthropic_mock, system=system), Message(text="Also this.", role="system")
    )

    assert reply.request is not None
    assert reply.request.json["system"] == [*system, {"type": "text", "text": "Also this."}]


@pytest.mark.parametrize("where", ["fork", "trigger", "ainvoke"])
async def test_model_parameters_reach_the_request_from_fork_trigger_or_ainvoke(
    where: str, anthropic_mock: AnthropicMock
) -> None:
    reply = anthropic_mock.messages(["ok"])
    options: dict[str, Any] = {
        "max_tokens": 77,
        "stop_sequences": ["END"],
        "metadata": {"user_id": "u-1"},
        "thinking": {"type": "enabled", "budget_tokens": 1024},
    }
    agent = agent_on(anthropic_mock)
    if where == "fork":
        agent, options = agent.fork(**options), {}
    if where == "ainvoke":
        assert (await agent.ainvoke("Hi", **options)).content == "ok"
    else:
        _, message = await reply_of(agent, **options)
        assert message.text == "ok"

    assert reply.request is not None
    sent = reply.request.json
    assert {key: sent[key] for key in ("max_tokens", "stop_sequences", "metadata", "thinking")} == {
        "max_tokens": 77,
        "stop_sequences": ["END"],
        "metadata": {"user_id": "u-1"},
        "thinking": {"type": "enabled", "budget_tokens": 1024},
    }


async def test_a_message_of_an_unknown_role_is_refused_naming_it(
    anthropic_mock: AnthropicMock,
) -> None:
    async with MiniAgents():
        with pytest.raises(ValueError, match="'critic'"):
            await consume(agent_on(anthropic_mock).trigger(Message(text="x", role="critic")), [])


# -- faults ---------------------------------------------------------------------------------


async def read_raw_stream(client: anthropic.AsyncAnthropic) -> None:
    """Read one streamed reply with the SDK alone, as the agent does."""
    stream = await client.messages.create(
        model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "Hi"}], stream=True
    )
    async with stream:
        async for _ in stream:
            pass


# (fault, the transport's error, what the message says happened)
TRANSPORT_FAULTS = {
    "stall": (Stall(after=1), httpx2.ReadTimeout, "stalled"),
    "connection-reset": (ConnectionReset(after=1), httpx2.ReadError, "connection was lost"),
    "peer-closed": (
        ConnectionReset(after=1, kind="remote_protocol_error"),
        httpx2.RemoteProtocolError,
        "connection was lost",
    ),
}


@pytest.mark.parametrize(
    ("fault", "transport", "wording"), list(TRANSPORT_FAULTS.values()), ids=list(TRANSPORT_FAULTS)
)
async def test_a_broken_stream_keeps_what_the_sdk_raised_as_the_cause_and_its_transport_error(
    fault: Any, transport: type[BaseException], wording: str, anthropic_mock: AnthropicMock
) -> None:
    # anthropic 2.17+ raises APITimeoutError / APIConnectionError here, earlier 2.x the httpx2
    # error itself: whichever the installed SDK raises is what the adapter must keep.
    for _ in range(2):
        anthropic_mock.messages(["par", "tial"], fault=fault)
    client = anthropic_mock.async_client(timeout=0.3)
    with pytest.raises((httpx2.TransportError, anthropic.APIConnectionError)) as sdk_raised:
        await read_raw_stream(client)

    async with MiniAgents():
        with pytest.raises(AnthropicStreamError, match=wording) as raised:
            await consume(AnthropicAgent.fork(model=MODEL, client=client).trigger("Hi"), [])

    assert type(raised.value.__cause__) is type(sdk_raised.value)
    assert type(raised.value.transport_error) is transport
    assert transport.__name__ in str(raised.value)


@pytest.mark.parametrize(
    "fault", [Truncate(after=1), MalformedLine(after=1)], ids=["truncated", "malformed-line"]
)
async def test_a_stream_whose_connection_held_has_no_transport_error(
    fault: Any, anthropic_mock: AnthropicMock
) -> None:
    anthropic_mock.messages(["par", "tial"], fault=fault)

    async with MiniAgents():
        with pytest.raises(AnthropicStreamError) as raised:
            await consume(agent_on(anthropic_mock).trigger("Hi"), [])

    assert raised.value.transport_error is None


async def test_a_stream_cut_after_its_message_delta_is_still_truncated(
    anthropic_mock: AnthropicMock,
) -> None:
    plan = MessagesStreamBuilder("msg_cut").plan(["a", "b"])
    anthropic_mock.sse("/v1/messages", [*plan.head, *plan.payload, *plan.tail[:-1]])
    tokens: list[str] = []

    async with MiniAgents():
        with pytest.raises(AnthropicStreamError, match="message_stop"):
            await consume(agent_on(anthropic_mock).trigger("Hi"), tokens)

    assert tokens == ["a", "b"]
