"""`create_a2a_app`: a miniagent served as an A2A agent, built on `a2a-sdk`'s server parts.

The SDK does the protocol (JSON-RPC routes, the request handler, the task store, the event
queues, the agent card route); this module is only the `AgentExecutor` that runs the agent and
turns its reply into task events:

- a task per `SendMessage` / `SendStreamingMessage`, created `working`, then `completed`,
  `failed` (its status message says why) or `canceled`;
- one artifact per message of the reply, in reply order, its text appended chunk by chunk
  (`TaskArtifactUpdateEvent`: the first chunk with `append=false`, the others `append=true`,
  the last one `lastChunk=true`); the artifact's `name` and `metadata.agent` name the agent
  that wrote the message, `metadata.namespace` its call in the tree, `metadata.index` its place
  in the reply; each chunk event's `metadata.offset` is the number of characters of the
  artifact sent before it (a client resuming the stream drops what it already has);
- each sub-agent call made under the agent as `working` status updates whose message says
  `"<alias> started"` / `"<alias> completed"` (or `failed`, `interrupted`), with
  `metadata.miniagents = {"alias", "namespace", "status"}`.

A chunk carries all the text produced since the previous one, so a fast agent is not slowed
down by one event per token and a slow one still streams token by token.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.context import ServerCallContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    Artifact,
    HTTPAuthSecurityScheme,
    InvalidParamsError,
    Message,
    Part,
    Role,
    SecurityRequirement,
    SecurityScheme,
    SendMessageRequest,
    StringList,
    Task,
    TaskArtifactUpdateEvent,
    TaskState,
    TaskStatus,
)
from a2a.utils.constants import AGENT_CARD_WELL_KNOWN_PATH, PROTOCOL_VERSION_CURRENT
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from miniagents_lc.a2a._trace import attached_trace
from miniagents_lc.agents import MiniAgent
from miniagents_lc.protocol import AgentRunStream, ProtocolEvent, astream_agent_events

logger = logging.getLogger("miniagents_lc.a2a")

Endpoint = Callable[[Request], Awaitable[Response]]


def agent_card(agent: MiniAgent, url: str, *, token_required: bool = False) -> AgentCard:
    """The agent card `create_a2a_app` serves for `agent` at `url` (its JSON-RPC endpoint):
    named by the alias, described by the agent's description, streaming, one skill (the agent
    itself), and a bearer scheme when a token is required."""
    description = agent.description or f"The miniagents_lc agent {agent.alias!r}."
    card = AgentCard(
        name=agent.alias,
        description=description,
        version="1.0.0",
        supported_interfaces=[
            AgentInterface(
                url=url, protocol_binding="JSONRPC", protocol_version=PROTOCOL_VERSION_CURRENT
            )
        ],
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[
            AgentSkill(
                id=agent.alias,
                name=agent.alias,
                description=description,
                tags=["miniagents_lc"],
            )
        ],
    )
    if token_required:
        card.security_schemes["bearer"].CopyFrom(
            SecurityScheme(http_auth_security_scheme=HTTPAuthSecurityScheme(scheme="Bearer"))
        )
        card.security_requirements.append(SecurityRequirement(schemes={"bearer": StringList()}))
    return card


class MiniAgentExecutor(AgentExecutor):
    """The `a2a-sdk` executor running `agent`: one run per task, its reply streamed as the
    task's artifacts (see the module's docstring); `cancel` cancels the agents of the run and
    waits until they have stopped (their `finally` blocks have run).

    Text that keeps coming goes out in chunks at least `chunk_interval` seconds apart (each
    with everything produced meanwhile); the first chunk of an artifact, and text after a
    pause, go out at once."""

    def __init__(self, agent: MiniAgent, *, chunk_interval: float = 0.005) -> None:
        self.agent = agent
        self.chunk_interval = chunk_interval
        self._runs: dict[str, AgentRunStream] = {}
        self._cancelled: set[str] = set()

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        task_id = context.task_id or ""
        context_id = context.context_id or ""
        updater = TaskUpdater(event_queue, task_id, context_id)
        if context.current_task is None:
            # Created working (the run starts now): one event less before the first token.
            message = context.message
            await event_queue.enqueue_event(
                Task(
                    id=task_id,
                    context_id=context_id,
                    status=TaskStatus(state=TaskState.TASK_STATE_WORKING),
                    history=[message] if message is not None else [],
                )
            )
        else:
            await updater.start_work()
        kwargs = context.metadata.get("kwargs") or {}
        headers = context.call_context.state.get("headers") or {}
        with attached_trace(headers):
            run = await astream_agent_events(self.agent, context.get_user_input(), None, **kwargs)
        self._runs[task_id] = run
        try:
            try:
                await _ReplyRelay(run, updater, self.agent.alias, self.chunk_interval).follow()
            except Exception as error:
                if task_id not in self._cancelled:  # else `cancel` says how it ended
                    text = f"{type(error).__name__}: {error}"
                    await updater.failed(updater.new_agent_message([Part(text=text)]))
                return
            finally:
                self._runs.pop(task_id, None)
                await run.aclose()
            if task_id not in self._cancelled:
                await updater.complete()
        finally:
            self._cancelled.discard(task_id)

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        task_id = context.task_id or ""
        run = self._runs.get(task_id)
        if run is not None:
            self._cancelled.add(task_id)  # `execute` forgets it as it returns
            await run.aclose()
        await TaskUpdater(event_queue, task_id, context.context_id or "").cancel()


class _Artifact:
    """One message of the reply, as an artifact: its text not sent yet, and how far it got."""

    __slots__ = ("closed", "ended", "namespace", "pending", "sent", "started")

    def __init__(self, namespace: list[str]) -> None:
        self.namespace = namespace
        self.pending: list[str] = []
        self.sent = 0  # characters sent
        self.started = False  # its first chunk is out
        self.ended = False  # the message has ended
        self.closed = False  # its last chunk is out


class _ReplyRelay:
    """Reads a run's events and its reply order, and sends what is new as task events each
    time it has caught up with the run."""

    def __init__(
        self, run: AgentRunStream, updater: TaskUpdater, alias: str, interval: float
    ) -> None:
        self._run = run
        self._interval = interval
        self._next_send = 0.0
        self._updater = updater
        self._alias = alias
        self._messages: dict[str, _Artifact] = {}
        self._open: dict[tuple[str, ...], str] = {}
        self._reply: list[str] = []
        self._placed = 0
        self._first_open = 0
        self._statuses: list[tuple[str, list[str], str]] = []
        self._sending = asyncio.Lock()

    async def follow(self) -> None:
        """Until the run has ended; raises the run's error after sending what came before."""
        order = asyncio.create_task(self._read_order(), name=f"a2a-order:{self._alias}")
        loop = asyncio.get_running_loop()
        try:
            log = self._run.log
            async for event in self._run.events():
                self._take(event)
                if event["seq"] < len(log):
                    continue  # more is buffered: read it before sending
                wait = self._next_send - loop.time()
                if wait > 0 and not self._urgent():
                    # A fast stream goes out in chunks `interval` apart: the SDK's cost is per
                    # event, whatever its size.
                    await asyncio.sleep(wait)
                    if event["seq"] < len(log):
                        continue
                await self._send()
            await order
            await self._send()
        except BaseException:
            order.cancel()
            await asyncio.wait([order])
            await self._send_quietly()
            raise

    def _urgent(self) -> bool:
        """Whether what is new opens an artifact or tells of a sub-agent (never held back)."""
        if self._statuses:
            return True
        if self._placed < len(self._reply):
            artifact = self._messages.get(self._reply[self._placed])
            return artifact is not None and (bool(artifact.pending) or artifact.ended)
        return False

    async def _read_order(self) -> None:
        async for message_id, _namespace in self._run.message_ids:
            self._reply.append(message_id)
            # A message may be placed after its last event (a finished one, replied later).
            await self._send()

    def _take(self, event: ProtocolEvent) -> None:
        params = event["params"]
        data = params["data"]
        namespace = params["namespace"]
        if event["method"] == "lifecycle":
            if namespace:
                self._statuses.append((namespace[-1].rpartition(":")[0], namespace, data["event"]))
            return
        kind = data["event"]
        where = tuple(namespace)
        if kind == "message-start":
            self._open[where] = data["id"]
            self._messages[data["id"]] = _Artifact(namespace)
            return
        message_id = self._open.get(where)
        if message_id is None:
            return
        if kind == "content-block-delta":
            delta = data["delta"]
            if delta.get("type") == "text-delta" and delta["text"]:
                self._messages[message_id].pending.append(delta["text"])
        elif kind == "message-finish":
            del self._open[where]
            self._messages[message_id].ended = True
        elif kind == "error":
            # No last chunk: the task's failure (or cancellation) is what ends this artifact.
            del self._open[where]

    async def _send(self) -> None:
        # Both readers send; one at a time, so every artifact's chunks stay in order.
        async with self._sending:
            await self._send_new()

    async def _send_new(self) -> None:
        updater = self._updater
        statuses, self._statuses = self._statuses, []
        for alias, namespace, status in statuses:
            message = updater.new_agent_message(
                [Part(text=f"{alias} {status}")],
                metadata={"miniagents": {"alias": alias, "namespace": namespace, "status": status}},
            )
            await updater.update_status(TaskState.TASK_STATE_WORKING, message)
        # Artifacts open in reply order: the next one waits until its message has started.
        reply = self._reply
        while self._placed < len(reply):
            # Opened at its first text (or its end): no empty chunk, and no event to hold back.
            next_one = self._messages.get(reply[self._placed])
            if next_one is None or not (next_one.pending or next_one.ended):
                break
            self._placed += 1
        for index in range(self._first_open, self._placed):
            artifact = self._messages[reply[index]]
            if artifact.closed or (
                artifact.started and not artifact.pending and not artifact.ended
            ):
                continue
            await self._send_chunk(reply[index], index, artifact)
        while self._first_open < self._placed and self._messages[reply[self._first_open]].closed:
            self._first_open += 1

    async def _send_chunk(self, message_id: str, index: int, artifact: _Artifact) -> None:
        text = "".join(artifact.pending)
        artifact.pending.clear()
        first = not artifact.started
        namespace = artifact.namespace
        agent = namespace[-1].rpartition(":")[0] if namespace else self._alias
        updater = self._updater
        await updater.event_queue.enqueue_event(
            TaskArtifactUpdateEvent(
                task_id=updater.task_id,
                context_id=updater.context_id,
                artifact=Artifact(
                    artifact_id=message_id,
                    name=agent if first else None,
                    parts=[Part(text=text)],
                    metadata={"agent": agent, "namespace": namespace, "index": index}
                    if first
                    else None,
                ),
                append=not first,
                last_chunk=artifact.ended,
                metadata={"offset": artifact.sent},
            )
        )
        artifact.started = True
        artifact.sent += len(text)
        artifact.closed = artifact.ended
        self._next_send = asyncio.get_running_loop().time() + self._interval

    async def _send_quietly(self) -> None:
        try:
            await self._send()
        except Exception:  # the queue is closed: the task is over anyway
            logger.debug("The reply's last chunks could not be sent", exc_info=True)


class _Handler(DefaultRequestHandler):
    """The SDK's request handler, refusing a message without text with the protocol's
    invalid-params error (a one-line reason) before any task is made."""

    async def on_message_send(
        self, params: SendMessageRequest, context: ServerCallContext
    ) -> Message | Task:
        _check_input(params)
        result: Message | Task = await super().on_message_send(params, context)
        return result

    async def on_message_send_stream(  # type: ignore[override]
        self, params: SendMessageRequest, context: ServerCallContext
    ) -> AsyncIterator[Any]:
        _check_input(params)
        async for event in super().on_message_send_stream(params, context):
            yield event


def _check_input(params: SendMessageRequest) -> None:
    message = params.message
    if message.role != Role.ROLE_USER:
        raise InvalidParamsError(message="Send the input as a message with role ROLE_USER.")
    if not any(part.HasField("text") for part in message.parts):
        raise InvalidParamsError(
            message="The message has no text part: send the input as at least one text part."
        )
    kwargs = params.metadata.fields.get("kwargs")
    if kwargs is not None and not kwargs.HasField("struct_value"):
        raise InvalidParamsError(
            message="metadata.kwargs must be an object of keyword arguments for the agent."
        )


def _guarded(endpoint: Endpoint, token: str | None) -> Endpoint:
    """`endpoint`, answering 401 unless the request carries the bearer token (if one is set)."""
    if token is None:
        return endpoint
    expected = token.encode()

    async def guarded(request: Request) -> Response:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), expected):
            return await endpoint(request)
        return JSONResponse(
            {"error": "Unauthorized: send the agent's token as `Authorization: Bearer ...`."},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    return guarded


def _card_endpoint(
    agent: MiniAgent, url: str | None, card: AgentCard | None, token_required: bool
) -> Endpoint:
    """The SDK's agent card route; without a `url`, the card names the URL it was fetched at
    (the app mounted anywhere), one card per URL seen."""
    if card is not None or url is not None:
        fixed = (
            card
            if card is not None
            else agent_card(agent, url or "", token_required=token_required)
        )
        fixed_endpoint: Endpoint = create_agent_card_routes(fixed, card_url="/")[0].endpoint
        return fixed_endpoint
    by_url: dict[str, Endpoint] = {}

    async def card_here(request: Request) -> Response:
        # The card is fetched at `<base>/.well-known/agent-card.json`; the endpoint is `<base>/`.
        path = request.url.path
        base = (
            path[: -len(AGENT_CARD_WELL_KNOWN_PATH)]
            if path.endswith(AGENT_CARD_WELL_KNOWN_PATH)
            else ""
        )
        here = str(request.url.replace(path=base + "/", query=""))
        endpoint = by_url.get(here)
        if endpoint is None:
            if len(by_url) > 16:  # host headers are the client's: keep a few only
                by_url.clear()
            endpoint = by_url[here] = create_agent_card_routes(
                agent_card(agent, here, token_required=token_required), card_url="/"
            )[0].endpoint
        return await endpoint(request)

    return card_here


def create_a2a_app(
    agent: MiniAgent,
    *,
    url: str | None = None,
    token: str | None = None,
    card: AgentCard | None = None,
    chunk_interval: float = 0.005,
) -> Starlette:
    """A Starlette app serving `agent` as an A2A agent (JSON-RPC binding): its card at
    `/.well-known/agent-card.json`, its JSON-RPC endpoint at `/`.

    `url`: the endpoint's public URL, written in the card (default: the URL the card is
    fetched at, which suits an app mounted anywhere behind no proxy). `token`: require
    `Authorization: Bearer <token>` on every call (the card stays public and declares the
    scheme). `card`: an `AgentCard` to serve instead of the one made from the agent
    (`agent_card(agent, url)`). `chunk_interval`: see `MiniAgentExecutor`.

    Its lifespan's shutdown cancels the A2A tasks still running and waits for them. Starlette
    runs no lifespan of a mounted app: mounted in an app of yours, run it inside your lifespan
    (`async with a2a_app.router.lifespan_context(a2a_app): ...`); `remote.create_app` does.
    """
    if not isinstance(agent, MiniAgent):
        raise TypeError(f"create_a2a_app serves a MiniAgent; got {agent!r}.")
    if token is not None and not token:
        raise ValueError("token='' would let anyone in: give a non-empty token, or None.")
    base_card = card or agent_card(agent, url or "http://localhost/", token_required=bool(token))
    handler = _Handler(
        agent_executor=MiniAgentExecutor(agent, chunk_interval=chunk_interval),
        task_store=InMemoryTaskStore(),
        agent_card=base_card,
    )
    rpc = create_jsonrpc_routes(handler, rpc_url="/")[0]

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await handler.aclose()

    app = Starlette(
        routes=[
            Route(
                AGENT_CARD_WELL_KNOWN_PATH,
                _card_endpoint(agent, url, card, bool(token)),
                methods=["GET"],
            ),
            Route("/", _guarded(rpc.endpoint, token), methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.a2a_handler = handler
    return app


__all__ = ["MiniAgentExecutor", "agent_card", "create_a2a_app"]
