"""Agents: the application context, agent calls, and `MiniAgent` as a LangChain Runnable.

`MiniAgents` is where agents run, `@miniagent` turns an async function into a `MiniAgent`, and
every `MiniAgent` is a LangChain `Runnable` (its run, tracing, conversion and sync bridge live
in this package too). Nothing here imports the LangChain adapters above it.
"""

from miniagents_lc.agents.agent import MiniAgent
from miniagents_lc.agents.agent_tool import AgentRequest, AgentTool
from miniagents_lc.agents.app_context import MiniAgents, PersistHandler
from miniagents_lc.agents.budget import (
    Budget,
    BudgetExceededError,
    BudgetState,
    ModelPrice,
    PriceTable,
)
from miniagents_lc.agents.call import AgentCall
from miniagents_lc.agents.current import current_agent_trace
from miniagents_lc.agents.decorator import miniagent
from miniagents_lc.agents.instruments import (
    INSTRUMENTS_KEY,
    Instrument,
    ModelCall,
    ToolRun,
    instrumented,
    is_watched,
    observe_model_call,
    observe_tool_call,
)
from miniagents_lc.agents.interaction import AgentFunction, InteractionContext
from miniagents_lc.agents.runnable import AgentRun

__all__ = [
    "INSTRUMENTS_KEY",
    "AgentCall",
    "AgentFunction",
    "AgentRequest",
    "AgentRun",
    "AgentTool",
    "Budget",
    "BudgetExceededError",
    "BudgetState",
    "Instrument",
    "InteractionContext",
    "MiniAgent",
    "MiniAgents",
    "ModelCall",
    "ModelPrice",
    "PersistHandler",
    "PriceTable",
    "ToolRun",
    "current_agent_trace",
    "instrumented",
    "is_watched",
    "miniagent",
    "observe_model_call",
    "observe_tool_call",
]
