"""Mid-stream faults a scripted reply can end with, and the compiler from reply to body steps.

Every fault is placed by `after`: the number of payload events (tokens, tool-call pieces, or
raw events for `OpenAIMock.sse`) delivered before it strikes. What the SDK does with each is
listed in shared/notes/openai-streaming.md and pinned by the kit's own tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from ._testing_body import Fail, Hang, Pause, Step
from ._testing_sse import StreamPlan

__all__ = [
    "ConnectionReset",
    "ErrorEvent",
    "Fault",
    "MalformedLine",
    "ResponseFailed",
    "Stall",
    "Truncate",
    "compile_stream",
    "delays_for",
]


@dataclass(frozen=True)
class Truncate:
    """End the body cleanly after `after` payload events: no finish chunk, usage or `[DONE]`.

    The SDK raises nothing; the stream just stops.
    """

    after: int


@dataclass(frozen=True)
class ErrorEvent:
    """Send an error event on the HTTP 200 stream after `after` payload events.

    Chat streams get `{"error": {...}}`, which the SDK raises as `openai.APIError`; Responses
    streams get an `error` event, which the SDK yields as `ResponseErrorEvent`.
    """

    after: int
    message: str = "The server had an error while processing your request. Sorry about that!"
    error_type: str = "server_error"
    code: str | None = None


@dataclass(frozen=True)
class ResponseFailed:
    """Responses API only: send `response.failed` after `after` deltas (yielded, not raised)."""

    after: int
    code: str = "server_error"
    message: str = "An error occurred while processing your request."


@dataclass(frozen=True)
class Stall:
    """Stop sending after `after` payload events, then raise the transport's ReadTimeout.

    The silence lasts the request's read timeout (what a real socket waits), or `seconds` if
    that is shorter; the SDK raises `openai.APITimeoutError`. With no read timeout and no
    `seconds` it never ends, for testing the caller's own watchdog.
    """

    after: int
    seconds: float | None = None


@dataclass(frozen=True)
class ConnectionReset:
    """Break the connection after `after` payload events; the SDK raises APIConnectionError.

    "read_error" is a TCP reset (httpcore ReadError); "remote_protocol_error" is a peer that
    closed mid-body (httpcore RemoteProtocolError).
    """

    after: int
    kind: Literal["read_error", "remote_protocol_error"] = "read_error"


@dataclass(frozen=True)
class MalformedLine:
    """Send a `data:` line that is not valid JSON after `after` payload events.

    The SDK raises a bare `json.JSONDecodeError` (not an openai exception).
    """

    after: int
    line: bytes = b'data: {"id":"chatcmpl-broken","object":"chat.completion.chunk","choices":[\n\n'


Fault = Truncate | ErrorEvent | ResponseFailed | Stall | ConnectionReset | MalformedLine


def delays_for(delay: float | Sequence[float], count: int) -> list[float]:
    """Expand `delay` to one pause per payload event; a list must have exactly `count` items."""
    if isinstance(delay, int | float):
        return [float(delay)] * count
    delays = [float(seconds) for seconds in delay]
    if len(delays) != count:
        raise ValueError(f"got {len(delays)} delays for {count} payload events")
    return delays


def compile_stream(
    plan: StreamPlan,
    delays: Sequence[float],
    fault: Fault | None,
    fault_event: Callable[[Fault, int], bytes],
) -> list[Step]:
    """Turn a reply plan into body steps, cut by `fault` when one is given.

    `fault_event(fault, after)` encodes the API-specific event of ErrorEvent/ResponseFailed.
    """
    steps: list[Step] = [*plan.head]
    count = len(plan.payload)
    if fault is not None and not 0 <= fault.after <= count:
        raise ValueError(f"fault after {fault.after} events, but the reply has only {count}")
    sent = count if fault is None else fault.after
    for seconds, event in zip(delays[:sent], plan.payload[:sent], strict=True):
        if seconds > 0:
            steps.append(Pause(seconds))
        steps.append(event)
    if fault is None:
        steps.extend(plan.tail)
    elif isinstance(fault, ErrorEvent | ResponseFailed):
        steps.append(fault_event(fault, sent))
    elif isinstance(fault, Stall):
        steps.append(Hang(fault.seconds))
    elif isinstance(fault, ConnectionReset):
        steps.append(Fail(fault.kind))
    elif isinstance(fault, MalformedLine):
        steps.append(fault.line)
    return steps
