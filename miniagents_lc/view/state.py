"""`RunState`: what the protocol events of one run say about each agent call, so far.

It is a consumer of the event stream (`AgentTreeEvents`, `AgentRunStream.events()`), never a
tracker of its own: feed it the events in `seq` order — from the start, or replayed with
`since=` — and it holds, per agent call, its place in the tree, its state, its times (start,
first token, end), the text it streamed and the usage of its messages, by model. The live tree,
the usage breakdown and the timeline all read it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from langchain_core.messages import UsageMetadata
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, add_usage

from miniagents_lc.agents.lowlevel import UNKNOWN_MODEL, total_usage, usage_by_model_of
from miniagents_lc.protocol import ProtocolEvent

CallStatus = Literal["waiting", "streaming", "done", "failed"]
"""`waiting` until the call or a call beneath it streams text, then `streaming` until its reply
ends: `done`, or `failed` (with an error, or cut off by the end of the run)."""

_TAIL = 200


@dataclass
class CallState:
    """One agent call as its events describe it. Times are wall-clock milliseconds."""

    namespace: tuple[str, ...]
    alias: str
    started_ms: int
    status: CallStatus = "waiting"
    first_token_ms: int | None = None
    ended_ms: int | None = None
    error: str | None = None
    children: list[CallState] = field(default_factory=list)
    deltas: int = 0
    """How many text deltas the call streamed (a delta carries one token or a batch)."""
    messages: int = 0
    """How many messages of its reply the call produced itself."""
    tail: str = ""
    """The end of the text it streamed (at most 200 characters)."""
    usage_by_model: dict[str, UsageMetadata] = field(default_factory=dict)
    """The usage of the call's own messages, summed per model name."""
    budget: Mapping[str, float] | None = None
    """The limits of the call's own budget (`max_tokens`, `max_cost`), if it has one."""

    @property
    def usage(self) -> UsageMetadata | None:
        """The usage of the call's own messages (None if they reported none)."""
        return total_usage(self.usage_by_model.values())

    @property
    def subtree_usage(self) -> UsageMetadata | None:
        """The usage of this call and of every call beneath it."""
        return total_usage(call.usage for call in self.walk())

    def subtree_usage_by_model(self) -> dict[str, UsageMetadata]:
        """The usage of this call and every call beneath it, per model name."""
        return usage_by_model_of(self.walk())

    def walk(self) -> Iterator[CallState]:
        """This call, then the calls beneath it, depth first in the order they were made."""
        yield self
        for child in self.children:
            yield from child.walk()

    @property
    def subtree_first_token_ms(self) -> int | None:
        """When this call or a call beneath it streamed its first text."""
        firsts = [call.first_token_ms for call in self.walk() if call.first_token_ms is not None]
        return min(firsts, default=None)

    @property
    def finished(self) -> bool:
        """Whether the call's reply has ended."""
        return self.status in ("done", "failed")

    def elapsed_ms(self, now_ms: int | None = None) -> int:
        """From the call's start to its end, or to `now_ms` (default: now) while it runs."""
        end = self.ended_ms
        if end is None:
            end = now_ms if now_ms is not None else int(time.time() * 1000)
        return max(0, end - self.started_ms)


class RunState:
    """The calls of one run, built from its protocol events (`apply`, or `apply_event` for an
    event envelope). Events of a namespace never started (an outer stream's) are ignored."""

    def __init__(self) -> None:
        self.calls: dict[tuple[str, ...], CallState] = {}
        self.roots: list[CallState] = []
        self.last_seq = 0
        """The `seq` of the last event applied: resume with `events(since=state.last_seq)`."""
        self.ended = False
        self._open: set[tuple[str, ...]] = set()

    @property
    def root(self) -> CallState | None:
        """The first call of the run (the agent that was run), once started."""
        return self.roots[0] if self.roots else None

    def apply_event(self, event: ProtocolEvent) -> None:
        """Apply one event of a run's log."""
        params = event["params"]
        self.apply(event["method"], params["namespace"], params["data"], params["timestamp"])
        self.last_seq = event["seq"]

    def apply(
        self, method: str, namespace: Sequence[str], data: Any, timestamp_ms: int | None = None
    ) -> None:
        """Apply one event given as an `EventSink` receives it (`timestamp_ms`: now if None)."""
        if timestamp_ms is None:
            timestamp_ms = int(time.time() * 1000)
        where = tuple(namespace)
        if method == "lifecycle":
            self._lifecycle(where, data, timestamp_ms)
        elif method == "messages":
            call = self.calls.get(where)
            if call is not None:
                self._message(call, data, timestamp_ms)

    def _lifecycle(self, where: tuple[str, ...], data: Mapping[str, Any], now: int) -> None:
        event = data["event"]
        if event == "started":
            alias = data.get("graph_name") or (where[-1].rpartition(":")[0] if where else "")
            started = CallState(where, str(alias), now)
            budget = data.get("budget")
            if isinstance(budget, Mapping) and budget:
                started.budget = dict(budget)
            self.calls[where] = started
            parent = self._parent_of(where)
            (parent.children if parent is not None else self.roots).append(started)
            return
        call = self.calls.get(where)
        if call is None:
            return
        call.ended_ms = now
        if event == "completed":
            call.status = "done"
        else:
            call.status = "failed"
            call.error = data.get("error") or "The run ended before this agent call did."

    def _parent_of(self, where: tuple[str, ...]) -> CallState | None:
        for length in range(len(where) - 1, -1, -1):
            parent = self.calls.get(where[:length])
            if parent is not None:
                return parent
        return None

    def _streaming(self, call: CallState | None) -> None:
        """`call` streams text: so do the calls above it, whose replies it works for."""
        while call is not None and call.status == "waiting":
            call.status = "streaming"
            call = self._parent_of(call.namespace)

    def _message(self, call: CallState, data: Mapping[str, Any], now: int) -> None:
        event = data["event"]
        if event == "message-start":
            call.messages += 1
        elif event == "content-block-delta":
            delta = data["delta"]
            if delta.get("type") == "text-delta" and delta["text"]:
                if call.first_token_ms is None:
                    call.first_token_ms = now
                    self._streaming(call)
                call.deltas += 1
                call.tail = (call.tail + delta["text"])[-_TAIL:]
        elif event == "message-finish":
            usage = data.get("usage")
            if usage:
                model = (data.get("metadata") or {}).get("model_name") or UNKNOWN_MODEL
                known = call.usage_by_model.get(model)
                own = _usage(usage)
                call.usage_by_model[model] = own if known is None else add_usage(known, own)


def _usage(info: Mapping[str, Any]) -> UsageMetadata:
    input_tokens = int(info.get("input_tokens", 0))
    output_tokens = int(info.get("output_tokens", 0))
    usage = UsageMetadata(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=int(info.get("total_tokens", input_tokens + output_tokens)),
    )
    if info.get("input_token_details"):
        usage["input_token_details"] = cast(InputTokenDetails, dict(info["input_token_details"]))
    if info.get("output_token_details"):
        usage["output_token_details"] = cast(OutputTokenDetails, dict(info["output_token_details"]))
    return usage


__all__ = ["UNKNOWN_MODEL", "CallState", "CallStatus", "RunState"]
