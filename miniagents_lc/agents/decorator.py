"""The `@miniagent` decorator: an async function (bare, or with arguments) made a `MiniAgent`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, overload

from miniagents_lc.agents.agent import MiniAgent
from miniagents_lc.agents.budget import Budget
from miniagents_lc.agents.interaction import AgentFunction


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


__all__ = ["miniagent"]
