"""`AgentRunStream`: what `await agent.astream_events(input, version="v3")` returns.

The run starts at once, like every agent call. Its events go to the run's `EventLog` and can be
read raw (`async for event in run`, or `run.events(since=seq, ...)`), or through projections:
`run.messages` (the reply, message by message, as LangChain chat-model streams), `run.lifecycle`,
`await run.output` (the whole reply as one `AIMessage`, the same as `ainvoke`'s) and
`run.subagents` (a handle per agent call the root made, with the same projections).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Generator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

from langchain_core.callbacks import AsyncCallbackManagerForChainRun
from langchain_core.language_models.chat_model_stream import AsyncChatModelStream
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import ensure_config
from langchain_protocol.protocol import AgentStatus

from miniagents_lc.agents import AgentRun, instrumented
from miniagents_lc.agents.lowlevel import start_traced_run
from miniagents_lc.promising import StreamCancelledError
from miniagents_lc.promising.lowlevel import StreamBuffer
from miniagents_lc.protocol.events import LifecyclePayload, Namespace, ProtocolEvent
from miniagents_lc.protocol.log import EventLog
from miniagents_lc.protocol.tree import AgentTreeEvents, CallNode, MessageRecord

if TYPE_CHECKING:
    from miniagents_lc.agents import AgentCall, MiniAgent


class AgentCallStream:
    """One agent call of a run, seen through its events: its namespace and status, the events
    of its subtree, its reply as chat-model streams, and a handle per call it made."""

    def __init__(self, run: AgentRunStream, node: CallNode | None) -> None:
        self._run = run
        self._node = node

    async def _get_node(self) -> CallNode | None:
        return self._node

    async def message_records(self) -> AsyncIterator[MessageRecord]:
        """This call's reply in reply order, as its messages start: where each message's
        events are (for transports that serve a reply message by message)."""
        node = await self._get_node()
        if node is None:
            return
        async for record in self._run._tree.records(node):
            yield record

    def _known_node(self) -> CallNode | None:
        return self._node

    @property
    def namespace(self) -> Namespace:
        """Where this call's events are: one `"alias:index"` segment per nesting level."""
        node = self._known_node()
        return list(node.namespace) if node is not None else []

    @property
    def alias(self) -> str:
        """The alias of the agent called."""
        node = self._known_node()
        return node.alias if node is not None else self._run._agent.alias

    @property
    def status(self) -> AgentStatus:
        """`started` until the call's reply ends, then `completed`, `failed` or `interrupted`."""
        node = self._known_node()
        return node.status if node is not None else "started"

    @property
    def error(self) -> BaseException | None:
        """What the call failed with, if it failed."""
        node = self._known_node()
        return node.error if node is not None else None

    def events(
        self,
        *,
        since: int = 0,
        channels: Collection[str] | None = None,
        depth: int | None = None,
    ) -> AsyncIterator[ProtocolEvent]:
        """The events of this call and of the calls beneath it (at most `depth` levels down),
        after `since`; see `EventLog.events`."""
        return self._run._log.events(
            since=since, channels=channels, namespaces=[self.namespace], depth=depth
        )

    def __aiter__(self) -> AsyncIterator[ProtocolEvent]:
        return self.events()

    @property
    def messages(self) -> AsyncIterator[AsyncChatModelStream]:
        """The call's reply in reply order (sub-agents' messages included, as `astream()`
        streams them): one LangChain `AsyncChatModelStream` per message, handed out as soon as
        the message starts; `async for text in stream.text`, `await stream` for the message.
        Each iteration starts from the first message."""
        return self._messages()

    async def _messages(self) -> AsyncIterator[AsyncChatModelStream]:
        async for record in self.message_records():
            yield record.chat_stream()

    @property
    def message_ids(self) -> AsyncIterator[tuple[str, Namespace]]:
        """The call's reply in reply order, as `(message id, namespace)` per message, each as
        soon as the message's first event is out: the order of `messages` without building a
        chat-model stream per message, for a reader that takes each message's events from
        `events()` (where they carry that id and namespace)."""
        return self._message_ids()

    async def _message_ids(self) -> AsyncIterator[tuple[str, Namespace]]:
        async for record in self.message_records():
            yield record.message_id, list(record.namespace)

    @property
    def lifecycle(self) -> AsyncIterator[LifecyclePayload]:
        """The lifecycle of this call and of every call beneath it, as it happens."""
        return self._lifecycle()

    async def _lifecycle(self) -> AsyncIterator[LifecyclePayload]:
        async for event in self.events(channels=("lifecycle",)):
            yield cast(LifecyclePayload, event["params"]["data"])

    @property
    def subagents(self) -> AsyncIterator[AgentCallStream]:
        """A handle per agent call this call made, as each is made."""
        return self._subagents()

    async def _subagents(self) -> AsyncIterator[AgentCallStream]:
        node = await self._get_node()
        if node is None:
            return
        children: StreamBuffer[CallNode] = node.children
        index = 0
        while True:
            while index < len(children.pieces):
                yield AgentCallStream(self._run, children.pieces[index])
                index += 1
            if children.done:
                return
            await children.wait_beyond(index)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.alias!r}, namespace={self.namespace!r}, {self.status})"


class AgentRunStream(AgentCallStream):
    """A running agent tree as a stream of protocol events, for `async with` (leaving it
    cancels what is still running).

    The root call's namespace is `[]`. `since=seq` on `events()` resumes after any event;
    `await run.output` gives the final `AIMessage` or raises the run's error.
    """

    def __init__(
        self,
        agent: MiniAgent,
        input: Any,
        config: RunnableConfig | None,
        kwargs: dict[str, Any],
    ) -> None:
        super().__init__(self, None)
        self._agent = agent
        self._input = input
        self._config = ensure_config(config)
        self._kwargs = kwargs
        self._log = EventLog()
        self._tree = AgentTreeEvents(self._log.emit)
        self._run_manager: AsyncCallbackManagerForChainRun | None = None
        self._agent_run: AgentRun | None = None
        self._supervisor: asyncio.Task[AIMessage] | None = None

    def namespace_of(self, call: AgentCall) -> Namespace | None:
        """Where the events of `call` (an `AgentCall` an instrument was told of, say) are in
        this run, or None if it is not a call of this run."""
        return self._tree.namespace_of(call)

    async def _start(self) -> None:
        agent_run, run_manager = await start_traced_run(
            self._agent, self._input, self._config, self._kwargs
        )
        self._run_manager = run_manager
        self._agent_run = agent_run
        # The tree is an instrument of the run's scope: the run's task, and every call made in
        # it, reports the agent calls it makes.
        with instrumented(self._tree):
            agent_run.start()
        supervisor = asyncio.get_running_loop().create_task(
            self._supervise(agent_run, run_manager), name=f"events-run:{self._agent.alias}"
        )
        # Its outcome reaches the consumer through the log and `output`, read or not.
        supervisor.add_done_callback(_retrieve_outcome)
        self._supervisor = supervisor

    async def _supervise(
        self, agent_run: AgentRun, run_manager: AsyncCallbackManagerForChainRun
    ) -> AIMessage:
        try:
            # The run's task ends with its context: what the agents started has ended too.
            await agent_run.wait()
            if not agent_run.text.done:
                # Cancelled before it ran at all.
                agent_run.text.end(StreamCancelledError("The run was cancelled before it began."))
            await agent_run.await_text()  # at once now: raises the run's error, if any
        except Exception as error:
            await self._tree.finish()
            self._log.end(error)
            await run_manager.on_chain_error(error)
            raise
        except asyncio.CancelledError:
            await agent_run.aclose()
            await self._tree.cancel()
            self._log.end(StreamCancelledError("The run was cancelled before its end."))
            raise
        await self._tree.finish()
        final = agent_run.final_message()
        self._log.end()
        await run_manager.on_chain_end(final)
        return final

    async def _get_node(self) -> CallNode | None:
        return await self._tree.root()

    def _known_node(self) -> CallNode | None:
        return self._tree.root_node

    def events(
        self,
        *,
        since: int = 0,
        channels: Collection[str] | None = None,
        depth: int | None = None,
        namespaces: Collection[Sequence[str]] | None = None,
    ) -> AsyncIterator[ProtocolEvent]:
        """Every event of the run after `since` (a `seq`), as emitted; `channels`,
        `namespaces` (prefixes) and `depth` keep a part of them (see `EventLog.events`)."""
        return self._log.events(since=since, channels=channels, namespaces=namespaces, depth=depth)

    @property
    def log(self) -> EventLog:
        """The run's events, for a transport to serve."""
        return self._log

    @property
    def output(self) -> _Output:
        """`await run.output`: the whole reply as one `AIMessage` (as `ainvoke` returns it),
        once every event is out; raises the run's error."""
        return _Output(self)

    async def aclose(self) -> None:
        """Cancel what is still running and wait until it has stopped; idempotent."""
        if self._agent_run is not None:
            await self._agent_run.aclose()
        supervisor = self._supervisor
        if supervisor is not None:
            await asyncio.wait([supervisor])

    async def __aenter__(self) -> AgentRunStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _retrieve_outcome(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()


class _Output:
    __slots__ = ("_run",)

    def __init__(self, run: AgentRunStream) -> None:
        self._run = run

    def __await__(self) -> Generator[Any, None, AIMessage]:
        supervisor = self._run._supervisor
        assert supervisor is not None
        return asyncio.shield(supervisor).__await__()


async def astream_agent_events(
    agent: MiniAgent,
    input: Any,
    config: RunnableConfig | None = None,
    **kwargs: Any,
) -> AgentRunStream:
    """Start a run of `agent` and return its protocol stream (what
    `agent.astream_events(input, config, version="v3")` does)."""
    run = AgentRunStream(agent, input, config, kwargs)
    await run._start()
    return run


__all__ = ["AgentCallStream", "AgentRunStream", "astream_agent_events"]
