"""OpenAIAgent against the offline kit: the real SDK, scripted and recorded streams."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import openai
import pytest
from miniagents_lc import InteractionContext, MiniAgents, miniagent
from miniagents_lc.messages import AssistantMessage, MessagePromise

from miniagents_lc_openai import OpenAIAgent, OpenAIStreamError
from miniagents_lc_openai.testing import (
    ConnectionReset,
    ErrorEvent,
    MalformedLine,
    OpenAIMock,
    ResponsesStreamBuilder,
    Stall,
    Truncate,
    responses_usage,
)

# Recorded OpenAI streams, kept with the tests (fixtures/openai_sse/README.md describes them).
FIXTURES = Path(__file__).with_name("fixtures") / "openai_sse"
EXPECTED: dict[str, dict[str, Any]] = json.loads((FIXTURES / "expected.json").read_text("utf-8"))
REPO = Path(__file__).resolve().parents[3]


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


# The fixtures that end well; the truncated and failing ones have tests of their own below.
CLEAN_FIXTURES = sorted(
    name
    for name, expected in EXPECTED.items()
    if expected.get("finish_reason") or expected.get("status") == "completed"
)


@pytest.mark.parametrize("name", CLEAN_FIXTURES)
async def test_fixture_served_raw_gives_recorded_reply(name: str, openai_mock: OpenAIMock) -> None:
    expected = EXPECTED[name]
    api = expected["api"]
    openai_mock.sse(
        "/chat/completions" if api == "chat" else "/responses", (FIXTURES / name).read_bytes()
    )
    agent = OpenAIAgent.fork(model="gpt-4o-mini", client=openai_mock.async_client(), api=api)
    tokens: list[str] = []
    async with MiniAgents():
        promises = await consume(agent.trigger("Hi"), tokens)
    assert len(promises) == 1
    message = await promises[0]
    assert tokens == expected["tokens"]
    assert message.text == expected["text"]
    assert isinstance(message, AssistantMessage)
    assert message.role == "assistant"
    assert message.usage is not None
    usage = expected["usage"]
    # The recorded usage in LangChain's words: prompt → input, completion → output.
    input_tokens = usage.get("prompt_tokens", usage.get("input_tokens"))
    output_tokens = usage.get("completion_tokens", usage.get("output_tokens"))
    assert (message.usage["input_tokens"], message.usage["output_tokens"]) == (
        input_tokens,
        output_tokens,
    )
    assert message.usage["total_tokens"] == usage["total_tokens"]
    if "model" in expected:
        assert message.model_name == expected["model"]
    if api == "chat":
        assert message.finish_reason == expected["finish_reason"]
        assert [(call["id"], call["name"], call["args"]) for call in message.tool_calls] == [
            (call["id"], call["name"], json.loads(call["arguments"]))
            for call in expected.get("tool_calls", [])
        ]
        assert message.invalid_tool_calls == ()
    else:
        assert getattr(message, "status", None) == expected["status"]


async def test_sends_system_then_messages_with_usage_requested(openai_mock: OpenAIMock) -> None:
    reply = openai_mock.chat(["ok"])
    agent = OpenAIAgent.fork(model="gpt-4o-mini", client=openai_mock.async_client())
    async with MiniAgents():
        replies = await agent.trigger("Hi", system="Be brief.", temperature=0).acollect_messages()
    assert [str(message) for message in replies] == ["ok"]
    assert reply.request is not None
    sent = reply.request.json
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["temperature"] == 0


async def test_error_midstream_raises_api_error_after_tokens(openai_mock: OpenAIMock) -> None:
    openai_mock.sse("/chat/completions", (FIXTURES / "chat_error_midstream.sse").read_bytes())
    agent = OpenAIAgent.fork(model="gpt-4o-mini", client=openai_mock.async_client())
    tokens: list[str] = []
    promises: list[MessagePromise] = []
    async with MiniAgents():
        with pytest.raises(openai.APIError) as raised:
            await consume(agent.trigger("Hi"), tokens, promises)
        assert type(raised.value) is openai.APIError
        assert tokens == EXPECTED["chat_error_midstream.sse"]["tokens"]
        replayed: list[str] = []
        with pytest.raises(openai.APIError):
            await read_tokens(promises[0], replayed)
        assert replayed == tokens


async def test_truncated_stream_raises_stream_error_after_tokens(openai_mock: OpenAIMock) -> None:
    openai_mock.sse("/chat/completions", (FIXTURES / "chat_truncated.sse").read_bytes())
    agent = OpenAIAgent.fork(model="gpt-4o-mini", client=openai_mock.async_client())
    tokens: list[str] = []
    async with MiniAgents():
        with pytest.raises(OpenAIStreamError, match="truncated"):
            await consume(agent.trigger("Hi"), tokens)
    assert tokens == ["This", " reply", " will", " be", " cut"]


async def test_responses_failed_raises_stream_error_after_tokens(openai_mock: OpenAIMock) -> None:
    openai_mock.sse("/responses", (FIXTURES / "responses_failed.sse").read_bytes())
    agent = OpenAIAgent.fork(
        model="gpt-4o-mini", client=openai_mock.async_client(), api="responses"
    )
    tokens: list[str] = []
    async with MiniAgents():
        with pytest.raises(OpenAIStreamError) as raised:
            await consume(agent.trigger("Hi"), tokens)
    assert tokens == ["Let", " me", " think"]
    assert EXPECTED["responses_failed.sse"]["error"]["message"] in str(raised.value)


async def test_http_500_raises_internal_server_error(openai_mock: OpenAIMock) -> None:
    openai_mock.chat(status=500)
    agent = OpenAIAgent.fork(model="gpt-4o-mini", client=openai_mock.async_client())
    async with MiniAgents():
        with pytest.raises(openai.InternalServerError):
            await consume(agent.trigger("Hi"), [])


async def test_missing_api_key_is_raised_when_consumed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    agent = OpenAIAgent.fork(model="gpt-4o-mini")
    async with MiniAgents():
        reply = agent.trigger("Hi")  # no error yet
        with pytest.raises(Exception, match="OPENAI_API_KEY"):
            await consume(reply, [])


async def test_missing_model_is_a_type_error() -> None:
    async with MiniAgents():
        with pytest.raises(TypeError, match="model"):
            await consume(OpenAIAgent.trigger("Hi"), [])


async def test_tokens_stream_continuously_across_parallel_agents(openai_mock: OpenAIMock) -> None:
    a_tokens = [f" a{i}" for i in range(10)]
    b_tokens = [f" b{i}" for i in range(30)]
    # Separate paths, so which request comes first does not matter.
    a_reply = openai_mock.chat(a_tokens, delay=0.04, path="/a/chat/completions")
    b_reply = openai_mock.chat(b_tokens, delay=0.01, path="/b/chat/completions")
    base = openai_mock.base_url
    agent_a = OpenAIAgent.fork(
        "A", model="m", client=openai_mock.async_client(base_url=base + "/a")
    )
    agent_b = OpenAIAgent.fork(
        "B", model="m", client=openai_mock.async_client(base_url=base + "/b")
    )

    @miniagent
    async def aggregator(ctx: InteractionContext) -> None:
        ctx.reply([agent_a.trigger(ctx.message_promises), agent_b.trigger(ctx.message_promises)])

    start = time.monotonic()
    received: list[tuple[str, float]] = []
    async for chunk in aggregator.astream("q"):
        if isinstance(chunk.content, str) and chunk.content:
            received.append((chunk.content, time.monotonic()))
    total = time.monotonic() - start

    # B's tokens, buffered while A streamed, may arrive merged; the order is what counts.
    assert "".join(token for token, _ in received) == "".join(a_tokens) + "\n\n" + "".join(b_tokens)
    assert [token for token, _ in received[: len(a_tokens)]] == a_tokens  # A's arrive one by one
    a_request, b_request = a_reply.request, b_reply.request
    assert a_request is not None
    assert b_request is not None
    assert a_request.finished_at is not None
    assert received[0][1] < a_request.finished_at - 0.1  # A streamed, not delivered whole
    assert b_request.started_at < a_request.finished_at  # B ran alongside A
    assert total < 0.6  # ≈ A's 0.4 s, not A + B (0.7 s)


def test_example_runs_offline_without_key() -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / "openai_agents.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "offline" in done.stdout
    assert "Hello from the offline kit!" in done.stdout


async def test_a_responses_error_event_raises_the_sdks_api_error_after_tokens(
    openai_mock: OpenAIMock,
) -> None:
    # The kit sends the error object nested, as the API does today: the SDK raises it.
    openai_mock.responses(["a", "b", "c"], fault=ErrorEvent(after=2, message="boom"))
    agent = OpenAIAgent.fork(
        model="gpt-4o-mini", client=openai_mock.async_client(), api="responses"
    )
    tokens: list[str] = []
    async with MiniAgents():
        with pytest.raises(openai.APIError, match="boom"):
            await consume(agent.trigger("Hi"), tokens)
    assert tokens == ["a", "b"]


async def test_a_flat_responses_error_event_raises_stream_error_after_tokens(
    openai_mock: OpenAIMock,
) -> None:
    # The older flat shape (code and message beside the type), which the SDK yields.
    builder = ResponsesStreamBuilder(response_id="resp_flat", model="gpt-4o-mini")
    head = builder.plan(["a", "b"], usage=responses_usage(input_tokens=1, output_tokens=2))
    error = builder.error_event(len(head.head) + 2, "server_error", "boom", flat=True)
    openai_mock.sse("/responses", [*head.head, *head.payload, error])
    agent = OpenAIAgent.fork(
        model="gpt-4o-mini", client=openai_mock.async_client(), api="responses"
    )
    tokens: list[str] = []
    async with MiniAgents():
        with pytest.raises(OpenAIStreamError, match=r"sent an error \(server_error\): boom"):
            await consume(agent.trigger("Hi"), tokens)
    assert tokens == ["a", "b"]


async def test_a_429_is_retried_by_the_sdk_then_the_reply_streams(openai_mock: OpenAIMock) -> None:
    openai_mock.chat(status=429, headers={"retry-after-ms": "10"})
    openai_mock.chat(["after", " retry"])
    agent = OpenAIAgent.fork(model="m", client=openai_mock.async_client(max_retries=2))
    tokens: list[str] = []
    async with MiniAgents():
        await consume(agent.trigger("Hi"), tokens)

    assert tokens == ["after", " retry"]
    assert openai_mock.route("/chat/completions").call_count == 2


async def test_429_until_the_retries_run_out_raises_rate_limit_error(
    openai_mock: OpenAIMock,
) -> None:
    for _ in range(3):
        openai_mock.chat(status=429, headers={"retry-after-ms": "10"})
    agent = OpenAIAgent.fork(model="m", client=openai_mock.async_client(max_retries=2))
    started = time.monotonic()
    async with MiniAgents():
        with pytest.raises(openai.RateLimitError):
            await consume(agent.trigger("Hi"), [])

    assert openai_mock.route("/chat/completions").call_count == 3  # the first try + 2 retries
    assert time.monotonic() - started < 2.0


async def test_cancelling_the_only_reader_closes_the_http_stream(openai_mock: OpenAIMock) -> None:
    reply = openai_mock.chat([f" t{i}" for i in range(50)], delay=0.02)
    agent = OpenAIAgent.fork(model="m", client=openai_mock.async_client())
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
        # The context's end waits for the agent's tasks: they stop instead of streaming on.
    request = reply.request

    assert request is not None
    assert request.outcome == "closed"
    assert request.finished_at is not None
    assert request.finished_at - request.started_at < 0.5  # not the whole 1 s stream


FAULTS = {
    "error-event": (ErrorEvent(after=2, message="boom"), openai.APIError),
    "truncated": (Truncate(after=2), OpenAIStreamError),
    "stall": (Stall(after=2), openai.APITimeoutError),
    "connection-reset": (ConnectionReset(after=2), openai.APIConnectionError),
    "malformed-line": (MalformedLine(after=2), OpenAIStreamError),
}


@pytest.mark.parametrize(("fault", "error"), list(FAULTS.values()), ids=list(FAULTS))
async def test_a_fault_mid_stream_surfaces_after_the_partial_tokens_which_stay_replayable(
    fault: Any, error: type[BaseException], openai_mock: OpenAIMock
) -> None:
    openai_mock.chat(["par", "tial", " lost", " too"], fault=fault)
    agent = OpenAIAgent.fork(model="m", client=openai_mock.async_client(timeout=0.3))
    tokens: list[str] = []
    promises: list[MessagePromise] = []
    started = time.monotonic()
    async with MiniAgents():
        with pytest.raises(error):
            await consume(agent.trigger("Hi"), tokens, promises)
        elapsed = time.monotonic() - started
        replayed: list[str] = []
        with pytest.raises(error):
            await read_tokens(promises[0], replayed)

    assert tokens == replayed == ["par", "tial"]
    assert elapsed < 2.0
