"""`create_app`: serve agents over HTTP, each run's protocol events as resumable SSE.

- `POST /agents/{name}/runs` with `{"input": ..., "kwargs": {...}}` starts a run and answers
  `text/event-stream` (the run's id in the `x-run-id` header; a client may name the run
  itself with that header, 32 hex digits, and a POST naming a known run follows it instead);
- `GET /runs/{run_id}/events?since=N` (or the `Last-Event-ID` header) resumes after `seq` N;
- `GET /agents` lists the agents served.

A run goes on while clients come and go; once no client has followed it for
`disconnect_grace` seconds it is cancelled. Every error answer carries `Connection: close`: a
balancer then never sends another request down a connection the server is closing (nginx would
answer that request 502).
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

import redis.exceptions
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from miniagents_lc.agents import MiniAgent
from miniagents_lc.remote._feed import Feed, sse_bytes
from miniagents_lc.remote._redis import RedisRelay
from miniagents_lc.remote._runs import LocalRuns, ServedRun
from miniagents_lc.remote.wire import RUN_ID_HEADER

try:  # AG-UI endpoints and the live view, when the `agui` extra is installed too
    from miniagents_lc.agui import agui_routes, ui_routes

    _AGUI = True
except ImportError:  # pragma: no cover - the remote extra alone
    _AGUI = False

try:  # With OpenTelemetry installed, a run continues the trace its request's traceparent names.
    from opentelemetry import context as _otel_context
    from opentelemetry import propagate as _propagate
except ImportError:  # pragma: no cover - without it there is no trace to continue
    _otel_context = None  # type: ignore[assignment]

AgentsArg = MiniAgent | Sequence[MiniAgent] | Mapping[str, MiniAgent]

logger = logging.getLogger("miniagents_lc.remote")
_RUN_ID = re.compile(r"[0-9a-f]{32}")


def _by_name(agents: AgentsArg) -> dict[str, MiniAgent]:
    if isinstance(agents, MiniAgent):
        agents = [agents]
    if isinstance(agents, Mapping):
        named = dict(agents)
    elif not isinstance(agents, Sequence) or isinstance(agents, str):
        raise TypeError(
            "create_app serves one agent, a list of agents or a mapping of name to agent; "
            f"got {agents!r}."
        )
    else:
        named = {}
        for agent in agents:
            alias = getattr(agent, "alias", None)
            if not isinstance(alias, str):
                raise TypeError(f"create_app serves agents; {agent!r} is not one.")
            if alias in named:
                raise ValueError(
                    f"Two agents are named {alias!r}: give a mapping of name to agent instead."
                )
            named[alias] = agent
    for name, agent in named.items():
        if not isinstance(agent, MiniAgent):
            raise TypeError(f"create_app serves agents; {name!r} is {agent!r}.")
        if not name or "/" in name:
            raise ValueError(f"An agent name must be non-empty and without '/': {name!r}.")
    if not named:
        raise ValueError("create_app needs at least one agent to serve.")
    return named


class _Server:
    """The state of one app: its agents, its runs, and Redis if configured."""

    def __init__(
        self,
        agents: dict[str, MiniAgent],
        *,
        redis_url: str | None,
        token: str | None,
        disconnect_grace: float,
        retention: float,
        stream_maxlen: int,
        stream_ttl: float,
        redis_max_connections: int,
    ) -> None:
        self.agents = agents
        self._token = token.encode() if token else None
        self.relay = (
            RedisRelay(
                redis_url,
                maxlen=stream_maxlen,
                ttl=stream_ttl,
                grace=disconnect_grace,
                max_connections=redis_max_connections,
            )
            if redis_url
            else None
        )
        self.runs = LocalRuns(
            grace=disconnect_grace,
            retention=retention,
            kept_alive_elsewhere=self.relay.followed_elsewhere if self.relay else None,
        )

    def __repr__(self) -> str:
        return f"<miniagents_lc.remote app: {sorted(self.agents)}>"

    def refusal(self, request: Request) -> Response | None:
        """A 401 unless the request carries the bearer token (when one is required)."""
        if self._token is None:
            return None
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), self._token):
            return None
        return JSONResponse(
            {"error": "Unauthorized: send the server's token as `Authorization: Bearer ...`."},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    async def list_agents(self, request: Request) -> Response:
        if (refused := self.refusal(request)) is not None:
            return refused
        return JSONResponse({"agents": sorted(self.agents)})

    async def start_run(self, request: Request) -> Response:
        if (refused := self.refusal(request)) is not None:
            return refused
        name = request.path_params["name"]
        agent = self.agents.get(name)
        if agent is None:
            return _error(404, f"No agent named {name!r} here; served: {sorted(self.agents)}.")
        try:
            body = json.loads(await request.body() or b"{}")
        except json.JSONDecodeError as error:
            return _error(400, f'The body is not JSON ({error}); send {{"input": ...}}.')
        if not isinstance(body, dict) or "input" not in body:
            return _error(400, 'Send a JSON object {"input": ..., "kwargs": {...}}.')
        kwargs = body.get("kwargs") or {}
        if not isinstance(kwargs, dict):
            return _error(400, '"kwargs" must be a JSON object of keyword arguments.')
        run_id = request.headers.get(RUN_ID_HEADER)
        if run_id is not None:
            # The client names its run so that a POST retried after a drop is safe: a run
            # already known under that id is followed, not started again.
            if not _RUN_ID.fullmatch(run_id):
                return _error(400, f"{RUN_ID_HEADER}: {run_id!r} is not 32 hex digits.")
            if (known := await self._known(run_id, 0)) is not None:
                return known
        # The run's tasks start (and keep) the caller's trace context, if it sent one.
        trace_token = (
            _otel_context.attach(_propagate.extract(request.headers))
            if _otel_context is not None
            else None
        )
        try:
            run = await self.runs.start(agent, body["input"], kwargs, run_id)
        except TypeError as error:
            return _error(400, str(error))
        finally:
            if trace_token is not None:
                _otel_context.detach(trace_token)
        if self.relay is not None:
            try:
                if not await self.relay.register(run):
                    await self.runs.discard(run)
                    return self._stream(self.relay.feed(run.run_id, 0), run.run_id)
            except Exception as error:
                # Nobody can resume a run Redis does not know: stop it, and say so.
                await self.runs.discard(run)
                logger.exception("Registering run %s in Redis failed", run.run_id)
                return _error(
                    503, f"Redis is unavailable ({type(error).__name__}); try again.", retry=True
                )
        return self._stream(_followed(run, 0, started_here=True), run.run_id)

    async def resume(self, request: Request) -> Response:
        if (refused := self.refusal(request)) is not None:
            return refused
        run_id = request.path_params["run_id"]
        since_text = request.query_params.get("since") or request.headers.get("last-event-id")
        try:
            since = int(since_text or 0)
            if since < 0:
                raise ValueError
        except ValueError:
            return _error(400, f"since={since_text!r}: give the last seq received, 0 or more.")
        known = await self._known(run_id, since)
        if known is not None:
            return known
        return _error(404, f"No run {run_id!r} is kept here (unknown, or expired).")

    async def _known(self, run_id: str, since: int) -> Response | None:
        """The stream of a run this server or Redis knows, after `since`; None if unknown."""
        run = self.runs.get(run_id)
        if run is not None:
            return self._stream(_followed(run, since), run_id)
        if self.relay is not None and await self.relay.exists(run_id):
            return self._stream(self.relay.feed(run_id, since), run_id)
        return None

    def _stream(self, feed: Feed, run_id: str) -> EventSourceResponse:
        return EventSourceResponse(
            sse_bytes(feed), headers={RUN_ID_HEADER: run_id, "Cache-Control": "no-store"}
        )

    async def aclose(self) -> None:
        await self.runs.aclose()
        if self.relay is not None:
            await self.relay.aclose()


async def _followed(run: ServedRun, since: int, *, started_here: bool = False) -> Feed:
    """The run's feed for one client: the run counts it as a reader until it stops reading
    (`started_here`: the response of the request that started the run)."""
    reader = id(asyncio.current_task())
    if started_here:
        run.take_over(reader, since)
    else:
        run.attach(reader, since)
    try:
        async for batch in run.feed(since):
            if batch.events:
                run.reader_positions[reader] = batch.events[-1][0]
            yield batch
    finally:
        run.detach(reader)


def _error(status: int, message: str, *, retry: bool = False) -> JSONResponse:
    headers = {"Connection": "close"}
    if retry:
        headers["Retry-After"] = "1"
    return JSONResponse({"error": message}, status_code=status, headers=headers)


Endpoint = Callable[[Request], Awaitable[Response]]


def _answering_errors(endpoint: Endpoint) -> Endpoint:
    """`endpoint`, answering an unexpected error with a logged 500 that closes the connection
    (rather than re-raising it into the server, which would drop the connection unannounced)."""

    @functools.wraps(endpoint)
    async def answer(request: Request) -> Response:
        try:
            return await endpoint(request)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
            logger.exception("%s %s: Redis is unavailable", request.method, request.url.path)
            return _error(
                503, f"Redis is unavailable ({type(error).__name__}); try again.", retry=True
            )
        except Exception as error:
            logger.exception("%s %s failed", request.method, request.url.path)
            return _error(500, f"The server failed: {type(error).__name__}: {error}")

    return answer


def create_app(
    agents: AgentsArg,
    *,
    redis_url: str | None = None,
    token: str | None = None,
    disconnect_grace: float = 10.0,
    retention: float = 300.0,
    stream_maxlen: int = 100_000,
    stream_ttl: float = 3600.0,
    redis_max_connections: int = 32,
) -> Starlette:
    """A Starlette app serving `agents` (one agent, a list, each named by its alias, or a
    mapping of name to agent), mountable in any Starlette or FastAPI app (Starlette runs no
    lifespan of a mounted app: run this one's inside yours, `async with
    app.router.lifespan_context(app): ...`, so that a shutdown stops the runs still going).

    `redis_url`: keep every run's events in Redis Streams (each bounded to `stream_maxlen`
    entries and expiring `stream_ttl` seconds after its last write) so any worker can resume
    any run; without it, runs are kept in memory `retention` seconds after they end.
    `token`: require `Authorization: Bearer <token>`. `disconnect_grace`: how long a run goes
    on with no client following it before it is cancelled. `redis_max_connections`: the size
    of the server's one Redis pool (blocking: past it, commands wait their turn; every run's
    writes share one transaction per round trip, so a few connections serve thousands of
    runs; a `max_connections` in the URL's query wins).
    """
    server = _Server(
        _by_name(agents),
        redis_url=redis_url,
        token=token,
        disconnect_grace=disconnect_grace,
        retention=retention,
        stream_maxlen=stream_maxlen,
        stream_ttl=stream_ttl,
        redis_max_connections=redis_max_connections,
    )

    # Starlette runs no lifespan of a mounted app, so this one runs those of its mounts (the
    # A2A apps, whose shutdown cancels the A2A tasks still running) inside its own: they are
    # stopped before the server closes, not by the event loop's teardown after it.
    mounted: list[Starlette] = []

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            async with AsyncExitStack() as stack:
                for sub_app in mounted:
                    await stack.enter_async_context(sub_app.router.lifespan_context(sub_app))
                yield
        finally:
            await server.aclose()

    routes: list[BaseRoute] = [
        Route("/agents", _answering_errors(server.list_agents), methods=["GET"]),
        Route("/agents/{name}/runs", _answering_errors(server.start_run), methods=["POST"]),
        Route("/runs/{run_id}/events", _answering_errors(server.resume), methods=["GET"]),
    ]
    # Other protocols' routes (mounts of their own) go here, before the app is built.
    if _AGUI:
        routes += [*agui_routes(server.agents, token=token, prefix="/agui"), *ui_routes()]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.miniagents = server
    try:  # each agent also speaks A2A at /a2a/{name} when the `a2a` extra is installed
        from miniagents_lc.a2a import create_a2a_app
    except ImportError:
        pass
    else:
        for name, agent in server.agents.items():
            a2a_app = create_a2a_app(agent, token=token)
            mounted.append(a2a_app)
            app.mount(f"/a2a/{name}", a2a_app)
    return app


__all__ = ["create_app"]
