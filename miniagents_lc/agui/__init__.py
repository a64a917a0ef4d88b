"""AG-UI: agent trees streamed to AG-UI frontends, and AG-UI agents called as local agents.

`create_agui_app(agents)` serves agents to any AG-UI client (`RunAgentInput` in, AG-UI events
out, every sub-agent call as `SUBAGENT_*` with the messages in the root's reply order);
`agui_events(run, ...)` is the mapping itself, for other transports; `AGUIAgent(url, alias=...)`
calls any AG-UI endpoint from inside a tree. `miniagents_lc.remote.create_app` mounts the
endpoints at `/agui/{name}` and the live view at `/ui`. Needs the `agui` extra.
"""

from __future__ import annotations

try:
    import ag_ui.core  # noqa: F401
    import httpx  # noqa: F401
    import httpx_sse  # noqa: F401
    import sse_starlette  # noqa: F401
    import starlette  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        f"miniagents_lc.agui needs the `agui` extra ({error.name} is missing): "
        'from the root of a clone, pip install -e ".[agui]"'
    ) from error

from miniagents_lc.agui.client import AGUIAgent, AGUIAgentError
from miniagents_lc.agui.events import agui_events
from miniagents_lc.agui.server import agui_routes, create_agui_app, ui_routes

__all__ = [
    "AGUIAgent",
    "AGUIAgentError",
    "agui_events",
    "agui_routes",
    "create_agui_app",
    "ui_routes",
]
