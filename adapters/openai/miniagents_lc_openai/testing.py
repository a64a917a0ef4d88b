"""Offline test kit: scripted OpenAI streaming replies served to the real `openai` SDK.

`OpenAIMock` patches the SDK's transport through respx (httpcore2 for openai 3, httpcore for
openai 1.x/2.x and legacy `httpx` clients), so tests drive the genuine client code, retries
and SSE parsing included, without a network. Replies are lazy and paced, and can end in the
faults real streams end in. Installing the package also registers the pytest fixtures
`openai_mock` and `openai_client` (through the `pytest11` entry point to this module).

    async def test_reply(openai_mock, openai_client):
        openai_mock.chat(["Hel", "lo"], delay=0.01)
        stream = await openai_client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        assert text == "Hello"
"""

from __future__ import annotations

import importlib.util

from ._testing_body import RecordedRequest
from ._testing_faults import (
    ConnectionReset,
    ErrorEvent,
    Fault,
    MalformedLine,
    ResponseFailed,
    Stall,
    Truncate,
)
from ._testing_mock import DEFAULT_BASE_URL, OpenAIMock, ScriptedReply, UnscriptedRequestError
from ._testing_mocker import (
    ANY_STACK_MOCKER,
    HTTPCORE2_MOCKER,
    AnyStackMocker,
    HTTPCore2Mocker,
    httpcore2_available,
)
from ._testing_responses import ResponsesStreamBuilder
from ._testing_sse import (
    ChatStreamBuilder,
    StreamPlan,
    ToolCall,
    chat_error_event,
    chat_usage,
    encode_sse,
    openai_error_body,
    responses_usage,
    split_sse,
)

__all__ = [
    "ANY_STACK_MOCKER",
    "DEFAULT_BASE_URL",
    "HTTPCORE2_MOCKER",
    "AnyStackMocker",
    "ChatStreamBuilder",
    "ConnectionReset",
    "ErrorEvent",
    "Fault",
    "HTTPCore2Mocker",
    "MalformedLine",
    "OpenAIMock",
    "RecordedRequest",
    "ResponseFailed",
    "ResponsesStreamBuilder",
    "ScriptedReply",
    "Stall",
    "StreamPlan",
    "ToolCall",
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

# The fixtures need pytest; the rest of the kit (e.g. `with OpenAIMock():` in a script) does not.
if importlib.util.find_spec("pytest") is not None:
    from ._testing_pytest import openai_client, openai_mock, pytest_runtest_makereport

    __all__ += ["openai_client", "openai_mock", "pytest_runtest_makereport"]
