"""`AdapterContract`: what every model agent adapter promises, as tests an adapter subclasses.

An adapter (such as `miniagents_lc_openai.OpenAIAgent`) turns a provider's streamed API into a
`MiniAgent` whose reply is one `AssistantMessage`. Whatever the provider, it promises the same:

- its tokens stream in order, the first reaching the reader while the stream is still going,
  also through a tree of agents running side by side;
- the reply's usage, finish reason, model name and id reach the message and the LangChain face
  (`astream`, `ainvoke`), and usage adds up over a tree of agents;
- tool calls arrive whole, however their arguments were split, and arguments that don't parse
  become invalid tool calls; `tool_agent` runs a tool loop over the adapter;
- a stream that fails mid-way (an error event, a cut, a stall, a reset, a malformed line) fails
  with the adapter's error after the tokens that streamed, which stay replayable;
- the SDK's retries run, and when they run out its error reaches the reader;
- cancelling the only reader closes the provider's stream (no task streams on);
- bad input is refused before any request, with an error naming the fix;
- the API key never shows in a repr, a log or an error, and a missing one is named;
- the adapter's example runs offline, on its kit.

A subclass (named `Test...` so pytest collects it) fills in the provider-specific pieces: the
`kit` fixture (the adapter kit's mock, such as `openai_mock`), how to `script` a
`ContractReply` on it, the adapter agent and its options, the API's path, finish reasons and
reply ids, and which error each fault and status raises. The test methods are inherited, in
the spirit of `langchain_tests`' `ChatModelUnitTests`.

This module imports pytest (it is for tests); it never imports an adapter, the adapters import
it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest
from langchain_core.messages import AIMessage

from miniagents_lc.agents import InteractionContext, MiniAgent, MiniAgents, miniagent
from miniagents_lc.langchain import tool_agent
from miniagents_lc.messages import AssistantMessage, Message, MessagePromise, thaw

from ._faults import ConnectionReset, ErrorEvent, Fault, MalformedLine, Stall, Truncate
from ._mock import APIMock, ScriptedReply

__all__ = ["AdapterContract", "ContractReply", "ContractToolCall", "consume", "read_tokens"]

#: The key the secrecy test sends; it must show nowhere.
SECRET_KEY = "sk-contract-never-shown-0123456789"

#: The faults of the kit core, by the names `AdapterContract.fault_errors` uses, each with the
#: error that must lie beneath the reader's along its `__cause__` chain (named, as SDKs raise
#: httpx's or httpx2's), or `None` when nothing lies beneath it. Each fault strikes after the
#: first two of the tokens "par", "tial", " lost", " too".
FAULTS: dict[str, tuple[Fault, str | None]] = {
    "error-event": (ErrorEvent(after=2, message="boom"), None),
    "truncated": (Truncate(after=2), None),
    "stall": (Stall(after=2), "ReadTimeout"),
    "connection-reset": (ConnectionReset(after=2), "ReadError"),
    "malformed-line": (MalformedLine(after=2), "JSONDecodeError"),
}

ARGS = {"city": 'Paris "Rive Gauche"', "days": [1, 2], "note": "café ☕", "deep": {"x": None}}
_ARGS_JSON = json.dumps(ARGS, ensure_ascii=False)
_ESCAPE = _ARGS_JSON.index('\\"')
_ACCENT = _ARGS_JSON.index("é")


@dataclass(frozen=True)
class ContractToolCall:
    """One tool call a scripted reply streams: its arguments as JSON fragments, split anywhere
    (an empty first fragment, inside an escape, around a multi-byte character); none for a
    tool without parameters."""

    name: str
    fragments: Sequence[str]
    id: str


@dataclass(frozen=True)
class ContractReply:
    """A reply in the provider's words, scripted on the adapter's kit by `AdapterContract.script`.

    `usage` is (input tokens, output tokens) as the API reports them (`None`: the kit's
    default); `model` the model the API says answered (`None`: the one asked for); `delay` the
    seconds before each token; `fault` how the stream breaks; a `status` other than 200 answers
    with that HTTP error instead (with `headers`, such as a retry delay); `prefix` serves the
    reply under that path prefix, for a client whose base URL ends with it.
    """

    tokens: Sequence[str] = ()
    tool_calls: Sequence[ContractToolCall] = ()
    usage: tuple[int, int] | None = None
    model: str | None = None
    delay: float = 0.0
    fault: Fault | None = None
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    prefix: str = ""


#: Parallel calls, their arguments split the way models split them (an empty first fragment,
#: inside an escape, around a multi-byte character, character by character), and a call
#: without parameters.
TOOL_CALLS = [
    ContractToolCall(
        "get_weather", ["", _ARGS_JSON[: _ESCAPE + 1], _ARGS_JSON[_ESCAPE + 1 :]], "c1"
    ),
    ContractToolCall("get_time", ['{"tz":"Asia/', 'Tokyo"}'], "c2"),
    ContractToolCall("lookup", [_ARGS_JSON[:_ACCENT], _ARGS_JSON[_ACCENT:]], "c3"),
    ContractToolCall("echo", list(_ARGS_JSON), "c4"),
    ContractToolCall("list_cities", [], "c5"),
]
EXPECTED_TOOL_CALLS = [
    {"name": "get_weather", "args": ARGS, "id": "c1", "type": "tool_call"},
    {"name": "get_time", "args": {"tz": "Asia/Tokyo"}, "id": "c2", "type": "tool_call"},
    {"name": "lookup", "args": ARGS, "id": "c3", "type": "tool_call"},
    {"name": "echo", "args": ARGS, "id": "c4", "type": "tool_call"},
    {"name": "list_cities", "args": {}, "id": "c5", "type": "tool_call"},
]


def _get_weather(city: str, days: int) -> str:
    """Get the weather in a city for the next days."""
    return f"Sunny in {city} for {days} days"


_NOT_A_LIST = ("must be a list of tools", r"tools=\[\.\.\.\]")

#: (keyword arguments of the agent, its input, what the error says: patterns each found in it);
#: none of them reaches the API.
BAD_INPUT: dict[str, tuple[dict[str, Any], Any, tuple[str, ...]]] = {
    "stream-false": ({"stream": False}, "Hi", ("'stream'", "always streams")),
    "messages-keyword": (
        {"messages": [{"role": "user", "content": "x"}]},
        "Hi",
        ("'messages'", "input messages"),
    ),
    "tools-a-function": ({"tools": _get_weather}, "Hi", _NOT_A_LIST),
    "tools-a-name": ({"tools": "get_weather"}, "Hi", _NOT_A_LIST),
    "tools-a-dict": ({"tools": {"name": "w"}}, "Hi", _NOT_A_LIST),
    "tools-holding-a-number": ({"tools": [42]}, "Hi", ("can't use 42 as a tool", "LangChain tool")),
    "tool-choice-a-number": (
        {"tools": [_get_weather], "tool_choice": 3},
        "Hi",
        ("tool_choice=3", "'auto'", "tool's name"),
    ),
    "tool-result-without-call-id": ({}, Message(text="12:00", role="tool"), ("tool_call_id",)),
}


async def read_tokens(promise: MessagePromise, tokens: list[str]) -> None:
    """Read `promise` token by token into `tokens`; errors propagate."""
    async for token in promise:
        tokens.append(token)


async def consume(
    reply: Any, tokens: list[str], promises: list[MessagePromise] | None = None
) -> list[MessagePromise]:
    """Read every promise of `reply` token by token into `tokens`; errors propagate."""
    promises = [] if promises is None else promises
    async for promise in reply:
        promises.append(promise)
        await read_tokens(promise, tokens)
    return promises


def _causes(error: BaseException) -> list[str]:
    """The names of the types along `error`'s `__cause__` chain, nearest first."""
    found: list[str] = []
    while error.__cause__ is not None:
        error = error.__cause__
        found.append(type(error).__name__)
    return found


def _usage_totals(usage: Mapping[str, Any] | None) -> tuple[int, int, int] | None:
    if usage is None:
        return None
    return usage["input_tokens"], usage["output_tokens"], usage["total_tokens"]


class AdapterContract(ABC):
    """The behaviours every model agent adapter promises (see the module's docstring).

    Fill in, in a subclass named `Test<Provider>Contract`: the `kit` fixture, `script` and
    `reply_id`, and the class attributes below. Every test method is inherited; a subclass
    adds none of them (its provider-specific tests live beside it).
    """

    #: The adapter agent, without a model (the contract forks it).
    adapter: ClassVar[MiniAgent]
    #: What every fork of the adapter is given besides the client, such as the model.
    options: ClassVar[Mapping[str, Any]]
    #: The path the adapter's requests go to, below the client's base URL.
    api_path: ClassVar[str]
    #: The finish reason of a reply that ends with text, and of one that ends with tool calls.
    text_finish_reason: ClassVar[str]
    tool_calls_finish_reason: ClassVar[str]
    #: The error the reader gets for each fault of `FAULTS` the kit can play.
    fault_errors: ClassVar[Mapping[str, type[BaseException]]]
    #: HTTP statuses the SDK retries, each with the error once its retries run out.
    retried_statuses: ClassVar[Mapping[int, type[BaseException]]]
    #: The SDK's error for a rejected key (HTTP 401).
    authentication_error: ClassVar[type[BaseException]]
    #: The prefix of the environment variables the SDK reads credentials from, and the one
    #: naming the key, which the missing-key error must name.
    environment_prefix: ClassVar[str]
    api_key_variable: ClassVar[str]
    #: The adapter's example, which must run offline on the kit, and what it must print.
    example: ClassVar[Path]
    example_prints: ClassVar[Sequence[str]]

    @pytest.fixture
    def kit(self) -> APIMock:
        """The adapter kit's mock, active for one test: override it, e.g. to return the kit
        plugin's `openai_mock` fixture."""
        raise NotImplementedError(f"{type(self).__name__} must override the `kit` fixture")

    @abstractmethod
    def script(self, kit: APIMock, reply: ContractReply) -> ScriptedReply:
        """Queue `reply` on `kit` in the API's own stream, and return the scripted reply
        (`kit_options(reply)` gives the keywords every kit's script methods share)."""

    @abstractmethod
    def reply_id(self, serial: int) -> str:
        """The id the API gives the kit's `serial`-th reply (counted from 1)."""

    # -- helpers ---------------------------------------------------------------------------

    def kit_options(self, reply: ContractReply) -> dict[str, Any]:
        """The keywords of `reply` that every kit's script methods take alike: the reported
        model, the delay, the fault, the HTTP status and headers, and the path."""
        return {
            "model": reply.model,
            "delay": reply.delay,
            "fault": reply.fault,
            "status": reply.status,
            "headers": dict(reply.headers),
            "path": reply.prefix + self.api_path,
        }

    def agent(
        self, kit: APIMock, *, client: Mapping[str, Any] | None = None, **options: Any
    ) -> Any:
        """The adapter forked onto a client of `kit` (`client`: its options, such as a
        timeout), with `options` beside the class's `options`."""
        made = kit.async_client(**(client or {}))  # type: ignore[attr-defined]
        return self.adapter.fork(client=made, **{**self.options, **options})

    async def reply_of(self, agent: Any, message: Any = "Hi") -> tuple[list[str], Any]:
        """The tokens and the resolved message of the agent's one-message reply."""
        tokens: list[str] = []
        async with MiniAgents():
            (promise,) = await consume(agent.trigger(message), tokens)
            return tokens, await promise

    # -- the reply -------------------------------------------------------------------------

    async def test_text_streams_token_by_token_into_an_assistant_message(
        self, kit: APIMock
    ) -> None:
        self.script(kit, ContractReply(["Hel", "lo", " there"], usage=(12, 3), model="reported"))

        tokens, message = await self.reply_of(self.agent(kit))

        assert tokens == ["Hel", "lo", " there"]
        assert type(message) is AssistantMessage
        assert (message.text, message.role) == ("Hello there", "assistant")
        assert message.model_name == "reported"
        assert message.finish_reason == self.text_finish_reason
        assert _usage_totals(message.usage) == (12, 3, 15)
        assert message.model_dump()["id"] == self.reply_id(1)

    async def test_the_reply_metadata_reaches_the_langchain_face(self, kit: APIMock) -> None:
        for _ in range(3):
            self.script(kit, ContractReply(["o", "k"], usage=(50, 9), model="reported"))
        agent = self.agent(kit)

        _, message = await self.reply_of(agent)
        chunks = [chunk async for chunk in agent.astream("Hi")]
        final = await agent.ainvoke("Hi")

        assert "".join(chunk.text for chunk in chunks) == "ok"
        assert [chunk.text for chunk in chunks if chunk.text] == ["o", "k"]
        for face, serial in [(chunks[-1], 2), (final, 3)]:
            # The provider's usage details too: the face carries the message's usage whole.
            assert face.usage_metadata == thaw(message.usage)
            assert _usage_totals(face.usage_metadata) == (50, 9, 59)
            assert face.response_metadata["finish_reason"] == self.text_finish_reason
            assert face.response_metadata["model_name"] == "reported"
            assert face.id == self.reply_id(serial)
        assert final.content == "ok"

    async def test_usage_of_a_tree_of_agents_adds_up_in_the_langchain_run(
        self, kit: APIMock
    ) -> None:
        self.script(kit, ContractReply(["a"], usage=(20, 4)))
        self.script(kit, ContractReply(["b"], usage=(3, 2)))
        first, second = self.agent(kit), self.agent(kit)

        @miniagent
        async def both(ctx: InteractionContext) -> None:
            ctx.reply([first.trigger(ctx.message_promises), second.trigger(ctx.message_promises)])

        final = await both.ainvoke("Hi")

        assert _usage_totals(final.usage_metadata) == (23, 6, 29)

    async def test_tokens_stream_in_order_and_early_through_a_tree_of_agents(
        self, kit: APIMock
    ) -> None:
        texts = {"a": [f" a{i}" for i in range(10)], "b": [f" b{i}" for i in range(40)]}
        delays = {"a": 0.04, "b": 0.01}  # 0.4 s of stream each
        replies: dict[str, ScriptedReply] = {}
        agents: dict[str, Any] = {}
        for name, tokens in texts.items():
            # One path per agent, so which request comes first does not matter.
            reply = ContractReply(tokens, delay=delays[name], prefix=f"/{name}")
            replies[name] = self.script(kit, reply)
            base_url = f"{kit.base_url}/{name}"
            agents[name] = self.agent(kit, client={"base_url": base_url}).fork(name)

        @miniagent
        async def both(ctx: InteractionContext) -> None:
            ctx.reply([agent.trigger(ctx.message_promises) for agent in agents.values()])

        start = time.monotonic()
        received: list[tuple[str, float]] = []
        async for chunk in both.astream("q"):
            if isinstance(chunk.content, str) and chunk.content:
                received.append((chunk.content, time.monotonic()))
        total = time.monotonic() - start

        # B's tokens, buffered while A streamed, may arrive merged; the order is what counts.
        assert "".join(token for token, _ in received) == "\n\n".join(
            "".join(tokens) for tokens in texts.values()
        )
        assert [token for token, _ in received[: len(texts["a"])]] == texts["a"]  # one by one
        a_request, b_request = replies["a"].request, replies["b"].request
        assert a_request is not None
        assert b_request is not None
        assert a_request.finished_at is not None
        assert b_request.finished_at is not None
        assert received[0][1] < a_request.finished_at - 0.1  # A streamed, not delivered whole
        assert b_request.started_at < a_request.finished_at  # B ran alongside A
        # Side by side, not one after the other: measured on the streams' own clock (≈ 0.4 s
        # each), so a loaded machine slows both sides alike.
        a_took = a_request.finished_at - a_request.started_at
        b_took = b_request.finished_at - b_request.started_at
        assert total < a_took + b_took - 0.1

    # -- tool calls ------------------------------------------------------------------------

    @pytest.mark.parametrize("text", [[], ["Let me ", "check."]], ids=["calls-only", "with-text"])
    async def test_tool_calls_arrive_whole_in_order_after_the_text(
        self, text: list[str], kit: APIMock
    ) -> None:
        for _ in range(2):
            self.script(kit, ContractReply(text, tool_calls=TOOL_CALLS))
        agent = self.agent(kit)

        tokens, message = await self.reply_of(agent)
        ai = await agent.ainvoke("Hi")

        assert tokens == text
        assert thaw(message.tool_calls) == EXPECTED_TOOL_CALLS
        assert message.invalid_tool_calls == ()
        assert message.finish_reason == self.tool_calls_finish_reason
        assert isinstance(ai, AIMessage)
        assert (ai.text, ai.tool_calls) == ("".join(text), EXPECTED_TOOL_CALLS)
        assert ai.response_metadata["finish_reason"] == self.tool_calls_finish_reason

    @pytest.mark.parametrize(
        ("fragments", "says"),
        [(['{"city": ', '"Par'], "not valid JSON"), (["[1, ", "2]"], "not an object")],
        ids=["cut-json", "not-an-object"],
    )
    async def test_arguments_that_do_not_parse_make_an_invalid_tool_call(
        self, fragments: list[str], says: str, kit: APIMock
    ) -> None:
        calls = [ContractToolCall("bad", fragments, "c_bad"), TOOL_CALLS[1]]
        for _ in range(2):
            self.script(kit, ContractReply(tool_calls=calls))
        agent = self.agent(kit)

        _, message = await self.reply_of(agent)
        ai = await agent.ainvoke("Hi")

        for found in [message, ai]:  # LangChain's own shapes, on the message and the face
            assert thaw(found.tool_calls) == [EXPECTED_TOOL_CALLS[1]]
            (invalid,) = thaw(found.invalid_tool_calls)
            assert invalid["type"] == "invalid_tool_call"
            assert (invalid["name"], invalid["id"], invalid["args"]) == (
                "bad",
                "c_bad",
                "".join(fragments),
            )
            assert says in invalid["error"]

    async def test_tool_agent_runs_a_tool_loop_over_the_adapter(self, kit: APIMock) -> None:
        calls: list[tuple[str, int]] = []

        async def get_weather(city: str, days: int) -> str:
            """Get the weather in a city for the next days."""
            calls.append((city, days))
            return f"Sunny in {city} for {days} days"

        use = ContractToolCall("get_weather", ['{"city": "Par', 'is", "days": 2}'], "c_w")
        first = self.script(kit, ContractReply(["Let me check."], tool_calls=[use]))
        second = self.script(kit, ContractReply(["Sunny", " all week."]))

        reply = await tool_agent(self.agent(kit), [get_weather]).ainvoke("Weather in Paris?")

        assert calls == [("Paris", 2)]
        assert reply.text.startswith("Let me check.")
        assert reply.text.endswith("Sunny all week.")
        assert reply.tool_calls == []
        assert first.request is not None
        assert second.request is not None
        assert "get_weather" in json.dumps(first.request.json["tools"])
        history = json.dumps(second.request.json)  # the provider's own shape
        assert "Sunny in Paris for 2 days" in history
        assert "c_w" in history

    # -- faults ----------------------------------------------------------------------------

    @pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
    async def test_a_fault_mid_stream_fails_after_the_partial_tokens_which_stay_replayable(
        self, fault: str, kit: APIMock
    ) -> None:
        if fault not in self.fault_errors:
            pytest.skip(f"{type(self).__name__}.fault_errors has no {fault!r}")
        error = self.fault_errors[fault]
        played, beneath = FAULTS[fault]
        self.script(kit, ContractReply(["par", "tial", " lost", " too"], fault=played))
        agent = self.agent(kit, client={"timeout": 0.3})
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
        assert (beneath in _causes(raised.value)) if beneath else _causes(raised.value) == []
        assert elapsed < 2.0

    async def test_the_sdk_retries_then_the_reply_streams_or_its_error_reaches_the_reader(
        self, kit: APIMock
    ) -> None:
        retry = {"retry-after-ms": "10"}
        for status, error in self.retried_statuses.items():
            self.script(kit, ContractReply(status=status, headers=retry))
            self.script(kit, ContractReply(["after", " retry"]))
            agent = self.agent(kit, client={"max_retries": 2})
            tokens, _ = await self.reply_of(agent)
            assert tokens == ["after", " retry"]

            for _ in range(3):
                self.script(kit, ContractReply(status=status, headers=retry))
            requests_before = len(kit.requests)
            started = time.monotonic()
            async with MiniAgents():
                with pytest.raises(error):
                    await consume(agent.trigger("Hi"), [])
            assert len(kit.requests) - requests_before == 3  # the first try + 2 retries
            assert time.monotonic() - started < 2.0

    async def test_cancelling_the_only_reader_closes_the_provider_stream(
        self, kit: APIMock
    ) -> None:
        reply = self.script(kit, ContractReply([f" t{i}" for i in range(50)], delay=0.02))
        agent = self.agent(kit)
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

    # -- bad input and credentials ---------------------------------------------------------

    @pytest.mark.parametrize(
        ("options", "message", "says"), list(BAD_INPUT.values()), ids=list(BAD_INPUT)
    )
    async def test_bad_input_is_refused_naming_the_fix_before_any_request(
        self, options: dict[str, Any], message: Any, says: tuple[str, ...], kit: APIMock
    ) -> None:
        agent = self.agent(kit, **options)

        async with MiniAgents():
            with pytest.raises((TypeError, ValueError)) as raised:
                await consume(agent.trigger(message), [])

        assert [pattern for pattern in says if not re.search(pattern, str(raised.value))] == []
        assert kit.requests == []

    async def test_a_missing_model_is_a_type_error(self, kit: APIMock) -> None:
        async with MiniAgents():
            with pytest.raises(TypeError, match="model"):
                await consume(self.adapter.trigger("Hi"), [])

        assert kit.requests == []

    async def test_a_missing_key_is_named_to_the_reader_before_any_request(
        self, kit: APIMock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        # No key, token, federation or profile: the profiles on disk live under the home
        # directory, here an empty one.
        for name in [name for name in os.environ if name.startswith(self.environment_prefix)]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("HOME", str(tmp_path))
        agent = self.adapter.fork(**self.options)

        async with MiniAgents():
            reply = agent.trigger("Hi")  # no error yet
            with pytest.raises(RuntimeError, match=self.api_key_variable) as raised:
                await consume(reply, [])

        assert "client=" in str(raised.value)  # the other fix: a client given its key
        assert "api_key=..." in str(raised.value)
        assert kit.requests == []

    async def test_the_key_never_appears_in_reprs_logs_or_errors(
        self, kit: APIMock, caplog: pytest.LogCaptureFixture
    ) -> None:
        self.script(kit, ContractReply(status=401))
        agent = self.agent(kit, client={"api_key": SECRET_KEY})
        caplog.set_level(logging.DEBUG)

        async with MiniAgents():
            reply = agent.trigger("Hi")
            with pytest.raises(self.authentication_error) as raised:
                await consume(reply, [])

        (request,) = kit.requests
        assert any(SECRET_KEY in value for value in request.headers.values())  # it was sent
        shown = [repr(agent), str(agent), repr(reply), str(raised.value), repr(raised.value)]
        shown += [caplog.text, repr(getattr(raised.value, "body", None))]
        assert [text for text in shown if SECRET_KEY in text] == []

    # -- offline ---------------------------------------------------------------------------

    def test_the_example_runs_offline_without_a_key(self) -> None:
        prefixes = (self.environment_prefix, "PYTEST_")
        environment = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(self.example.parents[1]), os.environ.get("PYTHONPATH", "")]
        )
        done = subprocess.run(
            [sys.executable, str(self.example)],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

        assert done.returncode == 0, done.stderr
        assert "offline" in done.stdout.splitlines()[0]
        assert [text for text in self.example_prints if text not in done.stdout] == []
