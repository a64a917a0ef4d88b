"""`AgentTreeEvents`: the one mapping from a running agent tree to protocol events.

It is an `Instrument` registered for its run's scope, and learns of every agent call made in
the run as the call is made (`call_created`), gives each a namespace
segment `"alias:index"` (the index counts the calls of the same parent, so it is unique among
siblings), and follows each call's reply:

- a `lifecycle` event `started` when the call is made, then `completed`, `failed` (with the
  error; also when the agent's error became an `ErrorMessage` in its reply, which is then
  emitted as a message like any other) or `interrupted` (the run ended first) when its reply
  ends;
- for each message of the reply that the call produced itself, in reply order, `messages`
  events: message-start, the text block's start, its deltas and finish, a block per tool call,
  then message-finish (usage, model, finish reason) or an error.

A message is emitted once, in the namespace of the call that replied it first; its parents,
which pass it on in their replies, do not repeat it. Where the events go is the sink's business:
a run's `EventLog`, or another stream (a LangGraph run) — the mapping knows no transport.

One task follows the whole tree. Each stream it follows has a stand-in in that stream's list of
waiters, which the stream's next piece (or end) puts in the task's ready queue: the task wakes
once for everything produced meanwhile, and a delta carries every token buffered since the
previous one. Following a stream this way neither counts as reading it (an agent whose only
reader gave up still stops) nor starts a producer deferred until somebody reads.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from langchain_core.language_models.chat_model_stream import AsyncChatModelStream
from langchain_protocol.protocol import AgentStatus, MessagesData

from miniagents_lc.agents import Instrument
from miniagents_lc.messages import AssistantMessage, MessagePromise, MessageSequencePromise
from miniagents_lc.promising import StreamCancelledError
from miniagents_lc.promising.lowlevel import (
    Claims,
    StreamBuffer,
    Wakeup,
    buffer_of,
    current_owner,
)
from miniagents_lc.protocol._watch import Watchers, known_role, resolved_message
from miniagents_lc.protocol.events import (
    Namespace,
    budget_limit,
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

logger = logging.getLogger("miniagents_lc")

EventSink = Callable[[str, Sequence[str], Any], None]
"""Receives each event as `(method, namespace, data)`, synchronously, in emission order (the
namespace of message events is a tuple, shared by the events of one message)."""


class CallNode:
    """One agent call of the run: its place in the tree and how it went."""

    __slots__ = (
        "_next_index",
        "agent_error",
        "alias",
        "children",
        "error",
        "namespace",
        "reply",
        "reply_buffer",
        "status",
    )

    def __init__(self, alias: str, namespace: Namespace, reply: MessageSequencePromise) -> None:
        self.alias = alias
        self.namespace = namespace
        self.reply = reply
        self.reply_buffer: StreamBuffer[MessagePromise] = buffer_of(reply)
        self.status: AgentStatus = "started"
        self.error: BaseException | None = None
        # The calls it made, as they are made; ends with the run.
        self.children: StreamBuffer[CallNode] = StreamBuffer()
        self._next_index = 0
        # The error of the agent function, when its replies carry it as a message instead.
        self.agent_error: Callable[[], BaseException | None] = lambda: None

    def child_namespace(self, alias: str) -> Namespace:
        """The namespace of the next call this one makes."""
        index = self._next_index
        self._next_index = index + 1
        return [*self.namespace, f"{alias}:{index}"]


class MessageRecord:
    """One emitted message: it sends the message's events to the sink, and keeps them (the
    deltas as their text alone) to replay into a chat-model stream on demand."""

    __slots__ = ("_path", "_sink", "head", "message_id", "namespace", "stream", "tail", "texts")

    def __init__(self, message_id: str, namespace: Namespace, sink: EventSink) -> None:
        self.message_id = message_id
        self.namespace = namespace
        self._path = tuple(namespace)
        self._sink = sink
        self.head: list[MessagesData] = []
        self.texts: list[str] = []
        self.tail: list[MessagesData] = []
        self.stream: AsyncChatModelStream | None = None

    def emit(self, data: MessagesData, *, last: bool = False) -> None:
        """Emit an event of the message other than a text delta; `last`: after the deltas."""
        self._sink("messages", self._path, data)
        (self.tail if last else self.head).append(data)
        if self.stream is not None:
            self.stream.dispatch(data)

    def emit_text(self, text: str) -> None:
        """Emit a text delta."""
        data = text_delta(text)
        self._sink("messages", self._path, data)
        self.texts.append(text)
        if self.stream is not None:
            self.stream.dispatch(data)

    def chat_stream(self) -> AsyncChatModelStream:
        """The message as LangChain's `AsyncChatModelStream` (text, tool calls, output), fed
        with every event so far and every one to come."""
        if self.stream is None:
            stream = AsyncChatModelStream(namespace=self.namespace, message_id=self.message_id)
            for data in self.head:
                stream.dispatch(data)
            if self.texts:
                # What was streamed before anybody asked: one delta, as `astream()` batches.
                stream.dispatch(text_delta("".join(self.texts)))
            for data in self.tail:
                stream.dispatch(data)
            self.stream = stream
        return self.stream


class _CallFollower:
    """Where the mapping is in one call's reply, and in the message it is emitting."""

    __slots__ = (
        "claims",
        "finished",
        "message",
        "message_wakeup",
        "node",
        "own",
        "record",
        "token_index",
    )

    def __init__(self, tree: AgentTreeEvents, node: CallNode) -> None:
        self.node = node
        # The messages of the reply this call is the first to hold, not emitted yet.
        self.own: deque[MessagePromise] = deque()
        self.message: MessagePromise | None = None
        self.record: MessageRecord | None = None
        self.token_index = 0
        self.finished = False
        # A reply is followed even while one of its messages is being emitted: each message is
        # taken by the first reply that holds it, at once, in the step that moved the reply
        # (a reply holds a message before the replies that pass it on do, even when the
        # flattening moves it on within that same step).
        self.claims = Claims(
            node.reply_buffer,
            tree._held,
            self.own.append,
            on_move=partial(tree._make_ready, self),
        )
        self.message_wakeup = Wakeup(partial(tree._make_ready, self))


class AgentTreeEvents(Instrument):
    """Maps the agent calls of one run, and their replies, to protocol events sent to `sink`.

    Register it for the run's scope before the run makes its first call (`with
    instrumented(tree): run.start()`): that call is the root. Its namespace is `[]`, or
    `[*nest_under, "alias:<run key>"]` when the tree is part of a larger stream. Calls whose
    parent is not in this run become children of the root. `finish()` ends the mapping once
    the run's own work has ended.
    """

    def __init__(self, sink: EventSink, *, nest_under: Namespace | None = None) -> None:
        self._sink = sink
        self._nest_under = nest_under
        self._loop = asyncio.get_running_loop()
        self._key = uuid.uuid4().hex[:12]
        self._message_numbers = itertools.count(1)
        self._nodes: dict[object, CallNode] = {}
        self._followers: list[_CallFollower] = []
        self._unfinished = 0
        self._ready: deque[_CallFollower] = deque()
        self._signal: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._records: dict[MessagePromise, MessageRecord] = {}
        # The messages some call's reply has held first (that call emits them).
        self._held: set[MessagePromise] = set()
        self._claim_waiters: dict[MessagePromise, asyncio.Future[MessageRecord | None]] = {}
        self._root: asyncio.Future[CallNode | None] = self._loop.create_future()
        self.root_node: CallNode | None = None
        """The root call, once made."""
        # Projections read replies with watchers of their own, which end with the run.
        self.watchers = Watchers()

    @property
    def key(self) -> str:
        """A random key naming this run (message ids start with it)."""
        return self._key

    # -- the instrument hook ------------------------------------------------------------------

    def call_created(self, call: AgentCall) -> None:
        """Start mapping a new call of the run. A failure here is logged and leaves the call
        itself alone."""
        if self._closing:
            return
        try:
            if asyncio.get_running_loop() is not self._loop:
                return  # a sync bridge's private loop, inside an agent: not this run's
        except RuntimeError:
            return
        try:
            self._add_call(call)
        except Exception:
            logger.exception("Mapping the call of agent %r to events failed", call.agent.alias)

    def _add_call(self, call: AgentCall) -> None:
        alias = call.agent.alias
        parent = self._nodes.get(current_owner()) or self.root_node
        if parent is not None:
            namespace = parent.child_namespace(alias)
        elif self._nest_under is not None:
            namespace = [*self._nest_under, f"{alias}:{self._key}"]
        else:
            namespace = []
        node = CallNode(alias, namespace, call.reply_sequence(finish_call=False))
        node.agent_error = lambda: call.error
        self._nodes[call.owner] = node
        if parent is None:
            self.root_node = node
            self._root.set_result(node)
        else:
            parent.children.push(node)
        budget = call.budget_state.budget if call.budget_state is not None else None
        limit = budget_limit(budget.max_tokens, budget.max_cost) if budget is not None else None
        self._sink(
            "lifecycle", namespace, lifecycle_data("started", namespace, alias, budget=limit)
        )
        follower = _CallFollower(self, node)
        self._followers.append(follower)
        self._unfinished += 1
        if self._task is None:
            self._task = self._loop.create_task(self._follow(), name="miniagents-events")
        follower.claims.advance()
        self._make_ready(follower)

    # -- following ----------------------------------------------------------------------------

    def _make_ready(self, follower: _CallFollower) -> None:
        self._ready.append(follower)
        self._wake()

    def _wake(self) -> None:
        signal = self._signal
        if signal is not None and not signal.done():
            signal.set_result(None)

    async def _follow(self) -> None:
        ready = self._ready
        while True:
            while ready:
                follower = ready.popleft()
                if follower.finished:
                    continue
                try:
                    self._advance(follower)
                except Exception as error:  # a bug here must not silence the whole tree
                    logger.exception("Mapping agent call %r to events failed", follower.node.alias)
                    self._end_call(follower, "failed", error)
            if self._closing and not self._unfinished:
                return
            self._signal = self._loop.create_future()
            await self._signal

    def _advance(self, follower: _CallFollower) -> None:
        """Take the messages the call's reply holds first, emit what its messages hold now, in
        reply order; then either the call has ended, or `follower` waits for more."""
        node = follower.node
        replies = node.reply_buffer
        follower.claims.advance()
        while follower.message is None or self._advance_message(follower):
            if not follower.own:
                break
            self._start_message(follower, follower.own.popleft())
        if replies.done:
            if follower.message is None:
                error = replies.error or node.agent_error()
                self._end_call(follower, "failed" if error else "completed", error)
        elif self._closing and follower.message is None:
            self._end_call(follower, "interrupted", None)

    def _start_message(self, follower: _CallFollower, promise: MessagePromise) -> None:
        message_id = f"{self._key}-{next(self._message_numbers)}"
        record = MessageRecord(message_id, follower.node.namespace, self._sink)
        self._records[promise] = record
        follower.message = promise
        follower.record = record
        follower.token_index = 0
        record.emit(message_start(message_id, known_role(promise)))
        waiter = self._claim_waiters.pop(promise, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(record)
        record.emit(text_block_start())

    def _advance_message(self, follower: _CallFollower) -> bool:
        """Emit the tokens buffered since the last delta (as one delta) and, if the message has
        ended, its end; False while it goes on."""
        promise = follower.message
        record = follower.record
        assert promise is not None
        assert record is not None
        buffer = buffer_of(promise)
        pieces = buffer.pieces
        start = follower.token_index
        end = len(pieces)
        if start < end:
            follower.token_index = end
            text = pieces[start] if end - start == 1 else "".join(pieces[start:end])
            if text:
                record.emit_text(text)
        if buffer.done:
            if buffer.error is not None:
                record.emit(message_error(buffer.error), last=True)
            else:
                message = resolved_message(promise)
                record.emit(text_block_finish(message.text or ""), last=True)
                if isinstance(message, AssistantMessage) and message.tool_calls:
                    for data in tool_call_blocks(message.tool_calls, first_index=1):
                        record.emit(data, last=True)
                record.emit(message_finish(message), last=True)
        elif self._closing:
            cut = StreamCancelledError("The run ended before this message did.")
            record.emit(message_error(cut), last=True)
        else:
            follower.message_wakeup.arm(buffer)
            return False
        follower.message = None
        follower.record = None
        return True

    def _end_call(
        self, follower: _CallFollower, status: AgentStatus, error: BaseException | None
    ) -> None:
        follower.finished = True
        follower.claims.stop()
        follower.message_wakeup.disarm()
        self._unfinished -= 1
        node = follower.node
        node.status = status
        node.error = error
        self._sink(
            "lifecycle", node.namespace, lifecycle_data(status, node.namespace, node.alias, error)
        )

    # -- what consumers read ------------------------------------------------------------------

    async def root(self) -> CallNode | None:
        """The root call, once made (None if the run ended without making it)."""
        return await self._root

    def namespace_of(self, call: AgentCall) -> Namespace | None:
        """Where `call`'s events are, if it is a call of this run (made and mapped already)."""
        node = self._nodes.get(call.owner)
        return list(node.namespace) if node is not None else None

    async def records(self, node: CallNode) -> AsyncIterator[MessageRecord]:
        """The messages of `node`'s reply, in reply order, each as soon as its first event is
        out."""
        replies = self.watchers.watch(node.reply)
        while (batch := await replies.read()) is not None:
            for promise in batch:
                record = self._records.get(promise)
                if record is None:
                    record = await self._claimed(promise)
                    if record is None:
                        return
                yield record

    async def _claimed(self, promise: MessagePromise) -> MessageRecord | None:
        waiter = self._claim_waiters.get(promise)
        if waiter is None:
            if self.watchers.closed:
                return None
            waiter = self._claim_waiters[promise] = self._loop.create_future()
        return await waiter

    # -- the end ------------------------------------------------------------------------------

    async def finish(self) -> None:
        """The run's own work has ended: emit what was produced (calls still open end as
        interrupted), then end."""
        self._closing = True
        task = self._task
        if task is not None:
            for follower in self._followers:
                if not follower.finished:
                    follower.claims.stop()
                    follower.message_wakeup.disarm()
                    self._ready.append(follower)
            self._wake()
            await asyncio.wait([task])
        self._close()

    async def cancel(self) -> None:
        """Stop at once."""
        self._closing = True
        task = self._task
        if task is not None:
            task.cancel()
            await asyncio.wait([task])
        self._close()

    def _close(self) -> None:
        self.watchers.close()
        for follower in self._followers:
            follower.claims.stop()
            follower.message_wakeup.disarm()
        if not self._root.done():
            self._root.set_result(None)
        for waiter in self._claim_waiters.values():
            if not waiter.done():
                waiter.set_result(None)
        self._claim_waiters.clear()
        for node in self._nodes.values():
            node.children.end()


__all__ = ["AgentTreeEvents", "CallNode", "EventSink", "MessageRecord"]
