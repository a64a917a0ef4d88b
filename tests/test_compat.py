"""Every LangChain/LangGraph private the project uses still exists where `_compat` reaches it.

A release that moves one fails here, by name, with the versions it was checked against.
"""

from __future__ import annotations

from importlib.metadata import version

import pytest
from langchain_core.tracers._streaming import _StreamingCallbackHandler  # noqa: F401 (probed)

from miniagents_lc import _compat

CHECKED = "checked with langchain-core 1.8.x and langgraph 1.2.x"


def test_the_streaming_callback_handler_is_found_among_handlers() -> None:
    from langchain_core.tracers.event_stream import _AstreamEventsCallbackHandler

    handler = _AstreamEventsCallbackHandler()
    found = _compat.streaming_callback_handler([object(), handler])
    assert found is handler, f"langchain-core {version('langchain-core')}: {CHECKED}"
    assert _compat.streaming_callback_handler([object()]) is None


def test_langgraph_tool_writer_and_handler_are_where_compat_reaches_them() -> None:
    from langgraph.pregel._tools import StreamToolCallHandler, _tool_call_writer

    assert _tool_call_writer.get() is None  # outside a tool node
    handler = object.__new__(StreamToolCallHandler)
    writer, stream = _compat.langgraph_tool_writer([object(), handler])
    assert (writer, stream) == (None, handler), f"langgraph {version('langgraph')}: {CHECKED}"


@pytest.mark.parametrize(
    ("langgraph_name", "ours"),
    [
        ("CONFIG_KEY_STREAM", _compat.LANGGRAPH_STREAM_KEY),
        ("CONFIG_KEY_STREAM_MESSAGES_V2", _compat.LANGGRAPH_V3_FLAG_KEY),
    ],
)
def test_langgraph_still_names_its_stream_keys_as_compat_says(
    langgraph_name: str, ours: str
) -> None:
    from langgraph._internal import _constants

    assert getattr(_constants, langgraph_name) == ours, (
        f"langgraph {version('langgraph')}: {CHECKED}"
    )


@pytest.mark.parametrize(
    ("configurable", "inside"),
    [
        (None, False),
        ({}, False),
        ({_compat.LANGGRAPH_STREAM_KEY: print}, False),
        ({_compat.LANGGRAPH_V3_FLAG_KEY: True}, False),
        ({_compat.LANGGRAPH_V3_FLAG_KEY: False, _compat.LANGGRAPH_STREAM_KEY: print}, False),
        ({_compat.LANGGRAPH_V3_FLAG_KEY: True, _compat.LANGGRAPH_STREAM_KEY: print}, True),
    ],
)
def test_a_run_is_inside_a_langgraph_v3_stream_when_its_config_has_both_keys(
    configurable: dict[str, object] | None, inside: bool
) -> None:
    config = {} if configurable is None else {"configurable": configurable}
    assert _compat.in_langgraph_v3_stream(config) is inside
