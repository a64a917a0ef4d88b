"""`tool_agent`: a tool-calling loop as a `MiniAgent`, whose reply streams the model's text and
every agent tool's reply in tool-call order while the tools run in parallel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Literal

from langchain_core.messages import ToolCall, ToolMessage
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.tools import tool as make_tool
from langchain_core.utils.function_calling import convert_to_openai_tool

from miniagents_lc.agents import AgentTool, InteractionContext, MiniAgent, observe_tool_call
from miniagents_lc.langchain.chat_model_agent import chat_model_agent
from miniagents_lc.messages import (
    MESSAGE_SEPARATOR,
    AssistantMessage,
    Message,
    MessagePromise,
    MessageSequencePromise,
    thaw,
)

ToolErrors = Literal["message", "raise"]
"""What a failing tool does: become a `ToolMessage` the model sees, or fail the agent."""

ToolLike = BaseTool | MiniAgent | Callable[..., Any]
"""A LangChain tool, an agent (asked with `as_tool()`'s defaults), or a function with a
docstring (made a tool with LangChain's `tool()`)."""

_TOOL_CALL_FIELDS = frozenset({"text", "tool_calls", "invalid_tool_calls"})

__all__ = ["ToolErrors", "ToolLike", "ToolLoopLimitError", "tool_agent"]


class ToolLoopLimitError(RuntimeError):
    """A `tool_agent`'s model still called tools after `max_turns` turns."""


def tool_agent(
    model: Runnable[Any, Any] | MiniAgent,
    tools: Sequence[ToolLike],
    *,
    alias: str | None = None,
    description: str | None = None,
    max_turns: int = 10,
    stream_tool_replies: bool = True,
    tool_errors: ToolErrors = "message",
) -> MiniAgent:
    """An agent that lets `model` call `tools` until it answers without calling any.

    `model` is a LangChain chat model (its tools bound with `bind_tools`) or a `MiniAgent`
    replying with `AssistantMessage`s (the tools reach it as the call kwargs `tools=`, OpenAI
    tool schemas). All calls of one turn start at once; their results go back to the model as
    tool messages. The reply streams the model's text (without its tool calls, which the loop
    has run) and, unless `stream_tool_replies=False`, each agent tool's reply in tool-call
    order while they run in parallel. After `max_turns` model turns that still call tools it
    raises `ToolLoopLimitError`.
    """
    if max_turns < 1:
        raise ValueError(f"tool_agent needs max_turns >= 1, got {max_turns}.")
    if tool_errors not in ("message", "raise"):
        raise ValueError(f'tool_errors must be "message" or "raise", got {tool_errors!r}.')
    model_agent = model if isinstance(model, MiniAgent) else chat_model_agent(model)
    by_name = _tools_by_name(tools)
    schemas = [convert_to_openai_tool(tool) for tool in by_name.values()]
    name = alias or f"{model_agent.alias}_with_tools"

    async def call_tools(ctx: InteractionContext, **kwargs: Any) -> None:
        history: list[Message] = list(await ctx.message_promises.acollect_messages())
        for _turn in range(max_turns):
            calls: list[ToolCall] = []
            async for promise in model_agent.trigger(history, tools=schemas, **kwargs):
                ctx.reply(_without_tool_calls(promise))
                message = await promise
                history.append(message)
                if isinstance(message, AssistantMessage):
                    calls.extend(thaw(message.tool_calls))
            if not calls:
                return
            run = _ToolTurn(ctx, by_name, stream_tool_replies, tool_errors)
            history.extend(await run.results(calls))
        raise ToolLoopLimitError(
            f"tool_agent {name!r}: the model still called tools after max_turns={max_turns} "
            "turns. Raise max_turns, or tell the model when to stop calling tools."
        )

    return MiniAgent(
        call_tools,
        alias=name,
        description=description
        if description is not None
        else f"Answers with {model_agent.alias}, calling: {', '.join(by_name)}.",
    )


class _ToolTurn:
    """The tool calls of one model turn: started at once, their results in call order."""

    def __init__(
        self,
        ctx: InteractionContext,
        tools: dict[str, BaseTool],
        stream_tool_replies: bool,
        tool_errors: ToolErrors,
    ) -> None:
        self._ctx = ctx
        self._tools = tools
        self._stream = stream_tool_replies
        self._errors = tool_errors

    async def results(self, calls: list[ToolCall]) -> list[Message]:
        tasks = [asyncio.ensure_future(self._settle(call, self._observed(call))) for call in calls]
        try:
            return list(await asyncio.gather(*tasks))
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)

    def _observed(self, call: ToolCall) -> Awaitable[str]:
        """The call started now, as a tool call its agent's instruments see."""
        return observe_tool_call(
            self._ctx, call["name"], call["id"], call["args"], self._start(call)
        )

    def _start(self, call: ToolCall) -> Awaitable[str]:
        """Start the call now (an agent tool's reply joins the parent reply at once)."""
        tool = self._tools.get(call["name"])
        if tool is None:
            return _fail(
                LookupError(
                    f"There is no tool named {call['name']!r}; the tools are: "
                    f"{', '.join(self._tools)}."
                )
            )
        if isinstance(tool, AgentTool) and self._stream:
            reply = tool.trigger(call["args"])
            self._ctx.reply(reply if self._errors == "raise" else _until_error(reply))
            return _reply_text(reply)
        return _tool_text(tool, call)

    async def _settle(self, call: ToolCall, result: Awaitable[str]) -> Message:
        status = "success"
        try:
            text = await result
        except Exception as error:
            if self._errors == "raise":
                error.add_note(f"raised in tool {call['name']!r} (call {call['id']!r})")
                raise
            text, status = f"Error: {type(error).__name__}: {error}", "error"
        fields = {"tool_call_id": call["id"], "name": call["name"], "status": status}
        return Message(text=text, role="tool", **fields)


def _tools_by_name(tools: Sequence[ToolLike]) -> dict[str, BaseTool]:
    by_name: dict[str, BaseTool] = {}
    for item in tools:
        tool = _as_tool(item)
        if tool.name in by_name:
            raise ValueError(
                f"Two tools are named {tool.name!r}: give one another name (for an agent, "
                "`agent.as_tool(name=...)`)."
            )
        by_name[tool.name] = tool
    return by_name


def _as_tool(item: ToolLike) -> BaseTool:
    if isinstance(item, BaseTool):
        return item
    if isinstance(item, MiniAgent):
        return item.as_tool()
    if callable(item):
        return make_tool(item)
    raise TypeError(
        f"tool_agent can't use {item!r} as a tool: give a LangChain tool, a MiniAgent, or a "
        "function with a docstring."
    )


async def _fail(error: Exception) -> str:
    raise error


async def _tool_text(tool: BaseTool, call: ToolCall) -> str:
    output = await tool.ainvoke({**call, "type": "tool_call"})
    if isinstance(output, ToolMessage):
        return output.text
    return output if isinstance(output, str) else str(output)


async def _reply_text(reply: MessageSequencePromise) -> str:
    messages = await reply.acollect_messages()
    return MESSAGE_SEPARATOR.join(message.text or "" for message in messages)


async def _until_error(reply: MessageSequencePromise) -> AsyncIterator[MessagePromise]:
    """The reply up to its error, if any: the error itself reaches the model as the tool's
    result (`_reply_text` raises it), so it must not fail the parent's stream as well."""
    try:
        async for promise in reply:
            yield _relayed(promise, keep_errors=False)
    except Exception:
        return


def _without_tool_calls(promise: MessagePromise) -> MessagePromise:
    """The model's message streamed as it comes, without the tool calls the loop runs itself
    (whoever reads the reply must not run them again); usage and the rest stay."""
    return _relayed(promise, drop=_TOOL_CALL_FIELDS)


def _relayed(
    promise: MessagePromise,
    *,
    drop: frozenset[str] = frozenset({"text"}),
    keep_errors: bool = True,
) -> MessagePromise:
    """`promise` streamed again as an `AssistantMessage` without the fields in `drop`; with
    `keep_errors=False` a failing message ends where it failed instead."""

    async def tokens(own: MessagePromise) -> AsyncIterator[str]:
        try:
            async for token in promise:
                yield token
            message = await promise
        except Exception:
            if keep_errors:
                raise
            return
        fields = {**message.__dict__, **(message.__pydantic_extra__ or {})}
        own.set_fields(**{key: value for key, value in fields.items() if key not in drop})

    return AssistantMessage.promise(tokens)
