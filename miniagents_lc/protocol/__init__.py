"""Agents in LangChain's streaming protocol (v3): a running agent tree as protocol events.

`await agent.astream_events(input, version="v3")` (or `agent.stream_events(...)` from sync
code) returns a run stream: raw events numbered by `seq` and replayable from any of them, one
namespace per agent call, and projections (`messages`, `lifecycle`, `output`, `subagents`).
`AgentTreeEvents` is the one mapping from a running tree to events; `EventLog` keeps a run's
events for any transport to serve.

Importing this package installs it as the agents' v3 event streams
(`miniagents_lc.agents.event_streams`): the agents import this layer above them only inside a
function, on an agent's first run (or first v3 stream), never at module level.
"""

from typing import Any

from langchain_core.runnables import RunnableConfig

from miniagents_lc.agents import MiniAgent
from miniagents_lc.agents.lowlevel import EventStreams, install_event_streams
from miniagents_lc.protocol.events import LifecyclePayload, Namespace, ProtocolEvent
from miniagents_lc.protocol.graph import graph_events
from miniagents_lc.protocol.log import EventLog
from miniagents_lc.protocol.run_stream import AgentCallStream, AgentRunStream, astream_agent_events
from miniagents_lc.protocol.sync_run import SyncAgentRunStream
from miniagents_lc.protocol.tree import AgentTreeEvents, EventSink, MessageRecord


def _astream_events(
    agent: MiniAgent, input: Any, config: RunnableConfig | None, kwargs: dict[str, Any]
) -> Any:
    return astream_agent_events(agent, input, config, **kwargs)


install_event_streams(
    EventStreams(
        astream_events=_astream_events,
        stream_events=SyncAgentRunStream,
        around_run=graph_events,
    )
)

__all__ = [
    "AgentCallStream",
    "AgentRunStream",
    "AgentTreeEvents",
    "EventLog",
    "EventSink",
    "LifecyclePayload",
    "MessageRecord",
    "Namespace",
    "ProtocolEvent",
    "SyncAgentRunStream",
    "astream_agent_events",
]
