"""Faults a scripted stream can end with, and the compiler from a reply plan to body steps.

Every fault is placed by `after`: the number of payload events (tokens, tool-call pieces, or
raw events of a recorded body) delivered before it strikes. The transport faults here mean the
same for every provider; an `ErrorEvent` (or a provider's own event fault) is encoded by the
provider kit, because each API words its in-stream errors differently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from ._sse import StreamPlan
from ._steps import Fail, Hang, Pause, Step

__all__ = [
    "ConnectionReset",
    "ErrorEvent",
    "EventEncoder",
    "Fault",
    "MalformedLine",
    "PlacedFault",
    "Stall",
    "Truncate",
    "compile_stream",
    "delays_for",
]


class PlacedFault(Protocol):
    """Any fault: something that strikes after `after` payload events."""

    @property
    def after(self) -> int: ...


@dataclass(frozen=True)
class Truncate:
    """End the body cleanly after `after` payload events, without the closing events.

    Nothing is raised by the transport; the stream just stops.
    """

    after: int


@dataclass(frozen=True)
class ErrorEvent:
    """Send the API's in-stream error event on the HTTP 200 stream after `after` payload events.

    Its wording is the provider kit's: an OpenAI chat stream gets `{"error": {...}}`, which the
    SDK raises as `openai.APIError`.
    """

    after: int
    message: str = "The server had an error while processing your request. Sorry about that!"
    error_type: str = "server_error"
    code: str | None = None


@dataclass(frozen=True)
class Stall:
    """Stop sending after `after` payload events, then raise the transport's ReadTimeout.

    The silence lasts the request's read timeout (what a real socket waits), or `seconds` if
    that is shorter; SDKs raise their timeout error. With no read timeout and no `seconds` it
    never ends, for testing the caller's own watchdog.
    """

    after: int
    seconds: float | None = None


@dataclass(frozen=True)
class ConnectionReset:
    """Break the connection after `after` payload events; SDKs raise their connection error.

    "read_error" is a TCP reset (the transport's ReadError); "remote_protocol_error" is a peer
    that closed mid-body (RemoteProtocolError).
    """

    after: int
    kind: Literal["read_error", "remote_protocol_error"] = "read_error"


@dataclass(frozen=True)
class MalformedLine:
    """Send a `data:` line that is not valid JSON after `after` payload events.

    The default names its event "message" (what an unnamed event means in SSE), because some
    SDKs skip unnamed events without parsing them; every SDK then fails to decode its JSON.
    """

    after: int
    line: bytes = b'event: message\ndata: {"id":"broken","choices":[\n\n'


#: The faults every provider kit understands.
Fault = Truncate | ErrorEvent | Stall | ConnectionReset | MalformedLine

#: Encodes an event fault (`ErrorEvent` or a provider's own) struck after `after` payload events.
EventEncoder = Callable[[PlacedFault, int], bytes]


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
    fault: PlacedFault | None,
    encode_event: EventEncoder | None = None,
) -> list[Step]:
    """Turn a reply plan into body steps: a pause before each payload event, then the tail, or
    the fault in its place.

    Faults other than the transport ones (`Truncate`, `Stall`, `ConnectionReset`,
    `MalformedLine`) are events, written by `encode_event`.
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
    elif isinstance(fault, Truncate):
        pass
    elif isinstance(fault, Stall):
        steps.append(Hang(fault.seconds))
    elif isinstance(fault, ConnectionReset):
        steps.append(Fail(fault.kind))
    elif isinstance(fault, MalformedLine):
        steps.append(fault.line)
    elif encode_event is None:
        raise ValueError(f"{type(fault).__name__} needs a provider's reply builder to encode it")
    else:
        steps.append(encode_event(fault, sent))
    return steps
