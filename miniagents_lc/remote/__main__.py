"""`python -m miniagents_lc.remote MODULE:ATTR`: serve the agents `ATTR` of `MODULE` (a list
or a mapping of name to agent) with uvicorn."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

import uvicorn

from miniagents_lc.remote.server import create_app

_APP_FACTORY = "miniagents_lc.remote.__main__:app_from_environment"


def app_from_environment() -> object:
    """The app named by the environment (how each of uvicorn's worker processes builds it)."""
    target = os.environ["MINIAGENTS_REMOTE_AGENTS"]
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise SystemExit(f"{target!r}: give the agents as MODULE:ATTR.")
    agents = getattr(importlib.import_module(module_name), attribute)
    return create_app(
        agents,
        redis_url=os.environ.get("MINIAGENTS_REMOTE_REDIS_URL") or None,
        token=os.environ.get("MINIAGENTS_REMOTE_TOKEN") or None,
        disconnect_grace=float(os.environ.get("MINIAGENTS_REMOTE_GRACE", "10")),
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m miniagents_lc.remote", description=__doc__)
    parser.add_argument("agents", help="MODULE:ATTR, a list of agents or a mapping name -> agent")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--redis-url", default=None, help="needed with more than one worker")
    parser.add_argument("--disconnect-grace", type=float, default=10.0)
    args = parser.parse_args(argv)
    if args.workers > 1 and not args.redis_url:
        parser.error("--workers above 1 needs --redis-url: a resume may reach any worker.")
    sys.path.insert(0, os.getcwd())
    os.environ["MINIAGENTS_REMOTE_AGENTS"] = args.agents
    os.environ["MINIAGENTS_REMOTE_GRACE"] = str(args.disconnect_grace)
    if args.redis_url:
        os.environ["MINIAGENTS_REMOTE_REDIS_URL"] = args.redis_url
    app_from_environment()  # fail here, once, on a bad target
    uvicorn.run(
        _APP_FACTORY,
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
