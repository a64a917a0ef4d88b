"""Plain asyncio: the limit. No replay, no buffering beyond what each workload needs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from benchmarks.workloads import (
    QUEUE_END,
    TOKEN,
    LatencyClock,
    Measurement,
    Result,
    Sizes,
    check_count,
    measure_chunks,
    measure_latency,
    measure_tokens,
    queued_call_memory,
    read_queued_calls,
)
from benchmarks.workloads import (
    tokens as _tokens,
)


async def _count(items: AsyncIterator[Any]) -> int:
    count = 0
    async for _item in items:
        count += 1
    return count


# -- (a) one stream -------------------------------------------------------------------------


def stream(sizes: Sizes) -> Result:
    return measure_tokens(lambda: _count(_tokens(sizes.stream_tokens)), sizes.stream_tokens)


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


async def _replayed(pieces: list[str], done: asyncio.Event) -> AsyncIterator[str]:
    """A reader of a list that a task fills: what it holds, then waits for more."""
    index = 0
    while True:
        if index < len(pieces):
            # A list iterator follows appends; restarted at `index` after each wait.
            rest = iter(pieces)
            rest.__setstate__(index)  # type: ignore[attr-defined]
            for piece in rest:
                yield piece
            index = len(pieces)
        if done.is_set():
            return
        await asyncio.sleep(0)


async def _drained(tokens: AsyncIterator[str], pieces: list[str], done: asyncio.Event) -> None:
    async for token in tokens:
        pieces.append(token)
    done.set()


def tree_replay(sizes: Sizes) -> Result:
    """Each leaf drained into a list by a task of its own, each list read through a generator:
    every token crosses two generators (the producer's and the reader's). The floor of any
    design whose messages are produced once in their own tasks and replayed to readers."""

    async def count_tokens() -> int:
        leaves: list[tuple[list[str], asyncio.Event]] = []
        tasks = []
        for _ in range(sizes.tree_leaves):
            pieces: list[str] = []
            done = asyncio.Event()
            tasks.append(
                asyncio.create_task(_drained(_tokens(sizes.tree_leaf_tokens), pieces, done))
            )
            leaves.append((pieces, done))
        count = 0
        for pieces, done in leaves:
            count += await _count(_replayed(pieces, done))
        await asyncio.gather(*tasks)
        return count

    return measure_tokens(count_tokens, sizes.tree_leaves * sizes.tree_leaf_tokens)


def tree(sizes: Sizes) -> Result:
    return measure_tokens(
        lambda: _count(_nested_tokens(0, sizes, sizes.tree_leaf_tokens)),
        sizes.tree_leaves * sizes.tree_leaf_tokens,
    )


def tree_messages(sizes: Sizes) -> Result:
    async def count_tokens() -> int:
        count = messages = 0
        async for message in _nested_messages(0, sizes, sizes.tree_leaf_tokens):
            messages += 1
            count += await _count(message)
        check_count("messages", messages, sizes.tree_leaves)
        return count

    return measure_tokens(count_tokens, sizes.tree_leaves * sizes.tree_leaf_tokens)


# -- (c) the tree as AIMessageChunks ----------------------------------------------------------


def _astream(sizes: Sizes, *, yielding: bool) -> Result:
    from langchain_core.messages import AIMessageChunk

    async def chunks() -> AsyncIterator[AIMessageChunk]:
        async for token in _nested_tokens(0, sizes, sizes.astream_leaf_tokens, yielding=yielding):
            yield AIMessageChunk(content=token, id="run")

    return measure_chunks(chunks, sizes)


def astream(sizes: Sizes) -> Result:
    return _astream(sizes, yielding=False)


def astream_yielding(sizes: Sizes) -> Result:
    return _astream(sizes, yielding=True)


# -- (d) latency: tasks and queues ------------------------------------------------------------


async def _latency_leaf(queue: asyncio.Queue[str | None], sizes: Sizes) -> None:
    await asyncio.sleep(sizes.latency_first_delay)
    for index in range(sizes.latency_tokens):
        if index:
            await asyncio.sleep(sizes.latency_token_gap)
        queue.put_nowait(TOKEN)
    queue.put_nowait(QUEUE_END)


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
    async def read(clock: LatencyClock) -> None:
        tasks: set[asyncio.Task[None]] = set()
        for queue in _start_latency_node(0, sizes, tasks):
            assert isinstance(queue, asyncio.Queue)
            while (await queue.get()) is not QUEUE_END:
                clock.token()
        if tasks:
            await asyncio.wait(tasks)

    return measure_latency(read, sizes)


# -- (e) load: a task and a queue per call ------------------------------------------------------


def _load_call(tokens: int) -> Callable[[asyncio.Queue[Any]], Coroutine[Any, Any, None]]:
    async def call(queue: asyncio.Queue[Any]) -> None:
        for _ in range(tokens):
            await asyncio.sleep(0)
            queue.put_nowait(TOKEN)
        queue.put_nowait(QUEUE_END)

    return call


def load(sizes: Sizes) -> Result:
    async def count_tokens() -> int:
        queues: list[asyncio.Queue[Any]] = [asyncio.Queue() for _ in range(sizes.load_calls)]
        return await read_queued_calls(queues, _load_call(sizes.load_tokens))

    return measure_tokens(count_tokens, sizes.load_calls * sizes.load_tokens)


# -- (f) memory ---------------------------------------------------------------------------------


def memory(sizes: Sizes) -> Result:
    """An idle stream is an unstarted async generator; a call is a task and its queue."""
    count = sizes.memory_objects

    return queued_call_memory(count, lambda: _tokens(sizes.load_tokens), _load_call(1))


MEASUREMENTS: dict[str, Measurement] = {
    "stream": stream,
    "tree": tree,
    "tree/messages": tree_messages,
    "tree/replay": tree_replay,
    "astream": astream,
    "astream/yielding": astream_yielding,
    "latency": latency,
    "load": load,
    "memory": memory,
}
