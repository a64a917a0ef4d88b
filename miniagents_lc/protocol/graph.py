"""Agent trees inside LangGraph's own v3 stream (`graph.astream_events(..., version="v3")`).

When a graph node runs an agent (through `MiniAgentChatModel`, `ainvoke` or `astream`), the
agent run finds the graph's stream in its config. The same mapping as for an agent's own v3
stream (`AgentTreeEvents`) then writes the tree into the graph's stream, nested under the
node's namespace: the node looks like a subgraph whose child is the agent's root call, and each
agent call below it is one more namespace segment. Lifecycle reaches the graph as task events
(so the graph's own lifecycle projection reports started / completed / failed per call), and
message events as the graph's message events, one `run_id` per message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig

from miniagents_lc._compat import LANGGRAPH_STREAM_KEY, LANGGRAPH_V3_FLAG_KEY
from miniagents_lc.agents.lowlevel import scoped_instruments
from miniagents_lc.protocol.events import Namespace
from miniagents_lc.protocol.tree import AgentTreeEvents

_NEEDED_MODES = frozenset({"messages", "tasks"})


class GraphStreamMapping(AgentTreeEvents):
    """The mapping of one agent run's calls into the LangGraph v3 stream it runs inside: an
    instrument the run registers for its scope, then `close()`s once its own work has ended."""

    async def close(self) -> None:
        """Emit what was produced and end the mapping; it never waits for a stream, so it ends
        at once (when cancelled meanwhile, it stops at once)."""
        try:
            await self.finish()
        except asyncio.CancelledError:
            await self.cancel()
            raise


def graph_instrument(config: RunnableConfig) -> GraphStreamMapping | None:
    """The mapping for a run with `config`, if it runs inside a LangGraph v3 stream that takes
    task and message events, and no other protocol stream maps its tree already (an agent run
    inside an agent's own v3 stream); otherwise None."""
    configurable = config.get("configurable")
    if not configurable or not configurable.get(LANGGRAPH_V3_FLAG_KEY):
        return None
    write = configurable.get(LANGGRAPH_STREAM_KEY)
    if write is None or not set(getattr(write, "modes", ())) >= _NEEDED_MODES:
        return None
    if any(isinstance(item, AgentTreeEvents) for item in scoped_instruments()):
        return None
    checkpoint_ns = str(configurable.get("checkpoint_ns") or "")
    node_namespace = checkpoint_ns.split("|") if checkpoint_ns else []
    sink = _GraphSink(write, node_namespace, dict(config.get("metadata") or {}))
    return GraphStreamMapping(sink, nest_under=node_namespace)


class _GraphSink:
    """Writes the events of an agent tree as LangGraph stream parts `(namespace, mode, data)`."""

    __slots__ = ("_message_metadata", "_metadata", "_node_namespace", "_write")

    def __init__(
        self, write: Callable[[Any], None], node_namespace: Namespace, metadata: dict[str, Any]
    ) -> None:
        self._write = write
        self._node_namespace = node_namespace
        self._metadata = metadata
        # Each namespace streams one message at a time: the metadata (with the message's id as
        # the graph's `run_id`) of the message now streaming in each.
        self._message_metadata: dict[tuple[str, ...], dict[str, Any]] = {}

    def __call__(self, method: str, namespace: Sequence[str], data: Any) -> None:
        where = tuple(namespace)
        if method == "messages":
            if data["event"] == "message-start":
                self._message_metadata[where] = {**self._metadata, "run_id": data["id"]}
            self._write((where, "messages", (data, self._message_metadata[where])))
            return
        alias = data["graph_name"]
        call_id = namespace[-1].rpartition(":")[2]
        if data["event"] == "started":
            if len(namespace) == len(self._node_namespace) + 1 and self._node_namespace:
                # The node itself starts like a subgraph; the graph ends it with the node.
                node = self._node_namespace[-1]
                name, _, task_id = node.rpartition(":")
                self._write((tuple(self._node_namespace), "tasks", _task_start(task_id, name)))
            self._write((where, "tasks", _task_start(call_id, alias)))
            return
        error = None
        if data["event"] != "completed":
            error = data.get("error") or "The run ended before this agent call did."
        self._write(
            (
                where[:-1],
                "tasks",
                {"id": call_id, "name": alias, "error": error, "interrupts": [], "result": {}},
            )
        )


def _task_start(task_id: str, name: str) -> dict[str, Any]:
    return {"id": task_id, "name": name, "input": None, "triggers": []}


__all__ = ["GraphStreamMapping", "graph_instrument"]
