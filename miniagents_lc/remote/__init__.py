"""Remote agents: serve agents over HTTP with resumable SSE, and call them as local agents.

`create_app(agents)` builds a Starlette app that runs agents and streams each run's protocol
events (v3) as server-sent events, resumable from any `seq`; `RemoteAgent(base_url, name)` is a
`MiniAgent` whose reply is rebuilt from that stream. With a Redis URL, runs' events go to Redis
Streams so any worker serves any resume. Needs the `remote` extra.
"""

from __future__ import annotations

try:
    import httpx  # noqa: F401
    import httpx_sse  # noqa: F401
    import redis  # noqa: F401
    import sse_starlette  # noqa: F401
    import starlette  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        f"miniagents_lc.remote needs the `remote` extra ({error.name} is missing); from the "
        'root of a clone: pip install -e ".[remote]"'
    ) from error

from miniagents_lc.remote.client import RemoteAgent
from miniagents_lc.remote.errors import RemoteAgentError, RemoteRunLostError
from miniagents_lc.remote.server import create_app

__all__ = ["RemoteAgent", "RemoteAgentError", "RemoteRunLostError", "create_app"]
