"""One call of an agent, `AgentCall`: its input, its replies, and the task that runs the
agent function (with its instruments, budgets and trace)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Self, cast

from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import var_child_runnable_config

from miniagents_lc.agents.app_context import MiniAgents
from miniagents_lc.agents.budget import Budget, BudgetState
from miniagents_lc.agents.current import current_interaction
from miniagents_lc.agents.instruments import (
    Instruments,
    merged,
    notify,
    overrides,
    report_created,
    scoped_instruments,
)
from miniagents_lc.agents.interaction import InteractionContext
from miniagents_lc.agents.tracing import start_agent_trace, wants_agent_trace
from miniagents_lc.messages import (
    ErrorMessage,
    MessageSequence,
    MessageSequencePromise,
    MessageType,
    fed_message_sequence,
)
from miniagents_lc.messages.lowlevel import RAISED_IN_AGENT
from miniagents_lc.promising import AppendClosedError, AppendProducer, Defaultable
from miniagents_lc.promising.lowlevel import TaskOwner, ensure_owner

if TYPE_CHECKING:
    from miniagents_lc.agents.agent import MiniAgent


class AgentCall:
    """One call of an agent: send it messages, then read its replies.

    The agent function starts at the next task switch (or, when not scheduled immediately,
    when its replies are first consumed) and reads the messages as they are sent. `error` is
    the error the function raised, once it has (also when its replies carry it as a message).
    """

    __slots__ = (
        "__weakref__",  # a follower of its reply keeps it weakly (instruments._claims_of)
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
        # -- instrument seam: the call's instruments learn of it as it is made --
        if self._instruments:
            report_created(self)
        # -- end of the instrument seam --

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
        task = cast(asyncio.Task[None], asyncio.current_task())
        instruments = self._instruments
        end: _CallEnd | None = None
        if instruments:
            notify(instruments, "call_started", self)
            if overrides(instruments, "call_finished"):
                end = _CallEnd(self, instruments)
                self._reply.when_ended(end.reply_ended)
        ended: BaseException | None = None
        try:
            await self._run_function(end)
        except BaseException as error:
            ended = error
            raise
        finally:
            owner.discard(task)
            # A finished task (and its coroutine) is not kept alive by its call.
            self._task = None
            for state in self._budgets:
                state.leave(self)
            if end is not None:
                end.function_ended(ended)  # if the function never got to tell
        # Reached only when the call ended without an error (a failed call's task keeps the
        # context's callback, which logs it).
        self._context.forget_task(task)

    async def _run_function(self, end: _CallEnd | None) -> None:
        agent = self._agent
        interaction = InteractionContext(agent, self)
        # Most calls have nobody to tell (no handler in the run): no coroutine for them.
        trace = (
            await start_agent_trace(agent.alias, self._run_config)
            if wants_agent_trace(self._run_config)
            else None
        )
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
                try:
                    await agent.func(interaction, **self._kwargs)
                    if self._awaited:
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
            finally:
                if end is not None:
                    # Before the replies close: the calls above learn of that close in this
                    # same step (their sequences pass this one on), and a call is finished
                    # before the calls it belongs to are.
                    end.function_ended(sys.exc_info()[1])
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


class _CallEnd:
    """Tells a call's instruments `call_finished` once both its function and its reply have
    ended (replies handed on stream on after the function returns): with the function's
    error, else the reply's."""

    __slots__ = ("_call", "_errors", "_instruments", "_waiting")

    def __init__(self, call: AgentCall, instruments: Instruments) -> None:
        self._call = call
        self._instruments = instruments
        self._errors: dict[str, BaseException | None] = {}
        self._waiting = 2

    def function_ended(self, error: BaseException | None) -> None:
        self._ended("function", error)

    def reply_ended(self, error: BaseException | None) -> None:
        self._ended("reply", error)

    def _ended(self, part: str, error: BaseException | None) -> None:
        if part in self._errors:
            return  # told already
        self._errors[part] = error
        self._waiting -= 1
        if not self._waiting:
            errors = self._errors
            failed = self._call.error or errors["function"] or errors["reply"]
            notify(self._instruments, "call_finished", self._call, failed)


def _current_task_or_none() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running event loop
        return None


def _add_note_once(error: BaseException, note: str) -> None:
    if note not in getattr(error, "__notes__", ()):
        error.add_note(note)


__all__ = ["AgentCall"]
