"""`create_app`: serve agents over HTTP, each run's protocol events as resumable SSE.

- `POST /agents/{name}/runs` with `{"input": ..., "kwargs": {...}}` starts a run and answers
  `text/event-stream` (the run's id in the `x-run-id` header);
- `GET /runs/{run_id}/events?since=N` (or the `Last-Event-ID` header) resumes after `seq` N;
- `GET /agents` lists the agents served.

A run goes on while clients come and go; once no client has followed it for
`disconnect_grace` seconds it is cancelled.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from miniagents_lc.agents import MiniAgent
from miniagents_lc.remote._feed import Feed, sse_bytes
from miniagents_lc.remote._redis import RedisRelay
from miniagents_lc.remote._runs import LocalRuns, ServedRun
from miniagents_lc.remote.wire import RUN_ID_HEADER

AgentsArg = Sequence[MiniAgent] | Mapping[str, MiniAgent]


def _by_name(agents: AgentsArg) -> dict[str, MiniAgent]:
    if isinstance(agents, Mapping):
        named = dict(agents)
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
    ) -> None:
        self.agents = agents
        self._token = token.encode() if token else None
        self.relay = (
            RedisRelay(redis_url, maxlen=stream_maxlen, ttl=stream_ttl, grace=disconnect_grace)
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
        try:
            run = await self.runs.start(agent, body["input"], kwargs)
        except TypeError as error:
            return _error(400, str(error))
        if self.relay is not None:
            await self.relay.register(run)
        return self._stream(_followed(run, 0), run.run_id)

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
        run = self.runs.get(run_id)
        if run is not None:
            return self._stream(_followed(run, since), run_id)
        if self.relay is not None and await self.relay.exists(run_id):
            return self._stream(self.relay.feed(run_id, since), run_id)
        return _error(404, f"No run {run_id!r} is kept here (unknown, or expired).")

    def _stream(self, feed: Feed, run_id: str) -> EventSourceResponse:
        return EventSourceResponse(
            sse_bytes(feed), headers={RUN_ID_HEADER: run_id, "Cache-Control": "no-store"}
        )

    async def aclose(self) -> None:
        await self.runs.aclose()
        if self.relay is not None:
            await self.relay.aclose()


async def _followed(run: ServedRun, since: int) -> Feed:
    """The run's feed for one client: the run counts it as a reader until it stops reading."""
    reader = id(asyncio.current_task())
    run.attach(reader, since)
    try:
        async for batch in run.feed(since):
            if batch.events:
                run.reader_positions[reader] = batch.events[-1][0]
            yield batch
    finally:
        run.detach(reader)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(
    agents: AgentsArg,
    *,
    redis_url: str | None = None,
    token: str | None = None,
    disconnect_grace: float = 10.0,
    retention: float = 300.0,
    stream_maxlen: int = 100_000,
    stream_ttl: float = 3600.0,
) -> Starlette:
    """A Starlette app serving `agents` (a list, each named by its alias, or a mapping of name
    to agent), mountable in any Starlette or FastAPI app.

    `redis_url`: keep every run's events in Redis Streams (each bounded to `stream_maxlen`
    entries and expiring `stream_ttl` seconds after its last write) so any worker can resume
    any run; without it, runs are kept in memory `retention` seconds after they end.
    `token`: require `Authorization: Bearer <token>`. `disconnect_grace`: how long a run goes
    on with no client following it before it is cancelled.
    """
    server = _Server(
        _by_name(agents),
        redis_url=redis_url,
        token=token,
        disconnect_grace=disconnect_grace,
        retention=retention,
        stream_maxlen=stream_maxlen,
        stream_ttl=stream_ttl,
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await server.aclose()

    app = Starlette(
        routes=[
            Route("/agents", server.list_agents, methods=["GET"]),
            Route("/agents/{name}/runs", server.start_run, methods=["POST"]),
            Route("/runs/{run_id}/events", server.resume, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.miniagents = server
    try:  # each agent also speaks A2A at /a2a/{name} when the `a2a` extra is installed
        from miniagents_lc.a2a import create_a2a_app
    except ImportError:
        pass
    else:
        for name, agent in server.agents.items():
            app.mount(f"/a2a/{name}", create_a2a_app(agent, token=token))
    return app


__all__ = ["create_app"]
