"""Plain LangChain: nested `RunnableGenerator`s, each inner node streaming its children's
`astream()` output through (the way a tree of streaming runnables is written without
miniagents_lc). Children are read one after another, as nested generators do."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from langchain_core.messages import AIMessageChunk
from langchain_core.runnables import Runnable, RunnableConfig, RunnableGenerator

from benchmarks.workloads import (
    QUEUE_END,
    TOKEN,
    LatencyClock,
    Measurement,
    Result,
    Sizes,
    measure_chunks,
    measure_latency,
    measure_tokens,
    queued_call_memory,
    read_queued_calls,
)

Chunk = str | AIMessageChunk
LeafBody = Callable[[], AsyncIterator[Any]]


def _leaf(body: LeafBody, name: str = "leaf") -> Runnable[Any, Any]:
    async def transform(inputs: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for _ in inputs:
            pass
        async for chunk in body():
            yield chunk

    return RunnableGenerator(transform, name=name)


def _inner(children: list[Runnable[Any, Any]], name: str) -> Runnable[Any, Any]:
    async def transform(inputs: AsyncIterator[Any], config: RunnableConfig) -> AsyncIterator[Any]:
        async for _ in inputs:
            pass
        for child in children:
            async for chunk in child.astream("go", config):
                yield chunk

    # RunnableGenerator passes `config` to a transform that takes it; its stubs omit that.
    return RunnableGenerator(transform, name=name)  # type: ignore[arg-type]


def _tree(level: int, depth: int, fan_out: int, body: LeafBody) -> Runnable[Any, Any]:
    if level == depth:
        return _leaf(body)
    children = [_tree(level + 1, depth, fan_out, body) for _ in range(fan_out)]
    return _inner(children, name=f"node{level}")


def _str_tokens(count: int) -> LeafBody:
    async def body() -> AsyncIterator[str]:
        for _ in range(count):
            yield TOKEN

    return body


def _chunk_tokens(count: int, *, yielding: bool = False) -> LeafBody:
    async def body() -> AsyncIterator[AIMessageChunk]:
        for _ in range(count):
            if yielding:
                await asyncio.sleep(0)
            yield AIMessageChunk(content=TOKEN)

    return body


# -- (a) one stream -------------------------------------------------------------------------


async def _count(runnable: Runnable[Any, Any]) -> int:
    count = 0
    async for _chunk in runnable.astream("go"):
        count += 1
    return count


def stream(sizes: Sizes) -> Result:
    runnable = _leaf(_str_tokens(sizes.stream_tokens))
    return measure_tokens(lambda: _count(runnable), sizes.stream_tokens)


# -- (b) the tree, str chunks ---------------------------------------------------------------


def tree(sizes: Sizes) -> Result:
    def count_tokens() -> Awaitable[int]:
        body = _str_tokens(sizes.tree_leaf_tokens)
        return _count(_tree(0, sizes.tree_depth, sizes.tree_fan_out, body))

    return measure_tokens(count_tokens, sizes.tree_leaves * sizes.tree_leaf_tokens)


# -- (c) the tree, AIMessageChunks ------------------------------------------------------------


def _astream(sizes: Sizes, *, yielding: bool) -> Result:
    def chunks() -> AsyncIterator[Any]:
        body = _chunk_tokens(sizes.astream_leaf_tokens, yielding=yielding)
        return _tree(0, sizes.tree_depth, sizes.tree_fan_out, body).astream("go")

    return measure_chunks(chunks, sizes)


def astream(sizes: Sizes) -> Result:
    return _astream(sizes, yielding=False)


def astream_yielding(sizes: Sizes) -> Result:
    return _astream(sizes, yielding=True)


# -- (d) latency ------------------------------------------------------------------------------


def _delayed_chunks(sizes: Sizes) -> LeafBody:
    async def body() -> AsyncIterator[AIMessageChunk]:
        await asyncio.sleep(sizes.latency_first_delay)
        for index in range(sizes.latency_tokens):
            if index:
                await asyncio.sleep(sizes.latency_token_gap)
            yield AIMessageChunk(content=TOKEN)

    return body


def latency(sizes: Sizes) -> Result:
    top = _tree(0, sizes.latency_depth, sizes.latency_fan_out, _delayed_chunks(sizes))

    async def read(clock: LatencyClock) -> None:
        async for chunk in top.astream("go"):
            if chunk.content:
                clock.token()

    return measure_latency(read, sizes)


# -- (e) load: a task per call, streaming into a queue ------------------------------------------


def _yielding_tokens(count: int) -> LeafBody:
    async def body() -> AsyncIterator[str]:
        for _ in range(count):
            await asyncio.sleep(0)
            yield TOKEN

    return body


def _pump(
    runnable: Runnable[Any, Any],
) -> Callable[[asyncio.Queue[Any]], Coroutine[Any, Any, None]]:
    async def call(queue: asyncio.Queue[Any]) -> None:
        async for chunk in runnable.astream("go"):
            queue.put_nowait(chunk)
        queue.put_nowait(QUEUE_END)

    return call


def load(sizes: Sizes) -> Result:
    runnable = _leaf(_yielding_tokens(sizes.load_tokens))

    async def count_tokens() -> int:
        queues: list[asyncio.Queue[Any]] = [asyncio.Queue() for _ in range(sizes.load_calls)]
        return await read_queued_calls(queues, _pump(runnable))

    return measure_tokens(count_tokens, sizes.load_calls * sizes.load_tokens)


# -- (f) memory -------------------------------------------------------------------------------


def memory(sizes: Sizes) -> Result:
    """An idle stream is an un-iterated `astream()`; a call is a task streaming into a queue."""
    count = sizes.memory_objects
    runnable = _leaf(_str_tokens(1))

    return queued_call_memory(count, lambda: runnable.astream("go"), _pump(runnable))


MEASUREMENTS: dict[str, Measurement] = {
    "stream": stream,
    "tree": tree,
    "astream": astream,
    "astream/yielding": astream_yielding,
    "latency": latency,
    "load": load,
    "memory": memory,
}
