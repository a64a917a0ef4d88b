"""`AnthropicAgent`: a `MiniAgent` that streams replies from `anthropic.AsyncAnthropic`.

    agent = AnthropicAgent.fork(alias="writer", model="claude-sonnet-4-5")
    reply = agent.trigger("Say hi", system="Be brief.")

Text streams token by token as it arrives; thinking is kept apart from it. The reply is one
`AssistantMessage` with the model, the stop reason, usage in LangChain's shape (cache reads
and writes counted once, inside the input tokens) and the tool calls, assembled from their
streamed input. `tools=` takes LangChain tools, pydantic models, functions, OpenAI tool dicts
(as `tool_agent` passes them) or Anthropic tool dicts; `tool_choice=` takes LangChain's words
("auto", "any" or "required", "none", a tool's name) or the API's own object. Without a
`client`, each event loop gets a default client of its own, closed when the loop shuts down.
SDK exceptions reach the consumer unchanged, after the tokens already received; a stream that
ends badly without one, or that breaks off mid-reply (a stall, a lost connection), raises
`AnthropicStreamError`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx2
from langchain_core.messages import InvalidToolCall, ToolCall, UsageMetadata
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails
from miniagents_lc import AssistantMessage, InteractionContext, MiniAgent, observe_model_call
from miniagents_lc.messages import MessagePromise

from miniagents_lc_anthropic._convert import (
    SystemPrompt,
    anthropic_input,
    anthropic_tool_choice,
    anthropic_tools,
)
from miniagents_lc_anthropic._default_client import default_client

__all__ = ["DEFAULT_MAX_TOKENS", "AnthropicAgent", "AnthropicStreamError"]

#: The reply length limit sent when none is given (the API requires one).
DEFAULT_MAX_TOKENS = 4096


class AnthropicStreamError(Exception):
    """An Anthropic stream that broke off mid-reply or ended badly: cut before `message_stop`,
    silent past the client's read timeout, its connection lost, or an event that is not JSON.

    Its `__cause__` is what was raised while the stream was read, and the transport's own
    error is `transport_error` on every supported SDK: anthropic 2.17 and later raise
    `anthropic.APITimeoutError` / `anthropic.APIConnectionError` for a stall or a lost
    connection (that SDK exception is the `__cause__`, its own `__cause__` the `httpx2`
    error), earlier 2.x releases let the `httpx2` error through (it is the `__cause__`). An
    event that is not JSON has the decoder's `json.JSONDecodeError` as its `__cause__`.
    """

    @property
    def transport_error(self) -> httpx2.TransportError | None:
        """The `httpx2` error that broke the stream (`ReadTimeout`, `ReadError`,
        `RemoteProtocolError`, ...), found along the `__cause__` chain; None when the
        connection did not fail (a truncated stream, a malformed event)."""
        error = self.__cause__
        while error is not None:
            if isinstance(error, httpx2.TransportError):
                return error
            error = error.__cause__
        return None


def _create_options(create_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments for `messages.create()` beyond model, input and max_tokens."""
    options = dict(create_kwargs)
    if "messages" in options:
        raise ValueError(
            "AnthropicAgent sends its input messages itself: remove the 'messages' argument and "
            "pass the messages to trigger() (a system prompt as system=...)."
        )
    if not options.pop("stream", True):
        raise ValueError(
            "AnthropicAgent always streams its reply: remove the 'stream' argument (await the "
            "reply's message to get it whole)."
        )
    if "tools" in options:
        options["tools"] = anthropic_tools(options["tools"])
    if "tool_choice" in options:
        options["tool_choice"] = anthropic_tool_choice(options["tool_choice"])
    return options


@dataclass
class _Reply:
    """What a Messages stream has said so far, besides its text."""

    model: str
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    blocks: dict[int, dict[str, Any]] = field(default_factory=dict)
    stopped: bool = False

    def take_usage(self, usage: Any) -> None:
        """Keep the counts `usage` reports. They are running totals (a `message_delta`
        repeats and updates what `message_start` said), so each replaces the last, never adds."""
        for name in (
            "input_tokens",
            "output_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
        ):
            value = getattr(usage, name, None)
            if isinstance(value, int):
                self.usage[name] = value
        # The thinking share of the output, where the API reports it (an SDK older than the
        # field keeps it as a plain mapping).
        details = getattr(usage, "output_tokens_details", None)
        thinking = (
            details.get("thinking_tokens")
            if isinstance(details, Mapping)
            else getattr(details, "thinking_tokens", None)
        )
        if isinstance(thinking, int):
            self.usage["thinking_tokens"] = thinking

    def start_block(self, index: int, block: Any) -> None:
        kind = block.type
        if kind == "thinking":
            self.blocks[index] = {"type": "thinking", "thinking": [block.thinking], "signature": ""}
        elif kind == "redacted_thinking":
            self.blocks[index] = {"type": "redacted_thinking", "data": block.data}
        elif kind == "tool_use":
            self.blocks[index] = {
                "type": "tool_use",
                "id": block.id,
                "name": block.name,
                "json": [],
            }

    def add_delta(self, index: int, delta: Any) -> None:
        block = self.blocks.get(index)
        if block is None:
            return
        kind = delta.type
        if kind == "thinking_delta":
            block["thinking"].append(delta.thinking)
        elif kind == "signature_delta":
            block["signature"] = delta.signature
        elif kind == "input_json_delta":
            block["json"].append(delta.partial_json)

    def fields(self) -> dict[str, Any]:
        """The reply message's fields besides its text."""
        fields: dict[str, Any] = {
            "model_name": self.model,
            "finish_reason": self.stop_reason,
            "usage": _usage_metadata(self.usage) if self.usage else None,
        }
        calls: list[ToolCall] = []
        invalid: list[InvalidToolCall] = []
        thinking: list[dict[str, Any]] = []
        for index in sorted(self.blocks):
            block = self.blocks[index]
            if block["type"] == "tool_use":
                _add_tool_call(block, calls, invalid)
            elif block["type"] == "thinking":
                text = "".join(block["thinking"])
                thinking.append(
                    {"type": "thinking", "thinking": text, "signature": block["signature"]}
                )
            else:
                thinking.append(block)
        fields["tool_calls"] = calls
        fields["invalid_tool_calls"] = invalid
        if thinking:
            fields["thinking"] = "".join(b.get("thinking", "") for b in thinking)
            fields["thinking_blocks"] = thinking
        if self.stop_sequence is not None:
            fields["stop_sequence"] = self.stop_sequence
        return fields


def _usage_metadata(counts: Mapping[str, int]) -> UsageMetadata:
    """Anthropic's counts in LangChain's shape: `input_tokens` includes the cache reads and
    writes (which Anthropic counts apart), each of which is also in `input_token_details`;
    thinking tokens, when reported, are `output_token_details["reasoning"]` (they are part of
    `output_tokens` already)."""
    cache_read = counts.get("cache_read_input_tokens", 0)
    cache_creation = counts.get("cache_creation_input_tokens", 0)
    input_tokens = counts.get("input_tokens", 0) + cache_read + cache_creation
    output_tokens = counts.get("output_tokens", 0)
    metadata = UsageMetadata(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
        input_token_details=InputTokenDetails(cache_read=cache_read, cache_creation=cache_creation),
    )
    if "thinking_tokens" in counts:
        metadata["output_token_details"] = OutputTokenDetails(reasoning=counts["thinking_tokens"])
    return metadata


def _add_tool_call(
    block: Mapping[str, Any], calls: list[ToolCall], invalid: list[InvalidToolCall]
) -> None:
    """Parse a tool use's joined input into a `ToolCall`, or an `InvalidToolCall` naming why."""
    raw = "".join(block["json"])
    error: str
    try:
        args = json.loads(raw) if raw else {}
    except json.JSONDecodeError as decode_error:
        error = f"The tool input is not valid JSON: {decode_error}"
    else:
        if isinstance(args, dict):
            calls.append(ToolCall(name=block["name"], args=args, id=block["id"], type="tool_call"))
            return
        error = f"The tool input is JSON but not an object: {type(args).__name__}"
    invalid.append(
        InvalidToolCall(
            name=block["name"], args=raw, id=block["id"], error=error, type="invalid_tool_call"
        )
    )


@contextlib.asynccontextmanager
async def _faults_named() -> AsyncIterator[None]:
    """Turn a stream that breaks off while it is read into `AnthropicStreamError`s that say
    what happened (what was raised is the `__cause__`).

    anthropic 2.17 and later wrap a failed read of the body in `APITimeoutError` /
    `APIConnectionError` (the `httpx2` error as their `__cause__`); earlier 2.x releases let
    the `httpx2` error through. Either way it is the same fault, so it is named the same way.
    `messages.create()` runs outside this block: a request that never got a response keeps
    the SDK's exception unchanged.
    """
    try:
        yield
    except (httpx2.TimeoutException, anthropic.APITimeoutError) as error:
        raise AnthropicStreamError(
            "The Anthropic stream stalled: no event came within the client's read timeout "
            f"({_fault_name(error)})."
        ) from error
    except (httpx2.TransportError, anthropic.APIConnectionError) as error:
        raise AnthropicStreamError(
            f"The Anthropic stream's connection was lost mid-reply ({_fault_name(error)})."
        ) from error
    except json.JSONDecodeError as error:
        raise AnthropicStreamError(
            f"The Anthropic stream sent a malformed event (not JSON): {error}."
        ) from error


def _fault_name(error: BaseException) -> str:
    """`Type: text` of `error`, and of the transport's error when the SDK wrapped one."""
    named = [error]
    if isinstance(error.__cause__, httpx2.TransportError):
        named.append(error.__cause__)
    return " from ".join(
        f"{type(each).__name__}: {each}" if str(each) else type(each).__name__ for each in named
    )


async def _tokens(
    promise: MessagePromise,
    client: anthropic.AsyncAnthropic | None,
    request: dict[str, Any],
) -> AsyncIterator[str]:
    client = client if client is not None else await default_client()
    stream: Any = await client.messages.create(stream=True, **request)
    reply = _Reply(model=request["model"])
    async with stream, _faults_named():
        async for event in stream:
            kind = event.type
            if kind == "content_block_delta":
                if event.delta.type == "text_delta":
                    if event.delta.text:
                        yield event.delta.text
                else:
                    reply.add_delta(event.index, event.delta)
            elif kind == "content_block_start":
                reply.start_block(event.index, event.content_block)
            elif kind == "message_start":
                reply.model = event.message.model or reply.model
                reply.take_usage(event.message.usage)
                promise.set_fields(id=event.message.id)
            elif kind == "message_delta":
                reply.stop_reason = event.delta.stop_reason
                reply.stop_sequence = event.delta.stop_sequence
                reply.take_usage(event.usage)
            elif kind == "message_stop":
                reply.stopped = True
    promise.set_fields(**reply.fields())
    if not reply.stopped:
        raise AnthropicStreamError(
            f"The Anthropic stream from model {reply.model!r} was truncated: it ended without "
            "`message_stop`."
        )


async def _anthropic_agent_function(
    ctx: InteractionContext,
    *,
    model: str | None = None,
    client: anthropic.AsyncAnthropic | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    system: SystemPrompt | None = None,
    **create_kwargs: Any,
) -> None:
    """Reply with one assistant message streamed from Anthropic."""
    if model is None:
        raise TypeError(
            "AnthropicAgent needs a model: AnthropicAgent.fork(model='claude-sonnet-4-5') or "
            "AnthropicAgent.trigger(..., model='claude-sonnet-4-5')."
        )
    options = _create_options(create_kwargs)
    messages = await ctx.message_promises.acollect_messages()
    system_prompt, turns = anthropic_input(messages, system)
    request: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "messages": turns}
    if system_prompt is not None:
        request["system"] = system_prompt
    request.update(options)

    def tokens(promise: MessagePromise) -> AsyncIterator[str]:
        # Instruments and budgets see the model call (the tokens unchanged when none watch).
        return observe_model_call(
            ctx,
            promise,
            _tokens(promise, client, request),
            provider="anthropic",
            request_model=model,
            input_messages=messages,
        )

    promise = AssistantMessage.promise(tokens)
    ctx.reply(promise)
    await promise  # so an error fails the agent too


AnthropicAgent = MiniAgent(
    _anthropic_agent_function,
    alias="anthropic",
    description=(
        "Streams a reply from the Anthropic Messages API. Fork it with model=..., client=None, "
        "max_tokens=... and any messages.create() kwargs."
    ),
)
