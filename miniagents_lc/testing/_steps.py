"""The steps a scripted response body plays: bytes to send, pauses, and transport failures."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Build", "Delay", "Fail", "FailKind", "Hang", "Pause", "Step"]

FailKind = Literal["read_timeout", "read_error", "remote_protocol_error"]


@dataclass(frozen=True)
class Pause:
    """Wait `seconds` before the next step, as the network would between two reads.

    A pause longer than the request's read timeout ends in the transport's ReadTimeout once
    that timeout has passed, as a real socket read would.
    """

    seconds: float


@dataclass(frozen=True)
class Fail:
    """Raise the transport's exception of `kind`, as a broken connection would."""

    kind: FailKind


@dataclass(frozen=True)
class Hang:
    """Send nothing more, then raise the transport's ReadTimeout.

    The wait is `seconds` or the request's read timeout, whichever is shorter; with neither it
    lasts until the reader gives up (is cancelled), as a dead peer does under `timeout=None`.
    """

    seconds: float | None = None


Step = bytes | Pause | Fail | Hang

#: Turns the decoded JSON request body into the steps of its reply, once per request, because a
#: faithful reply may depend on the request (the model is echoed back, options shape the stream).
Build = Callable[[Mapping[str, Any]], list[Step]]

#: A pause before each payload event: one for all, or a sequence with one per event.
Delay = float | Sequence[float]
