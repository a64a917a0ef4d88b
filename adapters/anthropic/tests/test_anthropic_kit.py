"""Specification of miniagents_lc_anthropic.testing, checked against the real anthropic SDK.

Every test drives `anthropic.AsyncAnthropic` (or `anthropic.Anthropic`) through the kit's mock,
on the SDK's own transport, so what is pinned here is what the SDK really does with each
scripted reply and fault. The SDK's own accumulator (`messages.stream()`) is the referee of
the scripted streams' shapes.
"""

from __future__ import annotations

import importlib.metadata
import json
import time
from typing import Any

import anthropic
import httpx2
import pytest

from miniagents_lc_anthropic import testing
from miniagents_lc_anthropic.testing import (
    AnthropicMock,
    ConnectionReset,
    ErrorEvent,
    MalformedLine,
    MessagesStreamBuilder,
    RecordedRequest,
    ScriptedReply,
    Stall,
    ToolUse,
    Truncate,
    event,
    messages_usage,
    pytest_plugin,
)

MODEL = "claude-sonnet-4-5"
MESSAGES: list[Any] = [{"role": "user", "content": "Hi"}]


def served(reply: ScriptedReply) -> RecordedRequest:
    """The request that consumed `reply` (fails if none did)."""
    assert reply.request is not None, "the scripted reply was never requested"
    return reply.request


async def final_message(client: anthropic.AsyncAnthropic, **options: Any) -> Any:
    """The SDK's own accumulation of a streamed reply."""
    async with client.messages.stream(
        model=MODEL, max_tokens=100, messages=MESSAGES, **options
    ) as stream:
        return await stream.get_final_message()


async def raw_events(client: anthropic.AsyncAnthropic, into: list[Any] | None = None) -> list[Any]:
    """The SDK's raw events of one streamed reply; on an error, those before it stay in `into`."""
    events: list[Any] = [] if into is None else into
    stream = await client.messages.create(
        model=MODEL, max_tokens=100, messages=MESSAGES, stream=True
    )
    async with stream:
        async for item in stream:
            events.append(item)
    return events


def texts(events: list[Any]) -> list[str]:
    return [
        e.delta.text
        for e in events
        if e.type == "content_block_delta" and e.delta.type == "text_delta"
    ]


# -- shapes ---------------------------------------------------------------------------------


async def test_a_text_reply_is_accumulated_by_the_sdk_as_scripted(
    anthropic_mock: AnthropicMock, anthropic_client: anthropic.AsyncAnthropic
) -> None:
    anthropic_mock.messages(["Hel", "lo", " there"], usage={"input_tokens": 12})

    message = await final_message(anthropic_client)

    assert [(block.type, block.text) for block in message.content] == [("text", "Hello there")]
    assert message.model == MODEL  # echoed from the request
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (12, 3)


async def test_thinking_text_and_parallel_tool_uses_are_separate_blocks_in_order(
    anthropic_mock: AnthropicMock, anthropic_client: anthropic.AsyncAnthropic
) -> None:
    anthropic_mock.messages(
        ["Let me look."],
        thinking=["The user", " wants weather."],
        signature="sig-abc",
        tool_uses=[
            ToolUse("get_weather", ['{"ci', 'ty": "Pa', 'ris"}'], id="toolu_a"),
            ToolUse("get_time", {"tz": "Europe/Paris"}, id="toolu_b"),
            ToolUse("ping"),
        ],
    )

    message = await final_message(anthropic_client)

    blocks = [block.to_dict() for block in message.content]
    assert blocks == [
        {"type": "thinking", "thinking": "The user wants weather.", "signature": "sig-abc"},
        {"type": "text", "text": "Let me look."},
        {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_b", "name": "get_time", "input": {"tz": "Europe/Paris"}},
        {"type": "tool_use", "id": message.content[4].id, "name": "ping", "input": {}},
    ]
    assert message.stop_reason == "tool_use"


@pytest.mark.parametrize("cumulative", [True, False], ids=["cumulative", "output-only"])
async def test_usage_split_across_start_and_delta_adds_up_to_the_scripted_totals(
    cumulative: bool, anthropic_mock: AnthropicMock, anthropic_client: anthropic.AsyncAnthropic
) -> None:
    usage = {
        "input_tokens": 7,
        "output_tokens": 40,
        "cache_creation_input_tokens": 300,
        "cache_read_input_tokens": 2000,
    }
    anthropic_mock.messages(["a", "b"], usage=usage, cumulative_usage=cumulative)

    events = await raw_events(anthropic_client)

    start = next(e for e in events if e.type == "message_start").message.usage
    delta = next(e for e in events if e.type == "message_delta").usage
    assert (start.input_tokens, start.output_tokens) == (7, 1)
    assert (start.cache_creation_input_tokens, start.cache_read_input_tokens) == (300, 2000)
    assert delta.output_tokens == 40
    repeated = (
        delta.input_tokens,
        delta.cache_creation_input_tokens,
        delta.cache_read_input_tokens,
    )
    assert repeated == ((7, 300, 2000) if cumulative else (None, None, None))


@pytest.mark.parametrize("ping", [True, False])
async def test_pings_reach_the_wire_and_the_sdk_skips_them(
    ping: bool, anthropic_mock: AnthropicMock, anthropic_client: anthropic.AsyncAnthropic
) -> None:
    reply = anthropic_mock.messages(["ok"], ping=ping)

    events = await raw_events(anthropic_client)

    assert served(reply).outcome == "complete"
    assert [e.type for e in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    wire = MessagesStreamBuilder("msg_x", ping=ping).plan(["ok"]).body()
    assert (b"event: ping\n" in wire) is ping


def test_payload_events_are_thinking_pieces_tokens_and_input_fragments() -> None:
    plan = MessagesStreamBuilder("msg_x").plan(
        ["a", "b"], thinking=["t"], tool_uses=[ToolUse("f", ["{", "}"]), ToolUse("g")]
    )

    assert len(plan.payload) == 1 + 2 + 2 + 1
    # Each block opens with its first payload event, so a cut never leaves a block without one.
    assert plan.payload[1].startswith(b"event: content_block_stop\n")
    assert b"event: content_block_start\n" in plan.payload[1]


def test_usage_defaults_to_ten_in_and_one_out_per_payload_event() -> None:
    plan = MessagesStreamBuilder("msg_x").plan(["a", "b"], tool_uses=[ToolUse("f", ["{", "}"])])
    delta = json.loads(plan.tail[1].split(b"data: ", 1)[1])

    assert delta["usage"] == messages_usage(10, 4)


async def test_a_raw_sse_body_is_served_one_event_per_read(
    anthropic_mock: AnthropicMock, anthropic_client: anthropic.AsyncAnthropic
) -> None:
    plan = MessagesStreamBuilder("msg_raw").plan(["x", "y"])
    anthropic_mock.sse("/v1/messages", [*plan.head, *plan.payload, *plan.tail])

    assert texts(await raw_events(anthropic_client)) == ["x", "y"]


async def test_an_event_without_an_event_line_is_skipped_by_the_sdk(
    anthropic_mock: AnthropicMock, anthropic_client: anthropic.AsyncAnthropic
) -> None:
    plan = MessagesStreamBuilder("msg_raw").plan(["x", "y"])
    unnamed = plan.payload[1].replace(b"event: content_block_delta\n", b"")
    anthropic_mock.sse("/v1/messages", [*plan.head, plan.payload[0], unnamed, *plan.tail])

    assert texts(await raw_events(anthropic_client)) == ["x"]


# -- pacing and requests ----------------------------------------------------------------------


async def test_tokens_reach_the_sdk_before_the_body_has_finished(
    anthropic_mock: AnthropicMock, anthropic_client: anthropic.AsyncAnthropic
) -> None:
    reply = anthropic_mock.messages(["one", " two", " three", " four"], delay=0.1)
    seen: list[float] = []

    stream = await anthropic_client.messages.create(
        model=MODEL, max_tokens=100, messages=MESSAGES, stream=True
    )
    async with stream:
        async for item in stream:
            if item.type == "content_block_delta":
                seen.append(time.monotonic())
    record = served(reply)

    assert record.finished_at is not None
    assert seen[0] < record.finished_at - 0.15
    assert seen[-1] - seen[0] > 0.15


async def test_the_request_is_recorded_with_its_body_and_stack(
    anthropic_mock: AnthropicMock, anthropic_client: anthropic.AsyncAnthropic
) -> None:
    reply = anthropic_mock.messages(["ok"])

    await final_message(anthropic_client, system="Be brief.", stop_sequences=["END"])

    record = served(reply)
    assert record.path == "/v1/messages"
    assert record.stack == "httpcore2"  # the transport the SDK runs on
    assert record.json["system"] == "Be brief."
    assert record.json["stream"] is True
    assert record.json["stop_sequences"] == ["END"]
    assert record.headers["authorization"] == "Bearer sk-ant-test"


# -- faults ---------------------------------------------------------------------------------

# anthropic 2.17 wraps a failed read of a streamed body in its own exceptions (the httpx2 error
# as their __cause__); earlier 2.x releases let the httpx2 error through.
SDK_WRAPS_TRANSPORT_ERRORS = tuple(
    int(part) for part in importlib.metadata.version("anthropic").split(".")[:2]
) >= (2, 17)


def sdk_wrapped(wrapper: type[BaseException], transport: type[BaseException]) -> Any:
    """What the installed SDK raises for `transport`, and the httpx2 error beneath it."""
    return (wrapper if SDK_WRAPS_TRANSPORT_ERRORS else transport), transport


# What the SDK raises for each fault after the tokens before it, and the error at the root of
# it, if any (docs/testing.md lists these).
SDK_FAULTS = {
    "error-event": (
        ErrorEvent(after=2, error_type="overloaded_error", message="Overloaded"),
        anthropic.APIStatusError,
        None,
    ),
    "stall": (Stall(after=2), *sdk_wrapped(anthropic.APITimeoutError, httpx2.ReadTimeout)),
    "connection-reset": (
        ConnectionReset(after=2),
        *sdk_wrapped(anthropic.APIConnectionError, httpx2.ReadError),
    ),
    "peer-closed": (
        ConnectionReset(after=2, kind="remote_protocol_error"),
        *sdk_wrapped(anthropic.APIConnectionError, httpx2.RemoteProtocolError),
    ),
    "malformed-line": (MalformedLine(after=2), json.JSONDecodeError, None),
}


@pytest.mark.parametrize("anthropic_client", [{"timeout": 0.3}], indirect=True)
@pytest.mark.parametrize(
    ("fault", "error", "transport"), list(SDK_FAULTS.values()), ids=list(SDK_FAULTS)
)
async def test_a_fault_raises_what_the_sdk_raises_after_the_earlier_tokens(
    fault: Any,
    error: type[BaseException],
    transport: type[BaseException] | None,
    anthropic_mock: AnthropicMock,
    anthropic_client: anthropic.AsyncAnthropic,
) -> None:
    anthropic_mock.messages(["par", "tial", " lost"], fault=fault)
    events: list[Any] = []

    started = time.monotonic()
    with pytest.raises(error) as raised:
        await raw_events(anthropic_client, events)

    assert type(raised.value) is error
    if transport is not None and transport is not error:
        assert type(raised.value.__cause__) is transport
    assert texts(events) == ["par", "tial"]
    assert time.monotonic() - started < 2.0


async def test_an_error_event_carries_the_apis_error_body(
    anthropic_mock: AnthropicMock, anthropic_client: anthropic.AsyncAnthropic
) -> None:
    anthropic_mock.messages(
        ["a"], fault=ErrorEvent(after=1, error_type="overloaded_error", message="Overloaded")
    )

    with pytest.raises(anthropic.APIStatusError) as raised:
        await raw_events(anthropic_client)

    assert raised.value.body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }


async def test_a_truncated_stream_just_stops_before_message_stop(
    anthropic_mock: AnthropicMock, anthropic_client: anthropic.AsyncAnthropic
) -> None:
    anthropic_mock.messages(["a", "b", "c"], fault=Truncate(after=2))

    events = await raw_events(anthropic_client)

    assert texts(events) == ["a", "b"]
    assert "message_stop" not in [e.type for e in events]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (529, anthropic.OverloadedError),
        (429, anthropic.RateLimitError),
        (500, anthropic.InternalServerError),
    ],
)
async def test_an_http_error_status_raises_the_sdks_error_at_the_request(
    status: int,
    error: type[BaseException],
    anthropic_mock: AnthropicMock,
    anthropic_client: anthropic.AsyncAnthropic,
) -> None:
    anthropic_mock.messages(status=status)

    with pytest.raises(error):
        await raw_events(anthropic_client)


@pytest.mark.parametrize("anthropic_client", [{"max_retries": 2}], indirect=True)
async def test_the_sdk_retries_a_529_then_streams_the_next_reply(
    anthropic_mock: AnthropicMock, anthropic_client: anthropic.AsyncAnthropic
) -> None:
    anthropic_mock.messages(status=529, headers={"retry-after-ms": "10"})
    anthropic_mock.messages(["after", " retry"])

    assert texts(await raw_events(anthropic_client)) == ["after", " retry"]
    assert len(anthropic_mock.calls("/v1/messages")) == 2


def test_script_mistakes_fail_when_scripting(anthropic_mock: AnthropicMock) -> None:
    with pytest.raises(ValueError, match="fault after 3 events"):
        anthropic_mock.messages(["a", "b"], fault=Truncate(after=3))
    with pytest.raises(ValueError, match="delays"):
        anthropic_mock.messages(["a", "b"], delay=[0.1])
    with pytest.raises(ValueError, match="fault after 5 events"):
        anthropic_mock.messages(["a"], status=529, fault=Truncate(after=5))


def test_the_sync_client_streams_through_the_same_mock(anthropic_mock: AnthropicMock) -> None:
    anthropic_mock.messages(["sync", " too"])

    with anthropic_mock.client().messages.stream(
        model=MODEL, max_tokens=100, messages=MESSAGES
    ) as stream:
        text = "".join(stream.text_stream)

    assert text == "sync too"


def test_event_encodes_a_named_anthropic_event() -> None:
    assert event("ping") == b'event: ping\ndata: {"type":"ping"}\n\n'


# -- the package ----------------------------------------------------------------------------


def test_the_package_declares_the_plugin_module_as_its_pytest_plugin() -> None:
    (entry_point,) = importlib.metadata.entry_points(
        group="pytest11", name="miniagents_lc_anthropic"
    )

    assert entry_point.load() is pytest_plugin


def test_the_plugin_is_active_in_this_session(request: pytest.FixtureRequest) -> None:
    assert request.config.pluginmanager.is_registered(pytest_plugin)
    assert isinstance(request.getfixturevalue("anthropic_mock"), AnthropicMock)


def test_every_public_name_of_the_kit_resolves() -> None:
    missing = [name for name in testing.__all__ if getattr(testing, name, None) is None]

    assert missing == []
    assert set(testing.__all__) <= set(dir(testing))
