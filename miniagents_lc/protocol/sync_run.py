"""`SyncAgentRunStream`: the protocol stream of a run, for sync code
(`agent.stream_events(input, version="v3")`).

The run goes on in a worker thread with a private event loop (as `invoke` and `stream` do); its
events are handed over as they are emitted, and read on the caller's side with the same
replay, filters and projections as the async stream (chat-model streams are LangChain's sync
`ChatModelStream`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Collection, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

from langchain_core.language_models.chat_model_stream import ChatModelStream
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig

from miniagents_lc.promising import StreamCancelledError
from miniagents_lc.protocol.events import LifecyclePayload, Namespace, ProtocolEvent
from miniagents_lc.protocol.log import _Filter
from miniagents_lc.protocol.run_stream import AgentRunStream, astream_agent_events

if TYPE_CHECKING:
    from miniagents_lc.agents import MiniAgent


class SyncAgentRunStream:
    """A run of an agent tree as protocol events, read from sync code; use it in a `with`
    block (leaving it early cancels the run and waits for it to stop)."""

    def __init__(
        self,
        agent: MiniAgent,
        input: Any,
        config: RunnableConfig | None,
        kwargs: dict[str, Any],
    ) -> None:
        self._events: list[ProtocolEvent] = []
        # Root reply order: (message id, namespace) of each message, as the run reaches it.
        self._root_messages: list[tuple[str, Namespace]] = []
        # Where each message starts in the events, so a message is read without a scan.
        self._starts: dict[str, int] = {}
        self._changed = threading.Condition()
        self._done = False
        self._error: BaseException | None = None
        self._closed_early = False
        self._output: AIMessage | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        started = threading.Event()

        async def run() -> None:
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()
            started.set()
            try:
                stream = await astream_agent_events(agent, input, config, **kwargs)
                async with stream:
                    order = asyncio.get_running_loop().create_task(self._follow_order(stream))
                    try:
                        async for event in stream:
                            data = event["params"]["data"]
                            with self._changed:
                                if (
                                    event["method"] == "messages"
                                    and data["event"] == "message-start"
                                ):
                                    self._starts[data["id"]] = len(self._events)
                                self._events.append(event)
                                self._changed.notify_all()
                    finally:
                        await order
                    self._output = await stream.output
            except BaseException as error:
                self._error = (
                    StreamCancelledError("The run was stopped (its `with` block was left).")
                    if isinstance(error, asyncio.CancelledError)
                    else error
                )
            finally:
                with self._changed:
                    self._done = True
                    self._changed.notify_all()

        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(asyncio.run, run()), name="miniagents-sync-events"
        )
        self._thread.start()
        started.wait()

    async def _follow_order(self, stream: AgentRunStream) -> None:
        async for record in stream.message_records():
            with self._changed:
                self._root_messages.append((record.message_id, record.namespace))
                self._changed.notify_all()

    # -- events ---------------------------------------------------------------------------

    def events(
        self,
        *,
        since: int = 0,
        channels: Collection[str] | None = None,
        namespaces: Collection[Sequence[str]] | None = None,
        depth: int | None = None,
    ) -> Iterator[ProtocolEvent]:
        """Every event after `since`, as emitted (see `EventLog.events`); raises the run's
        error after the last one."""
        if since < 0:
            raise ValueError(f"since={since}: a seq is 0 (from the start) or more.")
        wanted = _Filter(channels, namespaces, depth)
        index = since
        while (event := self._event_at(index)) is not None:
            index += 1
            if wanted.keeps_event(event):
                yield event

    def __iter__(self) -> Iterator[ProtocolEvent]:
        return self.events()

    def _event_at(self, index: int) -> ProtocolEvent | None:
        """The event at `index` (waiting for it), or None at the end (raising the run's error
        there, unless the run was stopped by leaving the `with` block)."""
        with self._changed:
            while index >= len(self._events) and not self._done:
                self._changed.wait()
            if index < len(self._events):
                return self._events[index]
        if self._error is not None and not self._closed_early:
            raise self._error
        return None

    # -- projections ----------------------------------------------------------------------

    @property
    def lifecycle(self) -> Iterator[LifecyclePayload]:
        """The lifecycle of every call of the run, as it happens."""
        for event in self.events(channels=("lifecycle",)):
            yield cast(LifecyclePayload, event["params"]["data"])

    @property
    def messages(self) -> Iterator[ChatModelStream]:
        """The reply in reply order, one LangChain `ChatModelStream` per message; reading one
        waits for its events as they come."""
        index = 0
        while True:
            with self._changed:
                while index >= len(self._root_messages) and not self._done:
                    self._changed.wait()
                if index >= len(self._root_messages):
                    return
                message_id, namespace = self._root_messages[index]
            index += 1
            yield self._chat_stream(message_id, namespace)

    def _chat_stream(self, message_id: str, namespace: Namespace) -> ChatModelStream:
        stream = ChatModelStream(namespace=namespace, message_id=message_id)
        with self._changed:
            # The async side saw the message start before it reported the message.
            position = self._starts[message_id]

        def pump_one() -> bool:
            # Dispatch the next event of this message (the next one of its namespace: a
            # namespace emits its messages one after another); False once there are none.
            nonlocal position
            while not stream.done:
                event = self._event_at(position)
                if event is None:
                    return False
                position += 1
                params = event["params"]
                if event["method"] == "messages" and params["namespace"] == namespace:
                    stream.dispatch(params["data"])
                    return True
            return False

        stream.set_request_more(pump_one)
        return stream

    @property
    def output(self) -> AIMessage:
        """The whole reply as one `AIMessage` (waits for the end); raises the run's error."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._output is not None
        return self._output

    # -- the end --------------------------------------------------------------------------

    def close(self) -> None:
        """Cancel the run if it is still going and wait until it has stopped."""
        with self._changed:
            running = not self._done
            self._closed_early = running
        loop, task = self._loop, self._task
        if running and loop is not None and task is not None:
            # A RuntimeError means the loop closed in between: the run has ended on its own.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(task.cancel)
        self._thread.join()

    def __enter__(self) -> SyncAgentRunStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


__all__ = ["SyncAgentRunStream"]
