"""`chat_model_agent`: any LangChain chat model (or Runnable streaming message chunks or
strings) as a `MiniAgent` whose reply is one streamed assistant message."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.messages.ai import add_ai_message_chunks
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.runnables import Runnable

from miniagents_lc.agents import InteractionContext, MiniAgent, is_watched, observe_model_call
from miniagents_lc.agents.lowlevel import messages_to_langchain
from miniagents_lc.messages import AssistantMessage, Message, MessagePromise


def chat_model_agent(
    model: Runnable[Any, Any],
    *,
    alias: str | None = None,
    description: str | None = None,
    **model_kwargs: Any,
) -> MiniAgent:
    """An agent that sends its input messages to `model.astream(...)` and replies with one
    assistant message streamed token by token.

    The model runs with the agent's `RunnableConfig`, so its run nests under the agent's in
    traces and `astream_events`. The resolved message is an `AssistantMessage` with the
    typed usage, model name, finish reason and tool calls of the summed chunks, and their `id`
    and `response_metadata`.
    `model_kwargs` are the agent's bound kwargs: they reach every `astream` call of the model,
    together with the kwargs of each call (`agent.bind(temperature=0)`,
    `agent.ainvoke(x, temperature=0)`, `agent.trigger(x, temperature=0)`, `fork(...)`), which
    win over them; `tools` (and `tool_choice`) among them are bound with the model's
    `bind_tools` instead. The alias defaults to the model's name.
    """
    name = alias or model.get_name()
    provider = type(model).__name__
    request_model = _model_name(model)

    async def call_model(ctx: InteractionContext, **call_kwargs: Any) -> None:
        def tokens(promise: MessagePromise) -> AsyncIterator[str]:
            # Watched calls (instruments, budgets) take one more step per token; others none.
            return watched_tokens(promise) if is_watched(ctx) else model_tokens(promise, None)

        async def watched_tokens(promise: MessagePromise) -> AsyncIterator[str]:
            input_messages = await ctx.message_promises.acollect_messages()
            observed = observe_model_call(
                ctx,
                promise,
                model_tokens(promise, input_messages),
                provider=provider,
                request_model=request_model,
                input_messages=input_messages,
            )
            async for token in observed:
                try:
                    yield token
                except BaseException as thrown:
                    # Thrown in at this yield (a cancellation that came while the producer
                    # let its readers in): the model call meets it where it stands, as it
                    # would have at its next await, and reports it.
                    athrow = getattr(observed, "athrow", None)
                    if athrow is not None:
                        await athrow(thrown)
                    raise

        async def model_tokens(
            promise: MessagePromise, input_messages: tuple[Message, ...] | None
        ) -> AsyncIterator[str]:
            if input_messages is None:
                input_messages = await ctx.message_promises.acollect_messages()
            messages = messages_to_langchain(input_messages)
            pieces: list[AIMessageChunk] = []
            bound, kwargs = _with_tools(model, name, call_kwargs)
            stream = bound.astream(messages, config=ctx.config, **kwargs)
            try:
                async for chunk in stream:
                    if isinstance(chunk, str):
                        token = chunk
                    elif isinstance(chunk, AIMessageChunk | AIMessage):
                        token = chunk.text
                        piece = chunk if isinstance(chunk, AIMessageChunk) else _as_chunk(chunk)
                        if chunk.id and "id" not in promise.fields:
                            # Known before the first token: a LangChain run of the agent adopts
                            # the id its tokens stream under in the model's own run.
                            promise.set_fields(id=chunk.id)
                        pieces.append(piece)
                    else:
                        raise TypeError(
                            f"The model of chat_model_agent {name!r} streamed a "
                            f"{type(chunk).__name__}; expected AIMessageChunk or str chunks."
                        )
                    if token:
                        yield token
            finally:
                # Ends the model's run now (reported as an error if cut short), not whenever
                # the garbage collector finalizes the stream.
                aclose = getattr(stream, "aclose", None)
                if aclose is not None:
                    await aclose()
            # Summed once at the end: adding chunk by chunk rebuilds the message per token.
            total = add_ai_message_chunks(pieces[0], *pieces[1:]) if pieces else None
            promise.set_fields(**_fields_of(total))

        reply = AssistantMessage.promise(tokens)
        ctx.reply(reply)
        # The agent's run lasts as long as the model's, and a model error fails the agent too.
        await reply

    return MiniAgent(
        call_model,
        alias=name,
        description=description
        if description is not None
        else f"Replies with what the chat model {model.get_name()} streams.",
        bound_kwargs=model_kwargs,
    )


def _model_name(model: Runnable[Any, Any]) -> str | None:
    """The model a LangChain chat model asks for, where it says so (`model_name` or `model`)."""
    for attribute in ("model_name", "model"):
        value = getattr(model, attribute, None)
        if isinstance(value, str) and value:
            return value
    return None


def _with_tools(
    model: Runnable[Any, Any], name: str, call_kwargs: dict[str, Any]
) -> tuple[Runnable[Any, Any], dict[str, Any]]:
    """The model with the call's `tools` bound through its `bind_tools`, and the other kwargs."""
    if "tools" not in call_kwargs:
        return model, call_kwargs
    kwargs = dict(call_kwargs)
    tools = kwargs.pop("tools")
    bind_tools = getattr(model, "bind_tools", None)
    if bind_tools is None:
        raise TypeError(
            f"chat_model_agent {name!r} was called with tools, but its model "
            f"{model.get_name()} has no bind_tools(): give it a chat model that calls tools."
        )
    binding = {"tool_choice": kwargs.pop("tool_choice")} if "tool_choice" in kwargs else {}
    return bind_tools(tools, **binding), kwargs


def _as_chunk(message: AIMessage) -> AIMessageChunk:
    """A whole `AIMessage` (from a Runnable that does not stream) as one chunk to sum."""
    return AIMessageChunk(
        content=message.content,
        id=message.id,
        name=message.name,
        response_metadata=message.response_metadata,
        usage_metadata=message.usage_metadata,
        tool_call_chunks=[
            tool_call_chunk(
                name=call["name"], args=json.dumps(call["args"]), id=call["id"], index=index
            )
            for index, call in enumerate(message.tool_calls)
        ],
        chunk_position="last",
    )


def _fields_of(total: AIMessageChunk | None) -> dict[str, Any]:
    """The typed metadata of the whole streamed reply, for its `AssistantMessage`."""
    if total is None:
        return {}
    metadata = total.response_metadata or {}
    fields: dict[str, Any] = {
        "id": total.id,
        "usage": total.usage_metadata,
        "model_name": metadata.get("model_name"),
        "finish_reason": metadata.get("finish_reason"),
        "tool_calls": total.tool_calls,
        "invalid_tool_calls": total.invalid_tool_calls,
        "response_metadata": metadata,
    }
    return {name: value for name, value in fields.items() if value}


__all__ = ["chat_model_agent"]
