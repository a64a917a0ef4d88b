"""Lazy, one-shot response bodies that play a script of bytes, pauses and transport faults.

Faults are raised as the transport's own httpcore/httpcore2 exceptions, from inside the body,
because that is the only place an SDK maps them to its timeout and connection errors the way it
does for a real socket. A mock enforces no timeouts, so a stall measures the request's read
timeout itself and then raises.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
import httpx

from ._steps import Fail, FailKind, Hang, Pause, Step
from ._transports import Stack, transport_module

__all__ = ["Outcome", "RecordedRequest", "ScriptedBody"]

Outcome = Literal["pending", "complete", "fault", "closed"]

_FAILURES: dict[FailKind, tuple[str, str]] = {
    "read_timeout": ("ReadTimeout", "timed out"),
    "read_error": ("ReadError", "[Errno 104] Connection reset by peer"),
    "remote_protocol_error": (
        "RemoteProtocolError",
        "peer closed connection without sending complete message body (incomplete chunked read)",
    ),
}


@dataclass
class RecordedRequest:
    """One request the mock answered, with the times (from `time.monotonic()`) its reply began,
    delivered its first body bytes and finished, and when each piece of the body was handed to
    the client (`sent_at`: one time per event for a streamed reply, which goes one event per
    read; the next is handed over only when the client reads on).

    `outcome` says how the body ended: "complete" (every scripted byte was delivered), "fault"
    (a scripted transport error was raised), "closed" (the client stopped reading first), or
    "pending" (still open).
    """

    method: str
    url: str
    headers: httpx.Headers
    content: bytes
    stack: Stack
    started_at: float
    status: int = 0
    first_byte_at: float | None = None
    finished_at: float | None = None
    outcome: Outcome = "pending"
    sent_at: list[float] = field(default_factory=list)

    @property
    def path(self) -> str:
        """The URL path, such as "/v1/chat/completions" or "/v1/messages"."""
        return httpx.URL(self.url).path

    @property
    def json(self) -> Any:
        """The request body decoded from JSON."""
        return json.loads(self.content)

    def finish(self, outcome: Outcome) -> None:
        """Stamp the end of the body once; later calls keep the first outcome."""
        if self.outcome == "pending":
            self.outcome = outcome
            self.finished_at = time.monotonic()


class ScriptedBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that plays `steps` once, for a sync or an async reader.

    It is one-shot like a socket: an SDK may re-read the body to drain it after its last event,
    and a replayable body would send the whole reply again.
    """

    def __init__(
        self,
        steps: Sequence[Step],
        *,
        record: RecordedRequest,
        read_timeout: float | None,
    ) -> None:
        self._steps = tuple(steps)
        self._record = record
        self._read_timeout = read_timeout
        self._claimed = False
        self._last_bytes = max(
            (i for i, step in enumerate(self._steps) if isinstance(step, bytes)), default=-1
        )

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._claim():
            return
        try:
            for index, step in enumerate(self._steps):
                if isinstance(step, bytes):
                    self._before_send(index)
                    yield step
                elif isinstance(step, Pause):
                    await anyio.sleep(self._bounded(step.seconds))
                    self._check_timeout(step)
                elif isinstance(step, Hang):
                    await self._hang_async(step)
                else:
                    raise self._error(step.kind)
            self._record.finish("complete")
        except Exception:
            self._record.finish("fault")
            raise
        finally:
            self._record.finish("closed")

    def __iter__(self) -> Iterator[bytes]:
        if self._claim():
            return
        try:
            for index, step in enumerate(self._steps):
                if isinstance(step, bytes):
                    self._before_send(index)
                    yield step
                elif isinstance(step, Pause):
                    time.sleep(self._bounded(step.seconds))
                    self._check_timeout(step)
                elif isinstance(step, Hang):
                    self._hang_sync(step)
                else:
                    raise self._error(step.kind)
            self._record.finish("complete")
        except Exception:
            self._record.finish("fault")
            raise
        finally:
            self._record.finish("closed")

    async def aclose(self) -> None:
        self._record.finish("closed")

    def close(self) -> None:
        self._record.finish("closed")

    def _claim(self) -> bool:
        """Return True when the body was already read (so this read must yield nothing)."""
        used, self._claimed = self._claimed, True
        return used

    def _before_send(self, index: int) -> None:
        now = time.monotonic()
        self._record.sent_at.append(now)
        if self._record.first_byte_at is None:
            self._record.first_byte_at = now
        if index == self._last_bytes and not self._has_fault_after(index):
            # The reader may close right after the last bytes (an SDK stops at its last event);
            # the reply still counts as delivered in full, at this moment.
            self._record.finish("complete")

    def _has_fault_after(self, index: int) -> bool:
        return any(isinstance(step, Fail | Hang) for step in self._steps[index + 1 :])

    def _bounded(self, seconds: float) -> float:
        return seconds if self._read_timeout is None else min(seconds, self._read_timeout)

    def _check_timeout(self, step: Pause) -> None:
        if self._read_timeout is not None and step.seconds > self._read_timeout:
            raise self._error("read_timeout")

    def _hang_seconds(self, step: Hang) -> float | None:
        if step.seconds is None:
            return self._read_timeout
        return self._bounded(step.seconds)

    async def _hang_async(self, step: Hang) -> None:
        seconds = self._hang_seconds(step)
        if seconds is None:
            await anyio.sleep_forever()
        else:
            await anyio.sleep(seconds)
        raise self._error("read_timeout")

    def _hang_sync(self, step: Hang) -> None:
        seconds = self._hang_seconds(step)
        if seconds is None:
            threading.Event().wait()
        else:
            time.sleep(seconds)
        raise self._error("read_timeout")

    def _error(self, kind: FailKind) -> Exception:
        class_name, message = _FAILURES[kind]
        error: Exception = getattr(transport_module(self._record.stack), class_name)(message)
        return error
