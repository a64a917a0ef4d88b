"""Agents: `MiniAgents` (the application context), `@miniagent`, calls and their context."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Self, overload

from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import var_child_runnable_config
from pydantic import BaseModel

from miniagents_lc.agents.agent_tool import AgentTool, agent_as_tool
from miniagents_lc.agents.call_observer import call_observer
from miniagents_lc.agents.runnable import AgentRunnable
from miniagents_lc.agents.tracing import start_agent_trace
from miniagents_lc.messages import (
    Message,
    MessagePromise,
    MessageSequence,
    MessageSequencePromise,
    MessageType,
    fed_message_sequence,
)
from miniagents_lc.promising import (
    DEFAULT,
    AppendClosedError,
    AppendProducer,
    Defaultable,
    PromisingContext,
)
from miniagents_lc.promising.ownership import TaskOwner, ensure_owner

logger = logging.getLogger("miniagents_lc")

PersistHandler = Callable[[tuple[Message, ...]], Awaitable[None]]


class MiniAgents(PromisingContext):
    """The application context: where agents run, and where resolved messages are persisted.

    `async with MiniAgents():` around agent code (or `MiniAgents().run(main())` from sync code);
    calling an agent through its LangChain interface sets one up when none is active.
    """

    def __init__(
        self,
        *,
        schedule_immediately_by_default: bool = True,
        producer_capture_errors_by_default: bool = False,
    ) -> None:
        super().__init__(
            schedule_immediately_by_default=schedule_immediately_by_default,
            producer_capture_errors_by_default=producer_capture_errors_by_default,
        )
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
            await self._acancel_all()
            self._deactivate()
            raise
        await super().afinalize()

    async def _afinish_abandoned_calls(self) -> None:
        current = asyncio.current_task()
        while True:
            for call, opener in list(self._open_calls.items()):
                if opener is None or opener is current or opener.done():
                    call.finish()
            pending = [task for task in self._tasks if task is not current]
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
        self._on_stream_completed = self._message_resolved
        return handler

    def _message_resolved(self, promise: object) -> None:
        if isinstance(promise, MessagePromise) and self.is_active:
            # Not `schedule_task`: persisting a resolved message is nobody's work to stop.
            self._schedule(self._apersist(promise), "MiniAgents-persist")

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


AgentFunction = Callable[..., Awaitable[None]]
"""`async def agent(ctx: InteractionContext, **kwargs) -> None`."""


class InteractionContext:
    """What an agent function gets: its input, itself, and the way to reply.

    `message_promises` is the input, streamed; `reply(...)` appends anything of `MessageType`
    to the reply sequence, in order; `finish_early()` ends the reply sequence at once.
    `config` is the LangChain `RunnableConfig` of the run this call belongs to (None outside
    LangChain): pass it to models you call so they show up in traces.
    """

    __slots__ = ("_call", "config", "this_agent")

    def __init__(self, this_agent: MiniAgent, call: AgentCall) -> None:
        self.this_agent = this_agent
        self._call = call
        self.config: RunnableConfig | None = None

    @property
    def message_promises(self) -> MessageSequencePromise:
        """The input messages, flattened and streamed as the caller sends them."""
        return self._call._input_promise()

    def reply(self, messages: MessageType) -> None:
        """Append to the reply sequence; the caller reads replies in the order given."""
        try:
            self._call._reply.append_producer.append(messages)
        except AppendClosedError as error:
            raise AppendClosedError(
                f"Agent {self.this_agent.alias!r} replied after its reply sequence was closed "
                "(the agent function had returned, or finish_early() was called). Reply "
                "before returning; to keep working in the background, reply with a promise."
            ) from error

    def finish_early(self) -> None:
        """End the reply sequence now; the function may go on, but nothing more reaches the
        caller."""
        self._call._reply.append_producer.close()


class AgentCall:
    """One call of an agent: send it messages, then read its replies.

    The agent function starts at the next task switch (or, when not scheduled immediately,
    when its replies are first consumed) and reads the messages as they are sent.
    """

    __slots__ = (
        "_agent",
        "_context",
        "_input",
        "_input_finished",
        "_input_sequence",
        "_kwargs",
        "_owner",
        "_reply",
        "_run_config",
        "_started",
    )

    def __init__(
        self,
        agent: MiniAgent,
        kwargs: dict[str, Any],
        schedule_immediately: Defaultable,
        run_config: RunnableConfig | None = None,
    ) -> None:
        context = MiniAgents.get_current()
        self._agent = agent
        self._kwargs = kwargs
        self._run_config = run_config
        self._started = False
        # The agent function and the work it starts for itself (its messages, say): they stop
        # together once the replies' last readers are cancelled and nobody else reads them.
        self._owner = TaskOwner("Agent", agent.alias)
        # Input is only collected here; it is flattened once the agent reads it, and most
        # agents of a large fan-out never build that machinery at all.
        self._input: AppendProducer[MessageType] | None = None
        self._input_finished = False
        self._input_sequence: MessageSequencePromise | None = None
        # The replies name the agent on every error that passes through them, start it on first
        # demand (unless it starts now), and stop with the call.
        self._reply = fed_message_sequence(
            owner=self._owner,
            on_error=self._note_passing_error,
            on_demand=(
                None
                if context.resolve_schedule_immediately(schedule_immediately)
                else self._ensure_started
            ),
            schedule_immediately=schedule_immediately,
            capture_errors=True,
        )
        self._reply.append_producer.open()
        self._context = context
        context._open_calls[self] = _current_task_or_none()
        if context.resolve_schedule_immediately(schedule_immediately):
            self._ensure_started()
        # -- protocol-stream hook: a run streaming protocol events learns of this call --
        observer = call_observer.get()
        if observer is not None:
            observer(self)
        # -- end of hook --

    @property
    def agent(self) -> MiniAgent:
        """The agent being called."""
        return self._agent

    def send_message(self, messages: MessageType) -> Self:
        """Send more input (anything of `MessageType`) to the agent."""
        try:
            self._open_input().append(messages)
        except AppendClosedError as error:
            raise AppendClosedError(
                f"send_message() to agent {self._agent.alias!r} after the call was finished "
                "(reply_sequence() or finish() closes the input)."
            ) from error
        return self

    def finish(self) -> None:
        """Close the input: the agent's `message_promises` end after what was sent."""
        self._input_finished = True
        self._context._open_calls.pop(self, None)
        if self._input is not None:
            self._input.close()

    def _open_input(self) -> AppendProducer[MessageType]:
        if self._input is None:
            self._input = AppendProducer()
            if self._input_finished:
                self._input.close()
            else:
                self._input.open()
        return self._input

    def _input_promise(self) -> MessageSequencePromise:
        if self._input_sequence is None:
            self._input_sequence = MessageSequence(
                schedule_immediately=False, append_producer=self._open_input()
            ).sequence_promise
        return self._input_sequence

    def reply_sequence(self, *, finish_call: bool = True) -> MessageSequencePromise:
        """The agent's replies, flat and in order; finishes the call unless told not to."""
        if finish_call:
            self.finish()
        return self._reply.sequence_promise

    def _ensure_started(self) -> None:
        if self._started:
            return
        self._started = True
        # Whoever starts this call does not own it (`_schedule` rather than `schedule_task`):
        # the call stops only when its own replies are abandoned.
        task = self._context._schedule(self._run(), f"miniagent:{self._agent.alias}")
        self._owner.add(task)

    async def _run(self) -> None:
        owner = self._owner
        ensure_owner(owner)
        try:
            await self._run_function()
        finally:
            owner.discard(asyncio.current_task())

    async def _run_function(self) -> None:
        agent = self._agent
        interaction = InteractionContext(agent, self)
        trace = await start_agent_trace(agent.alias, self._run_config)
        interaction.config = (
            trace.config
            if trace is not None
            else self._run_config or var_child_runnable_config.get()
        )
        replies = self._reply.append_producer
        unreported: Exception | None = None
        with replies:
            try:
                await agent.func(interaction, **self._kwargs)
            except Exception as error:
                _add_note_once(error, f"raised in agent {agent.alias!r}")
                if trace is not None:
                    await trace.fail(error)
                if not replies.is_closed:
                    raise  # ends the replies with it, where the caller sees it
                unreported = error
        if unreported is not None:
            # finish_early() closed the replies, so no caller can see this error: fail the
            # task instead, which the context logs with its traceback, rather than lose it.
            raise unreported
        if trace is not None:
            await trace.finish(self._reply.sequence_promise)

    def _note_passing_error(self, error: BaseException) -> None:
        alias = self._agent.alias
        if f"raised in agent {alias!r}" not in getattr(error, "__notes__", ()):
            _add_note_once(error, f"passed through the replies of agent {alias!r}")


def _current_task_or_none() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running event loop
        return None


def _add_note_once(error: BaseException, note: str) -> None:
    if note not in getattr(error, "__notes__", ()):
        error.add_note(note)


class MiniAgent(AgentRunnable):
    """An agent: an async function run as a task per call, whose replies stream back as a
    `MessageSequencePromise`. It is also a LangChain Runnable (see `AgentRunnable`)."""

    def __init__(
        self,
        func: AgentFunction,
        *,
        alias: str | None = None,
        description: str | None = None,
        bound_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if inspect.isclass(func):
            raise TypeError(
                f"@miniagent can't make an agent of the class {func.__name__}: calling a class "
                "builds an instance, it does not run an agent. Write the agent as an `async "
                "def` function, or give the class `async def __call__(self, ctx, **kwargs)` "
                f"and make an agent of an instance: `MiniAgent({func.__name__}())`."
            )
        if not _is_async_callable(func):
            raise TypeError(
                f"@miniagent needs an `async def` function, got {func!r}. Write the agent as "
                "`async def name(ctx: InteractionContext, **kwargs) -> None`."
            )
        self.func = func
        self.alias: str = alias or str(getattr(func, "__name__", type(func).__name__))
        self.description: str | None = (
            description if description is not None else inspect.getdoc(func)
        )
        self.bound_kwargs: dict[str, Any] = dict(bound_kwargs or {})
        self.name = self.alias

    def __repr__(self) -> str:
        return f"MiniAgent({self.alias!r})"

    def trigger(
        self,
        messages: MessageType | None = None,
        *,
        schedule_immediately: Defaultable = DEFAULT,
        **kwargs: Any,
    ) -> MessageSequencePromise:
        """Call the agent with `messages`; returns its replies at once while it runs."""
        call = self.initiate_call(schedule_immediately=schedule_immediately, **kwargs)
        if messages is not None:
            call.send_message(messages)
        return call.reply_sequence()

    def initiate_call(
        self, *, schedule_immediately: Defaultable = DEFAULT, **kwargs: Any
    ) -> AgentCall:
        """Start a call to send messages to piece by piece (`send_message`, then `finish` or
        `reply_sequence`)."""
        return AgentCall(self, {**self.bound_kwargs, **kwargs}, schedule_immediately)

    def fork(
        self, alias: str | None = None, *, description: str | None = None, **kwargs: Any
    ) -> Self:
        """A copy of this agent with more bound kwargs (and, if given, another alias)."""
        return type(self)(
            self.func,
            alias=alias if alias is not None else self.alias,
            description=description if description is not None else self.description,
            bound_kwargs={**self.bound_kwargs, **kwargs},
        )

    def as_tool(  # type: ignore[override]
        self,
        name: str | None = None,
        description: str | None = None,
        args_schema: type[BaseModel] | None = None,
    ) -> AgentTool:
        """This agent as a LangChain tool (see `AgentTool`): named by its alias, described by
        its description, taking one `request: str` unless `args_schema` says otherwise, and
        answering with its reply text."""
        return agent_as_tool(self, name, description, args_schema)

    def _trigger_for_run(
        self, messages: MessageType, run_config: RunnableConfig, **kwargs: Any
    ) -> MessageSequencePromise:
        call = AgentCall(self, {**self.bound_kwargs, **kwargs}, DEFAULT, run_config=run_config)
        call.send_message(messages)
        return call.reply_sequence()

    def _new_context(self) -> PromisingContext:
        return MiniAgents()


def _is_async_callable(func: object) -> bool:
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004 - an object with `async def __call__`
    )


@overload
def miniagent(func: AgentFunction, /) -> MiniAgent: ...


@overload
def miniagent(
    func: None = None,
    /,
    *,
    alias: str | None = None,
    description: str | None = None,
    **bound_kwargs: Any,
) -> Callable[[AgentFunction], MiniAgent]: ...


def miniagent(
    func: AgentFunction | None = None,
    /,
    *,
    alias: str | None = None,
    description: str | None = None,
    **bound_kwargs: Any,
) -> MiniAgent | Callable[[AgentFunction], MiniAgent]:
    """Turn `async def agent(ctx, **kwargs)` into a `MiniAgent`; bare or with arguments.

    A class is refused here (a `TypeError`): make an agent of an instance with
    `async def __call__(self, ctx, **kwargs)` instead, `MiniAgent(MyAgent())`."""

    def decorate(function: AgentFunction) -> MiniAgent:
        return MiniAgent(function, alias=alias, description=description, bound_kwargs=bound_kwargs)

    return decorate(func) if func is not None else decorate


__all__ = [
    "AgentCall",
    "AgentFunction",
    "InteractionContext",
    "MiniAgent",
    "MiniAgents",
    "PersistHandler",
    "miniagent",
]
