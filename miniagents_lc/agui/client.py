"""`AGUIAgent`: any AG-UI endpoint (ours, LangGraph's, pydantic-ai's...) as a local agent.

Each call posts a `RunAgentInput` and reads the SSE answer with httpx-sse, every event validated
by `ag-ui-protocol`'s models. Each text message becomes a `MessagePromise` of the caller's reply
as soon as it starts (in the order the messages start, sub-agents' messages included), fed with
its deltas as they arrive. A `RUN_ERROR` ends the reply with `AGUIAgentError`; a caller that
stops reading cancels the call, which closes the request.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Self

import httpx
from ag_ui.core import (
    AssistantMessage,
    Event,
    EventType,
    FunctionCall,
    RunAgentInput,
    SystemMessage,
    TextMessageChunkEvent,
    TextMessageContentEvent,
    TextMessageEndEvent,
    TextMessageStartEvent,
    ToolCall,
    ToolCallArgsEvent,
    ToolCallEndEvent,
    ToolCallStartEvent,
    ToolMessage,
    UserMessage,
)
from ag_ui.core import Message as AGUIMessage
from httpx_sse import aconnect_sse
from pydantic import TypeAdapter, ValidationError

from miniagents_lc.agents import InteractionContext, MiniAgent
from miniagents_lc.messages import AssistantMessage as OurAssistantMessage
from miniagents_lc.messages import Message, MessagePromise
from miniagents_lc.promising import AppendProducer

try:  # the caller's trace goes on at the other end when OpenTelemetry is installed
    from opentelemetry import propagate as otel_propagate
except ImportError:  # pragma: no cover - the otel extra is optional
    otel_propagate = None  # type: ignore[assignment]

_EVENT: TypeAdapter[Any] = TypeAdapter(Event)


class AGUIAgentError(Exception):
    """An AG-UI endpoint refused a call, broke the protocol, or reported `RUN_ERROR`."""

    def __init__(self, alias: str, reason: str) -> None:
        super().__init__(f"AG-UI agent {alias!r}: {reason}")
        self.alias = alias
        self.reason = reason


def to_agui_messages(messages: list[Message]) -> list[AGUIMessage]:
    """Our messages as the `messages` of a `RunAgentInput` (roles as AG-UI names them)."""
    converted: list[AGUIMessage] = []
    for message in messages:
        message_id = uuid.uuid4().hex
        role = message.role
        text = message.text or ""
        if role in ("user", "human"):
            converted.append(UserMessage(id=message_id, content=text))
        elif role in ("system", "developer"):
            converted.append(SystemMessage(id=message_id, content=text))
        elif role == "tool":
            call_id = str(getattr(message, "tool_call_id", None) or message_id)
            converted.append(ToolMessage(id=message_id, content=text, tool_call_id=call_id))
        else:
            calls = [
                ToolCall(
                    id=str(call.get("id") or uuid.uuid4().hex),
                    function=FunctionCall(
                        name=call["name"], arguments=json.dumps(dict(call.get("args") or {}))
                    ),
                )
                for call in getattr(message, "tool_calls", None) or []
            ]
            converted.append(
                AssistantMessage(id=message_id, content=text, tool_calls=calls or None)
            )
    return converted


_CHUNKED = "\0chunked"
"""Where the message being streamed in `TEXT_MESSAGE_CHUNK`s is kept (no message id clashes)."""


class _Incoming:
    """One text message of the remote run: its promise and its tool calls so far."""

    __slots__ = ("calls", "chunk_id", "producer", "promise")

    def __init__(self, chunk_id: str = "") -> None:
        self.chunk_id = chunk_id
        self.producer: AppendProducer[str] = AppendProducer(capture_errors=True).open()
        self.promise = MessagePromise(producer=self.producer, message_class=OurAssistantMessage)
        self.calls: dict[str, dict[str, Any]] = {}


class AGUIAgent(MiniAgent):
    """The AG-UI agent at `url` (the URL a `RunAgentInput` is posted to), as a `MiniAgent`.

    `token` is sent as a bearer token (and shown nowhere). Keyword arguments of a call travel
    as `forwardedProps`.
    """

    def __init__(
        self,
        url: str,
        *,
        alias: str,
        token: str | None = None,
        description: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        super().__init__(self._call_endpoint, alias=alias, description=description)
        self.url = url
        self.timeout = timeout
        self._token = token

    def fork(
        self, alias: str | None = None, *, description: str | None = None, **kwargs: Any
    ) -> Self:
        """A copy calling the same endpoint, with more bound kwargs and maybe another alias."""
        forked = type(self)(
            self.url,
            alias=alias if alias is not None else self.alias,
            token=self._token,
            description=description if description is not None else self.description,
            timeout=self.timeout,
        )
        forked.bound_kwargs = {**self.bound_kwargs, **kwargs}
        return forked

    def __repr__(self) -> str:
        return f"AGUIAgent({self.url!r}, alias={self.alias!r})"

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        if otel_propagate is not None:
            otel_propagate.inject(headers)
        return headers

    async def _call_endpoint(self, ctx: InteractionContext, **kwargs: Any) -> None:
        agent = ctx.this_agent
        assert isinstance(agent, AGUIAgent)
        messages = await ctx.message_promises.acollect_messages()
        run_input = RunAgentInput(
            thread_id=uuid.uuid4().hex,
            run_id=uuid.uuid4().hex,
            messages=to_agui_messages(list(messages)),
            tools=[],
            context=[],
            state={},
            forwarded_props=kwargs,
        )
        body = run_input.model_dump(mode="json", by_alias=True)
        incoming: dict[str, _Incoming] = {}
        try:
            await agent._follow(ctx, body, incoming)
        except BaseException as error:
            reason = error if isinstance(error, Exception) else None
            for message in incoming.values():
                if not message.producer.is_closed:
                    message.producer.close(
                        reason or AGUIAgentError(agent.alias, "the call was cancelled")
                    )
            raise

    async def _follow(
        self, ctx: InteractionContext, body: dict[str, Any], incoming: dict[str, _Incoming]
    ) -> None:
        timeout = httpx.Timeout(self.timeout, read=None)
        async with (
            httpx.AsyncClient(timeout=timeout) as client,
            aconnect_sse(client, "POST", self.url, json=body, headers=self._headers()) as source,
        ):
            response = source.response
            if response.status_code != 200:
                await response.aread()
                raise AGUIAgentError(
                    self.alias, f"HTTP {response.status_code}: {response.text.strip()[:300]}"
                )
            async for sse in source.aiter_sse():
                if not sse.data:
                    continue
                try:
                    event = _EVENT.validate_json(sse.data)
                except ValidationError as error:
                    raise AGUIAgentError(
                        self.alias, f"not an AG-UI event ({error.error_count()} error(s))"
                    ) from error
                if self._on_event(ctx, event, incoming):
                    return
        raise AGUIAgentError(self.alias, "the stream ended before RUN_FINISHED or RUN_ERROR")

    def _on_event(
        self, ctx: InteractionContext, event: Any, incoming: dict[str, _Incoming]
    ) -> bool:
        """Take one event; True once the run has ended well."""
        if isinstance(event, TextMessageStartEvent):
            message = incoming[event.message_id] = _Incoming()
            ctx.reply(message.promise)
        elif isinstance(event, TextMessageChunkEvent):
            # The shorthand: a chunk of a new id starts a message, one without an id goes on
            # with the last; such a message ends when the next one starts, or with the run.
            chunked = incoming.get(_CHUNKED)
            message_id = event.message_id or (chunked.chunk_id if chunked else None)
            if chunked is None or chunked.chunk_id != message_id:
                if chunked is not None:
                    chunked.producer.close()
                chunked = incoming[_CHUNKED] = _Incoming(chunk_id=message_id or "")
                ctx.reply(chunked.promise)
            if event.delta:
                chunked.producer.append(event.delta)
        elif isinstance(event, TextMessageContentEvent):
            if event.delta and (content_of := incoming.get(event.message_id)) is not None:
                content_of.producer.append(event.delta)
        elif isinstance(event, TextMessageEndEvent):
            if (ended := incoming.get(event.message_id)) is not None:
                if ended.calls:
                    ended.promise.set_fields(tool_calls=list(ended.calls.values()))
                ended.producer.close()
        elif isinstance(event, ToolCallStartEvent):
            parent = incoming.get(event.parent_message_id or "")
            if parent is not None:
                parent.calls[event.tool_call_id] = {
                    "name": event.tool_call_name,
                    "args": "",
                    "id": event.tool_call_id,
                }
        elif isinstance(event, ToolCallArgsEvent | ToolCallEndEvent):
            for message in incoming.values():
                call = message.calls.get(event.tool_call_id)
                if call is None:
                    continue
                if isinstance(event, ToolCallArgsEvent):
                    call["args"] += event.delta
                else:
                    call["args"] = json.loads(call["args"] or "{}")
        elif event.type == EventType.RUN_ERROR:
            raise AGUIAgentError(self.alias, event.message)
        elif event.type == EventType.RUN_FINISHED:
            if (chunked := incoming.pop(_CHUNKED, None)) is not None:
                chunked.producer.close()
            for message in incoming.values():
                if not message.producer.is_closed:
                    message.producer.close(
                        AGUIAgentError(self.alias, "the run finished mid-message")
                    )
            return True
        return False


__all__ = ["AGUIAgent", "AGUIAgentError", "to_agui_messages"]
