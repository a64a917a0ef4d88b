"""Agents in LangChain's streaming protocol (v3): a running agent tree as protocol events.

`await agent.astream_events(input, version="v3")` (or `agent.stream_events(...)` from sync
code) returns a run stream: raw events numbered by `seq` and replayable from any of them, one
namespace per agent call, and projections (`messages`, `lifecycle`, `output`, `subagents`).
`AgentTreeEvents` is the one mapping from a running tree to events; `EventLog` keeps a run's
events for any transport to serve.

The mapping plugs into the agents through their instrument seam only (`AgentTreeEvents` is an
`Instrument`); importing this package installs nothing. `MiniAgent.astream_events(version=
"v3")` imports it inside the function, and a run inside a LangGraph v3 stream imports
`protocol.graph` the same way.
"""

from miniagents_lc.protocol.events import LifecyclePayload, Namespace, ProtocolEvent
from miniagents_lc.protocol.graph import GraphStreamMapping, graph_instrument
from miniagents_lc.protocol.log import EventLog
from miniagents_lc.protocol.run_stream import AgentCallStream, AgentRunStream, astream_agent_events
from miniagents_lc.protocol.sync_run import SyncAgentRunStream
from miniagents_lc.protocol.tree import AgentTreeEvents, EventSink, MessageRecord

__all__ = [
    "AgentCallStream",
    "AgentRunStream",
    "AgentTreeEvents",
    "EventLog",
    "EventSink",
    "GraphStreamMapping",
    "LifecyclePayload",
    "MessageRecord",
    "Namespace",
    "ProtocolEvent",
    "SyncAgentRunStream",
    "astream_agent_events",
    "graph_instrument",
]
