"""Offline test kit: scripted Anthropic Messages streams served to the real `anthropic` SDK.

`AnthropicMock` patches the SDK's transport (httpcore2, under the httpx2 client the SDK runs
on) through respx, so tests drive the genuine client code, retries and SSE parsing included,
without a network. Replies are lazy and paced: thinking, text and tool uses with their input
split anywhere, usage split across `message_start` and `message_delta`, pings, and the faults
real streams end in. It is built on the provider-neutral kit `miniagents_lc.testing`.
Installing the package also registers the pytest fixtures `anthropic_mock` and
`anthropic_client` (through the `pytest11` entry point to
`miniagents_lc_anthropic.testing.pytest_plugin`).

    async def test_reply(anthropic_mock, anthropic_client):
        anthropic_mock.messages(["Hel", "lo"], delay=0.01)
        stream = await anthropic_client.messages.create(
            model="claude-sonnet-4-5", max_tokens=100, stream=True,
            messages=[{"role": "user", "content": "hi"}],
        )
        text = "".join([e.delta.text async for e in stream if e.type == "content_block_delta"])
        assert text == "Hello"

Importing this package needs no optional dependency; its names import the kit on first use,
which needs the extra: `pip install -e ".[testing]" -e "./adapters/anthropic[testing]"`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from miniagents_lc.testing import MissingExtraError, lazy_exports

if TYPE_CHECKING:
    from miniagents_lc.testing import (
        ConnectionReset,
        ErrorEvent,
        MalformedLine,
        RecordedRequest,
        ScriptedReply,
        Stall,
        StreamPlan,
        Truncate,
        UnscriptedRequestError,
        encode_sse,
        split_sse,
    )

    from ._mock import DEFAULT_BASE_URL, AnthropicMock
    from ._stream import (
        Fault,
        MessagesStreamBuilder,
        ToolUse,
        anthropic_error_body,
        anthropic_error_event,
        event,
        messages_usage,
    )

__all__ = [
    "DEFAULT_BASE_URL",
    "INSTALL",
    "AnthropicMock",
    "ConnectionReset",
    "ErrorEvent",
    "Fault",
    "MalformedLine",
    "MessagesStreamBuilder",
    "MissingExtraError",
    "RecordedRequest",
    "ScriptedReply",
    "Stall",
    "StreamPlan",
    "ToolUse",
    "Truncate",
    "UnscriptedRequestError",
    "anthropic_error_body",
    "anthropic_error_event",
    "encode_sse",
    "event",
    "messages_usage",
    "split_sse",
]

#: The requirement that brings this kit's optional dependencies.
INSTALL = '-e ".[testing]" -e "./adapters/anthropic[testing]"'

# The neutral names are the core kit's, resolved (and imported) by it.
_MODULES = ("._stream", "miniagents_lc.testing", "._mock")

__getattr__, __dir__ = lazy_exports(__name__, __all__, _MODULES, install=INSTALL)
