"""What one step of `async for` costs, side by side: `python -m benchmarks.iteration_floor`.

Workload (b) reads every token with `async for`, and compares with nested async generators,
where a token crosses one generator per level (four at depth 3). A replayable message crosses
two: the leaf's own generator, stepped by the message's producer, and the reader's. So (b)'s
ratio is bound by what those two steps cost against four, unless a reader can hand out a
buffered item more cheaply than an async generator step does.

This measures the ways an object can implement `__anext__` for items that are already
buffered (a list), each read with `async for` to the end, best of N:

- an async generator over the list (what `MessagePromise` replays with);
- a class whose `__anext__` is an `async def` (a coroutine per item);
- a class whose `__anext__` returns an object with `__await__` (the same object per item);
- a class whose `__anext__` returns an `asyncio.Future` that is done already;
- and, as the reference, a plain `for` over the list.

It then reads the list through chains of 1, 2 and 4 nested async generators: 4 against 2 is
the ceiling of (b)'s ratio for a design whose tokens cross two steps and nothing else (no
append, no check, no bookkeeping).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import AsyncIterator, Callable, Generator
from functools import partial
from typing import Any

ITEMS = 200_000


async def _generator(items: list[str]) -> AsyncIterator[str]:
    for item in items:
        yield item


def chain(items: list[str], depth: int) -> AsyncIterator[str]:
    """`items` through `depth` nested async generators, each re-yielding the one below."""
    return _generator(items) if depth == 1 else _rechained(items, depth)


async def _rechained(items: list[str], depth: int) -> AsyncIterator[str]:
    async for item in chain(items, depth - 1):
        yield item


class _CoroutineNext:
    """`__anext__` as an `async def`: a coroutine object per item."""

    def __init__(self, items: list[str]) -> None:
        self._items = items
        self._index = 0

    def __aiter__(self) -> _CoroutineNext:
        return self

    async def __anext__(self) -> str:
        index = self._index
        if index >= len(self._items):
            raise StopAsyncIteration
        self._index = index + 1
        return self._items[index]


class _Ready:
    """An awaitable that is done at once with `value` (one object, reused per item)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: Any = None

    def __await__(self) -> Generator[Any, None, Any]:
        return self  # type: ignore[return-value]  # an iterator that returns at once

    def __iter__(self) -> _Ready:
        return self

    def __next__(self) -> None:
        raise StopIteration(self.value)


class _AwaitableNext:
    """`__anext__` returning the same ready awaitable each time."""

    def __init__(self, items: list[str]) -> None:
        self._items = items
        self._index = 0
        self._ready = _Ready()

    def __aiter__(self) -> _AwaitableNext:
        return self

    def __anext__(self) -> _Ready:
        index = self._index
        if index >= len(self._items):
            raise StopAsyncIteration
        self._index = index + 1
        self._ready.value = self._items[index]
        return self._ready


class _FutureNext:
    """`__anext__` returning a future that is done already (asyncio's C future)."""

    def __init__(self, items: list[str]) -> None:
        self._items = items
        self._index = 0
        self._loop = asyncio.get_running_loop()

    def __aiter__(self) -> _FutureNext:
        return self

    def __anext__(self) -> asyncio.Future[str]:
        index = self._index
        if index >= len(self._items):
            raise StopAsyncIteration
        self._index = index + 1
        future: asyncio.Future[str] = self._loop.create_future()
        future.set_result(self._items[index])
        return future


async def _read_async(make: Callable[[list[str]], Any], items: list[str]) -> float:
    count = 0
    started = time.perf_counter()
    async for _item in make(items):
        count += 1
    elapsed = time.perf_counter() - started
    if count != len(items):
        raise RuntimeError(f"read {count} items of {len(items)}")
    return elapsed


async def _read_sync(items: list[str]) -> float:
    count = 0
    started = time.perf_counter()
    for _item in items:
        count += 1
    elapsed = time.perf_counter() - started
    if count != len(items):
        raise RuntimeError(f"read {count} items of {len(items)}")
    return elapsed


WAYS: tuple[tuple[str, Callable[[list[str]], Any]], ...] = (
    ("async generator (MessagePromise's replay)", _generator),
    ("__anext__ as async def (a coroutine per item)", _CoroutineNext),
    ("__anext__ returning one reused awaitable", _AwaitableNext),
    ("__anext__ returning a done asyncio.Future", _FutureNext),
)


async def measure(items: int, runs: int) -> dict[str, float]:
    """Nanoseconds per item of each way (and of a plain `for`), best of `runs`."""
    data = ["token"] * items
    figures: dict[str, float] = {}
    for name, make in WAYS:
        best = min([await _read_async(make, data) for _ in range(runs)])
        figures[name] = best / items * 1e9
    best = min([await _read_sync(data) for _ in range(runs)])
    figures["plain for over the list (reference)"] = best / items * 1e9
    for depth in CHAIN_DEPTHS:
        best = min([await _read_async(partial(chain, depth=depth), data) for _ in range(runs)])
        figures[chain_name(depth)] = best / items * 1e9
    return figures


CHAIN_DEPTHS = (1, 2, 4)


def chain_name(depth: int) -> str:
    return f"{depth} nested async generator{'s' if depth > 1 else ''}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=ITEMS, help="items per read")
    parser.add_argument("--runs", type=int, default=5, help="reads per way (best of)")
    args = parser.parse_args(argv)
    figures = asyncio.run(measure(args.items, args.runs))
    width = max(len(name) for name in figures)
    print(f"{'way to hand out a buffered item':{width}}  ns/item")
    for name, nanoseconds in figures.items():
        print(f"{name:{width}}  {nanoseconds:7.1f}")
    ways = {name: figures[name] for name, _make in WAYS}
    cheapest = min(ways, key=ways.__getitem__)
    ceiling = figures[chain_name(4)] / figures[chain_name(2)]
    print(
        f"\nCheapest way to hand out a buffered item: {cheapest}.\n"
        f"Four nested generators against two: {ceiling:.2f}x. That is the most (b) can reach "
        "for a design whose every token crosses two generators (the producer's and the "
        "reader's) with nothing else per token; each ns of append, check or bookkeeping takes "
        "it lower."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
