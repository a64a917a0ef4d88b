"""`agui_events`: one run of an agent tree as AG-UI events — the one mapping from our protocol
events (`miniagents_lc.protocol`) to AG-UI's (`ag_ui.core`).

It reads the run's public stream twice:

- its raw events (`run.events()`): every agent call below the root becomes a
  `SUBAGENT_STARTED` (a fresh `subagentRunId` per call, `parentSubagentRunId` for nesting) as
  it is made, and `SUBAGENT_FINISHED` (or `SUBAGENT_ERROR`) once it has ended, the messages it
  produced have been sent and the calls it made have finished; each message's events are kept
  aside for its turn; usage is summed for `RUN_FINISHED`;
- the order of the reply (`run.message_ids`, the order `.astream()` gives): one message at a
  time, each becomes `TEXT_MESSAGE_START`, a `TEXT_MESSAGE_CONTENT` per delta (live for the
  message at the head of the reply, at once for what was produced while it waited), its tool
  calls (`TOOL_CALL_START` / `TOOL_CALL_ARGS` / `TOOL_CALL_END`), reasoning (`REASONING_*`)
  where an adapter produced some, then `TEXT_MESSAGE_END`.

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
    CustomEvent,
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
    ToolCallResultEvent,
    ToolCallStartEvent,
    aggregate_token_usage,
    token_usage_from_langchain_metadata,
)
from langchain_core.runnables import RunnableConfig

from miniagents_lc.agents import INSTRUMENTS_KEY, Instrument, ToolRun
from miniagents_lc.protocol import AgentRunStream

Namespace = tuple[str, ...]

_ROLES = {"human": "user", "system": "system", "ai": "assistant"}

CALL_TEXT = "miniagents_lc.call_text"
"""The name of the `CUSTOM` events of the live per-call text (asked for with `live_calls`):
`{"messageId", "delta"}` as each call produces it, attributed to the call by `subagentRunId`,
while the `TEXT_MESSAGE_*` events follow the reply order."""

METADATA_KEY = "miniagents_lc"
"""The key under which events carry what AG-UI has no field for: a message's `usage` and
`model` on its `TEXT_MESSAGE_END`, the `error` that cut a message short."""


def alias_of(segment: str) -> str:
    """The agent alias in a namespace segment `"alias:index"`."""
    return segment.rpartition(":")[0] or segment


class _Mapper:
    """The state shared by the two readers: which calls have an AG-UI id, which of their
    messages are out, which calls ended and wait for their messages, the usage so far."""

    def __init__(self, emit: Callable[[BaseEvent], None], *, live_calls: bool = False) -> None:
        self._emit = emit
        self._live_calls = live_calls
        # The message each call is producing now, and the events of every message by id.
        self._producing: dict[Namespace, str] = {}
        self._feeds: dict[str, _MessageFeed] = {}
        self._ids: dict[Namespace, str] = {}
        self._messages_of: dict[Namespace, set[str]] = {}
        self._sent: set[str] = set()
        self._ended: dict[Namespace, tuple[str, str | None]] = {}
        self._usage: list[TokenUsage] = []
        self._finished: set[Namespace] = set()
        self._children: dict[Namespace, list[Namespace]] = {}
        # A tool call's result goes out once its TOOL_CALL_END is out (the call's message may
        # wait behind others of the reply while the tool already ran): the calls whose end is
        # out, with their call's subagent id, and the results that came first.
        self._tool_calls_out: dict[str, str | None] = {}
        self._early_results: dict[str, str] = {}

    def tool_run(
        self, namespace: Namespace, call_id: str, name: str, arguments: Mapping[str, Any]
    ) -> None:
        """A tool loop of the call at `namespace` runs a tool: its call goes out now, unless a
        message of the reply has sent it already (a tool loop keeps its model's tool-calling
        messages to itself, so this is how its calls reach the stream)."""
        if call_id in self._tool_calls_out:
            return
        subagent = self.subagent_id(namespace)
        self._emit(
            ToolCallStartEvent(tool_call_id=call_id, tool_call_name=name, subagent_run_id=subagent)
        )
        self._emit(
            ToolCallArgsEvent(
                tool_call_id=call_id, delta=json.dumps(dict(arguments)), subagent_run_id=subagent
            )
        )
        self._emit(ToolCallEndEvent(tool_call_id=call_id, subagent_run_id=subagent))
        self.tool_call_out(call_id, subagent)

    def tool_call_out(self, call_id: str, subagent: str | None) -> None:
        """The tool call `call_id` has been sent (its TOOL_CALL_END is out)."""
        self._tool_calls_out[call_id] = subagent
        result = self._early_results.pop(call_id, None)
        if result is not None:
            self._emit_result(call_id, result)

    def is_out(self, call_id: str) -> bool:
        """Whether the tool call `call_id` has been sent."""
        return call_id in self._tool_calls_out

    def tool_result(self, call_id: str, content: str) -> None:
        """A tool called as `call_id` returned `content` (sent once the call itself is)."""
        if call_id in self._tool_calls_out:
            self._emit_result(call_id, content)
        else:
            self._early_results[call_id] = content

    def _emit_result(self, call_id: str, content: str) -> None:
        self._emit(
            ToolCallResultEvent(
                message_id=uuid.uuid4().hex,
                tool_call_id=call_id,
                content=content,
                role="tool",
                subagent_run_id=self._tool_calls_out[call_id],
            )
        )

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
            return
        # A call emits one message at a time: its events run from message-start to
        # message-finish (or error) in the call's namespace.
        if kind == "message-start":
            message_id = str(data["id"])
            self._messages_of.setdefault(namespace, set()).add(message_id)
            self._producing[namespace] = message_id
        else:
            message_id = self._producing.get(namespace, "")
        feed = self.feed(message_id)
        feed.push(data)
        if kind in ("message-finish", "error"):
            self._producing.pop(namespace, None)
            feed.end()
        if kind == "content-block-delta":
            if self._live_calls and data["delta"].get("type") == "text-delta":
                self._emit(
                    CustomEvent(
                        name=CALL_TEXT,
                        value={"messageId": message_id, "delta": data["delta"]["text"]},
                        subagent_run_id=self.subagent_id(namespace),
                    )
                )
        elif kind == "message-finish" and "usage" in data:
            metadata = data.get("metadata") or {}
            usage = token_usage_from_langchain_metadata(
                data["usage"], model=metadata.get("model_name")
            )
            if usage is not None:
                self._usage.append(usage)

    def feed(self, message_id: str) -> _MessageFeed:
        """The events of the message `message_id`, so far and to come."""
        feed = self._feeds.get(message_id)
        if feed is None:
            feed = self._feeds[message_id] = _MessageFeed()
        return feed

    def forget(self, message_id: str) -> None:
        """The message has been sent: its events are no longer needed."""
        self._feeds.pop(message_id, None)

    def end_feeds(self) -> None:
        """The run's events have ended: a message still open gets no more."""
        for feed in self._feeds.values():
            feed.end()

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


class _MessageFeed:
    """The events of one message, as the raw reader finds them: kept until the message's turn
    comes, then handed straight to its sender as they come."""

    __slots__ = ("done", "events", "listener", "waiter")

    def __init__(self) -> None:
        self.events: list[Mapping[str, Any]] = []
        self.done = False
        self.listener: Callable[[list[Mapping[str, Any]]], None] | None = None
        self.waiter: asyncio.Future[None] | None = None

    def push(self, data: Mapping[str, Any]) -> None:
        if self.listener is not None:
            self.listener([data])
        else:
            self.events.append(data)

    def end(self) -> None:
        self.done = True
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def follow(self, listener: Callable[[list[Mapping[str, Any]]], None]) -> None:
        """Give `listener` the events so far, then each as it comes (synchronously, in the
        raw reader's turn: no task switch between the event and its AG-UI events), until the
        message has ended."""
        kept, self.events = self.events, []
        listener(kept)
        if self.done:
            return
        self.listener = listener
        self.waiter = asyncio.get_running_loop().create_future()
        try:
            await self.waiter
        finally:
            self.listener = None


class _MessageSender:
    """One message of the reply: its start when the reply reaches it, then its deltas live, its
    tool calls and reasoning, and its end."""

    def __init__(
        self,
        message_id: str,
        namespace: Namespace,
        mapper: _Mapper,
        emit: Callable[[BaseEvent], None],
    ) -> None:
        self._mapper = mapper
        self._emit = emit
        self._namespace = namespace
        self._id = message_id
        self._subagent = mapper.subagent_id(namespace)
        self._reasoning_id: str | None = None
        self._end_metadata: dict[str, Any] = {}
        self._started = False
        self._finished = False

    async def send(self) -> None:
        """Emit the message as it streams: its start, its content, its end."""
        await self._mapper.feed(self._id).follow(self._take)
        self._mapper.forget(self._id)
        if not self._started:  # pragma: no cover - the reply names only started messages
            self._start("assistant")
        if not self._finished:
            self._end_metadata["error"] = "StreamCancelledError: the run ended mid-message"
        subagent = self._subagent
        if self._reasoning_id is not None:
            self._emit(
                ReasoningMessageEndEvent(message_id=self._reasoning_id, subagent_run_id=subagent)
            )
            self._emit(ReasoningEndEvent(message_id=self._reasoning_id, subagent_run_id=subagent))
        self._emit(
            TextMessageEndEvent(
                message_id=self._id,
                subagent_run_id=subagent,
                metadata={METADATA_KEY: self._end_metadata} if self._end_metadata else None,
                timestamp=_now(),
            )
        )
        self._mapper.message_sent(self._namespace, self._id)

    def _take(self, batch: list[Mapping[str, Any]]) -> None:
        # Text produced while the message waited for its turn goes out as one delta.
        texts: list[str] = []
        for data in batch:
            text = _text_of(data)
            if text is not None:
                texts.append(text)
                continue
            self._send_text(texts)
            self._on(data)
        self._send_text(texts)

    def _send_text(self, texts: list[str]) -> None:
        text = "".join(texts)
        texts.clear()
        if text:
            self._emit(
                TextMessageContentEvent(
                    message_id=self._id, delta=text, subagent_run_id=self._subagent
                )
            )

    def _start(self, role: str) -> None:
        self._started = True
        self._emit(
            TextMessageStartEvent(
                message_id=self._id,
                role=role,  # type: ignore[arg-type]
                subagent_run_id=self._subagent,
                timestamp=_now(),
            )
        )

    def _on(self, data: Mapping[str, Any]) -> None:
        kind = data["event"]
        emit = self._emit
        subagent = self._subagent
        if kind == "message-start":
            self._start(_ROLES.get(str(data.get("role")), "assistant"))
        elif kind == "error":
            self._finished = True
            self._end_metadata["error"] = str(data.get("message"))
        elif kind == "content-block-delta":
            delta: Mapping[str, Any] = data["delta"]
            if delta.get("type") == "reasoning-delta" and delta.get("reasoning"):
                if self._reasoning_id is None:
                    self._reasoning_id = f"{self._id}-reasoning"
                    emit(
                        ReasoningStartEvent(message_id=self._reasoning_id, subagent_run_id=subagent)
                    )
                    emit(
                        ReasoningMessageStartEvent(
                            message_id=self._reasoning_id, subagent_run_id=subagent
                        )
                    )
                emit(
                    ReasoningMessageContentEvent(
                        message_id=self._reasoning_id,
                        delta=delta["reasoning"],
                        subagent_run_id=subagent,
                    )
                )
        elif kind == "content-block-finish":
            content: Mapping[str, Any] = data["content"]
            if content.get("type") == "tool_call":
                call_id = str(content.get("id") or uuid.uuid4().hex)
                # Sent already if its tool loop ran it before this message went out.
                if not self._mapper.is_out(call_id):
                    emit(
                        ToolCallStartEvent(
                            tool_call_id=call_id,
                            tool_call_name=str(content["name"]),
                            parent_message_id=self._id,
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
                    self._mapper.tool_call_out(call_id, subagent)
        elif kind == "message-finish":
            self._finished = True
            if "usage" in data:
                self._end_metadata["usage"] = dict(data["usage"])
            model = (data.get("metadata") or {}).get("model_name")
            if model:
                self._end_metadata["model"] = model


class ToolResults(Instrument):
    """An instrument for one run that brings its tool calls' results into the run's AG-UI
    events (`TOOL_CALL_RESULT`, after the call's `TOOL_CALL_END`): register it in the run's
    config (`config()`), then hand it to `agui_events`. A tool loop keeps its results to
    itself (they go back to its model, not into the reply); the instrument seam sees them."""

    def __init__(self) -> None:
        self._mapper: _Mapper | None = None
        self._run: AgentRunStream | None = None
        self._before: list[Callable[[_Mapper, AgentRunStream], None]] = []

    def config(self) -> RunnableConfig:
        """The run config that registers this instrument for the run."""
        return {"configurable": {INSTRUMENTS_KEY: [self]}}

    def tool_call_started(self, tool_run: ToolRun) -> None:
        call_id, agent_call = tool_run.call_id, tool_run.call
        if call_id is None or agent_call is None:
            return

        def started(mapper: _Mapper, run: AgentRunStream) -> None:
            namespace = run.namespace_of(agent_call)
            if namespace is not None:
                mapper.tool_run(tuple(namespace), call_id, tool_run.name, tool_run.arguments)

        self._deliver(started)

    def tool_call_finished(self, tool_run: ToolRun, error: BaseException | None) -> None:
        call_id, result = tool_run.call_id, tool_run.result
        if error is not None or call_id is None or result is None:
            return  # a failed tool reports its failure through its agent, not here
        self._deliver(lambda mapper, _run: mapper.tool_result(call_id, result))

    def _deliver(self, event: Callable[[_Mapper, AgentRunStream], None]) -> None:
        if self._mapper is None or self._run is None:
            self._before.append(event)
        else:
            event(self._mapper, self._run)

    def _attach(self, mapper: _Mapper, run: AgentRunStream) -> None:
        self._mapper, self._run = mapper, run
        before, self._before = self._before, []
        for event in before:
            event(mapper, run)


async def agui_events(
    run: AgentRunStream,
    *,
    thread_id: str,
    run_id: str,
    live_calls: bool = False,
    tool_results: ToolResults | None = None,
) -> AsyncGenerator[list[BaseEvent], None]:
    """The AG-UI events of `run`, in batches (everything available at once), from
    `RUN_STARTED` to `RUN_FINISHED` or `RUN_ERROR`. Closing the iterator early stops its
    readers; the run itself is the caller's to close.

    `live_calls`: also send each call's text as it produces it (`CUSTOM` events named
    `CALL_TEXT`), for a view of the whole tree at work (the `/ui` page asks for it).
    `tool_results`: the run's `ToolResults` instrument, whose tool results then go out as
    `TOOL_CALL_RESULT` events."""
    pending: list[BaseEvent] = [
        RunStartedEvent(thread_id=thread_id, run_id=run_id, timestamp=_now())
    ]
    wakeup = asyncio.Event()

    def emit(event: BaseEvent) -> None:
        pending.append(event)
        wakeup.set()

    mapper = _Mapper(emit, live_calls=live_calls)
    if tool_results is not None:
        tool_results._attach(mapper, run)

    async def follow_raw() -> None:
        try:
            async for event in run.events():
                params = event["params"]
                mapper.on_raw(event["method"], tuple(params["namespace"]), params["data"])
        finally:
            mapper.end_feeds()

    async def follow_reply() -> None:
        # One message at a time, in reply order, as `.astream()` reads them: the message at
        # the head streams live; those behind it are buffered meanwhile.
        async for message_id, namespace in run.message_ids:
            await _MessageSender(message_id, tuple(namespace), mapper, emit).send()

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


def _text_of(data: Mapping[str, Any]) -> str | None:
    """The text a text delta adds (None for any other event)."""
    if data["event"] == "content-block-delta" and data["delta"].get("type") == "text-delta":
        return str(data["delta"].get("text") or "")
    return None


def _now() -> int:
    return int(time.time() * 1000)


__all__ = ["CALL_TEXT", "METADATA_KEY", "ToolResults", "agui_events", "alias_of"]
