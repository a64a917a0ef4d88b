"""Which agent call the running code belongs to, from anywhere in an agent's code."""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING

from miniagents_lc.promising import NoActiveContextError

if TYPE_CHECKING:
    from miniagents_lc.agents.interaction import InteractionContext

# Set in the task that runs an agent function; the tasks it starts copy it.
current_interaction: contextvars.ContextVar[InteractionContext | None] = contextvars.ContextVar(
    "miniagents_lc_current_interaction", default=None
)


def current_interaction_or_raise() -> InteractionContext:
    """The `InteractionContext` of the agent call whose code is running; raises
    `NoActiveContextError` outside any agent function."""
    interaction = current_interaction.get()
    if interaction is None:
        raise NoActiveContextError(
            "No agent call is running here: the current InteractionContext exists only inside "
            "an agent function (and the tasks it starts). Pass `ctx` explicitly elsewhere."
        )
    return interaction


def current_agent_trace() -> tuple[str, ...]:
    """The aliases of the running agent calls, the current one first, then the call that
    triggered it, and so on up to the outermost; empty outside any agent function."""
    interaction = current_interaction.get()
    return () if interaction is None else interaction.agent_trace


__all__ = [
    "current_agent_trace",
    "current_interaction",
    "current_interaction_or_raise",
]
