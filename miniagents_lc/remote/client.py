"""`RemoteAgent`: an agent served elsewhere, called like a local one.

Its reply is rebuilt from the run's SSE stream: a `MessagePromise` per message of the remote
root's reply, in reply order, each fed with the deltas as they arrive. A dropped connection is
resumed from the last `seq` received (bounded retries with backoff), so no token is lost or
repeated; a failed remote run ends the reply with `RemoteAgentError` after the partial tokens.
"""

from __future__ import annotations

import asyncio
import json
import uuid
import weakref
from collections.abc import AsyncGenerator
from typing import Any, Self

import httpx
from httpx_sse import ServerSentEvent, aconnect_sse

from miniagents_lc.agents import InteractionContext, MiniAgent
from miniagents_lc.messages import AssistantMessage, Message, MessagePromise, thaw
from miniagents_lc.promising import AppendProducer
from miniagents_lc.remote.errors import RemoteAgentError, RemoteRunLostError
from miniagents_lc.remote.wire import (
    END_EVENT,
    REPLY_EVENT,
    RUN_ID_HEADER,
    EndData,
    events_path,
    run_path,
)

try:  # With OpenTelemetry installed, the caller's trace context travels with each request.
    from opentelemetry import propagate as _propagate
except ImportError:  # pragma: no cover - without it there is no trace to continue
    _propagate = None  # type: ignore[assignment]

_ROLES = {"ai": "assistant", "human": "user", "system": "system"}
_TRANSIENT = frozenset({502, 503, 504})


class _Unavailable(Exception):
    """A 502/503/504: no server took the request (a restart, say); worth trying again."""


class RemoteAgent(MiniAgent):
    """The agent `name` served by `create_app` at `base_url`, as a local `MiniAgent`.

    `alias` defaults to `name`; `token` is sent as a bearer token (and shown nowhere).
    A dropped connection, a refused one, or a balancer's 502/503/504 is retried for up to
    `reconnect_window` seconds (enough to ride out a server's restart when Redis keeps the
    events), `backoff` seconds apart at first, doubling up to 1 s; `max_retries`, if given,
    bounds the attempts as well. Keyword arguments of a call travel to the remote agent as JSON.
    """

    def __init__(
        self,
        base_url: str,
        name: str,
        *,
        alias: str | None = None,
        token: str | None = None,
        description: str | None = None,
        max_retries: int | None = None,
        backoff: float = 0.05,
        timeout: float = 30.0,
        reconnect_window: float = 10.0,
    ) -> None:
        super().__init__(self._call_remote, alias=alias or name, description=description)
        self.base_url = base_url.rstrip("/")
        self.remote_name = name
        self.max_retries = max_retries
        self.backoff = backoff
        self.timeout = timeout
        self.reconnect_window = reconnect_window
        self._token = token
        self._clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[httpx.AsyncClient, AsyncGenerator[None, None]]
        ] = weakref.WeakKeyDictionary()

    def fork(
        self, alias: str | None = None, *, description: str | None = None, **kwargs: Any
    ) -> Self:
        """A copy calling the same remote agent, with more bound kwargs (they travel as JSON)
        and, if given, another alias."""
        forked = type(self)(
            self.base_url,
            self.remote_name,
            alias=alias if alias is not None else self.alias,
            token=self._token,
            description=description if description is not None else self.description,
            max_retries=self.max_retries,
            backoff=self.backoff,
            timeout=self.timeout,
            reconnect_window=self.reconnect_window,
        )
        forked.bound_kwargs = {**self.bound_kwargs, **kwargs}
        forked.errors_as_messages = self.errors_as_messages
        forked.error_tracebacks_in_messages = self.error_tracebacks_in_messages
        return forked

    def __repr__(self) -> str:
        return f"RemoteAgent({self.base_url!r}, {self.remote_name!r}, alias={self.alias!r})"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    async def _client(self) -> httpx.AsyncClient:
        """This loop's client (connections belong to the loop that opened them), closed by the
        loop's shutdown of async generators."""
        loop = asyncio.get_running_loop()
        entry = self._clients.get(loop)
        if entry is not None:
            return entry[0]
        client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(self.timeout, read=None),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=100),
        )
        closer = _close_at_loop_shutdown(self._clients, loop, client)
        self._clients[loop] = (client, closer)
        await anext(closer)
        return client

    async def _call_remote(self, ctx: InteractionContext, **kwargs: Any) -> None:
        # The agent called, which is this one or a fork of it (with its own alias, say).
        agent = ctx.this_agent
        assert isinstance(agent, RemoteAgent)
        messages = await ctx.message_promises.acollect_messages()
        payload = {
            "input": [thaw(message.model_dump(exclude_none=True)) for message in messages],
            "kwargs": kwargs,
        }
        reply = _ReplyBuilder(ctx, agent.alias)
        try:
            await agent._follow(await agent._client(), payload, reply)
        except Exception as error:
            reply.fail(error)
            raise
        except BaseException:
            reply.fail(RemoteRunLostError(agent.alias, "Cancelled", "the call was cancelled"))
            raise

    async def _follow(
        self, client: httpx.AsyncClient, payload: dict[str, Any], reply: _ReplyBuilder
    ) -> None:
        # Named here, so a POST that drops before its answer can be sent again safely: a
        # server that knows the run follows it rather than start it twice.
        run_id = uuid.uuid4().hex
        confirmed = False
        failures = 0
        failing_since = 0.0
        loop = asyncio.get_running_loop()
        while True:
            headers = self._headers()
            if _propagate is not None:
                _propagate.inject(headers)  # W3C traceparent of the span current here
            try:
                if not confirmed:
                    headers[RUN_ID_HEADER] = run_id
                    connection = aconnect_sse(
                        client, "POST", run_path(self.remote_name), json=payload, headers=headers
                    )
                else:
                    headers["Last-Event-ID"] = str(reply.last_seq)
                    connection = aconnect_sse(client, "GET", events_path(run_id), headers=headers)
                async with connection as source:
                    response = source.response
                    if response.status_code in _TRANSIENT:
                        # A balancer with no live server (or a server without Redis) answered:
                        # no run was started, so even a POST is safe to send again.
                        await response.aread()
                        raise _Unavailable(f"HTTP {response.status_code}: {response.text[:200]}")
                    if response.status_code != 200:
                        await response.aread()
                        raise self._refused(response)
                    confirmed = True
                    async for event in source.aiter_sse():
                        failures = 0
                        end = reply.on_sse(event)
                        if end is not None:
                            self._finish(reply, end)
                            return
                raise httpx.RemoteProtocolError("the stream ended before its `end` event")
            except (httpx.TransportError, _Unavailable) as error:
                failures += 1
                if failures == 1:
                    failing_since = loop.time()
                elapsed = loop.time() - failing_since
                out_of_time = elapsed >= self.reconnect_window
                out_of_tries = self.max_retries is not None and failures > self.max_retries
                if out_of_time or out_of_tries:
                    raise self._gave_up(run_id, confirmed, error, failures, elapsed) from None
                delay = min(self.backoff * 2 ** (failures - 1), 1.0)
                await asyncio.sleep(min(delay, self.reconnect_window - elapsed))

    def _gave_up(
        self, run_id: str, confirmed: bool, error: Exception, failures: int, elapsed: float
    ) -> RemoteAgentError:
        attempts = f"{failures} attempt(s) over {elapsed:.1f} s"
        error_type = "HTTPUnavailable" if isinstance(error, _Unavailable) else type(error).__name__
        if not confirmed:
            # No server answered the call: no run is known to exist, none is "lost".
            return RemoteAgentError(
                self.alias,
                error_type,
                f"the call did not get through to {self.base_url} ({attempts}): {error}",
            )
        return RemoteRunLostError(
            self.alias,
            error_type,
            f"run {run_id}: the connection to {self.base_url} failed ({attempts}): {error}",
        )

    def _refused(self, response: httpx.Response) -> RemoteAgentError:
        detail = response.text[:500]
        if response.status_code == 404 and "run" in detail:
            return RemoteRunLostError(self.alias, "RunNotFound", detail)
        return RemoteAgentError(self.alias, f"HTTP {response.status_code}", detail)

    def _finish(self, reply: _ReplyBuilder, end: EndData) -> None:
        status = end["status"]
        if status == "completed":
            reply.complete()
            return
        error_class = RemoteRunLostError if status == "lost" else RemoteAgentError
        raise error_class(self.alias, end.get("error_type", status), end.get("message", ""))


class _Incoming:
    """One remote message: its tokens so far and what its finish said."""

    __slots__ = ("fields", "producer", "promise", "role", "tool_calls")

    def __init__(self) -> None:
        self.producer: AppendProducer[str] = AppendProducer(capture_errors=True).open()
        self.role: str | None = None
        self.fields: dict[str, Any] = {}
        self.tool_calls: list[dict[str, Any]] = []
        self.promise: MessagePromise | None = None

    def make_promise(self) -> MessagePromise:
        if self.promise is None:
            message_class = AssistantMessage if self.role in (None, "ai") else Message
            self.promise = MessagePromise(producer=self.producer, message_class=message_class)
        return self.promise

    def finish(self) -> None:
        promise = self.make_promise()
        fields: dict[str, Any] = dict(self.fields)
        if self.role is not None:
            fields["role"] = _ROLES.get(self.role, self.role)
        if self.tool_calls:
            fields["tool_calls"] = self.tool_calls
        promise.set_fields(**fields)
        self.producer.close()


class _ReplyBuilder:
    """Rebuilds a remote reply from its events: messages by id, placed by `reply` events."""

    def __init__(self, ctx: InteractionContext, alias: str) -> None:
        self._ctx = ctx
        self._alias = alias
        self._messages: dict[str, _Incoming] = {}
        # Each message's events come in one namespace: its id, per namespace, while it is open.
        self._open: dict[tuple[str, ...], str] = {}
        self._placed = 0
        self.last_seq = 0

    def _message(self, message_id: str) -> _Incoming:
        incoming = self._messages.get(message_id)
        if incoming is None:
            incoming = self._messages[message_id] = _Incoming()
        return incoming

    def on_sse(self, sse: ServerSentEvent) -> EndData | None:
        """Take one SSE event; the `end` data when the run has ended."""
        if sse.event == REPLY_EVENT:
            data = json.loads(sse.data)
            if data["index"] == self._placed:  # a resumed stream repeats the known placements
                self._placed += 1
                self._ctx.reply(self._message(data["id"]).make_promise())
            return None
        if not sse.data:  # a keep-alive comment
            return None
        if sse.event == END_EVENT:
            end: EndData = json.loads(sse.data)
            return end
        event = json.loads(sse.data)
        seq = event["seq"]
        if seq <= self.last_seq:
            return None
        self.last_seq = seq
        if event["method"] == "messages":
            self._on_message_event(tuple(event["params"]["namespace"]), event["params"]["data"])
        return None

    def _on_message_event(self, namespace: tuple[str, ...], data: dict[str, Any]) -> None:
        kind = data["event"]
        if kind == "message-start":
            self._open[namespace] = data["id"]
            self._message(data["id"]).role = data.get("role")
            return
        message_id = self._open.get(namespace)
        if message_id is None:
            return
        incoming = self._message(message_id)
        if kind == "content-block-delta":
            delta = data["delta"]
            if delta.get("type") == "text-delta" and delta["text"]:
                incoming.producer.append(delta["text"])
        elif kind == "content-block-finish":
            content = data["content"]
            if content.get("type") == "tool_call":
                incoming.tool_calls.append(
                    {"name": content["name"], "args": content["args"], "id": content.get("id")}
                )
        elif kind == "message-finish":
            del self._open[namespace]
            if "usage" in data:
                incoming.fields["usage"] = data["usage"]
            incoming.fields.update(data.get("metadata", {}))
            incoming.finish()
        elif kind == "error":
            del self._open[namespace]
            error_type, _, message = str(data.get("message", "")).partition(": ")
            incoming.producer.close(RemoteAgentError(self._alias, error_type, message))

    def complete(self) -> None:
        """The run ended well: a message still open can get no more tokens."""
        self.fail(RemoteRunLostError(self._alias, "Incomplete", "the run ended mid-message"))

    def fail(self, error: Exception) -> None:
        """End every open message with `error`."""
        for incoming in self._messages.values():
            if not incoming.producer.is_closed:
                incoming.producer.close(error)


async def _close_at_loop_shutdown(
    clients: weakref.WeakKeyDictionary[
        asyncio.AbstractEventLoop, tuple[httpx.AsyncClient, AsyncGenerator[None, None]]
    ],
    loop: asyncio.AbstractEventLoop,
    client: httpx.AsyncClient,
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        if (entry := clients.get(loop)) is not None and entry[0] is client:
            del clients[loop]
        await client.aclose()


__all__ = ["RemoteAgent"]
