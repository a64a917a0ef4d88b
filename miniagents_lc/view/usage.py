"""Usage per agent call, and what it costs.

A run of `astream` / `ainvoke` whose config asks for it (`USAGE_BY_AGENT_CONFIG`, that is
`configurable={"usage_by_agent": True}`) maps its agent tree to protocol events
(`AgentTreeEvents`) into a `RunState`; when the reply ends, its final `AIMessage` carries, in
`response_metadata["usage_by_agent"]`, one entry per agent call: the call's own usage, its
subtree's, and both per model. It is asked for because following every token of the tree costs
a task step per token batch, which a run that does not want the breakdown should not pay.
`usage_cost` turns a breakdown's usage by model into money with a price table. Usage comes
from the messages the agents reply (`AssistantMessage.usage`), so it covers every adapter,
LangChain chat models or not.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, UsageMetadata
from langchain_core.runnables import RunnableConfig

from miniagents_lc.agents import ModelPrice, PriceTable
from miniagents_lc.agents.lowlevel import add_run_wrapper, call_observer
from miniagents_lc.protocol import AgentTreeEvents
from miniagents_lc.view.state import CallState, RunState

if TYPE_CHECKING:
    from miniagents_lc.agents import AgentRun

USAGE_KEY = "usage_by_agent"
"""The key of the per-agent breakdown in the final message's `response_metadata`, and of the
switch in the run's `configurable` that asks for it."""

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


def usage_breakdown(root: CallState) -> list[dict[str, Any]]:
    """One entry per call of `root`'s tree, depth first in the order the calls were made:
    `agent` (alias), `namespace`, `usage` and `subtree_usage` (None without any), and the
    same per model name in `models` and `subtree_models`."""
    return [
        {
            "agent": call.alias,
            "namespace": list(call.namespace),
            "usage": _plain(call.usage),
            "subtree_usage": _plain(call.subtree_usage),
            "models": {model: _plain(usage) for model, usage in call.usage_by_model.items()},
            "subtree_models": {
                model: _plain(usage) for model, usage in call.subtree_usage_by_model().items()
            },
        }
        for call in root.walk()
    ]


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


class RunUsage:
    """The usage of one `AgentRun`'s tree, followed while it streams (`state`)."""

    def __init__(self) -> None:
        self.state = RunState()
        self._tree = AgentTreeEvents(self._sink)
        self._finished = False

    def _sink(self, method: str, namespace: Sequence[str], data: Any) -> None:
        # Deltas only say text streamed; the breakdown needs calls and message finishes.
        if method == "lifecycle" or data["event"] == "message-finish":
            self.state.apply(method, namespace, data)

    async def metadata(self, response_metadata: dict[str, Any]) -> dict[str, Any]:
        """`response_metadata` with the breakdown added, once every event of the reply is in
        (calls still running in the background end, in the breakdown, as failed)."""
        await self._finish()
        root = self.state.root
        if root is None:
            return response_metadata
        return {**response_metadata, USAGE_KEY: usage_breakdown(root)}

    async def _finish(self) -> None:
        if not self._finished:
            self._finished = True
            await self._tree.finish()

    @staticmethod
    @contextlib.asynccontextmanager
    async def around(run: AgentRun) -> AsyncIterator[None]:
        """If the run's config asks for it, follow the agent calls `run` makes (with any
        observer already there) until it ends; the run reads the breakdown through
        `run.run_usage.metadata(...)`. Otherwise nothing happens, at the cost of a lookup."""
        configurable = run.config.get("configurable")
        if not configurable or not configurable.get(USAGE_KEY):
            yield
            return
        usage = RunUsage()
        outer = call_observer.get()
        on_call = usage._tree.on_call
        if outer is not None:
            inner = on_call

            def on_call(call: Any) -> None:
                outer(call)
                inner(call)

        token = call_observer.set(on_call)
        run.run_usage = usage
        try:
            yield
        finally:
            call_observer.reset(token)
            try:
                await usage._finish()
            except asyncio.CancelledError:
                await usage._tree.cancel()
                raise


def _plain(usage: UsageMetadata | None) -> dict[str, Any] | None:
    return dict(usage) if usage is not None else None


__all__ = [
    "USAGE_BY_AGENT_CONFIG",
    "USAGE_KEY",
    "ModelPrice",
    "PriceTable",
    "RunUsage",
    "usage_breakdown",
    "usage_by_agent",
    "usage_cost",
]


# The agents layer cannot import this one: it wraps every run through the slot it offers.
add_run_wrapper(RunUsage.around)
