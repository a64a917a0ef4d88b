"""Usage per agent call, and what it costs.

A run of `astream` / `ainvoke` whose config asks for it (`USAGE_BY_AGENT_CONFIG`, that is
`configurable={"usage_by_agent": True}`) keeps records of its calls' messages (`AgentRun`
follows them through the instrument seam); when the reply ends, its final `AIMessage` carries,
in `response_metadata["usage_by_agent"]`, one entry per agent call: the call's own usage, its
subtree's, and both per model (`AgentRun.usage_by_agent()`). It is asked for because following
every call's messages costs a little per call and message, which a run that does not want the
breakdown should not pay. This module reads it (`usage_by_agent`), builds the same breakdown
from a view's `CallState` tree (`usage_breakdown`), and turns usage by model into money with a
price table (`usage_cost`). Usage comes from the messages the agents reply
(`AssistantMessage.usage`), so it covers every adapter, LangChain chat models or not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig

from miniagents_lc.agents import ModelPrice, PriceTable
from miniagents_lc.agents.lowlevel import USAGE_KEY, usage_breakdown

USAGE_BY_AGENT_CONFIG: RunnableConfig = {"configurable": {USAGE_KEY: True}}
"""A run config that asks for the usage by agent call: `agent.ainvoke(x, USAGE_BY_AGENT_CONFIG)`
(or merge its `configurable` into yours)."""


def usage_cost(usage_by_model: Mapping[str, Mapping[str, Any]], prices: PriceTable) -> float:
    """The cost of usage counted per model (a breakdown entry's `models` or
    `subtree_models`); raises `KeyError` naming the models the table has no price for."""
    missing = sorted(set(usage_by_model) - set(prices))
    if missing:
        raise KeyError(
            f"No price for the models {missing}: add them to the price table "
            f"(it has {sorted(prices)})."
        )
    return sum(prices[model].cost(usage) for model, usage in usage_by_model.items())


def usage_by_agent(message: AIMessage) -> list[dict[str, Any]]:
    """The per-agent breakdown a run's final message carries (see `usage_breakdown`)."""
    breakdown = message.response_metadata.get(USAGE_KEY)
    if not isinstance(breakdown, list):
        raise ValueError(
            "This message carries no usage by agent: take the AIMessage that ainvoke returns "
            "(or the sum of the chunks astream yields) of an agent run with "
            'config={"configurable": {"usage_by_agent": True}} (USAGE_BY_AGENT_CONFIG).'
        )
    return breakdown


__all__ = [
    "USAGE_BY_AGENT_CONFIG",
    "USAGE_KEY",
    "ModelPrice",
    "PriceTable",
    "usage_breakdown",
    "usage_by_agent",
    "usage_cost",
]
