"""Offline chat models and agent trees for the LangChain-face tests.

`ScriptedChatModel` streams scripted tokens with a delay before each, the way a provider does:
text chunks, then metadata-only chunks (response metadata, usage), sharing one message id
assigned by LangChain. It records what it was called with and when its streams ended.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import ToolCallChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

from miniagents_lc import DEFAULT, InteractionContext, MiniAgent, miniagent
from miniagents_lc.langchain import chat_model_agent
from miniagents_lc.promising import Defaultable

OuterContext = Callable[[], AbstractAsyncContextManager[object]]
"""Makes the context a test calls agents in: none, or a `MiniAgents` context."""


@contextlib.asynccontextmanager
async def no_context() -> AsyncIterator[None]:
    """No context at all: a LangChain run then makes its own."""
    yield None


class ScriptedError(Exception):
    """What a scripted model raises when told to fail."""


class ScriptedChatModel(BaseChatModel):
    """A chat model that streams `tokens`, waiting `delay` seconds before each one."""

    tokens: list[str]
    delay: float = 0.0
    model_name: str = "scripted"
    usage: UsageMetadata | None = None
    finish_reason: str | None = "stop"
    tool_call_chunks: list[ToolCallChunk] = Field(default_factory=list)
    fail_after: int | None = None
    """Raise `ScriptedError` after this many tokens."""
    calls: list[dict[str, Any]] = Field(default_factory=list)
    """One entry per stream: the input messages and the call kwargs."""
    finished: list[str] = Field(default_factory=list)
    """One entry per stream that ran its `finally` block: "completed" or "interrupted"."""
    token_times: list[float] = Field(default_factory=list)
    """Loop time at which each token was produced, across all streams."""

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _chunks(self) -> Iterator[AIMessageChunk]:
        for index, token in enumerate(self.tokens):
            if self.fail_after is not None and index == self.fail_after:
                raise ScriptedError(f"{self.model_name} failed after {index} tokens")
            yield AIMessageChunk(content=token)
        if self.tool_call_chunks:
            yield AIMessageChunk(content="", tool_call_chunks=self.tool_call_chunks)
        metadata: dict[str, Any] = {"model_name": self.model_name}
        if self.finish_reason is not None:
            metadata["finish_reason"] = self.finish_reason
        yield AIMessageChunk(content="", response_metadata=metadata)
        if self.usage is not None:
            yield AIMessageChunk(content="", usage_metadata=self.usage)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        self.calls.append({"messages": list(messages), "kwargs": kwargs})
        loop = asyncio.get_running_loop()
        outcome = "interrupted"
        try:
            for chunk in self._chunks():
                if chunk.content:
                    await asyncio.sleep(self.delay)
                    self.token_times.append(loop.time())
                yield ChatGenerationChunk(message=chunk)
            outcome = "completed"
        finally:
            self.finished.append(outcome)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.calls.append({"messages": list(messages), "kwargs": kwargs})
        total = AIMessageChunk(content="")
        for chunk in self._chunks():
            total = total + chunk
        self.finished.append("completed")
        return ChatResult(generations=[ChatGeneration(message=total)])


def usage(input_tokens: int, output_tokens: int) -> UsageMetadata:
    """A `UsageMetadata` with the total filled in."""
    return UsageMetadata(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
    )


class Tree:
    """An aggregator agent whose reply is the replies of parallel leaf agents, each a
    `chat_model_agent` over its own `ScriptedChatModel`, in leaf order."""

    def __init__(
        self,
        leaves: Sequence[tuple[str, list[str], float]],
        *,
        schedule_immediately: Defaultable = DEFAULT,
    ) -> None:
        self.models = {
            alias: ScriptedChatModel(
                tokens=tokens,
                delay=delay,
                model_name=f"model-{alias}",
                usage=usage(10, len(tokens)),
            )
            for alias, tokens, delay in leaves
        }
        self.leaves = [chat_model_agent(model, alias=alias) for alias, model in self.models.items()]
        leaf_agents = list(self.leaves)

        @miniagent(alias="aggregator")
        async def aggregator(ctx: InteractionContext) -> None:
            ctx.reply(
                [
                    leaf.trigger(ctx.message_promises, schedule_immediately=schedule_immediately)
                    for leaf in leaf_agents
                ]
            )

        self.agent: MiniAgent = aggregator

    @property
    def text(self) -> str:
        """The whole reply the aggregator is expected to give."""
        return "\n\n".join("".join(model.tokens) for model in self.models.values())

    @property
    def token_times(self) -> list[float]:
        """Every token's production time, across all leaves, in time order."""
        return sorted(t for model in self.models.values() for t in model.token_times)

    @property
    def started(self) -> int:
        """How many leaf model streams were started."""
        return sum(len(model.calls) for model in self.models.values())

    @property
    def finished(self) -> list[str]:
        """The outcome of every leaf stream that ran its `finally` block."""
        return [outcome for model in self.models.values() for outcome in model.finished]


def three_leaf_tree(*, schedule_immediately: Defaultable = DEFAULT) -> Tree:
    """Three parallel leaves streaming four tokens each, 20-50 ms apart: the slowest takes
    about 0.2 s, all three one after the other about 0.44 s. The aggregator triggers them
    with `schedule_immediately`."""
    return Tree(
        [
            ("leaf_fast", ["Fast ", "leaf ", "says ", "hi."], 0.02),
            ("leaf_mid", ["Middle ", "leaf ", "says ", "hello."], 0.04),
            ("leaf_slow", ["Slow ", "leaf ", "says ", "goodbye."], 0.05),
        ],
        schedule_immediately=schedule_immediately,
    )
