"""Every private name of LangChain and LangGraph the project relies on, in one place.

Each is an internal of a version range we checked (named beside it); `tests/test_compat.py`
imports every one against the installed versions, so a release that moves one fails there, by
name, rather than somewhere deep in a run. Where a private is missing, the feature built on it
degrades as documented (no tap of `astream_events`' stream handler, no LangGraph tool stream),
and never breaks an agent run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

#: The `configurable` keys under which a LangGraph run gives every node its stream writer and
#: its v3 flag (checked with langgraph 1.2).
LANGGRAPH_STREAM_KEY = "__pregel_stream"
LANGGRAPH_V3_FLAG_KEY = "__pregel_stream_messages_v2"


def in_langgraph_v3_stream(config: Any) -> bool:
    """Whether a run config (a `RunnableConfig`) is that of a node of a LangGraph run streaming
    v3 events (`graph.astream_events(..., version="v3")`): two dict lookups, so that a run
    outside one pays nothing more."""
    configurable = config.get("configurable")
    return bool(
        configurable
        and configurable.get(LANGGRAPH_V3_FLAG_KEY)
        and configurable.get(LANGGRAPH_STREAM_KEY) is not None
    )


def streaming_callback_handler(handlers: Sequence[Any]) -> Any | None:
    """The handler of `astream_events`/`astream_log` among a run's callback `handlers` (the
    one that taps a run's output iterator), if any. Private to langchain-core
    (`langchain_core.tracers._streaming._StreamingCallbackHandler`, checked with 1.8)."""
    from langchain_core.tracers._streaming import _StreamingCallbackHandler

    return next((h for h in handlers if isinstance(h, _StreamingCallbackHandler)), None)


def langgraph_tool_writer(handlers: Sequence[Any]) -> tuple[Callable[[Any], None] | None, Any]:
    """LangGraph's writer of the running tool call's output stream (None outside a LangGraph
    tool node, or without LangGraph), and the stream handler among `handlers` it writes for.
    Private to LangGraph (`langgraph.pregel._tools._tool_call_writer` and
    `StreamToolCallHandler`, checked with langgraph 1.2)."""
    try:
        from langgraph.pregel._tools import StreamToolCallHandler, _tool_call_writer
    except ImportError:  # LangGraph is optional: without it there is no such stream
        return None, None
    stream = next((h for h in handlers if isinstance(h, StreamToolCallHandler)), None)
    return _tool_call_writer.get(), stream


__all__ = [
    "LANGGRAPH_STREAM_KEY",
    "LANGGRAPH_V3_FLAG_KEY",
    "in_langgraph_v3_stream",
    "langgraph_tool_writer",
    "streaming_callback_handler",
]
