"""Sub-agents and scripted tool-calling models for the tool tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from langchain_core.messages import AIMessage, ToolCall

from miniagents_lc import InteractionContext, Message, MessagePromise, MiniAgent, miniagent
from miniagents_lc.testing.chat_models import ScriptedToolModel


def timed_agent(alias: str, delay: float, tokens: int = 3, token_delay: float = 0.01) -> MiniAgent:
    """An agent that waits `delay` seconds, then streams `tokens` tokens "<alias><i> ";
    it records the loop time of its first token in `first_token_at[alias]`."""

    @miniagent(alias=alias, description=f"The {alias} agent.")
    async def agent(ctx: InteractionContext, **_kwargs: Any) -> None:
        async def produce(_promise: MessagePromise) -> AsyncIterator[str]:
            await asyncio.sleep(delay)
            first_token_at[alias] = asyncio.get_running_loop().time()
            for index in range(tokens):
                if index:
                    await asyncio.sleep(token_delay)
                yield f"{alias}{index} "

        ctx.reply(Message.promise(produce, role="assistant"))

    return agent


first_token_at: dict[str, float] = {}


@miniagent(alias="broken", description="Always fails.")
async def broken(ctx: InteractionContext, **_kwargs: Any) -> None:
    raise ValueError("the broken agent broke")


@miniagent(alias="broken_mid_stream", description="Fails after its first token.")
async def broken_mid_stream(ctx: InteractionContext, **_kwargs: Any) -> None:
    async def produce(_promise: MessagePromise) -> AsyncIterator[str]:
        yield "half "
        raise ValueError("broke mid-stream")

    ctx.reply(Message.promise(produce))


def call(name: str, call_id: str, **args: Any) -> ToolCall:
    return ToolCall(name=name, args=args, id=call_id)


def calling_model(*calls: ToolCall, answer: str = "all done", **fields: Any) -> ScriptedToolModel:
    """A model that makes `calls` in its first turn, then answers `answer`."""
    return ScriptedToolModel(
        turns=[AIMessage(content="", tool_calls=list(calls)), AIMessage(content=answer)], **fields
    )
