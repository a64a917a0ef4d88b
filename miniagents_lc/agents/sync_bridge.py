"""Sync entry points for async agents: a private event loop in a worker thread.

Works from plain code and from inside a running event loop (a notebook cell), where it blocks
that loop while it runs. Loop-bound objects of the caller's loop (an `AsyncOpenAI` client, say)
must not be shared with the agents run this way.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, TypeVar

_T = TypeVar("_T")

_DONE = object()


class _Failure:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def run_sync(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run `coroutine` to completion on a private loop in a worker thread; returns its result
    or raises its exception."""
    outcome: list[Any] = []

    def work() -> None:
        try:
            outcome.append(asyncio.run(coroutine))
        except BaseException as error:
            outcome.append(_Failure(error))

    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(work,), name="miniagents-sync")
    thread.start()
    thread.join()
    (value,) = outcome
    if isinstance(value, _Failure):
        raise value.error
    return value  # type: ignore[no-any-return]


def iterate_sync(make_iterator: Callable[[], AsyncIterator[_T]]) -> Iterator[_T]:
    """Iterate an async iterator from sync code, item by item as they are produced. Closing
    the returned generator early cancels the async side and waits for it to stop."""
    items: queue.Queue[Any] = queue.Queue()
    started = threading.Event()
    loop_holder: list[asyncio.AbstractEventLoop] = []
    task_holder: list[asyncio.Task[None]] = []

    async def pump() -> None:
        try:
            async for item in make_iterator():
                items.put(item)
        except BaseException as error:
            items.put(_Failure(error))
        else:
            items.put(_DONE)

    async def main() -> None:
        loop_holder.append(asyncio.get_running_loop())
        task = asyncio.get_running_loop().create_task(pump())
        task_holder.append(task)
        started.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    context = contextvars.copy_context()
    thread = threading.Thread(
        target=context.run, args=(asyncio.run, main()), name="miniagents-sync-stream"
    )
    thread.start()
    started.wait()
    try:
        while True:
            item = items.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                if isinstance(item.error, asyncio.CancelledError):
                    return
                raise item.error
            yield item
    finally:
        loop, task = loop_holder[0], task_holder[0]
        if not task.done():
            loop.call_soon_threadsafe(task.cancel)
        thread.join()


__all__ = [
    "iterate_sync",
    "run_sync",
]
