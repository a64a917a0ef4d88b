"""Agents: `MiniAgents` (the application context), `@miniagent`, calls and their context."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import aclosing
from typing import Any, Literal, Self, cast, overload

from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import var_child_runnable_config
from pydantic import BaseModel

from miniagents_lc.agents.agent_tool import AgentTool, agent_as_tool
from miniagents_lc.agents.budget import Budget, BudgetState
from miniagents_lc.agents.call_observer import call_observer
from miniagents_lc.agents.conversion import checked_input
from miniagents_lc.agents.current import current_interaction, current_interaction_or_raise
from miniagents_lc.agents.event_streams import event_streams
from miniagents_lc.agents.instruments import (
    Instrument,
    checked,
    merged,
    notify,
    scoped_instruments,
)
from miniagents_lc.agents.out_of_order import place_when_ready
from miniagents_lc.agents.runnable import combine, traced_run
from miniagents_lc.agents.sync_bridge import iterate_sync, run_sync
from miniagents_lc.agents.tracing import start_agent_trace
from miniagents_lc.messages import (
    ErrorMessage,
    Message,
    MessagePromise,
    MessageSequence,
    MessageSequencePromise,
    MessageType,
    fed_message_sequence,
)
from miniagents_lc.messages.lowlevel import RAISED_IN_AGENT
from miniagents_lc.promising import (
    DEFAULT,
    AppendClosedError,
    AppendProducer,
    Defaultable,
    PromisingContext,
)
from miniagents_lc.promising.lowlevel import TaskOwner, ensure_owner

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


AgentFunction = Callable[..., Awaitable[None]]
"""`async def agent(ctx: InteractionContext, **kwargs) -> None`."""


class InteractionContext:
    """What an agent function gets: its input, itself, and the way to reply.

    `message_promises` is the input, streamed; `reply(...)` appends anything of `MessageType`
    to the reply sequence, in order (`reply_out_of_order(...)`: in the order its messages
    resolve); `finish_early()` ends the reply sequence at once; `make_sure_to_wait(...)` keeps
    the replies open until a piece of work is done. `InteractionContext.get_current()` finds
    the context from anywhere in the agent's code, and `agent_trace` names the calls above it.
    `config` is the LangChain `RunnableConfig` of the run this call belongs to (None outside
    LangChain): pass it to models you call so they show up in traces.
    """

    __slots__ = ("_call", "config", "this_agent")

    def __init__(self, this_agent: MiniAgent, call: AgentCall) -> None:
        self.this_agent = this_agent
        self._call = call
        self.config: RunnableConfig | None = None

    @property
    def call(self) -> AgentCall:
        """The agent call this context belongs to."""
        return self._call

    @property
    def message_promises(self) -> MessageSequencePromise:
        """The input messages, flattened and streamed as the caller sends them."""
        return self._call._input_promise()

    @classmethod
    def get_current(cls) -> InteractionContext:
        """The context of the agent call whose code is running (in its function or a task it
        started); raises `NoActiveContextError` elsewhere."""
        return current_interaction_or_raise()

    @property
    def agent_trace(self) -> tuple[str, ...]:
        """The aliases of this call and of the calls that triggered it, this one first."""
        aliases: list[str] = []
        interaction: InteractionContext | None = self
        while interaction is not None:
            aliases.append(interaction.this_agent.alias)
            interaction = interaction._call._parent
        return tuple(aliases)

    def reply(self, messages: MessageType) -> None:
        """Append to the reply sequence; the caller reads replies in the order given."""
        self._append_reply(messages)

    def reply_out_of_order(self, messages: MessageType) -> None:
        """Place each message of `messages` in the reply sequence once it has resolved (its
        whole text produced), first resolved first, wherever the replies then are. The
        replies stay open until all of them are placed."""
        sequence = MessageSequence.turn_into_sequence_promise(messages)
        context = MiniAgents.get_current()
        self.make_sure_to_wait(
            context.schedule_task(
                place_when_ready(sequence, self._place_out_of_order),
                name=f"miniagent-out-of-order:{self.this_agent.alias}",
            )
        )

    def _place_out_of_order(self, messages: MessageType) -> None:
        # After finish_early() nothing more reaches the caller, by that call's meaning.
        if not self._call._reply.append_producer.is_closed:
            self._append_reply(messages)

    def make_sure_to_wait(self, awaitable: Awaitable[Any]) -> None:
        """Keep the reply sequence open until `awaitable` is done (a coroutine starts as a task
        of the context now). Its error is the agent's error, as if the function had raised it."""
        if inspect.iscoroutine(awaitable):
            awaitable = MiniAgents.get_current().schedule_task(awaitable)
        call = self._call
        if call._awaited is None:
            call._awaited = [awaitable]
        else:
            call._awaited.append(awaitable)

    def _append_reply(self, messages: MessageType) -> None:
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
    when its replies are first consumed) and reads the messages as they are sent. `error` is
    the error the function raised, once it has (also when its replies carry it as a message).
    """

    __slots__ = (
        "_agent",
        "_awaited",
        "_budgets",
        "_context",
        "_input",
        "_input_finished",
        "_input_sequence",
        "_instruments",
        "_kwargs",
        "_owner",
        "_parent",
        "_reply",
        "_run_config",
        "_started",
        "_task",
        "_tolerant",
        "budget_state",
        "error",
    )

    def __init__(
        self,
        agent: MiniAgent,
        kwargs: dict[str, Any],
        schedule_immediately: Defaultable,
        run_config: RunnableConfig | None = None,
        budget: Budget | None = None,
    ) -> None:
        context = MiniAgents.get_current()
        self._agent = agent
        self._kwargs = kwargs
        self._run_config = run_config
        self._started = False
        self._task: asyncio.Task[None] | None = None  # the agent function's, once started
        # The agent function and the work it starts for itself (its messages, say): they stop
        # together once the replies' last readers are cancelled and nobody else reads them.
        self._owner = TaskOwner("Agent", agent.alias)
        # Input is only collected here; it is flattened once the agent reads it, and most
        # agents of a large fan-out never build that machinery at all.
        self._input: AppendProducer[MessageType] | None = None
        self._input_finished = False
        self._input_sequence: MessageSequencePromise | None = None
        # The call whose code triggered this one (for agent traces), and what it must wait for.
        self._parent = parent = current_interaction.get()
        # -- instrument seam: the parent's instruments and budgets, plus the scope's --
        if parent is None:
            self._instruments = context.instruments
            self._budgets = context._budgets
        else:
            self._instruments = parent._call._instruments
            self._budgets = parent._call._budgets
        scoped = scoped_instruments()
        if scoped:
            self._instruments = merged(self._instruments, scoped)
        own_budget = budget if budget is not None else agent.budget
        self.budget_state = BudgetState(own_budget, self) if own_budget is not None else None
        """What this call's own budget has counted for its subtree (None without one)."""
        if self.budget_state is not None:
            self._budgets = (*self._budgets, self.budget_state)
        # -- end of the instrument seam --
        self._awaited: list[Awaitable[Any]] | None = None  # made by make_sure_to_wait
        # The error the agent function raised, also when it became a message in the replies.
        self.error: BaseException | None = None
        own = agent.errors_as_messages
        self._tolerant = context.errors_as_messages if own is None else own
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
            errors_as=self._error_message if self._tolerant else None,
        )
        self._reply.append_producer.open()
        self._context = context
        context._open_calls[self] = _current_task_or_none()
        for state in self._budgets:
            state.enter(self)
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

    @property
    def owner(self) -> TaskOwner:
        """The owner of the call's work (low-level, see `promising.lowlevel`): what the agent
        function starts belongs to it, so a watcher can tell which call a task works for."""
        return self._owner

    @property
    def alias(self) -> str:
        """The alias of the agent being called."""
        return self._agent.alias

    @property
    def parent(self) -> AgentCall | None:
        """The call whose code triggered this one (None for a call made outside any agent)."""
        parent = self._parent
        return parent._call if parent is not None else None

    def _halt(self, error: BaseException, *, quietly: bool = False) -> None:
        """Stop this call and all it started now, its reply ending with `error` (a budget
        spent), or, `quietly`, just ending (a call below one whose reply shows the error); a
        call not started yet never starts."""
        if self.error is error:
            return  # halted already (a call is in its own budget's subtree too)
        if self.error is None:
            self.error = error
        self._started = True
        if quietly:
            self._owner.halt(None)
            return
        replies = self._reply.append_producer
        if self._tolerant and not replies.is_closed:
            # Its ErrorMessage after what it replied so far, as if the function had raised it;
            # the reply's flattening goes on to show it (what it started stops with the calls
            # of its subtree).
            replies.append(error)
            replies.close()
            if self._task is not None:
                self._task.cancel()
            return
        if self._tolerant:
            # Its function is done, its reply still flattening: the message ends it now.
            self._reply.stop_with(self._error_message(error).as_promise)
            self._owner.halt(None)
            return
        self._owner.halt(error)

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

    def _error_message(self, error: BaseException) -> ErrorMessage:
        own = self._agent.error_tracebacks_in_messages
        with_traceback = self._context.error_tracebacks_in_messages if own is None else own
        return ErrorMessage.of(error, agent_alias=self._agent.alias, with_traceback=with_traceback)

    async def _await_pending(self) -> None:
        """Wait for what `make_sure_to_wait` was given, including what is given meanwhile."""
        while self._awaited:
            awaitables, self._awaited = self._awaited, None
            for awaitable in awaitables:
                await awaitable

    def _ensure_started(self) -> None:
        if self._started:
            return
        self._started = True
        # Whoever starts this call does not own it (`schedule_unowned` rather than `schedule_task`):
        # the call stops only when its own replies are abandoned.
        task = self._context.schedule_unowned(self._run(), f"miniagent:{self._agent.alias}")
        self._owner.add(task)
        self._task = task

    async def _run(self) -> None:
        owner = self._owner
        ensure_owner(owner)
        instruments = self._instruments
        if instruments:
            notify(instruments, "call_started", self)
        ended: BaseException | None = None
        try:
            await self._run_function()
        except BaseException as error:
            ended = error
            raise
        finally:
            owner.discard(asyncio.current_task())
            for state in self._budgets:
                state.leave(self)
            if instruments:
                # Finished once its reply has ended too (replies handed on stream on after the
                # function returns): with the function's error, else the reply's.
                failed = self.error or ended
                self._reply.when_ended(
                    lambda error: notify(instruments, "call_finished", self, failed or error)
                )

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
        current_interaction.set(interaction)
        with replies:
            try:
                await agent.func(interaction, **self._kwargs)
                await self._await_pending()
            except Exception as error:
                _add_note_once(error, RAISED_IN_AGENT.format(alias=agent.alias))
                self.error = error
                if trace is not None:
                    await trace.fail(error)
                if not replies.is_closed:
                    if self._tolerant:
                        # Flattened into its ErrorMessage, after what was replied before it.
                        replies.append(error)
                    else:
                        raise  # ends the replies with it, where the caller sees it
                else:
                    unreported = error
        if unreported is not None:
            # finish_early() closed the replies, so no caller can see this error: fail the
            # task instead, which the context logs with its traceback, rather than lose it.
            raise unreported
        if trace is not None and self.error is None:
            await trace.finish(self._reply.sequence_promise)

    def _note_passing_error(self, error: BaseException) -> None:
        alias = self._agent.alias
        if RAISED_IN_AGENT.format(alias=alias) not in getattr(error, "__notes__", ()):
            _add_note_once(error, f"passed through the replies of agent {alias!r}")


def _current_task_or_none() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running event loop
        return None


def _add_note_once(error: BaseException, note: str) -> None:
    if note not in getattr(error, "__notes__", ()):
        error.add_note(note)


class _NoInput:
    """`trigger()` called with nothing to send (None is an error, as for the Runnable)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<no input>"


_NO_INPUT = _NoInput()


class MiniAgent(Runnable[Any, AIMessage]):
    """An agent: an async function run as a task per call, whose replies stream back as a
    `MessageSequencePromise`.

    It is also a LangChain Runnable whose output is the agent's whole reply as one `AIMessage`
    (reply messages joined by a blank line) and whose `astream()` streams it token by token
    (the run itself is `agents.runnable`). Input: str (a user message), a LangChain message or
    list of them, a PromptValue, or anything of `MessageType`. Without an active `MiniAgents`
    context, each run makes one and closes it when the stream ends; a consumer that stops
    early cancels the run's tasks.
    """

    def __init__(
        self,
        func: AgentFunction,
        *,
        alias: str | None = None,
        description: str | None = None,
        bound_kwargs: dict[str, Any] | None = None,
        errors_as_messages: bool | None = None,
        error_tracebacks_in_messages: bool | None = None,
        budget: Budget | None = None,
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
        _check_takes_a_context(func)
        self.func = func
        self.alias: str = alias or str(getattr(func, "__name__", type(func).__name__))
        self.description: str | None = (
            description if description is not None else inspect.getdoc(func)
        )
        self.bound_kwargs: dict[str, Any] = dict(bound_kwargs or {})
        self.name = self.alias
        # None: as the `MiniAgents` context says.
        self.errors_as_messages = errors_as_messages
        self.error_tracebacks_in_messages = error_tracebacks_in_messages
        self.budget = budget
        """The budget each call of this agent gets for its subtree (None: no own budget)."""

    def __repr__(self) -> str:
        return f"MiniAgent({self.alias!r})"

    def trigger(
        self,
        messages: MessageType | _NoInput = _NO_INPUT,
        *,
        schedule_immediately: Defaultable = DEFAULT,
        **kwargs: Any,
    ) -> MessageSequencePromise:
        """Call the agent with `messages` (or with no input); returns its replies at once
        while it runs. What it refuses, the Runnable face refuses too (`checked_input`): None,
        or a dict that would be an empty message, is a `TypeError` naming the fix."""
        sent = None if isinstance(messages, _NoInput) else checked_input(messages)
        call = self.initiate_call(schedule_immediately=schedule_immediately, **kwargs)
        if sent is not None:
            call.send_message(sent)
        return call.reply_sequence()

    def initiate_call(
        self,
        *,
        schedule_immediately: Defaultable = DEFAULT,
        budget: Budget | None = None,
        **kwargs: Any,
    ) -> AgentCall:
        """Start a call to send messages to piece by piece (`send_message`, then `finish` or
        `reply_sequence`). `budget` (also taken by `trigger`) limits this call's subtree
        instead of the agent's own budget."""
        return AgentCall(self, {**self.bound_kwargs, **kwargs}, schedule_immediately, budget=budget)

    def fork(
        self,
        alias: str | None = None,
        *,
        description: str | None = None,
        budget: Budget | None = None,
        **kwargs: Any,
    ) -> Self:
        """A copy of this agent with more bound kwargs (and, if given, another alias and
        budget)."""
        return type(self)(
            self.func,
            alias=alias if alias is not None else self.alias,
            description=description if description is not None else self.description,
            bound_kwargs={**self.bound_kwargs, **kwargs},
            errors_as_messages=self.errors_as_messages,
            error_tracebacks_in_messages=self.error_tracebacks_in_messages,
            budget=budget if budget is not None else self.budget,
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

    # -- LangChain Runnable ---------------------------------------------------------------

    @property
    def InputType(self) -> type[Any]:
        return cast(type[Any], Any)

    @property
    def OutputType(self) -> type[AIMessage]:
        return AIMessage

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        base = name or self.alias
        return f"{base}{suffix}" if suffix else base

    async def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncGenerator[AIMessageChunk, None]:
        """Stream the reply of the whole agent tree as `AIMessageChunk`s sharing one id."""
        async with aclosing(
            traced_run(self, input, config, kwargs, want_chunks=True, result=[])
        ) as chunks:
            async for chunk in chunks:
                yield chunk

    async def atransform(
        self,
        input: AsyncIterator[Any],
        config: RunnableConfig | None = None,
        **kwargs: Any,
    ) -> AsyncGenerator[AIMessageChunk, None]:
        """Gather the upstream output (summed with `+` where it supports it), then stream."""
        gathered: Any = None
        async for item in input:
            gathered = item if gathered is None else combine(gathered, item)
        async with aclosing(self.astream(gathered, config, **kwargs)) as chunks:
            async for chunk in chunks:
                yield chunk

    async def ainvoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AIMessage:
        """The whole reply as one `AIMessage`, equal to the sum of `astream()`'s chunks."""
        result: list[AIMessage] = []
        async with aclosing(
            traced_run(self, input, config, kwargs, want_chunks=False, result=result)
        ) as chunks:
            async for _chunk in chunks:
                pass
        return result[0]

    def astream_events(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        version: Literal["v1", "v2", "v3"] = "v2",
        **kwargs: Any,
    ) -> Any:
        """With `version="v3"`, an awaitable of the run's `AgentRunStream` (protocol events,
        one namespace per agent call); otherwise LangChain's own event stream."""
        if version == "v3":
            return event_streams().astream_events(self, input, config, kwargs)
        return super().astream_events(input, config, version=version, **kwargs)

    def stream_events(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        version: Literal["v1", "v2", "v3"] = "v2",
        **kwargs: Any,
    ) -> Any:
        """With `version="v3"`, the run's `SyncAgentRunStream` (the same events, from sync
        code); other versions are LangChain's (which has no sync v1/v2)."""
        if version == "v3":
            return event_streams().stream_events(self, input, config, kwargs)
        return super().stream_events(input, config, version=version, **kwargs)

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> AIMessage:
        return run_sync(self.ainvoke(input, config, **kwargs))

    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        return iterate_sync(lambda: self.astream(input, config, **kwargs))


def _check_takes_a_context(func: AgentFunction) -> None:
    """Refuse, when the agent is made, a function that could not be called with the context."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):  # no signature to read (some callables have none)
        return
    try:
        signature.bind_partial(None)
    except TypeError:
        name = getattr(func, "__name__", type(func).__name__)
        raise TypeError(
            f"@miniagent can't make an agent of `{name}{signature}`: an agent function takes "
            "the interaction context as its first parameter. Write it as "
            f"`async def {name}(ctx: InteractionContext, **kwargs) -> None` (the input is "
            "`ctx.message_promises`, the answer goes to `ctx.reply(...)`)."
        ) from None


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
    errors_as_messages: bool | None = None,
    error_tracebacks_in_messages: bool | None = None,
    budget: Budget | None = None,
    **bound_kwargs: Any,
) -> Callable[[AgentFunction], MiniAgent]: ...


def miniagent(
    func: AgentFunction | None = None,
    /,
    *,
    alias: str | None = None,
    description: str | None = None,
    errors_as_messages: bool | None = None,
    error_tracebacks_in_messages: bool | None = None,
    budget: Budget | None = None,
    **bound_kwargs: Any,
) -> MiniAgent | Callable[[AgentFunction], MiniAgent]:
    """Turn `async def agent(ctx, **kwargs)` into a `MiniAgent`; bare or with arguments.

    A class is refused here (a `TypeError`): make an agent of an instance with
    `async def __call__(self, ctx, **kwargs)` instead, `MiniAgent(MyAgent())`."""

    def decorate(function: AgentFunction) -> MiniAgent:
        return MiniAgent(
            function,
            alias=alias,
            description=description,
            bound_kwargs=bound_kwargs,
            errors_as_messages=errors_as_messages,
            error_tracebacks_in_messages=error_tracebacks_in_messages,
            budget=budget,
        )

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
