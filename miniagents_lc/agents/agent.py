"""The agent definition, `MiniAgent`: an async function run as a task per call, and a
LangChain Runnable (its Runnable methods hand the work to `runnable`, `sync_bridge` and
`event_streams`)."""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import aclosing
from typing import Any, Literal, Self, cast

from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import BaseModel

from miniagents_lc.agents.agent_tool import AgentTool, agent_as_tool
from miniagents_lc.agents.app_context import MiniAgents
from miniagents_lc.agents.budget import Budget
from miniagents_lc.agents.call import AgentCall
from miniagents_lc.agents.conversion import checked_input
from miniagents_lc.agents.event_streams import event_streams
from miniagents_lc.agents.interaction import AgentFunction
from miniagents_lc.agents.runnable import combine, traced_run
from miniagents_lc.agents.sync_bridge import iterate_sync, run_sync
from miniagents_lc.messages import MessageSequencePromise, MessageType
from miniagents_lc.promising import DEFAULT, Defaultable, PromisingContext


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


__all__ = ["MiniAgent"]
