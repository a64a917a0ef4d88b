"""Agents in LangChain's streaming protocol (v3): a running agent tree as protocol events.

`await agent.astream_events(input, version="v3")` (or `agent.stream_events(...)` from sync
code) returns a run stream: raw events numbered by `seq` and replayable from any of them, one
namespace per agent call, and projections (`messages`, `lifecycle`, `output`, `subagents`).
`AgentTreeEvents` is the one mapping from a running tree to events; `EventLog` keeps a run's
events for any transport to serve.
"""

from miniagents_lc.protocol.events import LifecyclePayload, Namespace, ProtocolEvent
from miniagents_lc.protocol.log import EventLog
from miniagents_lc.protocol.run_stream import AgentCallStream, AgentRunStream, astream_agent_events
from miniagents_lc.protocol.sync_run import SyncAgentRunStream
from miniagents_lc.protocol.tree import AgentTreeEvents, EventSink

__all__ = [
    "AgentCallStream",
    "AgentRunStream",
    "AgentTreeEvents",
    "EventLog",
    "EventSink",
    "LifecyclePayload",
    "Namespace",
    "ProtocolEvent",
    "SyncAgentRunStream",
    "astream_agent_events",
]
