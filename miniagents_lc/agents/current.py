"""Which agent calls the running code belongs to, from anywhere in an agent's code."""

from __future__ import annotations

from miniagents_lc.agents.agent import current_interaction


def current_agent_trace() -> tuple[str, ...]:
    """The aliases of the running agent calls, the current one first, then the call that
    triggered it, and so on up to the outermost; empty outside any agent function."""
    interaction = current_interaction.get()
    return () if interaction is None else interaction.agent_trace


__all__ = ["current_agent_trace"]
