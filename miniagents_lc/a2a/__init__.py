"""Agent2Agent (A2A): serve a miniagent as an A2A agent, and call any A2A agent as a miniagent.

`create_a2a_app(agent)` builds a Starlette app on `a2a-sdk`'s server parts whose tasks stream
the agent's reply as artifacts, one per reply message, chunk by chunk; `A2AAgent(url)` is a
`MiniAgent` whose reply is rebuilt from a remote A2A agent's streamed artifacts. Needs the
`a2a` extra.
"""

from __future__ import annotations

try:
    import a2a.server  # noqa: F401
    import httpx  # noqa: F401
    import starlette  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        f"miniagents_lc.a2a needs the `a2a` extra ({error.name} is missing): "
        'from the root of a clone, pip install -e ".[a2a]"'
    ) from error

from miniagents_lc.a2a.client import A2AAgent
from miniagents_lc.a2a.errors import A2AAgentError
from miniagents_lc.a2a.server import MiniAgentExecutor, agent_card, create_a2a_app

__all__ = ["A2AAgent", "A2AAgentError", "MiniAgentExecutor", "agent_card", "create_a2a_app"]
