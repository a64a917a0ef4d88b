"""Specification of miniagents_lc_openai.testing, checked against the real openai SDK.

Every test drives `openai.AsyncOpenAI` (or `openai.OpenAI`) through the kit's mock, so what is
pinned here is what the SDK really does with each scripted reply and fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import respx
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from miniagents_lc_openai import testing
from miniagents_lc_openai.testing import (
    ConnectionReset,
    ErrorEvent,
    MalformedLine,
    OpenAIMock,
    RecordedRequest,
    ResponseFailed,
    ScriptedReply,
    Stall,
    ToolCall,
    Truncate,
    UnscriptedRequestError,
    pytest_plugin,
)

# Recorded OpenAI streams, kept with the tests (fixtures/openai_sse/README.md describes them).
FIXTURES = Path(__file__).with_name("fixtures") / "openai_sse"
EXPECTED: dict[str, dict[str, Any]] = json.loads((FIXTURES / "expected.json").read_text("utf-8"))

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hi"}]
API_PATHS = {"chat": "/chat/completions", "responses": "/responses"}


@dataclass
class ChatResult:
    """What a careful consumer extracts from a Chat Completions stream."""

    chunks: int = 0
    tokens: list[str] = field(default_factory=list)
    token_times: list[float] = field(default_factory=list)
    finish_reason: str | None = None
    usage: dict[str, int] | None = None
    tool_calls: dict[int, dict[str, str]] = field(default_factory=dict)
    model: str | None = None


async def consume_chat(stream: AsyncIterator[ChatCompletionChunk], into: ChatResult) -> None:
    """Fold a chat stream into `into`; exceptions propagate with the partial result kept."""
    async for chunk in stream:
        into.chunks += 1
        into.model = chunk.model
        if chunk.usage is not None:
            usage = chunk.usage
            into.usage = {
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "total_tokens": usage.total_tokens,
            }
        for choice in chunk.choices:
            if choice.delta.content:
                into.tokens.append(choice.delta.content)
                into.token_times.append(time.monotonic())
            for call in choice.delta.tool_calls or []:
                entry = into.tool_calls.setdefault(call.index, {"arguments": ""})
                if call.id:
                    entry["id"] = call.id
                if call.function and call.function.name:
                    entry["name"] = call.function.name
                if call.function and call.function.arguments:
                    entry["arguments"] += call.function.arguments
            if choice.finish_reason is not None:
                into.finish_reason = choice.finish_reason


def served(reply: ScriptedReply) -> RecordedRequest:
    """The request that consumed `reply` (fails if none did)."""
    assert reply.request is not None, "the scripted reply was never requested"
    return reply.request


async def chat_stream(client: openai.AsyncOpenAI, **options: Any) -> Any:
    return await client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, **options
    )


# -- the recorded fixtures, served raw ------------------------------------------------------


def test_every_fixture_file_has_expectations() -> None:
    assert sorted(path.name for path in FIXTURES.glob("*.sse")) == sorted(EXPECTED)


@pytest.mark.asyncio
@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if EXPECTED[n]["api"] == "chat"))
async def test_chat_fixture_served_raw_parses_as_recorded(
    name: str, openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    expected = EXPECTED[name]
    body = (FIXTURES / name).read_bytes()
    assert len(testing.split_sse(body)) == expected["events"]  # served one event per read
    openai_mock.sse("/chat/completions", body)
    result = ChatResult()

    stream = await chat_stream(openai_client)
    if expected["error"] is None:
        await consume_chat(stream, result)
    else:
        with pytest.raises(openai.APIError) as raised:
            await consume_chat(stream, result)
        assert type(raised.value) is openai.APIError
        assert raised.value.message == expected["error"]["message"]
        assert raised.value.type == expected["error"]["type"]
        assert raised.value.code == expected["error"]["code"]

    assert result.chunks == expected["sdk_items"]
    assert result.tokens == expected["tokens"]
    assert result.finish_reason == expected["finish_reason"]
    assert result.usage == expected["usage"]
    if "model" in expected:  # recorded for the basic reply only
        assert result.model == expected["model"]
    calls = [
        {"index": i, "id": c["id"], "name": c["name"], "arguments": c["arguments"]}
        for i, c in sorted(result.tool_calls.items())
    ]
    assert calls == [
        {key: call[key] for key in ("index", "id", "name", "arguments")}
        for call in expected.get("tool_calls", [])
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if EXPECTED[n]["api"] == "responses"))
async def test_responses_fixture_served_raw_parses_as_recorded(
    name: str, openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    expected = EXPECTED[name]
    body = (FIXTURES / name).read_bytes()
    assert len(testing.split_sse(body)) == expected["events"]  # served one event per read
    openai_mock.sse("/responses", body)

    stream = await openai_client.responses.create(model="gpt-4o-mini", input="Hi", stream=True)
    events = [event async for event in stream]

    assert len(events) == expected["sdk_items"]
    assert [e.delta for e in events if e.type == "response.output_text.delta"] == expected["tokens"]
    final = events[-1]
    assert final.type in ("response.completed", "response.failed")
    assert final.response.status == expected["status"]
    if "id" in expected:  # recorded for the basic reply only
        assert (final.response.id, final.response.model) == (expected["id"], expected["model"])
    usage = final.response.usage
    got_usage = (
        None
        if usage is None
        else usage.model_dump(include={"input_tokens", "output_tokens", "total_tokens"})
    )
    assert got_usage == expected["usage"]
    if expected["error"] is not None:
        assert final.type == expected["error"]["event"]
        assert final.response.error is not None
        assert final.response.error.code == expected["error"]["code"]
        assert final.response.error.message == expected["error"]["message"]


# -- scripted chat replies ------------------------------------------------------------------


@pytest.mark.asyncio
async def test_chat_script_yields_role_tokens_finish_and_usage_like_the_api(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    openai_mock.chat(["Hello", ",", " café ☕"], usage={"prompt_tokens": 7, "completion_tokens": 3})

    stream = await chat_stream(openai_client, stream_options={"include_usage": True})
    chunks = [chunk async for chunk in stream]

    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[0].choices[0].delta.content == ""
    assert [c.choices[0].delta.content for c in chunks[1:4]] == ["Hello", ",", " café ☕"]
    assert chunks[4].choices[0].finish_reason == "stop"
    assert chunks[5].choices == []
    assert chunks[5].usage is not None
    assert (chunks[5].usage.prompt_tokens, chunks[5].usage.total_tokens) == (7, 10)
    assert len(chunks) == 6
    assert {c.model for c in chunks} == {"gpt-4o-mini"}


@pytest.mark.asyncio
@pytest.mark.parametrize(("include_usage", "usage_chunks"), [(False, 0), (True, 1)])
async def test_chat_usage_follows_the_requests_stream_options_by_default(
    include_usage: bool,
    usage_chunks: int,
    openai_mock: OpenAIMock,
    openai_client: openai.AsyncOpenAI,
) -> None:
    openai_mock.chat(["a", "b"])
    result = ChatResult()

    options = {"stream_options": {"include_usage": True}} if include_usage else {}
    await consume_chat(await chat_stream(openai_client, **options), result)

    assert result.chunks == 4 + usage_chunks
    expected = {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}
    assert result.usage == (expected if include_usage else None)


@pytest.mark.asyncio
async def test_chat_script_streams_tool_calls_per_index(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    openai_mock.chat(
        tool_calls=[
            ToolCall("get_weather", ['{"location":', '"Paris"}'], id="call_a"),
            ToolCall("get_time", {"tz": "Asia/Tokyo"}, id="call_b"),
        ],
        finish_reason="tool_calls",
    )
    result = ChatResult()

    await consume_chat(await chat_stream(openai_client), result)

    assert result.tokens == []
    assert result.finish_reason == "tool_calls"
    assert result.tool_calls == {
        0: {"id": "call_a", "name": "get_weather", "arguments": '{"location":"Paris"}'},
        1: {"id": "call_b", "name": "get_time", "arguments": '{"tz":"Asia/Tokyo"}'},
    }


@pytest.mark.asyncio
async def test_chat_tokens_reach_the_consumer_before_the_body_has_finished(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    reply = openai_mock.chat(["one", " two", " three", " four"], delay=0.1)
    result = ChatResult()

    stream = await chat_stream(openai_client)
    record = served(reply)
    assert record.finished_at is None  # create() returns once the headers are in
    await consume_chat(stream, result)

    assert record.outcome == "complete"
    assert record.finished_at is not None
    # Four 0.1 s pauses: the first token must be seen long before the last byte left.
    assert result.token_times[0] < record.finished_at - 0.15
    assert result.token_times[-1] - result.token_times[0] > 0.15


@pytest.mark.asyncio
async def test_per_token_delays_pace_each_token(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    openai_mock.chat(["fast", " slow"], delay=[0.0, 0.3])
    result = ChatResult()

    await consume_chat(await chat_stream(openai_client), result)

    assert result.tokens == ["fast", " slow"]
    assert result.token_times[1] - result.token_times[0] >= 0.25


@pytest.mark.asyncio
async def test_requests_record_start_and_finish_so_overlap_can_be_asserted(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    first = openai_mock.chat(["a", "b", "c"], delay=0.1)
    second = openai_mock.chat(["x"], delay=0.01)

    async def run() -> ChatResult:
        result = ChatResult()
        await consume_chat(await chat_stream(openai_client), result)
        return result

    await asyncio.gather(run(), run())

    first_finished = served(first).finished_at
    assert first_finished is not None
    assert served(second).started_at < first_finished
    assert [r.path for r in openai_mock.requests] == ["/v1/chat/completions"] * 2


@pytest.mark.asyncio
async def test_reply_records_the_request_it_served(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    reply = openai_mock.chat(["ok"])

    await consume_chat(await chat_stream(openai_client, temperature=0), ChatResult())

    record = served(reply)
    assert record.json["messages"] == MESSAGES
    assert record.json["temperature"] == 0
    assert record.stack == "httpcore2"
    assert openai_mock.calls("/chat/completions") == [record]


# -- faults ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_http_500_raises_internal_server_error_at_create(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    openai_mock.chat(status=500)

    with pytest.raises(openai.InternalServerError) as raised:
        await chat_stream(openai_client)

    assert raised.value.status_code == 500
    assert raised.value.type == "server_error"


@pytest.mark.asyncio
@pytest.mark.parametrize("openai_client", [{"max_retries": 1}], indirect=True)
async def test_sdk_retries_a_429_then_streams_the_next_reply(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    openai_mock.chat(status=429, headers={"retry-after-ms": "10"})
    openai_mock.chat(["after", " retry"])
    result = ChatResult()

    started = time.monotonic()
    await consume_chat(await chat_stream(openai_client), result)

    assert result.tokens == ["after", " retry"]
    assert time.monotonic() - started < 1.0  # retry-after-ms overrides the 0.5 s backoff
    assert openai_mock.route("/chat/completions").call_count == 2
    retries = [r.headers["x-stainless-retry-count"] for r in openai_mock.calls("/chat/completions")]
    assert retries == ["0", "1"]


@pytest.mark.asyncio
async def test_429_without_retries_raises_rate_limit_error(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    openai_mock.chat(status=429)

    with pytest.raises(openai.RateLimitError) as raised:
        await chat_stream(openai_client)

    assert raised.value.code == "rate_limit_exceeded"


@pytest.mark.asyncio
async def test_error_event_raises_api_error_after_the_earlier_tokens(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    openai_mock.chat(["The", " answer", " is"], fault=ErrorEvent(after=2, message="boom"))
    result = ChatResult()

    with pytest.raises(openai.APIError) as raised:
        await consume_chat(await chat_stream(openai_client), result)

    assert type(raised.value) is openai.APIError
    assert raised.value.message == "boom"
    assert result.tokens == ["The", " answer"]


@pytest.mark.asyncio
async def test_truncation_ends_quietly_without_finish_reason(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    reply = openai_mock.chat(["This", " reply", " will", " be", " cut"], fault=Truncate(after=3))
    result = ChatResult()

    await consume_chat(
        await chat_stream(openai_client, stream_options={"include_usage": True}), result
    )

    assert result.tokens == ["This", " reply", " will"]
    assert result.finish_reason is None
    assert result.usage is None
    assert served(reply).outcome == "complete"


@pytest.mark.asyncio
@pytest.mark.parametrize("openai_client", [{"timeout": 0.3}], indirect=True)
async def test_stall_raises_api_timeout_error_after_the_read_timeout(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    reply = openai_mock.chat(["Hello", " there"], fault=Stall(after=1))
    result = ChatResult()

    stream = await chat_stream(openai_client)
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        await consume_chat(stream, result)

    assert 0.25 <= time.monotonic() - started < 2.0
    assert result.tokens == ["Hello"]
    assert served(reply).outcome == "fault"


@pytest.mark.asyncio
@pytest.mark.parametrize("openai_client", [{"timeout": None}], indirect=True)
async def test_a_stall_without_read_timeout_lasts_until_the_callers_watchdog_fires(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    reply = openai_mock.chat(["Hello", " there"], fault=Stall(after=1))
    result = ChatResult()

    stream = await chat_stream(openai_client)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(consume_chat(stream, result), timeout=0.3)

    assert result.tokens == ["Hello"]
    assert served(reply).outcome == "closed"


@pytest.mark.asyncio
@pytest.mark.parametrize("openai_client", [{"timeout": 0.3}], indirect=True)
async def test_a_token_delay_longer_than_the_read_timeout_times_out_like_a_socket(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    openai_mock.chat(["quick", " too slow"], delay=[0.0, 5.0])
    result = ChatResult()

    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        await consume_chat(await chat_stream(openai_client), result)

    assert time.monotonic() - started < 2.0
    assert result.tokens == ["quick"]


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["read_error", "remote_protocol_error"])
async def test_connection_reset_raises_api_connection_error_after_the_partial_tokens(
    kind: Any, openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    openai_mock.chat(["par", "tial", " lost"], fault=ConnectionReset(after=2, kind=kind))
    result = ChatResult()

    with pytest.raises(openai.APIConnectionError) as raised:
        await consume_chat(await chat_stream(openai_client), result)

    assert not isinstance(raised.value, openai.APITimeoutError)
    assert result.tokens == ["par", "tial"]


@pytest.mark.asyncio
async def test_malformed_data_line_raises_a_bare_json_decode_error(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    openai_mock.chat(["ok", " then"], fault=MalformedLine(after=1))
    result = ChatResult()

    # The SDK does not wrap it: a JSONDecodeError escapes from iteration as is.
    with pytest.raises(json.JSONDecodeError):
        await consume_chat(await chat_stream(openai_client), result)

    assert result.tokens == ["ok"]


@pytest.mark.asyncio
async def test_closing_the_stream_early_marks_the_request_closed(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    reply = openai_mock.chat(["a", "b", "c", "d"], delay=0.05)

    stream = await chat_stream(openai_client)
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content == "a":
            break
    await stream.close()

    assert served(reply).outcome == "closed"
    assert served(reply).finished_at is not None


def test_script_mistakes_fail_when_scripting(openai_mock: OpenAIMock) -> None:
    with pytest.raises(ValueError, match="fault after 3 events"):
        openai_mock.chat(["a", "b"], fault=Truncate(after=3))
    with pytest.raises(ValueError, match="delays"):
        openai_mock.chat(["a", "b"], delay=[0.1])
    with pytest.raises(ValueError, match="Responses API only"):
        openai_mock.chat(["a"], fault=ResponseFailed(after=0))


# -- strictness -----------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("openai_client", [{"max_retries": 2}], indirect=True)
async def test_an_unscripted_request_fails_loudly_without_retries(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    openai_mock.chat(["only one"])
    await consume_chat(await chat_stream(openai_client), ChatResult())

    with pytest.raises(UnscriptedRequestError):
        await chat_stream(openai_client)  # the queue for this path is used up
    with pytest.raises(UnscriptedRequestError):
        await openai_client.embeddings.create(model="text-embedding-3-small", input="x")

    assert len(openai_mock.unscripted) == 2
    # The mock would also fail this test on exit; clear what this test provoked on purpose.
    openai_mock.unscripted.clear()


@pytest.mark.asyncio
async def test_mock_exit_fails_on_swallowed_unscripted_requests_and_unused_replies() -> None:
    async def code_that_swallows_errors() -> None:
        async with OpenAIMock() as mock:
            with contextlib.suppress(Exception):
                await chat_stream(mock.async_client())

    with pytest.raises(UnscriptedRequestError, match="unscripted requests reached"):
        await code_that_swallows_errors()

    with pytest.raises(AssertionError, match="never requested"), OpenAIMock() as mock:
        mock.chat(["unused"])


# -- other stacks, APIs and entry points ------------------------------------------------------


@pytest.mark.asyncio
async def test_the_same_scripts_work_over_a_legacy_httpx_client(openai_mock: OpenAIMock) -> None:
    legacy = openai_mock.async_client(http_client=httpx.AsyncClient(), timeout=0.3)
    tokens_reply = openai_mock.chat(["old", " stack"], delay=0.01)
    openai_mock.chat(["stuck"], fault=Stall(after=1))
    result, stalled = ChatResult(), ChatResult()

    await consume_chat(await chat_stream(legacy), result)
    with pytest.raises(openai.APITimeoutError):
        await consume_chat(await chat_stream(legacy), stalled)
    await legacy.close()

    assert result.tokens == ["old", " stack"]
    assert stalled.tokens == ["stuck"]
    assert served(tokens_reply).stack == "httpcore"


def test_the_sync_client_streams_through_the_same_mock(openai_mock: OpenAIMock) -> None:
    openai_mock.chat(["sync", " works"], delay=0.01)
    client = openai_mock.client()

    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    tokens = [
        c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content
    ]

    assert tokens == ["sync", " works"]


@pytest.mark.asyncio
async def test_bodies_are_one_shot_like_a_socket(openai_mock: OpenAIMock) -> None:
    openai_mock.sse("/chat/completions", [{"n": 1}, b"data: [DONE]\n\n"])

    async with httpx.AsyncClient() as client:
        url = openai_mock.base_url + "/chat/completions"
        async with client.stream("POST", url, json={}) as response:
            assert isinstance(response.stream, httpx.AsyncByteStream)
            first = [piece async for piece in response.stream]
            again = [piece async for piece in response.stream]

    assert first == [b'data: {"n":1}\n\n', b"data: [DONE]\n\n"]
    assert again == []


@pytest.mark.asyncio
async def test_responses_script_parses_through_responses_create(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    openai_mock.responses(
        ["Sure", "!", " Done."], delay=0.01, usage={"input_tokens": 5, "output_tokens": 3}
    )

    stream = await openai_client.responses.create(model="gpt-4o-mini", input="Hi", stream=True)
    events = [event async for event in stream]

    assert [e.type for e in events[:4]] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert [e.delta for e in events if e.type == "response.output_text.delta"] == [
        "Sure",
        "!",
        " Done.",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    completed = events[-1]
    assert completed.type == "response.completed"
    assert completed.response.output_text == "Sure! Done."
    assert completed.response.usage is not None
    assert completed.response.usage.total_tokens == 8


@pytest.mark.asyncio
async def test_a_responses_failure_is_yielded_as_an_event_not_raised(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    openai_mock.responses(["Let", " me", " think"], fault=ResponseFailed(after=2))

    failed = [
        e async for e in await openai_client.responses.create(model="m", input="a", stream=True)
    ]

    assert failed[-1].type == "response.failed"
    assert failed[-1].response.error is not None
    assert failed[-1].response.error.code == "server_error"
    assert failed[-1].response.output_text == "Let me"


@pytest.mark.asyncio
async def test_a_responses_error_event_nests_its_error_as_the_api_does_and_the_sdk_raises_it(
    openai_mock: OpenAIMock, openai_client: openai.AsyncOpenAI
) -> None:
    reply = openai_mock.responses(
        ["Oops", " no"], fault=ErrorEvent(after=1, code="rate_limit_exceeded", message="slow down")
    )
    seen: list[str] = []

    async def read() -> None:
        async for event in await openai_client.responses.create(model="m", input="b", stream=True):
            seen.append(event.type)

    with pytest.raises(openai.APIError, match="slow down") as raised:
        await read()

    assert seen[-1] == "response.output_text.delta"
    assert raised.value.code == "rate_limit_exceeded"
    assert raised.value.body == {
        "type": "server_error",
        "code": "rate_limit_exceeded",
        "message": "slow down",
        "param": None,
    }
    assert reply.request is not None


@pytest.mark.asyncio
async def test_httpcore2_mocker_is_usable_with_plain_respx() -> None:
    httpx2 = pytest.importorskip("httpx2")
    with respx.mock(using=testing.HTTPCORE2_MOCKER, base_url="https://api.openai.test") as router:
        router.get("/ping").respond(204)
        async with httpx2.AsyncClient() as client:
            response = await client.get("https://api.openai.test/ping")

    assert response.status_code == 204


def test_the_package_declares_the_plugin_module_as_its_pytest_plugin() -> None:
    (entry_point,) = importlib.metadata.entry_points(group="pytest11", name="miniagents_lc_openai")

    assert entry_point.load() is pytest_plugin


def test_the_plugin_is_active_in_this_session(request: pytest.FixtureRequest) -> None:
    assert request.config.pluginmanager.is_registered(pytest_plugin)
    assert isinstance(request.getfixturevalue("openai_mock"), OpenAIMock)


def test_every_public_name_of_the_kit_resolves() -> None:
    missing = [name for name in testing.__all__ if getattr(testing, name, None) is None]

    assert missing == []
    assert set(testing.__all__) <= set(dir(testing))
