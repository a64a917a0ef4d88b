"""`OpenAIAgent`: a `MiniAgent` that streams replies from `openai.AsyncOpenAI`.

    agent = OpenAIAgent.fork(alias="writer", model="gpt-4o-mini")
    reply = agent.trigger("Say hi", system="Be brief.")

Tokens stream as they arrive (Chat Completions or, with `api="responses"`, the Responses API).
The reply is one assistant `Message` carrying `model`, `finish_reason` (or `status`), `usage`
and, for chat, any `tool_calls`. Without a `client`, each event loop gets a default client of
its own, closed when the loop shuts down. SDK exceptions reach the consumer unchanged, after
the tokens already received; a stream that ends badly without one (truncated, malformed, or
failed) raises `OpenAIStreamError`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Literal, cast

import openai
from miniagents_lc import InteractionContext, Message, MiniAgent
from miniagents_lc.messages import MessagePromise

from miniagents_lc_openai._default_client import default_client

__all__ = ["OpenAIAgent", "OpenAIStreamError"]

Api = Literal["chat", "responses"]


class OpenAIStreamError(Exception):
    """An OpenAI stream ended badly without an SDK exception: truncated (no finish reason, or
    no usage chunk when `include_usage` asked for one), an event that is not JSON (the decode
    error is its `__cause__`), or a Responses API `response.failed` / `error` event."""


# create() arguments the agent sets itself.
_INPUT_ARGUMENTS = ("messages", "input")


def _create_options(api: Api, create_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments for `create()` beyond model and input: checked, and for chat with
    the usage chunk requested unless `stream_options` says otherwise."""
    options = dict(create_kwargs)
    for name in _INPUT_ARGUMENTS:
        if name in options:
            raise ValueError(
                f"OpenAIAgent sends its input messages itself: remove the {name!r} argument "
                "and pass the messages to trigger() (a system prompt as system=...)."
            )
    if not options.pop("stream", True):
        raise ValueError(
            "OpenAIAgent always streams its reply: remove the 'stream' argument (await the "
            "reply's message to get it whole)."
        )
    if api == "chat":
        options["stream_options"] = {"include_usage": True, **(options.get("stream_options") or {})}
    return options


@contextlib.asynccontextmanager
async def _reading(stream: Any, api: Api) -> AsyncIterator[Any]:
    """Hold the SDK's `stream` while it is read, and close its response however reading ends;
    an event the SDK cannot decode raises `OpenAIStreamError` from the decode error."""
    async with stream:
        try:
            yield stream
        except json.JSONDecodeError as error:
            raise OpenAIStreamError(
                f"The OpenAI {api} stream sent a malformed event (not JSON): {error}."
            ) from error


def _chat_messages(messages: Sequence[Message], system: str | None) -> list[dict[str, str]]:
    converted = [{"role": "system", "content": system}] if system is not None else []
    converted += [{"role": m.role or "user", "content": str(m)} for m in messages]
    return converted


async def _chat_tokens(
    promise: MessagePromise,
    client: openai.AsyncOpenAI | None,
    model: str,
    messages: list[dict[str, str]],
    create_kwargs: dict[str, Any],
) -> AsyncIterator[str]:
    client = client if client is not None else await default_client()
    stream: Any = await client.chat.completions.create(
        model=model, messages=cast(Any, messages), stream=True, **create_kwargs
    )
    reply_model: str = model
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    tool_calls: dict[int, dict[str, str]] = {}
    async with _reading(stream, "chat") as chunks:
        async for chunk in chunks:
            if chunk.model:
                reply_model = chunk.model
            if chunk.usage is not None:
                usage = chunk.usage.model_dump()
            for choice in chunk.choices:
                delta = choice.delta
                if delta is not None:
                    if delta.content:
                        yield delta.content
                    for call in delta.tool_calls or []:
                        _add_tool_call_fragment(tool_calls, call)
                if choice.finish_reason is not None:
                    finish_reason = choice.finish_reason
    fields: dict[str, Any] = {"model": reply_model, "finish_reason": finish_reason, "usage": usage}
    if tool_calls:
        fields["tool_calls"] = [tool_calls[index] for index in sorted(tool_calls)]
    promise.set_fields(**fields)
    if finish_reason is None:
        raise OpenAIStreamError(
            f"The OpenAI chat stream from model {reply_model!r} was truncated: it ended "
            "without a finish_reason."
        )
    if usage is None and create_kwargs["stream_options"].get("include_usage"):
        raise OpenAIStreamError(
            f"The OpenAI chat stream from model {reply_model!r} was truncated: it ended after "
            "its finish_reason without the usage chunk that include_usage asks for. If the "
            "server never sends usage, fork the agent with "
            "stream_options={'include_usage': False}."
        )


def _add_tool_call_fragment(tool_calls: dict[int, dict[str, str]], call: Any) -> None:
    """Join one streamed tool-call delta into `tool_calls`, keyed by the call's index."""
    entry = tool_calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
    if call.id:
        entry["id"] = call.id
    if call.function is not None:
        if call.function.name:
            entry["name"] = call.function.name
        if call.function.arguments:
            entry["arguments"] += call.function.arguments


async def _responses_tokens(
    promise: MessagePromise,
    client: openai.AsyncOpenAI | None,
    model: str,
    input_items: list[dict[str, str]],
    create_kwargs: dict[str, Any],
) -> AsyncIterator[str]:
    client = client if client is not None else await default_client()
    stream: Any = await client.responses.create(
        model=model, input=cast(Any, input_items), stream=True, **create_kwargs
    )
    completed = False
    async with _reading(stream, "responses") as events:
        async for event in events:
            kind = getattr(event, "type", None)
            if kind == "response.output_text.delta":
                if event.delta:
                    yield event.delta
            elif kind == "response.completed":
                response = event.response
                usage = response.usage.model_dump() if response.usage is not None else None
                promise.set_fields(
                    model=response.model or model, status=response.status, usage=usage
                )
                completed = True
            elif kind == "response.failed":
                response = event.response
                error = response.error
                message = error.message if error is not None else "no error message"
                code = f" ({error.code})" if error is not None and error.code else ""
                promise.set_fields(model=response.model or model, status=response.status)
                raise OpenAIStreamError(f"The OpenAI response failed{code}: {message}")
            elif kind == "error":
                code = f" ({event.code})" if getattr(event, "code", None) else ""
                raise OpenAIStreamError(
                    f"The OpenAI response stream sent an error{code}: {event.message}"
                )
    if not completed:
        raise OpenAIStreamError(
            "The OpenAI response stream was truncated: it ended without `response.completed`."
        )


async def _openai_agent_function(
    ctx: InteractionContext,
    *,
    model: str | None = None,
    client: openai.AsyncOpenAI | None = None,
    api: Api = "chat",
    system: str | None = None,
    **create_kwargs: Any,
) -> None:
    """Reply with one assistant message streamed from OpenAI."""
    if model is None:
        raise TypeError(
            "OpenAIAgent needs a model: OpenAIAgent.fork(model='gpt-4o-mini') or "
            "OpenAIAgent.trigger(..., model='gpt-4o-mini')."
        )
    if api not in ("chat", "responses"):
        raise ValueError(f"OpenAIAgent api must be 'chat' or 'responses', got {api!r}.")
    create_options = _create_options(api, create_kwargs)
    messages = await ctx.message_promises.acollect_messages()

    items = _chat_messages(messages, system)  # Responses API input items look the same

    def tokens(promise: MessagePromise) -> AsyncIterator[str]:
        if api == "responses":
            return _responses_tokens(promise, client, model, items, create_options)
        return _chat_tokens(promise, client, model, items, create_options)

    promise = Message.promise(tokens, role="assistant")
    ctx.reply(promise)
    await promise  # so an error fails the agent too


OpenAIAgent = MiniAgent(
    _openai_agent_function,
    alias="openai",
    description=(
        "Streams a reply from the OpenAI API (Chat Completions or Responses). Fork it with "
        "model=..., client=None, api='chat' | 'responses' and any create() kwargs."
    ),
)
