"""The agents' low-level parts, for the layers built on them (protocol, view, LangChain face,
transports) and for extenders: the hooks a layer above registers, the conversions between
LangChain input and messages, and the sync bridge. The public API is `miniagents_lc.agents`;
nothing else in the package is promised to stay as it is.
"""

from miniagents_lc.agents.call_observer import CallObserver, call_observer
from miniagents_lc.agents.conversion import (
    input_to_messages,
    messages_to_langchain,
    response_metadata_of,
    usage_of,
)
from miniagents_lc.agents.error_text import error_metadata
from miniagents_lc.agents.event_streams import (
    EventStreams,
    RunWrapper,
    StartEvents,
    add_run_wrapper,
    install_event_streams,
)
from miniagents_lc.agents.runnable import RunnableAgent, start_traced_run
from miniagents_lc.agents.sync_bridge import iterate_sync, run_sync

__all__ = [
    "CallObserver",
    "EventStreams",
    "RunWrapper",
    "RunnableAgent",
    "StartEvents",
    "add_run_wrapper",
    "call_observer",
    "error_metadata",
    "input_to_messages",
    "install_event_streams",
    "iterate_sync",
    "messages_to_langchain",
    "response_metadata_of",
    "run_sync",
    "start_traced_run",
    "usage_of",
]
