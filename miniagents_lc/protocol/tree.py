"""`AgentTreeEvents`: the one mapping from a running agent tree to protocol events.

It learns of every agent call made in its run (through `call_observer`), gives each a namespace
segment `"alias:index"` (the index counts the calls of the same parent, so it is unique among
siblings), and watches each call's reply with a task of its own:

- a `lifecycle` event `started` when the call is made, then `completed`, `failed` (with the
  error) or `interrupted` (the run ended first) when its reply ends;
- for each message of the reply that the call produced itself, in reply order, `messages`
  events: message-start, the text block's start, its deltas and finish, a block per tool call,
  then message-finish (usage, model, finish reason) or an error.

A message is emitted once, in the namespace of the call that replied it first; its parents,
which pass it on in their replies, do not repeat it. Where the events go is the sink's business:
a run's `EventLog`, or another stream (a LangGraph run) — the mapping knows no transport.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from langchain_core.language_models.chat_model_stream import AsyncChatModelStream
from langchain_protocol.protocol import AgentStatus, MessagesData

from miniagents_lc.messages import AssistantMessage, MessagePromise, MessageSequencePromise
from miniagents_lc.promising import StreamCancelledError
from miniagents_lc.promising.ownership import current_owner
from miniagents_lc.promising.stream_buffer import StreamBuffer
from miniagents_lc.protocol._watch import Watcher, Watchers, known_role
from miniagents_lc.protocol.events import (
    Namespace,
    lifecycle_data,
    message_error,
    message_finish,
    message_start,
    text_block_finish,
    text_block_start,
    text_delta,
    tool_call_blocks,
)

if TYPE_CHECKING:
    from miniagents_lc.agents import AgentCall

EventSink = Callable[[str, Namespace, Any], None]
"""Receives each event as `(method, namespace, data)`, synchronously, in emission order."""


class CallNode:
    """One agent call of the run: its place in the tree and how it went."""

    __slots__ = ("_next_index", "alias", "children", "error", "namespace", "reply", "status")

    def __init__(self, alias: str, namespace: Namespace, reply: MessageSequencePromise) -> None:
        self.alias = alias
        self.namespace = namespace
        self.reply = reply
        self.status: AgentStatus = "started"
        self.error: BaseException | None = None
        # The calls it made, as they are made; ends with the run.
        self.children: StreamBuffer[CallNode] = StreamBuffer()
        self._next_index = 0

    def child_namespace(self, alias: str) -> Namespace:
        """The namespace of the next call this one makes."""
        index = self._next_index
        self._next_index = index + 1
        return [*self.namespace, f"{alias}:{index}"]


class MessageRecord:
    """The events of one emitted message, kept to replay into a chat-model stream on demand."""

    __slots__ = ("events", "message_id", "namespace", "stream")

    def __init__(self, message_id: str, namespace: Namespace) -> None:
        self.message_id = message_id
        self.namespace = namespace
        self.events: list[MessagesData] = []
        self.stream: AsyncChatModelStream | None = None

    def chat_stream(self) -> AsyncChatModelStream:
        """The message as LangChain's `AsyncChatModelStream` (text, tool calls, output), fed
        with every event so far and every one to come."""
        if self.stream is None:
            stream = AsyncChatModelStream(namespace=self.namespace, message_id=self.message_id)
            for data in self.events:
                stream.dispatch(data)
            self.stream = stream
        return self.stream


class AgentTreeEvents:
    """Maps the agent calls of one run, and their replies, to protocol events sent to `sink`.

    Install `on_call` as the `call_observer` of the run's task before the run makes its first
    call: that call is the root. Its namespace is `[]`, or `[*nest_under, "alias:<run key>"]`
    when the tree is part of a larger stream. Calls whose parent is not in this run become
    children of the root. `finish()` ends the mapping once the run's own work has ended.
    """

    def __init__(self, sink: EventSink, *, nest_under: Namespace | None = None) -> None:
        self._sink = sink
        self._nest_under = nest_under
        self._loop = asyncio.get_running_loop()
        self._key = uuid.uuid4().hex[:12]
        self._message_numbers = itertools.count(1)
        self._nodes: dict[object, CallNode] = {}
        self._records: dict[MessagePromise, MessageRecord] = {}
        self._claim_waiters: dict[MessagePromise, asyncio.Future[MessageRecord | None]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._root: asyncio.Future[CallNode | None] = self._loop.create_future()
        self.root_node: CallNode | None = None
        """The root call, once made."""
        self.watchers = Watchers()

    @property
    def key(self) -> str:
        """A random key naming this run (message ids start with it)."""
        return self._key

    # -- the hook ---------------------------------------------------------------------------

    def on_call(self, call: AgentCall) -> None:
        """Start mapping a new call (the `call_observer` of the run)."""
        if self.watchers.closed:
            return
        try:
            if asyncio.get_running_loop() is not self._loop:
                return  # a sync bridge's private loop, inside an agent: not this run's
        except RuntimeError:
            return
        alias = call.agent.alias
        parent = self._nodes.get(current_owner())
        if parent is None and self._root.done():
            parent = self._root.result()
        if parent is not None:
            namespace = parent.child_namespace(alias)
        elif self._nest_under is not None:
            namespace = [*self._nest_under, f"{alias}:{self._key}"]
        else:
            namespace = []
        node = CallNode(alias, namespace, call.reply_sequence(finish_call=False))
        self._nodes[call._owner] = node
        if parent is None:
            self.root_node = node
            self._root.set_result(node)
        else:
            parent.children.push(node)
        self._sink("lifecycle", namespace, lifecycle_data("started", namespace, alias))
        self._tasks.append(self._loop.create_task(self._watch(node), name=f"events:{alias}"))

    # -- watching -----------------------------------------------------------------------------

    async def _watch(self, node: CallNode) -> None:
        replies = Watcher(node.reply, self.watchers)
        records = self._records
        while (batch := await replies.read()) is not None:
            for promise in batch:
                if promise in records or _replied_by_child(node, promise):
                    continue
                await self._emit_message(node.namespace, promise)
        status: AgentStatus
        if replies.cut:
            status, error = "interrupted", None
        elif replies.error is not None:
            status, error = "failed", replies.error
        else:
            status, error = "completed", None
        node.status = status
        node.error = error
        self._sink(
            "lifecycle", node.namespace, lifecycle_data(status, node.namespace, node.alias, error)
        )

    async def _emit_message(self, namespace: Namespace, promise: MessagePromise) -> None:
        record = MessageRecord(f"{self._key}-{next(self._message_numbers)}", namespace)
        self._records[promise] = record
        emit = self._emitter(record)
        emit(message_start(record.message_id, known_role(promise)))
        waiter = self._claim_waiters.pop(promise, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(record)
        emit(text_block_start())
        tokens = Watcher(promise, self.watchers)
        while (batch := await tokens.read()) is not None:
            text = batch[0] if len(batch) == 1 else "".join(batch)
            if text:
                emit(text_delta(text))
        if tokens.cut:
            emit(message_error(StreamCancelledError("The run ended before this message did.")))
            return
        if tokens.error is not None:
            emit(message_error(tokens.error))
            return
        message = await promise
        emit(text_block_finish(message.text or ""))
        if isinstance(message, AssistantMessage) and message.tool_calls:
            for data in tool_call_blocks(message.tool_calls, first_index=1):
                emit(data)
        emit(message_finish(message))

    def _emitter(self, record: MessageRecord) -> Callable[[MessagesData], None]:
        sink = self._sink
        namespace = record.namespace
        events = record.events

        def emit(data: MessagesData) -> None:
            sink("messages", namespace, data)
            events.append(data)
            if record.stream is not None:
                record.stream.dispatch(data)

        return emit

    # -- what consumers read ------------------------------------------------------------------

    async def root(self) -> CallNode | None:
        """The root call, once made (None if the run ended without making it)."""
        return await self._root

    async def chat_streams(self, node: CallNode) -> AsyncIterator[AsyncChatModelStream]:
        """The messages of `node`'s reply, in reply order, each as a chat-model stream as soon
        as its first event is out."""
        replies = Watcher(node.reply, self.watchers)
        while (batch := await replies.read()) is not None:
            for promise in batch:
                record = self._records.get(promise)
                if record is None:
                    record = await self._claimed(promise)
                    if record is None:
                        return
                yield record.chat_stream()

    async def _claimed(self, promise: MessagePromise) -> MessageRecord | None:
        waiter = self._claim_waiters.get(promise)
        if waiter is None:
            if self.watchers.closed:
                return None
            waiter = self._claim_waiters[promise] = self._loop.create_future()
        return await waiter

    # -- the end ------------------------------------------------------------------------------

    async def finish(self) -> None:
        """The run's own work has ended: let every watcher read what was produced (replies
        still open end as interrupted), then end."""
        self.watchers.close()
        while pending := [task for task in self._tasks if not task.done()]:
            await asyncio.wait(pending)
        self._close()

    async def cancel(self) -> None:
        """Stop watching at once."""
        self.watchers.close()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
        self._close()

    def _close(self) -> None:
        if not self._root.done():
            self._root.set_result(None)
        for waiter in self._claim_waiters.values():
            if not waiter.done():
                waiter.set_result(None)
        self._claim_waiters.clear()
        for node in self._nodes.values():
            node.children.end()


def _replied_by_child(node: CallNode, promise: MessagePromise) -> bool:
    """Whether `promise` reached `node`'s reply through the reply of one of its calls (whose
    watcher emits it, or passes it further down)."""
    return any(promise in child.reply._buffer.pieces for child in node.children.pieces)


__all__ = ["AgentTreeEvents", "CallNode", "EventSink", "MessageRecord"]
