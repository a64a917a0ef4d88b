"""Provider-neutral core of the offline test kits: scripted HTTP replies served to real SDKs.

`APIMock` patches the transports under the provider SDKs through respx (httpcore2, under
httpx2, which openai 3.x and anthropic 2.15 use; httpcore, under httpx, for older SDK releases
and legacy clients), so a test drives the genuine client code (retries, SSE parsing, error
mapping) without a network. Replies are lazy and paced, one event per read, and can end in the
faults real streams end in; every request is recorded with the times its reply started,
delivered its first byte and finished. Provider kits (such as `miniagents_lc_openai.testing`)
add their API's stream builders on top.

Two more pieces serve tests above the HTTP layer: the chat-model doubles (`ScriptedChatModel`,
`ScriptedToolModel`: offline LangChain chat models, which the demo runs on) and
`AdapterContract`, the behaviours every provider adapter promises, which each adapter's tests
subclass.

Importing this package needs only the standard library; a name is imported on first use (the
chat-model doubles need only langchain-core, the contract pytest), and one whose module needs
respx or httpx raises `MissingExtraError` without them, naming the install command, run from
the root of a clone: `pip install -e ".[testing]"`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import MissingExtraError, import_kit_module, lazy_exports

if TYPE_CHECKING:
    from ._body import Outcome, RecordedRequest, ScriptedBody
    from ._faults import (
        ConnectionReset,
        ErrorEvent,
        EventEncoder,
        Fault,
        MalformedLine,
        PlacedFault,
        Stall,
        Truncate,
        compile_stream,
        delays_for,
    )
    from ._loopback import LoopbackSSEServer
    from ._mock import (
        JSON_HEADERS,
        SSE_HEADERS,
        APIMock,
        ScriptedReply,
        SSEBody,
        UnscriptedRequestError,
    )
    from ._settle import apoll_until, poll_until, settle
    from ._sse import StreamPlan, encode_sse, split_sse
    from ._steps import Build, Delay, Fail, FailKind, Hang, Pause, Step
    from ._transports import (
        ANY_STACK_MOCKER,
        HTTPCORE2_MOCKER,
        AnyStackMocker,
        HTTPCore2Mocker,
        Stack,
        httpcore2_available,
    )
    from .adapter_contract import AdapterContract, ContractReply, ContractToolCall
    from .chat_models import ScriptedChatModel, ScriptedError, ScriptedToolModel, split_into_tokens

__all__ = [
    "ANY_STACK_MOCKER",
    "HTTPCORE2_MOCKER",
    "INSTALL",
    "JSON_HEADERS",
    "SSE_HEADERS",
    "APIMock",
    "AdapterContract",
    "AnyStackMocker",
    "Build",
    "ConnectionReset",
    "ContractReply",
    "ContractToolCall",
    "Delay",
    "ErrorEvent",
    "EventEncoder",
    "Fail",
    "FailKind",
    "Fault",
    "HTTPCore2Mocker",
    "Hang",
    "LoopbackSSEServer",
    "MalformedLine",
    "MissingExtraError",
    "Outcome",
    "Pause",
    "PlacedFault",
    "RecordedRequest",
    "SSEBody",
    "ScriptedBody",
    "ScriptedChatModel",
    "ScriptedError",
    "ScriptedReply",
    "ScriptedToolModel",
    "Stack",
    "Stall",
    "Step",
    "StreamPlan",
    "Truncate",
    "UnscriptedRequestError",
    "apoll_until",
    "compile_stream",
    "delays_for",
    "encode_sse",
    "httpcore2_available",
    "import_kit_module",
    "lazy_exports",
    "poll_until",
    "settle",
    "split_into_tokens",
    "split_sse",
]

#: What `pip install` needs, from the root of a clone, to bring this kit's optional
#: dependencies.
INSTALL = '-e ".[testing]"'

# Modules that need only the standard library come first.
_MODULES = (
    "._settle",
    "._sse",
    "._steps",
    "._faults",
    "._loopback",
    "._transports",
    "._body",
    "._mock",
)

# The chat-model doubles (langchain-core) and the contract (pytest) load for their own names only.
_OWNERS = {
    **dict.fromkeys(
        ("ScriptedChatModel", "ScriptedError", "ScriptedToolModel", "split_into_tokens"),
        ".chat_models",
    ),
    **dict.fromkeys(("AdapterContract", "ContractReply", "ContractToolCall"), ".adapter_contract"),
}

__getattr__, __dir__ = lazy_exports(__name__, __all__, _MODULES, install=INSTALL, owners=_OWNERS)
