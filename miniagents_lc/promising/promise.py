"""`Promise`: a value computed once, in the background or on first await, then cached."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Generator
from typing import Any, Generic, TypeVar

from miniagents_lc.promising.context import PromisingContext
from miniagents_lc.promising.sentinels import DEFAULT, Defaultable

T = TypeVar("T")

_UNSET: Any = object()


class Promise(Generic[T]):
    """A result produced once by `fulfiller(promise)` and cached, exception included.

    Every `await` returns the same object or raises the same error. With
    `schedule_immediately` the fulfiller starts at the next task switch; otherwise on the first
    await. Cancelling one awaiter does not cancel the fulfiller that others wait for.
    """

    def __init__(
        self,
        *,
        fulfiller: Callable[[Promise[T]], Awaitable[T]] | None = None,
        prefill_result: T = _UNSET,
        schedule_immediately: Defaultable = DEFAULT,
    ) -> None:
        self._result: T = prefill_result
        self._fulfiller = fulfiller
        self._task: asyncio.Task[T] | None = None
        if prefill_result is not _UNSET:
            if fulfiller is not None:
                raise ValueError("Give a Promise either `fulfiller` or `prefill_result`.")
            return
        self._context = PromisingContext.get_current()
        if self._context.resolve_schedule_immediately(schedule_immediately):
            self._start()

    @property
    def done(self) -> bool:
        """Whether the result (or the error) is known."""
        return self._result is not _UNSET or (self._task is not None and self._task.done())

    def _start(self) -> asyncio.Task[T]:
        if self._task is None:
            # Awaited by whoever wants it, so owned by no agent call (see `schedule_unowned`).
            self._task = self._context.schedule_unowned(self._fulfil(), "Promise-fulfiller")
        return self._task

    async def _fulfil(self) -> T:
        fulfiller = self._fulfiller
        if not callable(fulfiller):
            raise TypeError(
                f"A Promise's fulfiller must be an async function taking the promise, got "
                f"{type(fulfiller).__name__}."
            )
        awaitable = fulfiller(self)
        if not inspect.isawaitable(awaitable):
            raise TypeError(
                f"A Promise's fulfiller must be async (return an awaitable), got "
                f"{type(awaitable).__name__} from {fulfiller!r}."
            )
        return await awaitable

    def __await__(self) -> Generator[Any, None, T]:
        return self._await().__await__()

    async def acollect(self) -> T:
        """The result (the same as `await promise`)."""
        return await self._await()

    async def _await(self) -> T:
        if self._result is not _UNSET:
            return self._result
        task = self._start()
        if task.done():
            return task.result()
        return await asyncio.shield(task)


__all__ = [
    "Promise",
]
