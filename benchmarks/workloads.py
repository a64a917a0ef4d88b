"""The workloads every implementation runs, their sizes, and the helpers the measurements share.

Each workload is described here once; `impl_*.py` implement it for one library each. A
measurement returns a flat dict of numbers (seconds, counts, bytes); the runner adds the
subprocess's peak RSS and picks the best of its repeats.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import resource
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

TOKEN = "tok "
"""Every token of every workload: one shared str, so no workload measures string allocation."""

Result = dict[str, float]
Measurement = Callable[["Sizes"], Result]


@dataclass(frozen=True)
class Sizes:
    """How big each workload is (`FULL` by default, `QUICK` for a smoke run)."""

    # (a) one stream
    stream_tokens: int
    # (b) a tree of sequences read token by token
    tree_depth: int
    tree_fan_out: int
    tree_leaf_tokens: int
    # (c) the same tree through `.astream()` as AIMessageChunks
    astream_leaf_tokens: int
    # (d) latency: leaves wait, then emit tokens with gaps
    latency_depth: int
    latency_fan_out: int
    latency_first_delay: float
    latency_tokens: int
    latency_token_gap: float
    # (e) load: many concurrent calls, one consumer
    load_calls: int
    load_tokens: int
    # (f) memory: objects held alive at once
    memory_objects: int
    memory_buffer_tokens: int

    @property
    def tree_leaves(self) -> int:
        return int(self.tree_fan_out**self.tree_depth)

    @property
    def latency_leaves(self) -> int:
        return int(self.latency_fan_out**self.latency_depth)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


FULL = Sizes(
    stream_tokens=200_000,
    tree_depth=3,
    tree_fan_out=4,
    tree_leaf_tokens=20_000,
    astream_leaf_tokens=3_000,
    latency_depth=2,
    latency_fan_out=4,
    latency_first_delay=0.2,
    latency_tokens=20,
    latency_token_gap=0.01,
    load_calls=10_000,
    load_tokens=100,
    memory_objects=10_000,
    memory_buffer_tokens=200_000,
)

QUICK = Sizes(
    stream_tokens=20_000,
    tree_depth=3,
    tree_fan_out=4,
    tree_leaf_tokens=500,
    astream_leaf_tokens=100,
    latency_depth=2,
    latency_fan_out=4,
    latency_first_delay=0.05,
    latency_tokens=5,
    latency_token_gap=0.01,
    load_calls=1_000,
    load_tokens=20,
    memory_objects=1_000,
    memory_buffer_tokens=20_000,
)

TOY = Sizes(
    stream_tokens=50,
    tree_depth=2,
    tree_fan_out=2,
    tree_leaf_tokens=5,
    astream_leaf_tokens=5,
    latency_depth=1,
    latency_fan_out=2,
    latency_first_delay=0.0,
    latency_tokens=3,
    latency_token_gap=0.0,
    load_calls=10,
    load_tokens=3,
    memory_objects=10,
    memory_buffer_tokens=50,
)
"""Sizes for the test suite's smoke run: each workload runs and checks its counts, in no time."""

SIZES = {"full": FULL, "quick": QUICK, "toy": TOY}


@dataclass(frozen=True)
class Workload:
    """One workload: its key, the letter of the brief, and what its numbers mean."""

    key: str
    letter: str
    title: str
    description: str


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        "stream",
        "a",
        "one stream",
        "one MessagePromise (or its equivalent) of `stream_tokens` tokens, read by one consumer",
    ),
    Workload(
        "tree",
        "b",
        "tree, token reads",
        "depth `tree_depth`, fan-out `tree_fan_out`, `tree_leaf_tokens` tokens per leaf, "
        "read through the top sequence, every token",
    ),
    Workload(
        "astream",
        "c",
        "tree via .astream()",
        "the same tree with `astream_leaf_tokens` per leaf, consumed as AIMessageChunks",
    ),
    Workload(
        "latency",
        "d",
        "latency",
        "depth `latency_depth`, fan-out `latency_fan_out`; each leaf waits "
        "`latency_first_delay` s, then emits `latency_tokens` tokens `latency_token_gap` s apart",
    ),
    Workload(
        "load",
        "e",
        "load",
        "`load_calls` concurrent calls, each streaming `load_tokens` tokens with "
        "`await asyncio.sleep(0)` before each, all read by one consumer",
    ),
    Workload(
        "memory",
        "f",
        "memory",
        "`memory_objects` idle stream objects / completed calls held at once (tracemalloc), "
        "and the replay buffer cost per token",
    ),
    Workload(
        "events",
        "g",
        "tree via the v3 streaming protocol",
        'the tree of (c) through `astream_events(version="v3")`: its `run.messages` and its raw '
        "events, beside `astream()` and LangGraph's v3 stream over nested subgraphs of the same "
        "shape; the first-event latency on the tree of (d)",
    ),
)
WORKLOADS_BY_KEY = {workload.key: workload for workload in WORKLOADS}


# -- helpers ------------------------------------------------------------------------------


def now() -> float:
    return time.perf_counter()


def peak_rss_mb() -> float:
    """The peak resident set of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def check_count(what: str, got: int, expected: int) -> None:
    """Fail the measurement loudly when an implementation did not do the whole workload."""
    if got != expected:
        raise AssertionError(f"{what}: got {got}, expected {expected}")


class LatencyClock:
    """Time to the first token and to the last one, from `start()`."""

    def __init__(self) -> None:
        self.started = 0.0
        self.first = 0.0
        self.last = 0.0
        self.tokens = 0

    def start(self) -> None:
        self.started = now()

    def token(self, count: int = 1) -> None:
        if count <= 0:
            return
        stamp = now()
        if not self.tokens:
            self.first = stamp
        self.last = stamp
        self.tokens += count

    def result(self, expected_tokens: int) -> Result:
        check_count("latency tokens", self.tokens, expected_tokens)
        return {
            "first_token_s": self.first - self.started,
            "total_s": self.last - self.started,
        }


class AllocationProbe:
    """Python allocations (tracemalloc) from entering the block: `measure()` gives the bytes
    still allocated now and the peak since entering, after a full collection."""

    def __enter__(self) -> AllocationProbe:
        gc.collect()
        tracemalloc.start()
        self._before = tracemalloc.get_traced_memory()[0]
        return self

    def measure(self) -> tuple[int, int]:
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
        return current - self._before, peak - self._before

    def __exit__(self, *_exc: object) -> None:
        tracemalloc.stop()


async def tokens(count: int) -> AsyncIterator[str]:
    """`count` copies of TOKEN, produced as fast as the consumer takes them."""
    for _ in range(count):
        yield TOKEN


# -- measurements: each runs its own event loop and checks the work was all done -------------


def measure_tokens(count_tokens: Callable[[], Awaitable[int]], expected: int) -> Result:
    """Time `count_tokens()` on a new event loop; it returns the tokens it read, which must be
    `expected`."""

    async def main() -> Result:
        started = now()
        count = await count_tokens()
        elapsed = now() - started
        check_count("tokens", count, expected)
        return {"wall_s": elapsed, "tokens": count}

    return asyncio.run(main())


def measure_chunks(
    chunks: Callable[[], AsyncIterator[Any]],
    sizes: Sizes,
    *,
    separator_chars: int = 0,
) -> Result:
    """Time reading every chunk of `chunks()` (objects with a str `content`) for workload (c):
    all the tree's text must arrive, plus `separator_chars` between messages."""

    async def main() -> Result:
        started = now()
        count = chars = 0
        async for chunk in chunks():
            count += 1
            chars += len(chunk.content)
        elapsed = now() - started
        tokens = sizes.tree_leaves * sizes.astream_leaf_tokens
        check_count("chars", chars, tokens * len(TOKEN) + separator_chars)
        return {"wall_s": elapsed, "tokens": tokens, "chunks": count}

    return asyncio.run(main())


def measure_latency(read: Callable[[LatencyClock], Awaitable[None]], sizes: Sizes) -> Result:
    """Workload (d) on a new event loop: `read(clock)` ticks the clock for every token and
    returns once all work is done."""

    async def main() -> Result:
        clock = LatencyClock()
        clock.start()
        await read(clock)
        result = clock.result(sizes.latency_leaves * sizes.latency_tokens)
        result["wall_s"] = now() - clock.started
        return result

    return asyncio.run(main())


QUEUE_END = None
"""What a queued call puts in its queue after its last item."""


async def read_queued_calls(
    queues: list[asyncio.Queue[Any]],
    call: Callable[[asyncio.Queue[Any]], Coroutine[Any, Any, None]],
) -> int:
    """Start a task per queue at once, each running `call(queue)` (which ends the queue with
    QUEUE_END); read the queues one after another; the number of items read."""
    tasks = [asyncio.create_task(call(queue)) for queue in queues]
    count = 0
    for queue in queues:
        while (await queue.get()) is not QUEUE_END:
            count += 1
    await asyncio.gather(*tasks)
    return count


def bytes_per_object(count: int, make: Callable[[], Any]) -> float:
    """The Python allocations each of `count` objects made by `make()` holds, all alive."""
    with AllocationProbe() as probe:
        objects = [make() for _ in range(count)]
        retained, _ = probe.measure()
    del objects
    return retained / count


async def bytes_per_call(
    count: int, run_calls: Callable[[int], Awaitable[object]]
) -> tuple[float, float]:
    """Retained and peak allocations per call of `run_calls(count)`, which makes `count` calls,
    reads them all and returns what it keeps of them (kept alive while measuring)."""
    with AllocationProbe() as probe:
        kept = await run_calls(count)
        await asyncio.sleep(0)
        retained, peak = probe.measure()
    del kept
    return retained / count, peak / count


def queued_call_memory(
    count: int,
    make_idle: Callable[[], Any],
    call: Callable[[asyncio.Queue[Any]], Coroutine[Any, Any, None]],
) -> Result:
    """Workload (f) for a library without replay: an idle stream is `make_idle()`, a call is a
    task running `call(queue)` into a queue of its own (the queues are what is kept)."""

    async def calls(count: int) -> list[asyncio.Queue[Any]]:
        queues: list[asyncio.Queue[Any]] = [asyncio.Queue() for _ in range(count)]
        await read_queued_calls(queues, call)
        return queues

    async def main() -> Result:
        idle = bytes_per_object(count, make_idle)
        retained, peak = await bytes_per_call(count, calls)
        return {
            "idle_stream_bytes": idle,
            "call_peak_bytes": peak,
            "call_retained_bytes": retained,
        }

    return asyncio.run(main())
