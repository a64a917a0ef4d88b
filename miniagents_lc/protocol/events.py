"""The shapes of protocol events: an envelope, lifecycle data and the data of message events.

Every shape is one of the typed dicts of the streaming protocol (`langchain_protocol`), so what
one run emits is exactly what a transport sends and what any client of the protocol reads.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal, NotRequired, TypeAlias, TypedDict, cast

from langchain_core.messages import ToolCall, UsageMetadata
from langchain_protocol.protocol import (
    AgentStatus,
    ContentBlockDeltaData,
    ContentBlockFinishData,
    ContentBlockStartData,
    LifecycleData,
    MessageErrorData,
    MessageFinishData,
    MessageRole,
    MessagesData,
    MessageStartData,
    UsageInfo,
)

from miniagents_lc.messages import AssistantMessage, Message, thaw

Namespace: TypeAlias = list[str]
"""The path of an agent call in its run: one `"alias:index"` segment per nested call."""

Method: TypeAlias = Literal["lifecycle", "messages"]
"""The protocol channels an agent tree emits on."""


class EventParams(TypedDict):
    """Where and when an event happened, and what it says."""

    namespace: Namespace
    timestamp: int
    data: Any


class ProtocolEvent(TypedDict):
    """One event of a run: `{"type": "event", "seq": n, "method": ..., "params": {...}}`.

    `seq` numbers the events of one run from 1, without gaps, in the order they were emitted;
    `params.timestamp` is wall-clock milliseconds, for display only.
    """

    type: Literal["event"]
    seq: int
    method: str
    params: EventParams


class BudgetLimit(TypedDict, total=False):
    """The limits of a call's own budget (`miniagents_lc.Budget`), those it sets."""

    max_tokens: int
    max_cost: float


class LifecyclePayload(LifecycleData):
    """Lifecycle data of one agent call: the protocol's `LifecycleData` (status, the agent's
    alias as `graph_name`, the error of a failed call) plus the call's namespace, and, on the
    `started` event of a call with a budget of its own, that budget's limits."""

    namespace: Namespace
    budget: NotRequired[BudgetLimit]


def protocol_event(
    seq: int, method: str, namespace: Namespace, data: Any, timestamp: int | None = None
) -> ProtocolEvent:
    """The envelope of one event, stamped with `timestamp` (ms; now if not given)."""
    if timestamp is None:
        timestamp = int(time.time() * 1000)
    return {
        "type": "event",
        "seq": seq,
        "method": method,
        "params": {"namespace": namespace, "timestamp": timestamp, "data": data},
    }


def lifecycle_data(
    status: AgentStatus,
    namespace: Namespace,
    alias: str,
    error: BaseException | None = None,
    budget: BudgetLimit | None = None,
) -> LifecyclePayload:
    """The lifecycle event of a call that has `status`; `error` says why it failed, `budget`
    what the call's own budget allows."""
    payload: LifecyclePayload = {"event": status, "namespace": namespace, "graph_name": alias}
    if error is not None:
        payload["error"] = f"{type(error).__name__}: {error}"
    if budget:
        payload["budget"] = budget
    return payload


def budget_limit(max_tokens: int | None, max_cost: float | None) -> BudgetLimit:
    """The limits a budget sets, as the `started` event carries them."""
    limit: BudgetLimit = {}
    if max_tokens is not None:
        limit["max_tokens"] = max_tokens
    if max_cost is not None:
        limit["max_cost"] = max_cost
    return limit


_ROLES: Mapping[str | None, MessageRole] = {
    "user": "human",
    "human": "human",
    "system": "system",
    "developer": "system",
}


def message_start(message_id: str, role: str | None) -> MessageStartData:
    """The first event of a message: its id and author role (`human`, `system`, else `ai`)."""
    return {"event": "message-start", "role": _ROLES.get(role, "ai"), "id": message_id}


def text_block_start() -> ContentBlockStartData:
    """The start of the message's text block (always index 0)."""
    return {"event": "content-block-start", "index": 0, "content": {"type": "text", "text": ""}}


def text_delta(text: str) -> ContentBlockDeltaData:
    """Text appended to the message's text block."""
    return {
        "event": "content-block-delta",
        "index": 0,
        "delta": {"type": "text-delta", "text": text},
    }


def text_block_finish(text: str) -> ContentBlockFinishData:
    """The end of the text block, with its whole text."""
    return {"event": "content-block-finish", "index": 0, "content": {"type": "text", "text": text}}


def tool_call_blocks(tool_calls: Sequence[ToolCall], first_index: int) -> list[MessagesData]:
    """Each tool call as a block of its own, from `first_index` on: a start with the call's id
    and name, then a finish with its complete arguments."""
    events: list[MessagesData] = []
    for index, call in enumerate(tool_calls, start=first_index):
        call_id = call.get("id")
        name = call["name"]
        events.append(
            {
                "event": "content-block-start",
                "index": index,
                "content": {"type": "tool_call", "id": call_id, "name": name, "args": {}},
            }
        )
        events.append(
            {
                "event": "content-block-finish",
                "index": index,
                "content": {
                    "type": "tool_call",
                    "id": call_id,
                    "name": name,
                    "args": thaw(call["args"]),
                },
            }
        )
    return events


def message_finish(message: Message) -> MessageFinishData:
    """The last event of a message: the usage, model and finish reason an `AssistantMessage`
    carries (other messages carry none)."""
    data: dict[str, Any] = {"event": "message-finish"}
    if isinstance(message, AssistantMessage):
        if message.usage is not None:
            data["usage"] = _usage_info(message.usage)
        metadata = {
            key: value
            for key, value in (
                ("model_name", message.model_name),
                ("finish_reason", message.finish_reason),
            )
            if value is not None
        }
        if metadata:
            data["metadata"] = metadata
    return cast(MessageFinishData, data)


def message_error(error: BaseException) -> MessageErrorData:
    """Ends a message that failed while streaming."""
    return {"event": "error", "message": f"{type(error).__name__}: {error}"}


def _usage_info(usage: UsageMetadata) -> UsageInfo:
    return cast(UsageInfo, thaw(usage))


__all__ = [
    "LifecyclePayload",
    "Method",
    "Namespace",
    "ProtocolEvent",
    "lifecycle_data",
    "message_error",
    "message_finish",
    "message_start",
    "protocol_event",
    "text_block_finish",
    "text_block_start",
    "text_delta",
    "tool_call_blocks",
]
