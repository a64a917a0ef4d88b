"""Plain LangChain: nested `RunnableGenerator`s, each inner node streaming its children's
`astream()` output through (the way a tree of streaming runnables is written without
miniagents_lc). Children are read one after another, as nested generators do."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from langchain_core.messages import AIMessageChunk
from langchain_core.runnables import Runnable, RunnableConfig, RunnableGenerator

from tests.benchmarks.workloads import (
    TOKEN,
    AllocationProbe,
    LatencyClock,
    Measurement,
    Result,
    Sizes,
    check_count,
    now,
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


def stream(sizes: Sizes) -> Result:
    async def main() -> Result:
        runnable = _leaf(_str_tokens(sizes.stream_tokens))
        started = now()
        count = 0
        async for _chunk in runnable.astream("go"):
            count += 1
        elapsed = now() - started
        check_count("tokens", count, sizes.stream_tokens)
        return {"wall_s": elapsed, "tokens": count}

    return asyncio.run(main())


# -- (b) the tree, str chunks ---------------------------------------------------------------


def tree(sizes: Sizes) -> Result:
    async def main() -> Result:
        started = now()
        top = _tree(0, sizes.tree_depth, sizes.tree_fan_out, _str_tokens(sizes.tree_leaf_tokens))
        count = 0
        async for _chunk in top.astream("go"):
            count += 1
        elapsed = now() - started
        check_count("tokens", count, sizes.tree_leaves * sizes.tree_leaf_tokens)
        return {"wall_s": elapsed, "tokens": count}

    return asyncio.run(main())


# -- (c) the tree, AIMessageChunks ------------------------------------------------------------


def _astream(sizes: Sizes, *, yielding: bool) -> Result:
    async def main() -> Result:
        started = now()
        body = _chunk_tokens(sizes.astream_leaf_tokens, yielding=yielding)
        top = _tree(0, sizes.tree_depth, sizes.tree_fan_out, body)
        chunks = chars = 0
        async for chunk in top.astream("go"):
            chunks += 1
            chars += len(chunk.content)
        elapsed = now() - started
        check_count("chars", chars, sizes.tree_leaves * sizes.astream_leaf_tokens * len(TOKEN))
        tokens = sizes.tree_leaves * sizes.astream_leaf_tokens
        return {"wall_s": elapsed, "tokens": tokens, "chunks": chunks}

    return asyncio.run(main())


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
    async def main() -> Result:
        top = _tree(0, sizes.latency_depth, sizes.latency_fan_out, _delayed_chunks(sizes))
        clock = LatencyClock()
        clock.start()
        async for chunk in top.astream("go"):
            if chunk.content:
                clock.token()
        result = clock.result(sizes.latency_leaves * sizes.latency_tokens)
        result["wall_s"] = now() - clock.started
        return result

    return asyncio.run(main())


# -- (e) load: a task per call, streaming into a queue ------------------------------------------


def _yielding_tokens(count: int) -> LeafBody:
    async def body() -> AsyncIterator[str]:
        for _ in range(count):
            await asyncio.sleep(0)
            yield TOKEN

    return body


_END = None


async def _pump(runnable: Runnable[Any, Any], queue: asyncio.Queue[Any]) -> None:
    async for chunk in runnable.astream("go"):
        queue.put_nowait(chunk)
    queue.put_nowait(_END)


def load(sizes: Sizes) -> Result:
    async def main() -> Result:
        runnable = _leaf(_yielding_tokens(sizes.load_tokens))
        started = now()
        queues: list[asyncio.Queue[Any]] = []
        tasks = []
        for _ in range(sizes.load_calls):
            queue: asyncio.Queue[Any] = asyncio.Queue()
            queues.append(queue)
            tasks.append(asyncio.create_task(_pump(runnable, queue)))
        count = 0
        for queue in queues:
            while (await queue.get()) is not _END:
                count += 1
        await asyncio.gather(*tasks)
        elapsed = now() - started
        check_count("tokens", count, sizes.load_calls * sizes.load_tokens)
        return {"wall_s": elapsed, "tokens": count}

    return asyncio.run(main())


# -- (f) memory -------------------------------------------------------------------------------


def memory(sizes: Sizes) -> Result:
    """An idle stream is an un-iterated `astream()`; a call is a task streaming into a queue."""
    count = sizes.memory_objects
    runnable = _leaf(_str_tokens(1))

    async def main() -> Result:
        with AllocationProbe() as probe:
            idle = [runnable.astream("go") for _ in range(count)]
            idle_bytes, _ = probe.measure()
        del idle
        with AllocationProbe() as probe:
            queues: list[asyncio.Queue[Any]] = []
            tasks = []
            for _ in range(count):
                queue: asyncio.Queue[Any] = asyncio.Queue()
                queues.append(queue)
                tasks.append(asyncio.create_task(_pump(runnable, queue)))
            for queue in queues:
                while (await queue.get()) is not _END:
                    pass
            await asyncio.gather(*tasks)
            del tasks
            retained, peak = probe.measure()
        return {
            "idle_stream_bytes": idle_bytes / count,
            "call_peak_bytes": peak / count,
            "call_retained_bytes": retained / count,
        }

    return asyncio.run(main())


MEASUREMENTS: dict[str, Measurement] = {
    "stream": stream,
    "tree": tree,
    "astream": astream,
    "astream/yielding": astream_yielding,
    "latency": latency,
    "load": load,
    "memory": memory,
}
