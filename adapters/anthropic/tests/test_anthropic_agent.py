"""AnthropicAgent against the offline kit: the real SDK, scripted streams.

What the reply says (text, thinking, tool calls, stop reason, usage), what the request says
(system prompt, history, model parameters), and how faults reach the reader.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import anthropic
import httpx2
import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from miniagents_lc import AssistantMessage, InteractionContext, Message, MiniAgents, miniagent
from miniagents_lc.messages import MessagePromise, thaw

from miniagents_lc_anthropic import DEFAULT_MAX_TOKENS, AnthropicAgent, AnthropicStreamError
from miniagents_lc_anthropic.testing import (
    AnthropicMock,
    ConnectionReset,
    ErrorEvent,
    MalformedLine,
    MessagesStreamBuilder,
    Stall,
    ToolUse,
    Truncate,
    event,
)

MODEL = "claude-sonnet-4-5"


async def consume(
    reply: Any, tokens: list[str], promises: list[MessagePromise] | None = None
) -> list[MessagePromise]:
    """Read every reply promise token by token into `tokens`; errors propagate."""
    promises = [] if promises is None else promises
    async for promise in reply:
        promises.append(promise)
        await read_tokens(promise, tokens)
    return promises


async def read_tokens(promise: MessagePromise, tokens: list[str]) -> None:
    async for token in promise:
        tokens.append(token)


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


async def test_text_streams_token_by_token_into_an_assistant_message(
    anthropic_mock: AnthropicMock,
) -> None:
    anthropic_mock.messages(["Hel", "lo", " there"], model="claude-reported")

    tokens, message = await reply_of(agent_on(anthropic_mock))

    assert tokens == ["Hel", "lo", " there"]
    assert type(message) is AssistantMessage
    assert (message.text, message.role) == ("Hello there", "assistant")
    assert message.model_name == "claude-reported"
    assert message.finish_reason == "end_turn"
    assert message.model_dump()["id"] == "msg_test0001"


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


ARGS = {"city": 'Paris "Rive Gauche"', "days": [1, 2], "note": "café ☕", "deep": {"x": None}}
ARGS_JSON = json.dumps(ARGS, ensure_ascii=False)
ESCAPE = ARGS_JSON.index('\\"')

# How a tool use's input may arrive: any split, even inside an escape or a multi-byte character.
SPLITS = {
    "whole": [ARGS_JSON],
    "char-by-char": list(ARGS_JSON),
    "inside-an-escape": [ARGS_JSON[: ESCAPE + 1], ARGS_JSON[ESCAPE + 1 :]],
    "inside-a-key": [ARGS_JSON[:3], ARGS_JSON[3:]],
    "empty-first-fragment": ["", ARGS_JSON[:20], ARGS_JSON[20:]],
    "around-non-ascii": [ARGS_JSON[: ARGS_JSON.index("é")], ARGS_JSON[ARGS_JSON.index("é") :]],
}


@pytest.mark.parametrize("pieces", list(SPLITS.values()), ids=list(SPLITS))
async def test_a_tool_call_is_assembled_exactly_from_its_split_input(
    pieces: list[str], anthropic_mock: AnthropicMock
) -> None:
    anthropic_mock.messages(tool_uses=[ToolUse("get_weather", pieces, id="toolu_1")])

    tokens, message = await reply_of(agent_on(anthropic_mock))

    assert tokens == []
    assert thaw(message.tool_calls) == [
        {"name": "get_weather", "args": ARGS, "id": "toolu_1", "type": "tool_call"}
    ]
    assert message.invalid_tool_calls == ()
    assert message.finish_reason == "tool_use"


async def test_parallel_tool_uses_become_tool_calls_in_order_after_the_text(
    anthropic_mock: AnthropicMock,
) -> None:
    anthropic_mock.messages(
        ["Checking both."],
        tool_uses=[
            ToolUse("get_weather", ['{"city":', ' "Paris"}'], id="toolu_a"),
            ToolUse("get_time", ['{"tz": "Asia/', 'Tokyo"}'], id="toolu_b"),
            ToolUse("list_cities", id="toolu_c"),
        ],
    )

    tokens, message = await reply_of(agent_on(anthropic_mock))

    assert tokens == ["Checking both."]
    assert thaw(message.tool_calls) == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "toolu_a", "type": "tool_call"},
        {"name": "get_time", "args": {"tz": "Asia/Tokyo"}, "id": "toolu_b", "type": "tool_call"},
        {"name": "list_cities", "args": {}, "id": "toolu_c", "type": "tool_call"},
    ]


async def test_the_tool_calls_are_langchains_own_shapes_and_build_an_ai_message_unchanged(
    anthropic_mock: AnthropicMock,
) -> None:
    anthropic_mock.messages(
        ["On it."],
        tool_uses=[
            ToolUse("get_weather", ['{"city": "Pa', 'ris"}'], id="toolu_a"),
            ToolUse("bad", ['{"x": '], id="toolu_b"),
        ],
    )

    _, message = await reply_of(agent_on(anthropic_mock))
    ai = AIMessage(
        content=message.text or "",
        tool_calls=thaw(message.tool_calls),
        invalid_tool_calls=thaw(message.invalid_tool_calls),
    )

    assert ai.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "toolu_a", "type": "tool_call"}
    ]
    assert [(call["id"], call["args"]) for call in ai.invalid_tool_calls] == [("toolu_b", '{"x": ')]
    assert ai.invalid_tool_calls[0]["type"] == "invalid_tool_call"


@pytest.mark.parametrize(
    ("pieces", "says"),
    [(['{"city": ', '"Par'], "not valid JSON"), (["[1, ", "2]"], "not an object")],
    ids=["cut-json", "not-an-object"],
)
async def test_tool_input_that_does_not_parse_is_an_invalid_tool_call(
    pieces: list[str], says: str, anthropic_mock: AnthropicMock
) -> None:
    anthropic_mock.messages(
        tool_uses=[ToolUse("good", {"a": 1}, id="toolu_ok"), ToolUse("bad", pieces, id="toolu_x")]
    )

    _, message = await reply_of(agent_on(anthropic_mock))

    assert [call["id"] for call in message.tool_calls] == ["toolu_ok"]
    (invalid,) = thaw(message.invalid_tool_calls)
    assert {key: invalid[key] for key in ("name", "id", "args")} == {
        "name": "bad",
        "id": "toolu_x",
        "args": "".join(pieces),
    }
    assert says in invalid["error"]


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


async def test_the_langchain_face_reports_the_same_usage_and_metadata(
    anthropic_mock: AnthropicMock,
) -> None:
    anthropic_mock.messages(["o", "k"], usage=CACHE_USAGE, stop_reason="max_tokens")
    anthropic_mock.messages(["o", "k"], usage=CACHE_USAGE)
    agent = agent_on(anthropic_mock)

    chunks = [chunk async for chunk in agent.astream("Hi")]
    final = await agent.ainvoke("Hi")

    assert chunks[-1].usage_metadata == EXPECTED_USAGE
    assert "".join(chunk.text for chunk in chunks) == "ok"
    assert final.usage_metadata == EXPECTED_USAGE
    assert final.response_metadata == {"finish_reason": "end_turn", "model_name": MODEL}
    assert chunks[-1].response_metadata["finish_reason"] == "max_tokens"


async def test_usage_of_a_tree_of_agents_adds_up_in_the_langchain_run(
    anthropic_mock: AnthropicMock,
) -> None:
    anthropic_mock.messages(["a"], usage=CACHE_USAGE)
    anthropic_mock.messages(["b"], usage={"input_tokens": 3, "output_tokens": 2})
    first, second = agent_on(anthropic_mock), agent_on(anthropic_mock)

    @miniagent
    async def both(ctx: InteractionContext) -> None:
        ctx.reply([first.trigger(ctx.message_promises), second.trigger(ctx.message_promises)])

    final = await both.ainvoke("Hi")

    assert final.usage_metadata is not None
    assert final.usage_metadata["input_tokens"] == 2307 + 3
    assert final.usage_metadata["output_tokens"] == 42
    assert final.usage_metadata["total_tokens"] == 2347 + 5
    assert final.usage_metadata.get("input_token_details") == {
        "cache_read": 2000,
        "cache_creation": 300,
    }


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


# (keyword, value, what the error must name); none of them reaches the API.
REFUSED = {
    "stream-false": ("stream", False, "always streams"),
    "messages": ("messages", [{"role": "user", "content": "x"}], "input messages"),
}


@pytest.mark.parametrize(("keyword", "value", "fix"), list(REFUSED.values()), ids=list(REFUSED))
async def test_arguments_the_agent_sets_itself_are_refused_before_any_request(
    keyword: str, value: Any, fix: str, anthropic_mock: AnthropicMock
) -> None:
    agent = agent_on(anthropic_mock, **{keyword: value})
    async with MiniAgents():
        with pytest.raises(ValueError, match=fix):
            await consume(agent.trigger("Hi"), [])

    assert anthropic_mock.requests == []


async def test_a_message_of_an_unknown_role_is_refused_naming_it(
    anthropic_mock: AnthropicMock,
) -> None:
    async with MiniAgents():
        with pytest.raises(ValueError, match="'critic'"):
            await consume(agent_on(anthropic_mock).trigger(Message(text="x", role="critic")), [])


async def test_missing_model_is_a_type_error() -> None:
    async with MiniAgents():
        with pytest.raises(TypeError, match="model"):
            await consume(AnthropicAgent.trigger("Hi"), [])


# -- faults ---------------------------------------------------------------------------------

# (fault, the error the reader gets, the transport's or decoder's error along its __cause__
# chain, or None when nothing lies beneath it)
FAULTS: dict[str, tuple[Any, type[BaseException], type[BaseException] | None]] = {
    "overloaded-error-event": (
        ErrorEvent(after=2, error_type="overloaded_error", message="Overloaded"),
        anthropic.APIStatusError,
        None,
    ),
    "cut-before-message-stop": (Truncate(after=2), AnthropicStreamError, None),
    "stall-past-the-timeout": (Stall(after=2), AnthropicStreamError, httpx2.ReadTimeout),
    "connection-reset": (ConnectionReset(after=2), AnthropicStreamError, httpx2.ReadError),
    "malformed-line": (MalformedLine(after=2), AnthropicStreamError, json.JSONDecodeError),
}


def causes(error: BaseException) -> list[type[BaseException]]:
    """The types along `error`'s `__cause__` chain, nearest first."""
    found: list[type[BaseException]] = []
    while error.__cause__ is not None:
        error = error.__cause__
        found.append(type(error))
    return found


@pytest.mark.parametrize(("fault", "error", "cause"), list(FAULTS.values()), ids=list(FAULTS))
async def test_a_fault_mid_stream_surfaces_after_the_partial_tokens_which_stay_replayable(
    fault: Any,
    error: type[BaseException],
    cause: type[BaseException] | None,
    anthropic_mock: AnthropicMock,
) -> None:
    anthropic_mock.messages(["par", "tial", " lost", " too"], fault=fault)
    agent = AnthropicAgent.fork(model=MODEL, client=anthropic_mock.async_client(timeout=0.3))
    tokens: list[str] = []
    promises: list[MessagePromise] = []
    started = time.monotonic()
    async with MiniAgents():
        with pytest.raises(error) as raised:
            await consume(agent.trigger("Hi"), tokens, promises)
        elapsed = time.monotonic() - started
        replayed: list[str] = []
        with pytest.raises(error) as replay_raised:
            await read_tokens(promises[0], replayed)

    assert tokens == replayed == ["par", "tial"]
    assert type(raised.value) is type(replay_raised.value) is error
    assert (cause in causes(raised.value)) if cause else causes(raised.value) == []
    assert elapsed < 2.0


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


@pytest.mark.parametrize("status", [529, 429])
async def test_an_overload_or_rate_limit_is_retried_by_the_sdk_then_the_reply_streams(
    status: int, anthropic_mock: AnthropicMock
) -> None:
    anthropic_mock.messages(status=status, headers={"retry-after-ms": "10"})
    anthropic_mock.messages(["after", " retry"])
    agent = AnthropicAgent.fork(model=MODEL, client=anthropic_mock.async_client(max_retries=2))

    tokens, _ = await reply_of(agent)

    assert tokens == ["after", " retry"]
    assert len(anthropic_mock.calls("/v1/messages")) == 2


@pytest.mark.parametrize(
    ("status", "error"), [(529, anthropic.OverloadedError), (429, anthropic.RateLimitError)]
)
async def test_when_the_retries_run_out_the_sdks_error_reaches_the_reader(
    status: int, error: type[BaseException], anthropic_mock: AnthropicMock
) -> None:
    for _ in range(3):
        anthropic_mock.messages(status=status, headers={"retry-after-ms": "10"})
    agent = AnthropicAgent.fork(model=MODEL, client=anthropic_mock.async_client(max_retries=2))
    started = time.monotonic()
    async with MiniAgents():
        with pytest.raises(error):
            await consume(agent.trigger("Hi"), [])

    assert len(anthropic_mock.calls("/v1/messages")) == 3  # the first try + 2 retries
    assert time.monotonic() - started < 2.0


async def test_cancelling_the_only_reader_closes_the_http_stream(
    anthropic_mock: AnthropicMock,
) -> None:
    reply = anthropic_mock.messages([f" t{i}" for i in range(50)], delay=0.02)
    agent = agent_on(anthropic_mock)
    tokens: list[str] = []
    three_read = asyncio.Event()

    async def read_on(replies: Any) -> None:
        async for promise in replies:
            async for token in promise:
                tokens.append(token)
                if len(tokens) == 3:
                    three_read.set()

    async with MiniAgents():
        reader = asyncio.create_task(read_on(agent.trigger("Hi")))
        await asyncio.wait_for(three_read.wait(), timeout=5)
        reader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reader
    request = reply.request

    assert request is not None
    assert request.outcome == "closed"
    assert request.finished_at is not None
    assert request.finished_at - request.started_at < 0.5  # not the whole 1 s stream


# -- a tree of agents -----------------------------------------------------------------------


async def test_tokens_stream_continuously_through_a_tree_of_agents(
    anthropic_mock: AnthropicMock,
) -> None:
    texts = {
        "a": [f" a{i}" for i in range(10)],
        "b": [f" b{i}" for i in range(10)],
        "c": [f" c{i}" for i in range(20)],
    }
    delays = {"a": 0.04, "b": 0.03, "c": 0.015}  # 0.4 s, 0.3 s and 0.3 s of stream
    base = anthropic_mock.base_url
    replies = {}
    agents = {}
    for name, tokens in texts.items():
        # One path per agent, so which request comes first does not matter.
        replies[name] = anthropic_mock.messages(
            tokens, delay=delays[name], path=f"/{name}/v1/messages"
        )
        client = anthropic_mock.async_client(base_url=f"{base}/{name}")
        agents[name] = AnthropicAgent.fork(name, model=MODEL, client=client)

    @miniagent
    async def panel(ctx: InteractionContext) -> None:
        ctx.reply(
            [agents["b"].trigger(ctx.message_promises), agents["c"].trigger(ctx.message_promises)]
        )

    @miniagent
    async def root(ctx: InteractionContext) -> None:
        ctx.reply([agents["a"].trigger(ctx.message_promises), panel.trigger(ctx.message_promises)])

    start = time.monotonic()
    received: list[tuple[str, float]] = []
    async for chunk in root.astream("q"):
        if isinstance(chunk.content, str) and chunk.content:
            received.append((chunk.content, time.monotonic()))
    total = time.monotonic() - start

    joined = "\n\n".join("".join(texts[name]) for name in "abc")
    assert "".join(token for token, _ in received) == joined  # in reply order
    assert [token for token, _ in received[: len(texts["a"])]] == texts["a"]  # A's one by one
    a_request = replies["a"].request
    assert a_request is not None
    assert a_request.finished_at is not None
    assert received[0][1] < a_request.finished_at - 0.1  # A streamed, not delivered whole
    for sibling in "bc":
        request = replies[sibling].request
        assert request is not None
        assert request.started_at < a_request.finished_at  # ran alongside A
    assert total < 0.8  # ≈ A's 0.4 s, not A + B + C (1 s)
