"""`create_agui_app`: agents served to AG-UI frontends.

`POST /{name}` (and `POST /` when one agent is served) takes AG-UI's `RunAgentInput` as JSON and
answers `text/event-stream` of AG-UI events (`agui_events`), encoded by `ag-ui-protocol`'s
`EventEncoder`. With `?calls=live` each call's text also streams as it is produced (`CUSTOM`
events, see `agui_events`), as the live view asks. Bad input is a 4xx whose body is one line
saying what to fix. A client that disconnects cancels the run, as a local consumer that stops
reading does.
"""

from __future__ import annotations

import hmac
import inspect
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from importlib import resources
from typing import Any

from ag_ui.core import (
    AssistantMessage,
    DeveloperMessage,
    RunAgentInput,
    SystemMessage,
    TextPart,
    ToolMessage,
    UserMessage,
)
from ag_ui.encoder import EventEncoder
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolCall
from langchain_core.messages import SystemMessage as LCSystemMessage
from langchain_core.messages import ToolMessage as LCToolMessage
from pydantic import ValidationError
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from miniagents_lc.agents import MiniAgent
from miniagents_lc.agui.events import ToolResults, agui_events
from miniagents_lc.protocol import astream_agent_events

try:  # traces continue across the hop when OpenTelemetry is installed
    from opentelemetry import context as otel_context
    from opentelemetry import propagate as otel_propagate
except ImportError:  # pragma: no cover - the otel extra is optional
    otel_context = None  # type: ignore[assignment]
    otel_propagate = None  # type: ignore[assignment]

AgentsArg = MiniAgent | Sequence[MiniAgent] | Mapping[str, MiniAgent]


class BadInput(ValueError):
    """Input an AG-UI endpoint refuses: the message says what to send instead."""


def to_langchain_messages(run_input: RunAgentInput) -> list[BaseMessage]:
    """The conversation of a `RunAgentInput` as LangChain messages (`developer` becomes a system
    message; activity and reasoning messages, which are the frontend's, are left out)."""
    messages: list[BaseMessage] = []
    for message in run_input.messages:
        if isinstance(message, UserMessage):
            messages.append(HumanMessage(content=_text(message.content), id=message.id))
        elif isinstance(message, SystemMessage | DeveloperMessage):
            messages.append(LCSystemMessage(content=message.content, id=message.id))
        elif isinstance(message, AssistantMessage):
            calls = [
                ToolCall(name=call.function.name, args=_args(call.function.arguments), id=call.id)
                for call in message.tool_calls or []
            ]
            messages.append(AIMessage(content=message.content or "", tool_calls=calls))
        elif isinstance(message, ToolMessage):
            messages.append(
                LCToolMessage(content=_text(message.content), tool_call_id=message.tool_call_id)
            )
    return messages


def _text(content: str | Sequence[Any]) -> str:  # Any: AG-UI's union of content parts
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for part in content:
        if not isinstance(part, TextPart):
            raise BadInput(
                f"A {getattr(part, 'type', '?')!r} part can't be passed to these agents: "
                "send text parts only."
            )
        parts.append(part.text)
    return "".join(parts)


def _args(arguments: str) -> dict[str, Any]:
    try:
        args = json.loads(arguments or "{}")
    except json.JSONDecodeError as error:
        raise BadInput(f"A tool call's arguments are not JSON ({error}).") from None
    if not isinstance(args, dict):
        raise BadInput("A tool call's arguments must be a JSON object.")
    return args


def declared_kwargs(agent: MiniAgent, props: object) -> dict[str, Any]:
    """The `forwardedProps` that `agent` declares as keyword parameters (and has not bound):
    the others are the frontend's business and are left out."""
    if not isinstance(props, Mapping):
        return {}
    try:
        parameters = list(inspect.signature(agent.func).parameters.values())[1:]
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return {}
    names = {
        parameter.name
        for parameter in parameters
        if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
    }
    return {
        key: value for key, value in props.items() if key in names and key not in agent.bound_kwargs
    }


def _named(agents: AgentsArg) -> dict[str, MiniAgent]:
    if isinstance(agents, MiniAgent):
        named = {agents.alias: agents}
    elif isinstance(agents, Mapping):
        named = dict(agents)
    else:
        named = {}
        for agent in agents:
            if not isinstance(agent, MiniAgent):
                raise TypeError(f"create_agui_app serves agents; {agent!r} is not one.")
            if agent.alias in named:
                raise ValueError(
                    f"Two agents are named {agent.alias!r}: give a mapping of name to agent."
                )
            named[agent.alias] = agent
    for name, agent in named.items():
        if not isinstance(agent, MiniAgent):
            raise TypeError(f"create_agui_app serves agents; {name!r} is {agent!r}.")
        if not name or "/" in name:
            raise ValueError(f"An agent name must be non-empty and without '/': {name!r}.")
    if not named:
        raise ValueError("create_agui_app needs at least one agent to serve.")
    return named


def _refusal(status: int, reason: str, **headers: str) -> Response:
    return PlainTextResponse(reason + "\n", status_code=status, headers=headers)


class AGUIEndpoint:
    """Runs the agents it serves for AG-UI clients (the request handler of the routes)."""

    def __init__(self, agents: AgentsArg, *, token: str | None = None) -> None:
        self.agents = _named(agents)
        self._token = token.encode() if token else None
        self._encoder = EventEncoder()

    def __repr__(self) -> str:
        return f"<AG-UI endpoint: {sorted(self.agents)}>"

    def _authorized(self, request: Request) -> bool:
        if self._token is None:
            return True
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), self._token)

    async def handle(self, request: Request) -> Response:
        """Answer one POST: a refusal, or the run as AG-UI events."""
        if not self._authorized(request):
            return _refusal(
                401,
                "Unauthorized: send the server's token as `Authorization: Bearer <token>`.",
                **{"WWW-Authenticate": "Bearer"},
            )
        name = request.path_params.get("name")
        if name is None:
            if len(self.agents) != 1:
                return _refusal(404, f"POST to /<agent name>; served: {sorted(self.agents)}.")
            agent = next(iter(self.agents.values()))
        else:
            found = self.agents.get(name)
            if found is None:
                return _refusal(
                    404, f"No agent named {name!r} here; served: {sorted(self.agents)}."
                )
            agent = found
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            return _refusal(400, f"The body is not JSON ({error}): send AG-UI's RunAgentInput.")
        try:
            run_input = RunAgentInput.model_validate(body)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "the body"
            return _refusal(
                422,
                f"Not an AG-UI RunAgentInput: {where}: {first['msg']} "
                f"({error.error_count()} error(s)).",
            )
        try:
            messages = to_langchain_messages(run_input)
        except BadInput as error:
            return _refusal(422, str(error))
        kwargs = declared_kwargs(agent, run_input.forwarded_props)
        return EventSourceResponse(
            self._stream(agent, messages, kwargs, run_input, request),
            headers={"Cache-Control": "no-store"},
            ping=600,
        )

    async def _stream(
        self,
        agent: MiniAgent,
        messages: list[BaseMessage],
        kwargs: dict[str, Any],
        run_input: RunAgentInput,
        request: Request,
    ) -> AsyncIterator[bytes]:
        token = None
        if otel_propagate is not None and otel_context is not None:
            token = otel_context.attach(otel_propagate.extract(dict(request.headers)))
        try:
            # The run's tasks are made here: they carry the caller's trace context.
            tool_results = ToolResults()
            run = await astream_agent_events(agent, messages, tool_results.config(), **kwargs)
        finally:
            if token is not None and otel_context is not None:
                otel_context.detach(token)
        encode = self._encoder.encode
        async with run:  # leaving it (a client gone, say) cancels what is still running
            events = agui_events(
                run,
                thread_id=run_input.thread_id,
                run_id=run_input.run_id,
                live_calls=request.query_params.get("calls") == "live",
                tool_results=tool_results,
            )
            try:
                async for batch in events:
                    yield "".join(encode(event) for event in batch).encode()
            finally:
                await events.aclose()


def agui_routes(
    agents: AgentsArg, *, token: str | None = None, prefix: str = ""
) -> list[BaseRoute]:
    """The routes of an AG-UI endpoint per agent (`POST {prefix}/{name}`), for mounting in an
    app of one's own; `create_app` of `miniagents_lc.remote` mounts them at `/agui`."""
    endpoint = AGUIEndpoint(agents, token=token)
    return [Route(f"{prefix}/{{name}}", endpoint.handle, methods=["POST"])]


def ui_page() -> str:
    """The live view's page (`/ui`): one static HTML file, scripts and styles inline."""
    return resources.files("miniagents_lc.agui").joinpath("ui.html").read_text(encoding="utf-8")


def ui_routes(path: str = "/ui") -> list[BaseRoute]:
    """The route serving the live view at `path`."""

    async def serve(_request: Request) -> Response:
        return Response(ui_page(), media_type="text/html; charset=utf-8")

    return [Route(path, serve, methods=["GET"])]


def create_agui_app(agents: AgentsArg, *, token: str | None = None) -> Starlette:
    """A Starlette app serving `agents` (one agent, a list named by their aliases, or a mapping
    of name to agent) to AG-UI clients: `POST /{name}` with a `RunAgentInput`, and `POST /`
    too when there is one agent. `token`: require `Authorization: Bearer <token>`."""
    endpoint = AGUIEndpoint(agents, token=token)
    routes: list[BaseRoute] = [Route("/{name}", endpoint.handle, methods=["POST"])]
    if len(endpoint.agents) == 1:
        routes.insert(0, Route("/", endpoint.handle, methods=["POST"]))
    app = Starlette(routes=routes)
    app.state.agui = endpoint
    return app


__all__ = [
    "AGUIEndpoint",
    "BadInput",
    "agui_routes",
    "create_agui_app",
    "declared_kwargs",
    "to_langchain_messages",
    "ui_page",
    "ui_routes",
]
