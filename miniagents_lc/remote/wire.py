"""The wire format shared by server and client: paths, headers and the SSE control events.

Every protocol event goes out as one SSE event with `id:` = its `seq` and the event as JSON
`data:`. Two kinds of control event carry no id: `reply` (`{"index": i, "id": message_id}`:
the i-th message of the root agent's reply is the message with that id, so a client rebuilds
the reply in its order) and `end` (`{"status": ...}`, the last event of a stream).
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

RUN_ID_HEADER = "x-run-id"
"""The response header of a POST naming the run, to resume it by."""

REPLY_EVENT = "reply"
END_EVENT = "end"


def run_path(agent: str) -> str:
    """Where a POST starts a run of `agent`."""
    return f"/agents/{agent}/runs"


def events_path(run_id: str) -> str:
    """Where a GET resumes the events of a run."""
    return f"/runs/{run_id}/events"


class EndData(TypedDict):
    """The data of the `end` event: how the run ended (`completed`, `failed`, `cancelled`, or
    `lost` when its worker stopped or its events expired) and, unless completed, why."""

    status: Literal["completed", "failed", "cancelled", "lost"]
    error_type: NotRequired[str]
    message: NotRequired[str]


def error_end(status: Literal["failed", "cancelled", "lost"], error: BaseException) -> EndData:
    """The `end` data of a run that ended with `error`."""
    return {"status": status, "error_type": type(error).__name__, "message": str(error)}


__all__ = [
    "END_EVENT",
    "REPLY_EVENT",
    "RUN_ID_HEADER",
    "EndData",
    "error_end",
    "events_path",
    "run_path",
]
