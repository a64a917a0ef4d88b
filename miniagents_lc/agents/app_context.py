"""The application context, `MiniAgents`: where agents run, where resolved messages are
persisted, and which calls left open it finishes before it closes."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from miniagents_lc.agents.budget import Budget, BudgetState
from miniagents_lc.agents.instruments import Instrument, checked
from miniagents_lc.messages import Message, MessagePromise
from miniagents_lc.promising import PromisingContext

if TYPE_CHECKING:
    from miniagents_lc.agents.call import AgentCall

logger = logging.getLogger("miniagents_lc")

PersistHandler = Callable[[tuple[Message, ...]], Awaitable[None]]


class MiniAgents(PromisingContext):
    """The application context: where agents run, and where resolved messages are persisted.

    `async with MiniAgents():` around agent code (or `MiniAgents().run(main())` from sync code);
    calling an agent through its LangChain interface sets one up when none is active.

    `errors_as_messages=True` makes a failing agent's error an `ErrorMessage` in its place in
    the replies (its siblings go on) instead of an exception that ends them; an agent's own
    setting wins. `error_tracebacks_in_messages=True` adds the traceback to those messages.
    `instruments` see every call made in the context (see `miniagents_lc.agents.instruments`);
    `budget` limits what all of them together may spend (see `miniagents_lc.agents.budget`).
    """

    def __init__(
        self,
        *,
        schedule_immediately_by_default: bool = True,
        producer_capture_errors_by_default: bool = False,
        errors_as_messages: bool = False,
        error_tracebacks_in_messages: bool = False,
        instruments: Sequence[Instrument] = (),
        budget: Budget | None = None,
    ) -> None:
        super().__init__(
            schedule_immediately_by_default=schedule_immediately_by_default,
            producer_capture_errors_by_default=producer_capture_errors_by_default,
        )
        self.errors_as_messages = errors_as_messages
        self.error_tracebacks_in_messages = error_tracebacks_in_messages
        self.instruments: tuple[Instrument, ...] = checked(
            instruments, "MiniAgents(instruments=...)"
        )
        """The instruments every call of this context reports to."""
        self.budget_state: BudgetState | None = (
            BudgetState(budget, None) if budget is not None else None
        )
        """What the context's budget has counted (None without one)."""
        self._budgets = (self.budget_state,) if self.budget_state is not None else ()
        self._persist_handlers: list[PersistHandler] = []
        self._persisted_keys: set[str] = set()
        # Calls whose input is still open (an ordered set), each with the task that opened it.
        self._open_calls: dict[AgentCall, asyncio.Task[Any] | None] = {}

    async def afinalize(self) -> None:
        """Finish the calls nobody can send to any more, wait for every task, then
        deactivate (see `PromisingContext.afinalize`).

        A call left open (`initiate_call` without `finish()` or `reply_sequence()`) is
        finished once the task that opened it is done, or at once when the code finalizing
        the context opened it: its agent then sees its input end instead of waiting forever.
        """
        try:
            await self._afinish_abandoned_calls()
        except BaseException:
            await self.acancel_all()
            self.deactivate()
            raise
        await super().afinalize()

    async def _afinish_abandoned_calls(self) -> None:
        current = asyncio.current_task()
        while True:
            for call, opener in list(self._open_calls.items()):
                if opener is None or opener is current or opener.done():
                    call.finish()
            pending = [task for task in self.pending_tasks if task is not current]
            if not pending or not self._open_calls:
                return
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)

    def on_persist_messages(self, handler: PersistHandler) -> PersistHandler:
        """Register `async handler(messages)`. It is called once for every newly resolved
        message, with a tuple of that message preceded by any messages nested in it that were
        not persisted yet. Each message reaches the handlers once (deduplicated by `hash_key`);
        a failing handler is logged with its traceback and breaks nothing."""
        if not inspect.iscoroutinefunction(handler):
            raise TypeError(f"on_persist_messages needs an `async def` handler, got {handler!r}.")
        self._persist_handlers.append(handler)
        self.on_stream_completed = self._message_resolved
        return handler

    def _message_resolved(self, promise: object) -> None:
        if isinstance(promise, MessagePromise) and self.is_active:
            # Not `schedule_task`: persisting a resolved message is nobody's work to stop.
            self.schedule_unowned(self._apersist(promise), "MiniAgents-persist")

    async def _apersist(self, promise: MessagePromise) -> None:
        fresh: list[Message] = []
        for message in _messages_within(await promise):
            if message.hash_key not in self._persisted_keys:
                self._persisted_keys.add(message.hash_key)
                fresh.append(message)
        if not fresh:
            return
        batch = tuple(fresh)
        for handler in self._persist_handlers:
            try:
                await handler(batch)
            except Exception:
                logger.exception("The persist-messages handler %r failed", handler)


def _messages_within(message: Message) -> Iterator[Message]:
    """Messages nested in `message`'s fields (depth first), then `message` itself."""

    def walk(value: object) -> Iterator[Message]:
        if isinstance(value, Message):
            for field_value in (
                *value.__dict__.values(),
                *(value.__pydantic_extra__ or {}).values(),
            ):
                yield from walk(field_value)
            yield value
        elif isinstance(value, tuple | frozenset):
            for item in value:
                yield from walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                yield from walk(item)

    yield from walk(message)


__all__ = ["MiniAgents", "PersistHandler"]
