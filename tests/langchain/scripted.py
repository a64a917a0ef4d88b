"""Offline chat models and agent trees for the LangChain-face tests.

`scripted_model` makes the demo's `ScriptedChatModel` stream scripted tokens with a delay before
each, the way a provider does: text chunks, then metadata-only chunks (response metadata,
usage), sharing one message id assigned by LangChain. It records what it was called with and
when its streams ended.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from langchain_core.messages.ai import UsageMetadata

from miniagents_lc import DEFAULT, InteractionContext, MiniAgent, miniagent
from miniagents_lc.langchain import chat_model_agent
from miniagents_lc.promising import Defaultable
from miniagents_lc.testing.chat_models import ScriptedChatModel

OuterContext = Callable[[], AbstractAsyncContextManager[object]]
"""Makes the context a test calls agents in: none, or a `MiniAgents` context."""


@contextlib.asynccontextmanager
async def no_context() -> AsyncIterator[None]:
    """No context at all: a LangChain run then makes its own."""
    yield None


def scripted_model(
    *,
    tokens: list[str],
    delay: float = 0.0,
    model_name: str = "scripted",
    usage: UsageMetadata | None = None,
    **fields: Any,
) -> ScriptedChatModel:
    """The demo's `ScriptedChatModel` as these tests script it: exactly `tokens`, `delay`
    seconds before each, a fixed usage (or none), and metadata in chunks of their own after
    the text, the way a provider sends them."""
    return ScriptedChatModel(
        tokens=tokens,
        first_token_delay=delay,
        token_delay=delay,
        model=model_name,
        usage=usage,
        metadata_apart=True,
        **fields,
    )


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
            alias: scripted_model(
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
