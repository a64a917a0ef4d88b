"""Agents: the application context, agent calls, and `MiniAgent` as a LangChain Runnable.

`MiniAgents` is where agents run, `@miniagent` turns an async function into a `MiniAgent`, and
every `MiniAgent` is a LangChain `Runnable` (its run, tracing, conversion and sync bridge live
in this package too). Nothing here imports the LangChain adapters above it.
"""

from miniagents_lc.agents.agent import (
    AgentCall,
    AgentFunction,
    InteractionContext,
    MiniAgent,
    MiniAgents,
    PersistHandler,
    miniagent,
)
from miniagents_lc.agents.agent_tool import AgentRequest, AgentTool
from miniagents_lc.agents.current import current_agent_trace
from miniagents_lc.agents.runnable import AgentRun

__all__ = [
    "AgentCall",
    "AgentFunction",
    "AgentRequest",
    "AgentRun",
    "AgentTool",
    "InteractionContext",
    "MiniAgent",
    "MiniAgents",
    "PersistHandler",
    "current_agent_trace",
    "miniagent",
]
