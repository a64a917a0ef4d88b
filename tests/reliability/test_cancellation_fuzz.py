"""Fuzz: random trees of agents read by several consumers, some of them cancelled at random
points: the consumers left standing always get the whole reply, nothing any of them reads is
stopped, and nothing hangs or outlives the context."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from miniagents_lc import InteractionContext, Message, MessageSequencePromise, MiniAgents, miniagent

from ._support import other_tasks


@dataclass(frozen=True)
class AgentNode:
    """An agent that streams a message of `tokens` tokens (if any), then replies its children."""

    tokens: int
    children: tuple[AgentNode, ...] = ()


@dataclass
class Record:
    completed: set[str] = field(default_factory=set)
    stopped: set[str] = field(default_factory=set)


def expected_texts(node: AgentNode, path: str = "r") -> list[str]:
    own = ["".join(f"{path}.{index} " for index in range(node.tokens))] if node.tokens else []
    return own + [
        text
        for index, child in enumerate(node.children)
        for text in expected_texts(child, f"{path}{index}")
    ]


async def tokens_of(record: Record, path: str, count: int) -> AsyncIterator[str]:
    finished = False
    try:
        for index in range(count):
            await asyncio.sleep(0)
            yield f"{path}.{index} "
        finished = True
    finally:
        (record.completed if finished else record.stopped).add(path)


@miniagent
async def node_agent(ctx: InteractionContext, node: AgentNode, path: str, record: Record) -> None:
    if node.tokens:
        ctx.reply(Message.promise(tokens_of(record, path, node.tokens)))
    ctx.reply(
        [
            node_agent.trigger(node=child, path=f"{path}{index}", record=record)
            for index, child in enumerate(node.children)
        ]
    )


async def read_all(replies: MessageSequencePromise, read: asyncio.Event, after: int) -> list[str]:
    """Every message's text, token by token; `read` is set after `after` tokens (or at the end)."""
    texts: list[str] = []
    count = 0
    if after == 0:
        read.set()
    async for promise in replies:
        text = ""
        async for token in promise:
            text += token
            count += 1
            if count == after:
                read.set()
        texts.append(text)
    read.set()
    return texts


leaves = st.builds(AgentNode, tokens=st.integers(min_value=1, max_value=4))
trees = st.recursive(
    leaves,
    lambda children: st.builds(
        AgentNode,
        tokens=st.integers(min_value=0, max_value=3),
        children=st.lists(children, min_size=1, max_size=3).map(tuple),
    ),
    max_leaves=8,
)
# None: a reader that reads to the end; a number: a reader cancelled after that many tokens.
readers = st.lists(st.none() | st.integers(min_value=0, max_value=12), min_size=1, max_size=3)


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(tree=trees, plan=readers, immediate=st.booleans())
async def test_cancelled_readers_never_cut_short_the_readers_left_standing(
    tree: AgentNode, plan: list[int | None], immediate: bool
) -> None:
    record = Record()
    async with asyncio.timeout(10):
        async with MiniAgents(schedule_immediately_by_default=immediate):
            replies = node_agent.trigger(node=tree, path="r", record=record)
            events = [asyncio.Event() for _ in plan]
            tasks = [
                asyncio.create_task(read_all(replies, event, after or 0))
                for event, after in zip(events, plan, strict=True)
            ]
            for task, event, after in zip(tasks, events, plan, strict=True):
                if after is not None:
                    await event.wait()
                    task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        assert not other_tasks()

    expected = expected_texts(tree)
    for after, result in zip(plan, results, strict=True):
        if after is None:
            assert result == expected
    if None in plan:
        assert record.stopped == set()
        assert record.completed == {path for path in _paths(tree) if _tokens_at(tree, path) > 0}


def _paths(node: AgentNode, path: str = "r") -> list[str]:
    return [path] + [
        sub for index, child in enumerate(node.children) for sub in _paths(child, f"{path}{index}")
    ]


def _tokens_at(node: AgentNode, path: str) -> int:
    for index in path[1:]:
        node = node.children[int(index)]
    return node.tokens
