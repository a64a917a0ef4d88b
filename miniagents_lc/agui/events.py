"""`agui_events`: one run of an agent tree as AG-UI events — the one mapping from our protocol
events (`miniagents_lc.protocol`) to AG-UI's (`ag_ui.core`).

Two readers of the same run feed one ordered stream:

- the run's reply, message by message in the root's reply order (`run.messages`, the order
  `.astream()` gives): each message becomes `TEXT_MESSAGE_START`, a `TEXT_MESSAGE_CONTENT` per
  delta as it is produced, its tool calls (`TOOL_CALL_START` / `TOOL_CALL_ARGS` /
  `TOOL_CALL_END`), reasoning (`REASONING_*`) where an adapter produced some, then
  `TEXT_MESSAGE_END`; one message at a time, as a local reader sees them;
- the run's raw events (`run.events()`): every agent call below the root becomes a
  `SUBAGENT_STARTED` (a fresh `subagentRunId` per call, `parentSubagentRunId` for nesting) as
  it is made, and `SUBAGENT_FINISHED` (or `SUBAGENT_ERROR`) once it has ended *and* the messages
  it produced have been sent; their usage is summed for `RUN_FINISHED`.

Every event a sub-agent's call produced carries that call's `subagentRunId`; the root's carry
none. The stream opens with `RUN_STARTED` and closes with `RUN_FINISHED` (the run's token usage
per model) or `RUN_ERROR`.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

from ag_ui.core import (
    BaseEvent,
    ReasoningEndEvent,
    ReasoningMessageContentEvent,
    ReasoningMessageEndEvent,
    ReasoningMessageStartEvent,
    ReasoningStartEvent,
    RunErrorEvent,
    RunFinishedEvent,
    RunStartedEvent,
    SubagentErrorEvent,
    SubagentFinishedEvent,
    SubagentStartedEvent,
    TextMessageContentEvent,
    TextMessageEndEvent,
    TextMessageStartEvent,
    TokenUsage,
    ToolCallArgsEvent,
    ToolCallEndEvent,
    ToolCallStartEvent,
    aggregate_token_usage,
    token_usage_from_langchain_metadata,
)
from langchain_core.language_models.chat_model_stream import AsyncChatModelStream

from miniagents_lc.protocol import AgentRunStream

Namespace = tuple[str, ...]

_ROLES = {"human": "user", "system": "system", "ai": "assistant"}

METADATA_KEY = "miniagents_lc"
"""The key under which events carry what AG-UI has no field for: a message's `usage` and
`model` on its `TEXT_MESSAGE_END`, the `error` that cut a message short."""


def alias_of(segment: str) -> str:
    """The agent alias in a namespace segment `"alias:index"`."""
    return segment.rpartition(":")[0] or segment


class _Mapper:
    """The state shared by the two readers: which calls have an AG-UI id, which of their
    messages are out, which calls ended and wait for their messages, the usage so far."""

    def __init__(self, emit: Callable[[BaseEvent], None]) -> None:
        self._emit = emit
        self._ids: dict[Namespace, str] = {}
        self._messages_of: dict[Namespace, set[str]] = {}
        self._sent: set[str] = set()
        self._ended: dict[Namespace, tuple[str, str | None]] = {}
        self._usage: list[TokenUsage] = []
        self._finished: set[Namespace] = set()
        self._children: dict[Namespace, list[Namespace]] = {}

    def subagent_id(self, namespace: Namespace) -> str | None:
        """The `subagentRunId` of the call at `namespace` (None for the root), announcing the
        call (and its parents) first if nothing did yet."""
        if not namespace:
            return None
        known = self._ids.get(namespace)
        if known is not None:
            return known
        parent = self.subagent_id(namespace[:-1])
        run_id = uuid.uuid4().hex
        self._ids[namespace] = run_id
        self._children.setdefault(namespace[:-1], []).append(namespace)
        self._emit(
            SubagentStartedEvent(
                subagent_run_id=run_id,
                name=alias_of(namespace[-1]),
                parent_subagent_run_id=parent,
                timestamp=_now(),
            )
        )
        return run_id

    # -- from the raw events -------------------------------------------------------------

    def on_raw(self, method: str, namespace: Namespace, data: Mapping[str, Any]) -> None:
        kind = data.get("event")
        if method == "lifecycle":
            if not namespace:
                return
            if kind == "started":
                self.subagent_id(namespace)
            else:
                self._ended[namespace] = (str(kind), data.get("error"))
                self._finish_if_sent(namespace)
        elif kind == "message-start":
            self._messages_of.setdefault(namespace, set()).add(str(data["id"]))
        elif kind == "message-finish" and "usage" in data:
            metadata = data.get("metadata") or {}
            usage = token_usage_from_langchain_metadata(
                data["usage"], model=metadata.get("model_name")
            )
            if usage is not None:
                self._usage.append(usage)

    # -- from the reply --------------------------------------------------------------------

    def message_sent(self, namespace: Namespace, message_id: str) -> None:
        self._sent.add(message_id)
        self._finish_if_sent(namespace)

    def _finish_if_sent(self, namespace: Namespace) -> None:
        """End the call at `namespace` once it has ended, its messages are out and every call
        it made has finished; then look at its parent again."""
        ended = self._ended.get(namespace)
        if ended is None or self._messages_of.get(namespace, set()) - self._sent:
            return
        if any(child not in self._finished for child in self._children.get(namespace, ())):
            return
        del self._ended[namespace]
        self._finish(namespace, *ended)
        if len(namespace) > 1:
            self._finish_if_sent(namespace[:-1])

    def _finish(self, namespace: Namespace, status: str, error: str | None) -> None:
        run_id = self.subagent_id(namespace)
        assert run_id is not None
        self._finished.add(namespace)
        if status == "completed":
            self._emit(SubagentFinishedEvent(subagent_run_id=run_id, timestamp=_now()))
        else:
            self._emit(
                SubagentErrorEvent(
                    subagent_run_id=run_id,
                    message=error or f"The call of {alias_of(namespace[-1])!r} was {status}.",
                    code=status,
                    timestamp=_now(),
                )
            )

    def finish_all(self) -> None:
        """The run is over: calls whose messages never reached the reply end now; a call
        never seen to end (the run was cut short) ends as interrupted."""
        # The deepest first: a call finishes after the calls it made.
        for namespace in sorted(self._ids, key=len, reverse=True):
            if namespace not in self._finished:
                self._finish(namespace, *self._ended.pop(namespace, ("interrupted", None)))

    @property
    def usage(self) -> list[TokenUsage] | None:
        return aggregate_token_usage(self._usage) or None


async def _send_message(
    stream: AsyncChatModelStream, mapper: _Mapper, emit: Callable[[BaseEvent], None]
) -> None:
    """One message of the reply: start, live deltas, tool calls, reasoning, end."""
    namespace: Namespace = tuple(stream.namespace)
    message_id = stream.message_id or uuid.uuid4().hex
    subagent = mapper.subagent_id(namespace)
    reasoning_id: str | None = None
    end_metadata: dict[str, Any] = {}
    started = False
    try:
        async for data in stream:
            kind = data["event"]
            if kind == "message-start":
                started = True
                emit(
                    TextMessageStartEvent(
                        message_id=message_id,
                        role=_ROLES.get(str(data.get("role")), "assistant"),  # type: ignore[arg-type]
                        subagent_run_id=subagent,
                        timestamp=_now(),
                    )
                )
            elif kind == "content-block-delta":
                delta: Mapping[str, Any] = data["delta"]
                if delta.get("type") == "text-delta":
                    if delta.get("text"):
                        emit(
                            TextMessageContentEvent(
                                message_id=message_id, delta=delta["text"], subagent_run_id=subagent
                            )
                        )
                elif delta.get("type") == "reasoning-delta" and delta.get("reasoning"):
                    if reasoning_id is None:
                        reasoning_id = f"{message_id}-reasoning"
                        emit(ReasoningStartEvent(message_id=reasoning_id, subagent_run_id=subagent))
                        emit(
                            ReasoningMessageStartEvent(
                                message_id=reasoning_id, subagent_run_id=subagent
                            )
                        )
                    emit(
                        ReasoningMessageContentEvent(
                            message_id=reasoning_id,
                            delta=delta["reasoning"],
                            subagent_run_id=subagent,
                        )
                    )
            elif kind == "content-block-finish":
                content: Mapping[str, Any] = data["content"]
                if content.get("type") == "tool_call":
                    call_id = str(content.get("id") or uuid.uuid4().hex)
                    emit(
                        ToolCallStartEvent(
                            tool_call_id=call_id,
                            tool_call_name=str(content["name"]),
                            parent_message_id=message_id,
                            subagent_run_id=subagent,
                        )
                    )
                    emit(
                        ToolCallArgsEvent(
                            tool_call_id=call_id,
                            delta=json.dumps(content.get("args") or {}),
                            subagent_run_id=subagent,
                        )
                    )
                    emit(ToolCallEndEvent(tool_call_id=call_id, subagent_run_id=subagent))
            elif kind == "message-finish":
                if "usage" in data:
                    end_metadata["usage"] = dict(data["usage"])
                model = (data.get("metadata") or {}).get("model_name")
                if model:
                    end_metadata["model"] = model
    except Exception as error:  # the message was cut short: it ends, saying why
        end_metadata["error"] = f"{type(error).__name__}: {error}"
    if not started:
        emit(
            TextMessageStartEvent(message_id=message_id, role="assistant", subagent_run_id=subagent)
        )
    if reasoning_id is not None:
        emit(ReasoningMessageEndEvent(message_id=reasoning_id, subagent_run_id=subagent))
        emit(ReasoningEndEvent(message_id=reasoning_id, subagent_run_id=subagent))
    emit(
        TextMessageEndEvent(
            message_id=message_id,
            subagent_run_id=subagent,
            metadata={METADATA_KEY: end_metadata} if end_metadata else None,
            timestamp=_now(),
        )
    )
    mapper.message_sent(namespace, message_id)


async def agui_events(
    run: AgentRunStream, *, thread_id: str, run_id: str
) -> AsyncGenerator[list[BaseEvent], None]:
    """The AG-UI events of `run`, in batches (everything available at once), from
    `RUN_STARTED` to `RUN_FINISHED` or `RUN_ERROR`. Closing the iterator early stops its
    readers; the run itself is the caller's to close."""
    pending: list[BaseEvent] = [
        RunStartedEvent(thread_id=thread_id, run_id=run_id, timestamp=_now())
    ]
    wakeup = asyncio.Event()

    def emit(event: BaseEvent) -> None:
        pending.append(event)
        wakeup.set()

    mapper = _Mapper(emit)

    async def follow_raw() -> None:
        async for event in run.events():
            params = event["params"]
            mapper.on_raw(event["method"], tuple(params["namespace"]), params["data"])

    async def follow_reply() -> None:
        async for stream in run.messages:
            await _send_message(stream, mapper, emit)

    readers = [
        asyncio.ensure_future(follow_raw()),
        asyncio.ensure_future(follow_reply()),
    ]
    for reader in readers:
        reader.add_done_callback(lambda _reader: wakeup.set())
    try:
        while True:
            if pending:
                batch = pending[:]
                pending.clear()
                yield batch
                continue
            if all(reader.done() for reader in readers):
                break
            wakeup.clear()
            await wakeup.wait()
        # The raw events end with the run's error, if any; the reply reader does not fail.
        error: BaseException | None = None
        for reader in readers:
            if (failure := reader.exception()) is not None and error is None:
                error = failure
        if error is None:
            try:
                await run.output
            except Exception as failure:
                error = failure
        mapper.finish_all()
        if error is None:
            pending.append(
                RunFinishedEvent(
                    thread_id=thread_id, run_id=run_id, usage=mapper.usage, timestamp=_now()
                )
            )
        else:
            pending.append(
                RunErrorEvent(
                    message=f"{type(error).__name__}: {error}",
                    code=type(error).__name__,
                    usage=mapper.usage,
                    timestamp=_now(),
                )
            )
        batch = pending[:]
        pending.clear()
        yield batch
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)


def _now() -> int:
    return int(time.time() * 1000)


__all__ = ["METADATA_KEY", "agui_events", "alias_of"]
