"""`PromisingContext`: the scope that owns every background task of the engine."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import Any, Self, TypeVar

from miniagents_lc.promising.errors import NoActiveContextError
from miniagents_lc.promising.ownership import current_owner
from miniagents_lc.promising.sentinels import DEFAULT, Defaultable

_T = TypeVar("_T")

logger = logging.getLogger("miniagents_lc")

_current_context: contextvars.ContextVar[PromisingContext | None] = contextvars.ContextVar(
    "miniagents_lc_current_context", default=None
)

# The tasks of one unit of work (a LangChain run, say) inside a longer-lived context: every task
# scheduled while a scope is set joins it, and so do the tasks those schedule, because tasks copy
# their creator's contextvars.
_current_task_scope: contextvars.ContextVar[set[asyncio.Task[Any]] | None] = contextvars.ContextVar(
    "miniagents_lc_task_scope", default=None
)

_NO_CONTEXT_HELP = (
    "No PromisingContext is active. Wrap the code in `async with MiniAgents():` "
    "(or `MiniAgents().run(main())` from sync code), or call the agent through its "
    "LangChain Runnable interface (`await agent.ainvoke(...)`, `agent.astream(...)`), "
    "which sets one up for the run."
)


class PromisingContext:
    """The scope in which promises are created and their background work runs.

    It decides the defaults for `schedule_immediately` and `capture_errors`, keeps every task it
    schedules, and on finalization waits for all of them, so no task outlives it.
    """

    def __init__(
        self,
        *,
        schedule_immediately_by_default: bool = True,
        producer_capture_errors_by_default: bool = False,
    ) -> None:
        self.schedule_immediately_by_default = schedule_immediately_by_default
        self.producer_capture_errors_by_default = producer_capture_errors_by_default
        self._tasks: set[asyncio.Task[Any]] = set()
        # Bound once: a bound method made per task would be held by each running task.
        self._on_task_done = self._task_done
        self._token: contextvars.Token[PromisingContext | None] | None = None
        self._previous: PromisingContext | None = None
        self._active = False
        # Called with every StreamedPromise whose production has ended (set by a subclass that
        # listens: `MiniAgents` persists messages); None keeps the token path free of any call
        # when nobody listens.
        self.on_stream_completed: Callable[[Any], None] | None = None

    # -- lookup ---------------------------------------------------------------------------

    @classmethod
    def get_current(cls) -> Self:
        """The innermost active context; raises `NoActiveContextError` naming the fix if none."""
        context = _current_context.get()
        if context is None:
            raise NoActiveContextError(_NO_CONTEXT_HELP)
        if not isinstance(context, cls):
            raise NoActiveContextError(
                f"The active context is a {type(context).__name__}, not a {cls.__name__}. "
                f"Open one with `async with {cls.__name__}():`."
            )
        return context

    @classmethod
    def get_current_or_none(cls) -> PromisingContext | None:
        """The innermost active context, or None."""
        return _current_context.get()

    def resolve_schedule_immediately(self, value: Defaultable) -> bool:
        """`value` itself, or this context's default when `value` is `DEFAULT`."""
        return self.schedule_immediately_by_default if value is DEFAULT else bool(value)

    def resolve_capture_errors(self, value: Defaultable) -> bool:
        """`value` itself, or this context's default when `value` is `DEFAULT`."""
        return self.producer_capture_errors_by_default if value is DEFAULT else bool(value)

    # -- lifetime -------------------------------------------------------------------------

    @property
    def is_active(self) -> bool:
        """Whether `activate()` was called and finalization has not finished."""
        return self._active

    def activate(self) -> Self:
        """Make this the current context (for servers and code that can't use `async with`)."""
        if self._active:
            raise RuntimeError(f"{type(self).__name__} is already active; activate it only once.")
        self._previous = _current_context.get()
        self._token = _current_context.set(self)
        self._active = True
        return self

    async def afinalize(self) -> None:
        """Wait for every task this context scheduled (including ones scheduled meanwhile),
        then deactivate. If the wait is cancelled, the remaining tasks are cancelled too."""
        try:
            await self.aflush_tasks()
        except BaseException:
            await self.acancel_all()
            raise
        finally:
            self.deactivate()

    async def __aenter__(self) -> Self:
        return self.activate()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            # The body failed: nobody is left to consume what the tasks produce, and waiting
            # for them could wait forever.
            try:
                await self.acancel_all()
            finally:
                self.deactivate()
            return
        await self.afinalize()

    def run(self, awaitable: Awaitable[_T]) -> _T:
        """Run `awaitable` inside this context on a new event loop (from sync code)."""

        async def _main() -> _T:
            async with self:
                return await awaitable

        return asyncio.run(_main())

    def deactivate(self) -> None:
        """Stop being the current context at once, without waiting for anything (for
        subclasses that finalize in their own way; `afinalize` and `async with` call it)."""
        if not self._active:
            return
        self._active = False
        token, self._token = self._token, None
        if token is not None:
            try:
                _current_context.reset(token)
            except ValueError:
                # Finalized from another asyncio Context than the one that activated it.
                _current_context.set(self._previous)
        self._previous = None

    # -- tasks ----------------------------------------------------------------------------

    def schedule_task(
        self, awaitable: Coroutine[Any, Any, _T] | Awaitable[_T], *, name: str | None = None
    ) -> asyncio.Task[_T]:
        """Run `awaitable` as a task owned by this context; it starts at the next task switch."""
        task = self.schedule_unowned(awaitable, name)
        owner = current_owner()
        if owner is not None:
            owner.add(task)
        return task

    def schedule_unowned(
        self, awaitable: Coroutine[Any, Any, _T] | Awaitable[_T], name: str | None
    ) -> asyncio.Task[_T]:
        """`schedule_task` without giving the task to the current owner: for work whose owner
        the caller decides, or that belongs to nobody (shared by every awaiter)."""
        if not self._active:
            raise NoActiveContextError(
                f"This {type(self).__name__} is not active (finalized, or never activated); "
                "schedule work inside `async with` of a context."
            )
        coroutine = awaitable if asyncio.iscoroutine(awaitable) else _await(awaitable)
        task: asyncio.Task[_T] = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._on_task_done)
        scope = _current_task_scope.get()
        if scope is not None:
            scope.add(task)
            task.add_done_callback(scope.discard)
        return task

    def forget_task(self, task: asyncio.Task[Any]) -> None:
        """Forget `task` now: for a task of this context to call as its very last step, once
        nothing in it can fail any more. It spares the event loop the done-callback that would
        forget the task otherwise (a handle and a loop step per task, a tenth of a small
        call). A task that may still fail must not call it: its error would go unlogged."""
        self._tasks.discard(task)
        task.remove_done_callback(self._on_task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error(
                "A task scheduled in %s failed: %r",
                type(self).__name__,
                error,
                exc_info=error,
            )

    @property
    def pending_tasks(self) -> frozenset[asyncio.Task[Any]]:
        """The tasks of this context that have not finished yet."""
        return frozenset(self._tasks)

    async def aflush_tasks(self) -> None:
        """Wait until every task scheduled so far, and every task those schedule, is done."""
        current = asyncio.current_task()
        while pending := [task for task in self._tasks if task is not current]:
            await asyncio.wait(pending)

    async def acancel_all(self) -> None:
        """Cancel every pending task of this context and wait until they are all done."""
        await cancel_and_wait(self._tasks)


async def _await(awaitable: Awaitable[_T]) -> _T:
    return await awaitable


def open_task_scope() -> set[asyncio.Task[Any]]:
    """Start collecting, in the current asyncio Context, every task scheduled from here on
    (and by those tasks); returns the live set, so the work can be cancelled as a unit."""
    scope: set[asyncio.Task[Any]] = set()
    _current_task_scope.set(scope)
    return scope


async def cancel_and_wait(tasks: set[asyncio.Task[Any]]) -> None:
    """Cancel every task in the live set `tasks` (but the current one), including tasks added
    while the others stop, and return once all of them are done."""
    current = asyncio.current_task()
    while pending := [task for task in tasks if task is not current and not task.done()]:
        for task in pending:
            task.cancel()
        await asyncio.wait(pending)


__all__ = [
    "PromisingContext",
    "cancel_and_wait",
    "open_task_scope",
]
