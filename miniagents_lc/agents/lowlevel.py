"""The agents' low-level parts, for the layers built on them (protocol, view, LangChain face,
transports) and for extenders: the scope of instruments a follower of a run checks, the message
records of a run, the conversions between LangChain input and messages, and the sync bridge.
The public API is `miniagents_lc.agents`; nothing else in the package is promised to stay as it
is.
"""

from miniagents_lc.agents.conversion import (
    input_to_messages,
    messages_to_langchain,
    response_metadata_of,
    usage_of,
)
from miniagents_lc.agents.error_text import error_metadata
from miniagents_lc.agents.instruments import scoped_instruments
from miniagents_lc.agents.run_records import (
    UNKNOWN_MODEL,
    USAGE_KEY,
    RunCall,
    UsageNode,
    total_usage,
    usage_breakdown,
    usage_by_model_of,
)
from miniagents_lc.agents.runnable import RunnableAgent, start_traced_run
from miniagents_lc.agents.sync_bridge import iterate_sync, run_sync

__all__ = [
    "UNKNOWN_MODEL",
    "USAGE_KEY",
    "RunCall",
    "RunnableAgent",
    "UsageNode",
    "error_metadata",
    "input_to_messages",
    "iterate_sync",
    "messages_to_langchain",
    "response_metadata_of",
    "run_sync",
    "scoped_instruments",
    "start_traced_run",
    "total_usage",
    "usage_breakdown",
    "usage_by_model_of",
    "usage_of",
]
