"""Offline test kit: scripted OpenAI streaming replies served to the real `openai` SDK.

`OpenAIMock` patches the SDK's transport through respx (httpcore2 for openai 3, httpcore for
openai 1.x/2.x and legacy `httpx` clients), so tests drive the genuine client code, retries
and SSE parsing included, without a network. Replies are lazy and paced, and can end in the
faults real streams end in. It is built on the provider-neutral kit `miniagents_lc.testing`.
Installing the package also registers the pytest fixtures `openai_mock` and `openai_client`
(through the `pytest11` entry point to `miniagents_lc_openai.testing.pytest_plugin`).

    async def test_reply(openai_mock, openai_client):
        openai_mock.chat(["Hel", "lo"], delay=0.01)
        stream = await openai_client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        assert text == "Hello"

Importing this package needs no optional dependency; its names import the kit on first use,
which needs the extra: `pip install -e ".[testing]" -e "./adapters/openai[testing]"`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from miniagents_lc.testing import MissingExtraError, lazy_exports

if TYPE_CHECKING:
    from miniagents_lc.testing import (
        ANY_STACK_MOCKER,
        HTTPCORE2_MOCKER,
        AnyStackMocker,
        ConnectionReset,
        ErrorEvent,
        HTTPCore2Mocker,
        MalformedLine,
        RecordedRequest,
        ScriptedReply,
        Stall,
        StreamPlan,
        Truncate,
        UnscriptedRequestError,
        encode_sse,
        httpcore2_available,
        split_sse,
    )

    from ._chat import (
        ChatStreamBuilder,
        ToolCall,
        ToolStream,
        chat_error_event,
        chat_usage,
        openai_error_body,
    )
    from ._mock import DEFAULT_BASE_URL, OpenAIMock
    from ._responses import (
        ResponseFailed,
        ResponsesLayout,
        ResponsesStreamBuilder,
        responses_usage,
    )
    from ._scripts import Fault

__all__ = [
    "ANY_STACK_MOCKER",
    "DEFAULT_BASE_URL",
    "HTTPCORE2_MOCKER",
    "INSTALL",
    "AnyStackMocker",
    "ChatStreamBuilder",
    "ConnectionReset",
    "ErrorEvent",
    "Fault",
    "HTTPCore2Mocker",
    "MalformedLine",
    "MissingExtraError",
    "OpenAIMock",
    "RecordedRequest",
    "ResponseFailed",
    "ResponsesLayout",
    "ResponsesStreamBuilder",
    "ScriptedReply",
    "Stall",
    "StreamPlan",
    "ToolCall",
    "ToolStream",
    "Truncate",
    "UnscriptedRequestError",
    "chat_error_event",
    "chat_usage",
    "encode_sse",
    "httpcore2_available",
    "openai_error_body",
    "responses_usage",
    "split_sse",
]

#: The requirement that brings this kit's optional dependencies.
INSTALL = '-e ".[testing]" -e "./adapters/openai[testing]"'

# The neutral names are the core kit's, resolved (and imported) by it.
_MODULES = ("._chat", "._responses", "miniagents_lc.testing", "._scripts", "._mock")

__getattr__, __dir__ = lazy_exports(__name__, __all__, _MODULES, install=INSTALL)
