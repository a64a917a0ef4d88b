"""`OpenAIAgent`: a `MiniAgent` that streams replies from `openai.AsyncOpenAI`.

    agent = OpenAIAgent.fork(alias="writer", model="gpt-4o-mini")
    reply = agent.trigger("Say hi", system="Be brief.")

Tokens stream as they arrive (Chat Completions or, with `api="responses"`, the Responses API).
The reply is one `AssistantMessage` with the typed `model_name`, `finish_reason`, `usage` and
`tool_calls` / `invalid_tool_calls` (the Responses API's `status` too, as an extra field).
`tools` and `tool_choice` take LangChain tools, pydantic models, functions or OpenAI dicts;
tool calls and tool results in the input go back to the API intact. Without a `client`, each
event loop gets a default client of its own, closed when the loop shuts down. SDK exceptions
reach the consumer unchanged, after the tokens already received; a stream that ends badly
without one (truncated, malformed, or failed) raises `OpenAIStreamError`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any, cast

import openai
from miniagents_lc import InteractionContext, MiniAgent, observe_model_call
from miniagents_lc.messages import AssistantMessage, MessagePromise

from miniagents_lc_openai._default_client import default_client

from ._metadata import responses_finish_reason, usage_metadata
from ._requests import Api, chat_messages, responses_input, tool_choice_for, tools_for
from ._tool_calls import ToolCallAssembler

__all__ = ["OpenAIAgent", "OpenAIStreamError"]


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
    if "tools" in options:
        options["tools"] = tools_for(api, options["tools"])
    if "tool_choice" in options:
        options["tool_choice"] = tool_choice_for(api, options["tool_choice"])
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


async def _chat_tokens(
    promise: MessagePromise,
    client: openai.AsyncOpenAI | None,
    model: str,
    messages: list[dict[str, Any]],
    create_kwargs: dict[str, Any],
) -> AsyncIterator[str]:
    client = client if client is not None else await default_client()
    stream: Any = await client.chat.completions.create(
        model=model, messages=cast(Any, messages), stream=True, **create_kwargs
    )
    reply_model: str = model
    reply_id: str | None = None
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    refusal: list[str] = []
    tool_calls = ToolCallAssembler()
    async with _reading(stream, "chat") as chunks:
        async for chunk in chunks:
            if reply_id is None and chunk.id:
                # Set before the first token, so whoever streams it knows the reply by its id.
                reply_id = chunk.id
                _keep_response_id(promise, reply_id)
            if chunk.model:
                reply_model = chunk.model
            if chunk.usage is not None:
                usage = chunk.usage.model_dump()
            for choice in chunk.choices:
                if choice.index != 0:
                    # n > 1: choice 0 is the reply; the others would interleave into it.
                    continue
                delta = choice.delta
                if delta is not None:
                    if delta.content:
                        yield delta.content
                    if delta.refusal:
                        refusal.append(delta.refusal)
                        yield delta.refusal
                    for call in delta.tool_calls or []:
                        function = call.function
                        tool_calls.add(
                            getattr(call, "index", None),
                            call_id=call.id,
                            name=function.name if function is not None else None,
                            arguments=function.arguments if function is not None else None,
                        )
                if choice.finish_reason is not None:
                    finish_reason = choice.finish_reason
    valid, invalid = tool_calls.result()
    promise.set_fields(
        model_name=reply_model,
        finish_reason=finish_reason,
        usage=usage_metadata(usage) if usage is not None else None,
        tool_calls=valid,
        invalid_tool_calls=invalid,
        refusal="".join(refusal) if refusal else None,
    )
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


async def _responses_tokens(
    promise: MessagePromise,
    client: openai.AsyncOpenAI | None,
    model: str,
    input_items: list[dict[str, Any]],
    create_kwargs: dict[str, Any],
) -> AsyncIterator[str]:
    client = client if client is not None else await default_client()
    stream: Any = await client.responses.create(
        model=model, input=cast(Any, input_items), stream=True, **create_kwargs
    )
    ended = False
    tool_calls = ToolCallAssembler()
    refusal: list[str] = []
    async with _reading(stream, "responses") as events:
        async for event in events:
            kind = getattr(event, "type", None)
            if kind == "response.output_text.delta":
                if event.delta:
                    yield event.delta
            elif kind == "response.refusal.delta":
                if event.delta:
                    refusal.append(event.delta)
                    yield event.delta
            elif kind in _FUNCTION_CALL_EVENTS:
                _add_function_call_event(tool_calls, kind, event)
            elif kind == "response.created":
                # Set before the first token, so whoever streams it knows the reply by its id.
                _keep_response_id(promise, event.response.id)
            elif kind in ("response.completed", "response.incomplete"):
                fields = _response_fields(event.response, model, tool_calls)
                promise.set_fields(refusal="".join(refusal) if refusal else None, **fields)
                ended = True
            elif kind == "response.failed":
                response = event.response
                error = response.error
                message = error.message if error is not None else "no error message"
                code = f" ({error.code})" if error is not None and error.code else ""
                promise.set_fields(model_name=response.model or model, status=response.status)
                raise OpenAIStreamError(f"The OpenAI response failed{code}: {message}")
            elif kind == "error":
                # The flat shape of older servers, which the SDK yields; today's API nests the
                # error object (`{"type": "error", "error": {...}}`) and the SDK raises that
                # one as `openai.APIError` before it gets here.
                code = f" ({event.code})" if getattr(event, "code", None) else ""
                raise OpenAIStreamError(
                    f"The OpenAI response stream sent an error{code}: {event.message}"
                )
    if not ended:
        raise OpenAIStreamError(
            "The OpenAI response stream was truncated: it ended without `response.completed`."
        )


def _keep_response_id(promise: MessagePromise, response_id: str | None) -> None:
    """Keep the API's id of the response as LangChain does: as the message's `id` (which
    becomes `AIMessage.id`) and as `response_metadata["id"]`."""
    if response_id:
        promise.set_fields(id=response_id, response_metadata={"id": response_id})


_FUNCTION_CALL_EVENTS = (
    "response.output_item.added",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.output_item.done",
)


def _add_function_call_event(tool_calls: ToolCallAssembler, kind: str, event: Any) -> None:
    """Feed one Responses API event about a function call into `tool_calls`, keyed by the
    call's `output_index`; events about other output items are ignored."""
    key = getattr(event, "output_index", None)
    if kind == "response.function_call_arguments.delta":
        tool_calls.add(key, arguments=event.delta)
    elif kind == "response.function_call_arguments.done":
        tool_calls.add(key, arguments=event.arguments, whole=True)
    elif getattr(event.item, "type", None) == "function_call":
        item = event.item
        tool_calls.add(
            key,
            call_id=item.call_id,
            name=item.name,
            arguments=item.arguments,
            whole=kind == "response.output_item.done",
        )


def _response_fields(response: Any, model: str, tool_calls: ToolCallAssembler) -> dict[str, Any]:
    """The `AssistantMessage` fields of a finished (completed or incomplete) response."""
    for index, item in enumerate(response.output or ()):
        # A call the stream never announced (a proxy that sends only the final response).
        if getattr(item, "type", None) == "function_call" and not tool_calls.knows(item.call_id):
            tool_calls.add(
                index, call_id=item.call_id, name=item.name, arguments=item.arguments, whole=True
            )
    valid, invalid = tool_calls.result()
    details = response.incomplete_details
    usage = response.usage.model_dump() if response.usage is not None else None
    return {
        "model_name": response.model or model,
        "status": response.status,
        "finish_reason": responses_finish_reason(
            response.status, details.reason if details is not None else None, bool(tool_calls)
        ),
        "usage": usage_metadata(usage) if usage is not None else None,
        "tool_calls": valid,
        "invalid_tool_calls": invalid,
    }


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

    if api == "responses":
        items = responses_input(messages, system)
    else:
        items = chat_messages(messages, system)

    def tokens(promise: MessagePromise) -> AsyncIterator[str]:
        if api == "responses":
            produced = _responses_tokens(promise, client, model, items, create_options)
        else:
            produced = _chat_tokens(promise, client, model, items, create_options)
        # Instruments and budgets see the model call (the tokens unchanged when none watch).
        return observe_model_call(
            ctx, promise, produced, provider="openai", request_model=model, input_messages=messages
        )

    promise = AssistantMessage.promise(tokens)
    ctx.reply(promise)
    await promise  # so an error fails the agent too


OpenAIAgent = MiniAgent(
    _openai_agent_function,
    alias="openai",
    description=(
        "Streams a reply from the OpenAI API (Chat Completions or Responses). Fork it with "
        "model=..., client=None, api='chat' | 'responses', tools=[...], tool_choice=... and "
        "any create() kwargs."
    ),
)
