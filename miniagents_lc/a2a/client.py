"""`A2AAgent`: any A2A agent (streaming, JSON-RPC binding) as a local `MiniAgent`.

A call sends its input as one user message with `a2a-sdk`'s client (`SendStreamingMessage`)
and replies with a `MessagePromise` per artifact of the task, in the order the artifacts first
appear, each fed with the artifact's text chunk by chunk as it arrives. The reply ends when
the task completes; a task that fails (or is canceled, rejected, or asks for input) ends it
after the tokens already streamed with `A2AAgentError` naming the agent and the state. A
dropped stream is followed again with `SubscribeToTask`: the task snapshot it starts with
gives back what the drop missed, and chunk offsets (sent by `create_a2a_app`) keep anything
from being repeated. A call cancelled by its consumer cancels the remote task (`CancelTask`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any, Self, cast

import httpx
from a2a.client import A2ACardResolver, A2AClientError, Client, ClientConfig, ClientFactory
from a2a.client.card_resolver import parse_agent_card
from a2a.client.client import ClientCallContext
from a2a.types import (
    AgentCard,
    Artifact,
    CancelTaskRequest,
    GetTaskRequest,
    Message,
    Part,
    Role,
    SendMessageRequest,
    StreamResponse,
    SubscribeToTaskRequest,
    Task,
    TaskArtifactUpdateEvent,
    TaskNotCancelableError,
    TaskNotFoundError,
    TaskState,
    TaskStatus,
    UnsupportedOperationError,
)
from a2a.utils.constants import AGENT_CARD_WELL_KNOWN_PATH

from miniagents_lc.a2a._trace import trace_headers
from miniagents_lc.a2a.errors import A2AAgentError
from miniagents_lc.agents import InteractionContext, MiniAgent
from miniagents_lc.messages import AssistantMessage, MessagePromise
from miniagents_lc.promising import AppendProducer

logger = logging.getLogger("miniagents_lc.a2a")

_ENDED = {
    TaskState.TASK_STATE_COMPLETED,
    TaskState.TASK_STATE_FAILED,
    TaskState.TASK_STATE_CANCELED,
    TaskState.TASK_STATE_REJECTED,
    TaskState.TASK_STATE_INPUT_REQUIRED,
    TaskState.TASK_STATE_AUTH_REQUIRED,
}


def _state_name(state: int) -> str:
    name: str = TaskState.Name(state)
    return name.removeprefix("TASK_STATE_").lower().replace("_", "-")


class A2AAgent(MiniAgent):
    """The A2A agent at `url` (where its card is: `url` + `/.well-known/agent-card.json`), as a
    local `MiniAgent`.

    `alias` and `description` default to the card's name and description; without `alias` the
    constructor reads the card (a blocking GET: in async code give `alias`, or use `await
    A2AAgent.afrom_url(url)`). `token` is sent as a bearer token (and shown nowhere). A dropped
    stream is resubscribed up to `max_retries` times, `backoff` seconds apart at first,
    doubling. Keyword arguments of a call travel as the request's `metadata.kwargs` (which
    `create_a2a_app` passes to the agent).
    """

    def __init__(
        self,
        url: str,
        *,
        alias: str | None = None,
        token: str | None = None,
        description: str | None = None,
        card: AgentCard | None = None,
        max_retries: int = 5,
        backoff: float = 0.05,
        timeout: float = 30.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.max_retries = max_retries
        self.backoff = backoff
        self.timeout = timeout
        self._token = token
        if card is None and alias is None:
            card = self._read_card()
        self._card = card
        super().__init__(
            self._call_remote,
            alias=alias if alias is not None else card.name if card is not None else None,
            description=description
            if description is not None
            else card.description
            if card is not None
            else None,
        )
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClient] = (
            weakref.WeakKeyDictionary()
        )

    @classmethod
    async def afrom_url(
        cls,
        url: str,
        *,
        alias: str | None = None,
        token: str | None = None,
        **options: Any,
    ) -> A2AAgent:
        """The agent at `url`, its card read without blocking the event loop."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(headers=headers, timeout=10.0) as http:
            card = await A2ACardResolver(http, url.rstrip("/")).get_agent_card()
        return cls(url, alias=alias, token=token, card=card, **options)

    def _read_card(self) -> AgentCard:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError(
                f"A2AAgent({self.url!r}) without an alias reads the agent card, which would "
                "block this event loop: give alias=..., or use "
                "`await A2AAgent.afrom_url(url)` in async code."
            )
        response = httpx.get(self.url + AGENT_CARD_WELL_KNOWN_PATH, headers=self._headers())
        response.raise_for_status()
        return parse_agent_card(response.json())

    def fork(
        self, alias: str | None = None, *, description: str | None = None, **kwargs: Any
    ) -> Self:
        """A copy calling the same agent, with more bound kwargs and, if given, another
        alias."""
        forked = type(self)(
            self.url,
            alias=alias if alias is not None else self.alias,
            token=self._token,
            description=description if description is not None else self.description,
            card=self._card,
            max_retries=self.max_retries,
            backoff=self.backoff,
            timeout=self.timeout,
        )
        forked.bound_kwargs = {**self.bound_kwargs, **kwargs}
        forked.errors_as_messages = self.errors_as_messages
        forked.error_tracebacks_in_messages = self.error_tracebacks_in_messages
        return forked

    def __repr__(self) -> str:
        return f"A2AAgent({self.url!r}, alias={self.alias!r})"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    async def _client(self) -> Client:
        """This loop's client (connections belong to the loop that opened them)."""
        loop = asyncio.get_running_loop()
        entry = self._clients.get(loop)
        if entry is None:
            entry = self._clients[loop] = _LoopClient(self)
            await entry.open()
        return await entry.client()

    async def _call_remote(self, ctx: InteractionContext, **kwargs: Any) -> None:
        agent = ctx.this_agent  # this agent or a fork of it
        assert isinstance(agent, A2AAgent)
        messages = await ctx.message_promises.acollect_messages()
        request = SendMessageRequest(
            message=Message(
                role=Role.ROLE_USER,
                message_id=uuid.uuid4().hex,
                parts=[Part(text=str(message)) for message in messages] or [Part(text="")],
            ),
        )
        if kwargs:
            request.metadata.update({"kwargs": kwargs})
        follower = _TaskFollower(agent, await agent._client(), _Artifacts(ctx, agent.alias))
        await follower.run(request)


class _LoopClient:
    """One event loop's HTTP connections and `a2a-sdk` client, closed with the loop."""

    def __init__(self, agent: A2AAgent) -> None:
        self._agent = weakref.ref(agent)
        self._http = httpx.AsyncClient(
            headers=agent._headers(),
            timeout=httpx.Timeout(agent.timeout, read=None),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=100),
        )
        self._client: Client | None = None
        self._closer = self._close_at_shutdown()

    async def open(self) -> None:
        await anext(self._closer)

    async def client(self) -> Client:
        if self._client is None:
            agent = self._agent()
            assert agent is not None
            if agent._card is None:
                agent._card = await A2ACardResolver(self._http, agent.url).get_agent_card()
            factory = ClientFactory(ClientConfig(streaming=True, httpx_client=self._http))
            self._client = factory.create(agent._card)
        return self._client

    async def _close_at_shutdown(self) -> AsyncIterator[None]:
        # An async generator: the loop's shutdown_asyncgens() runs this `finally`.
        try:
            yield
        finally:
            await self._http.aclose()


class _Incoming:
    """One artifact of the task: the message it feeds and how much text it has had."""

    __slots__ = ("length", "producer", "promise")

    def __init__(self) -> None:
        self.producer: AppendProducer[str] = AppendProducer(capture_errors=True).open()
        self.promise = MessagePromise(producer=self.producer, message_class=AssistantMessage)
        self.length = 0

    def add(self, text: str, offset: int | None) -> int:
        """Append what of `text` (placed at `offset`, when known) is new; the characters
        known to be missing before it."""
        missing = 0
        if offset is not None:
            if offset > self.length:
                missing = offset - self.length
            else:
                text = text[self.length - offset :]
        if text and not self.producer.is_closed:
            self.producer.append(text)
            self.length += len(text)
        return missing


class _Artifacts:
    """The reply being rebuilt: a message per artifact, placed in order of first appearance."""

    def __init__(self, ctx: InteractionContext, alias: str) -> None:
        self._ctx = ctx
        self._alias = alias
        self._by_id: dict[str, _Incoming] = {}

    def _incoming(self, artifact_id: str) -> _Incoming:
        incoming = self._by_id.get(artifact_id)
        if incoming is None:
            incoming = self._by_id[artifact_id] = _Incoming()
            self._ctx.reply(incoming.promise)
        return incoming

    def on_chunk(self, event: TaskArtifactUpdateEvent) -> int:
        """Take one chunk; the characters it shows were missed."""
        artifact = event.artifact
        text = "".join(part.text for part in artifact.parts if part.HasField("text"))
        incoming = self._incoming(artifact.artifact_id)
        offset_value = event.metadata.fields.get("offset")
        offset = int(offset_value.number_value) if offset_value is not None else None
        if offset is None and not event.append:
            offset = 0  # a whole artifact (or its first chunk): drop what is already here
        missing = incoming.add(text, offset)
        if event.last_chunk:
            incoming.producer.close()
        return missing

    def on_snapshot(self, task: Task, *, final: bool) -> int:
        """Catch up from a task snapshot (after a resubscription); the characters recovered."""
        recovered = 0
        for artifact in task.artifacts:
            text = "".join(part.text for part in artifact.parts if part.HasField("text"))
            incoming = self._incoming(artifact.artifact_id)
            before = incoming.length
            incoming.add(text, 0)
            recovered += incoming.length - before
            if final:
                incoming.producer.close()
        return recovered

    def complete(self) -> None:
        for incoming in self._by_id.values():
            if not incoming.producer.is_closed:
                incoming.producer.close()

    def fail(self, error: Exception) -> None:
        for incoming in self._by_id.values():
            if not incoming.producer.is_closed:
                incoming.producer.close(error)


class _StreamDropped(Exception):
    """The event stream ended before the task did."""


class _TaskFollower:
    """Follows one task to its end: the first stream, resubscriptions after drops, and the
    remote cancel when the caller stops."""

    def __init__(self, agent: A2AAgent, client: Client, reply: _Artifacts) -> None:
        self._agent = agent
        self._client = client
        self._reply = reply
        self._task_id: str | None = None
        self._context = ClientCallContext(service_parameters=trace_headers() or None)

    def _error(self, state: str, message: str) -> A2AAgentError:
        return A2AAgentError(self._agent.alias, state, message)

    async def run(self, request: SendMessageRequest) -> None:
        try:
            await self._follow(request)
        except A2AAgentError as error:
            self._reply.fail(error)
            raise
        except Exception as error:
            failure = self._error("lost", f"{type(error).__name__}: {error}")
            self._reply.fail(failure)
            raise failure from error
        except BaseException:
            self._reply.fail(self._error("canceled", "the call was cancelled by its caller"))
            await self._cancel_remote()
            raise

    async def _follow(self, request: SendMessageRequest) -> None:
        failures = 0
        stream: AsyncIterator[StreamResponse] = self._client.send_message(
            request, context=self._context
        )
        while True:
            try:
                async with aclosing(cast(AsyncGenerator[StreamResponse, None], stream)) as events:
                    async for response in events:
                        failures = 0
                        if self._on_response(response):
                            return
                raise _StreamDropped("the event stream ended before the task did")
            except (A2AClientError, _StreamDropped) as error:
                if isinstance(error, A2AClientError) and not _is_drop(error):
                    raise self._error("refused", str(error).splitlines()[0]) from None
                failures += 1
                if self._task_id is None or failures > self._agent.max_retries:
                    raise self._error(
                        "lost", f"the stream could not be followed ({failures} attempt(s)): {error}"
                    ) from None
                await asyncio.sleep(self._agent.backoff * 2 ** (failures - 1))
                stream = self._resubscribed(self._task_id)
            except UnsupportedOperationError:
                # The task ended while we were away: its stored state is all there is to read.
                assert self._task_id is not None
                task = await self._client.get_task(
                    GetTaskRequest(id=self._task_id), context=self._context
                )
                self._note_missed(self._reply.on_snapshot(task, final=True))
                self._end(task.status)
                return
            except TaskNotFoundError:
                raise self._error(
                    "lost", f"task {self._task_id} is not kept by the agent"
                ) from None

    async def _resubscribed(self, task_id: str) -> AsyncGenerator[StreamResponse, None]:
        logger.info(
            "A2A agent %r: stream of task %s dropped; resubscribing", self._agent.alias, task_id
        )
        first = True
        async for response in self._client.subscribe(
            SubscribeToTaskRequest(id=task_id), context=self._context
        ):
            if first and response.HasField("task"):
                self._note_missed(self._reply.on_snapshot(response.task, final=False))
            first = False
            yield response

    def _note_missed(self, recovered: int) -> None:
        if recovered:
            logger.warning(
                "A2A agent %r: task %s streamed %d characters while the stream was down; "
                "recovered them from the task",
                self._agent.alias,
                self._task_id,
                recovered,
            )

    def _on_response(self, response: StreamResponse) -> bool:
        """Take one event; whether the task has ended."""
        if response.HasField("artifact_update"):
            missing = self._reply.on_chunk(response.artifact_update)
            if missing:
                raise _StreamDropped(f"{missing} characters of an artifact were missed")
            return False
        if response.HasField("status_update"):
            return self._end(response.status_update.status)
        if response.HasField("task"):
            task = response.task
            self._task_id = task.id
            if task.status.state in _ENDED:
                self._reply.on_snapshot(task, final=True)
                return self._end(task.status)
            return False
        if response.HasField("message"):  # a reply without a task
            self._reply.on_snapshot(
                Task(artifacts=[Artifact(artifact_id="message", parts=response.message.parts)]),
                final=True,
            )
            return True
        return False

    def _end(self, status: TaskStatus) -> bool:
        state = status.state
        if state not in _ENDED:
            return False
        if state == TaskState.TASK_STATE_COMPLETED:
            self._reply.complete()
            return True
        detail = "".join(part.text for part in status.message.parts if part.HasField("text"))
        raise self._error(_state_name(state), detail)

    async def _cancel_remote(self) -> None:
        if self._task_id is None:
            return
        request = CancelTaskRequest(id=self._task_id)
        try:
            await asyncio.wait_for(
                self._client.cancel_task(request, context=self._context), self._agent.timeout
            )
        except (TaskNotCancelableError, TaskNotFoundError):
            pass  # it ended meanwhile
        except Exception:
            logger.warning(
                "A2A agent %r: could not cancel task %s",
                self._agent.alias,
                self._task_id,
                exc_info=True,
            )


def _is_drop(error: A2AClientError) -> bool:
    return isinstance(error.__cause__, httpx.TransportError)


__all__ = ["A2AAgent"]
