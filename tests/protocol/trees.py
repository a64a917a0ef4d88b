"""Agent trees for the protocol tests, built from the embedded scripted chat model.

A tree of `depth` levels: every inner agent triggers `fan_out` children at once and replies a
heading message followed by their replies; every leaf is a `chat_model_agent` over its own
`ScriptedChatModel`, so siblings stream in parallel and finish in any order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from miniagents_lc import (
    AssistantMessage,
    InteractionContext,
    MessagePromise,
    MiniAgent,
    miniagent,
)
from miniagents_lc.langchain import chat_model_agent
from miniagents_lc.protocol import ProtocolEvent
from miniagents_lc.testing.chat_models import ScriptedChatModel


@dataclass
class TreeShape:
    """How deep the tree is, how many children each inner agent has, and the leaves' timing."""

    depth: int
    fan_out: int
    words_per_leaf: int = 4
    token_delay: float = 0.002
    first_token_delay: float = 0.005
    leaf_aliases: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"depth{self.depth}-fan{self.fan_out}"


def build_tree(shape: TreeShape) -> MiniAgent:
    """The root agent of a tree of `shape`; leaf `k` (in reply order) says `leafk w0 w1 ...`,
    and later leaves are faster, so they finish before the earlier ones."""
    counter = iter(range(10_000))

    def make(level: int, alias: str) -> MiniAgent:
        if level == shape.depth:
            number = next(counter)
            shape.leaf_aliases.append(alias)
            words = " ".join(f"w{i}" for i in range(shape.words_per_leaf))
            model = ScriptedChatModel(
                reply=f"leaf{number} {words}",
                first_token_delay=shape.first_token_delay,
                token_delay=shape.token_delay / (1 + number % 3),
            )
            return chat_model_agent(model, alias=alias)
        children = [make(level + 1, f"{alias}_{index}") for index in range(shape.fan_out)]

        @miniagent(alias=alias)
        async def inner(ctx: InteractionContext) -> None:
            ctx.reply(f"[{alias}]")
            ctx.reply([child.trigger(ctx.message_promises) for child in children])

        return inner

    return make(1, "root")


SHAPES = [TreeShape(1, 1), TreeShape(2, 3), TreeShape(3, 2)]
"""Small trees of different shapes for behaviours that hold whatever the shape."""


async def tokens(words: list[str], delay: float) -> AsyncIterator[str]:
    """Words as tokens, `delay` seconds apart."""
    for word in words:
        await asyncio.sleep(delay)
        yield word


def assistant_reply(text_words: list[str], delay: float = 0.0, **fields: Any) -> MessagePromise:
    """An `AssistantMessage` promise streaming `text_words` with typed metadata `fields`."""
    return AssistantMessage.promise(tokens(text_words, delay), **fields)


def data(event: ProtocolEvent) -> dict[str, object]:
    """The data of an event, as a plain dict."""
    return dict(event["params"]["data"])


def messages_by_namespace(events: list[ProtocolEvent]) -> dict[tuple[str, ...], list[str]]:
    """The text of every message, grouped by namespace, in emission order."""
    texts: dict[tuple[str, ...], list[str]] = {}
    for event in events:
        payload = event["params"]["data"]
        if (
            event["method"] == "messages"
            and payload["event"] == "content-block-finish"
            and payload["content"]["type"] == "text"
        ):
            texts.setdefault(tuple(event["params"]["namespace"]), []).append(
                payload["content"]["text"]
            )
    return texts
