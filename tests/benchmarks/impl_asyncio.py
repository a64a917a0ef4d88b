"""Plain asyncio: the limit. No replay, no buffering beyond what each workload needs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

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
from tests.benchmarks.workloads import (
    tokens as _tokens,
)

# -- (a) one stream -------------------------------------------------------------------------


def stream(sizes: Sizes) -> Result:
    async def main() -> Result:
        started = now()
        count = 0
        async for _token in _tokens(sizes.stream_tokens):
            count += 1
        elapsed = now() - started
        check_count("tokens", count, sizes.stream_tokens)
        return {"wall_s": elapsed, "tokens": count}

    return asyncio.run(main())


# -- (b) the tree ---------------------------------------------------------------------------


async def _nested_tokens(
    level: int, sizes: Sizes, leaf_tokens: int, *, yielding: bool = False
) -> AsyncIterator[str]:
    """Every level re-yields every token of the level below (how nesting is usually written)."""
    if level == sizes.tree_depth:
        if yielding:
            for _ in range(leaf_tokens):
                await asyncio.sleep(0)
                yield TOKEN
        else:
            for _ in range(leaf_tokens):
                yield TOKEN
        return
    for _ in range(sizes.tree_fan_out):
        async for token in _nested_tokens(level + 1, sizes, leaf_tokens, yielding=yielding):
            yield token


async def _nested_messages(
    level: int, sizes: Sizes, leaf_tokens: int
) -> AsyncIterator[AsyncIterator[str]]:
    """Levels pass leaf generators up (one per message); tokens cross one generator only."""
    if level == sizes.tree_depth:
        yield _tokens(leaf_tokens)
        return
    for _ in range(sizes.tree_fan_out):
        async for message in _nested_messages(level + 1, sizes, leaf_tokens):
            yield message


def tree(sizes: Sizes) -> Result:
    async def main() -> Result:
        started = now()
        count = 0
        async for _token in _nested_tokens(0, sizes, sizes.tree_leaf_tokens):
            count += 1
        elapsed = now() - started
        check_count("tokens", count, sizes.tree_leaves * sizes.tree_leaf_tokens)
        return {"wall_s": elapsed, "tokens": count}

    return asyncio.run(main())


def tree_messages(sizes: Sizes) -> Result:
    async def main() -> Result:
        started = now()
        count = messages = 0
        async for message in _nested_messages(0, sizes, sizes.tree_leaf_tokens):
            messages += 1
            async for _token in message:
                count += 1
        elapsed = now() - started
        check_count("messages", messages, sizes.tree_leaves)
        check_count("tokens", count, sizes.tree_leaves * sizes.tree_leaf_tokens)
        return {"wall_s": elapsed, "tokens": count}

    return asyncio.run(main())


# -- (c) the tree as AIMessageChunks ----------------------------------------------------------


def _astream(sizes: Sizes, *, yielding: bool) -> Result:
    from langchain_core.messages import AIMessageChunk

    async def main() -> Result:
        started = now()
        chunks = chars = 0
        stream = _nested_tokens(0, sizes, sizes.astream_leaf_tokens, yielding=yielding)
        async for token in stream:
            chunk = AIMessageChunk(content=token, id="run")
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


# -- (d) latency: tasks and queues ------------------------------------------------------------

_END = None


async def _latency_leaf(queue: asyncio.Queue[str | None], sizes: Sizes) -> None:
    await asyncio.sleep(sizes.latency_first_delay)
    for index in range(sizes.latency_tokens):
        if index:
            await asyncio.sleep(sizes.latency_token_gap)
        queue.put_nowait(TOKEN)
    queue.put_nowait(_END)


def _start_latency_node(level: int, sizes: Sizes, tasks: set[asyncio.Task[None]]) -> list[object]:
    """Start every leaf below as a task at once; the tree of their queues, in order."""
    if level == sizes.latency_depth:
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        task = asyncio.create_task(_latency_leaf(queue, sizes))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return [queue]
    nodes: list[object] = []
    for _ in range(sizes.latency_fan_out):
        nodes.extend(_start_latency_node(level + 1, sizes, tasks))
    return nodes


def latency(sizes: Sizes) -> Result:
    async def main() -> Result:
        clock = LatencyClock()
        tasks: set[asyncio.Task[None]] = set()
        clock.start()
        queues = _start_latency_node(0, sizes, tasks)
        for queue in queues:
            assert isinstance(queue, asyncio.Queue)
            while (await queue.get()) is not _END:
                clock.token()
        result = clock.result(sizes.latency_leaves * sizes.latency_tokens)
        if tasks:
            await asyncio.wait(tasks)
        result["wall_s"] = now() - clock.started
        return result

    return asyncio.run(main())


# -- (e) load: a task and a queue per call ------------------------------------------------------


async def _load_call(queue: asyncio.Queue[str | None], tokens: int) -> None:
    for _ in range(tokens):
        await asyncio.sleep(0)
        queue.put_nowait(TOKEN)
    queue.put_nowait(_END)


def load(sizes: Sizes) -> Result:
    async def main() -> Result:
        started = now()
        queues: list[asyncio.Queue[str | None]] = []
        tasks: list[asyncio.Task[None]] = []
        for _ in range(sizes.load_calls):
            queue: asyncio.Queue[str | None] = asyncio.Queue()
            queues.append(queue)
            tasks.append(asyncio.create_task(_load_call(queue, sizes.load_tokens)))
        count = 0
        for queue in queues:
            while (await queue.get()) is not _END:
                count += 1
        await asyncio.gather(*tasks)
        elapsed = now() - started
        check_count("tokens", count, sizes.load_calls * sizes.load_tokens)
        return {"wall_s": elapsed, "tokens": count}

    return asyncio.run(main())


# -- (f) memory ---------------------------------------------------------------------------------


def memory(sizes: Sizes) -> Result:
    """An idle stream is an unstarted async generator; a call is a task and its queue."""
    count = sizes.memory_objects

    async def main() -> Result:
        with AllocationProbe() as probe:
            idle = [_tokens(sizes.load_tokens) for _ in range(count)]
            idle_bytes, _ = probe.measure()
        del idle
        with AllocationProbe() as probe:
            queues: list[asyncio.Queue[str | None]] = []
            tasks = []
            for _ in range(count):
                queue: asyncio.Queue[str | None] = asyncio.Queue()
                queues.append(queue)
                tasks.append(asyncio.create_task(_load_call(queue, 1)))
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
    "tree/messages": tree_messages,
    "astream": astream,
    "astream/yielding": astream_yielding,
    "latency": latency,
    "load": load,
    "memory": memory,
}
