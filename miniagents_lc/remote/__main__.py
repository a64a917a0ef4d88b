"""`python -m miniagents_lc.remote MODULE:ATTR`: serve the agents `ATTR` of `MODULE` (one agent,
a list of agents, or a mapping of name to agent) with uvicorn.

Prints one line with the URL and the agents served, then uvicorn's access log; Ctrl-C stops it
cleanly. A wrong `MODULE:ATTR` is a one-line error.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from uvicorn.config import LOGGING_CONFIG
from uvicorn.supervisors import Multiprocess

from miniagents_lc.remote.server import _by_name, create_app

_APP_FACTORY = "miniagents_lc.remote.__main__:app_from_environment"
_PROG = "python -m miniagents_lc.remote"

_EPILOG = """environment:
  MINIAGENTS_REMOTE_TOKEN  when set, every request needs `Authorization: Bearer <token>`
                           (an environment variable, not an option, so that the token shows
                           in no process list; it appears in no log or error either)

examples:
  python -m miniagents_lc.remote myproject.agents:AGENTS --port 8000
  python -m miniagents_lc.remote myproject.agents:AGENTS --redis-url redis://127.0.0.1:6379/0
"""


class TargetError(Exception):
    """`MODULE:ATTR` does not name agents; the message says why, in one line."""


def load_agents(target: str) -> Any:
    """The object `MODULE:ATTR` names, checked to be agents `create_app` serves."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise TargetError(
            f"{target!r}: give the agents as MODULE:ATTR (e.g. myproject.agents:AGENTS)."
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is None or not module_name.startswith(error.name):
            raise  # the module exists and failed to import something: its own traceback
        raise TargetError(
            f"No module named {error.name!r} (from {target!r}): run from the directory that "
            "holds it, or add that directory to PYTHONPATH."
        ) from None
    if not hasattr(module, attribute):
        raise TargetError(f"Module {module_name!r} has no attribute {attribute!r} ({target}).")
    agents = getattr(module, attribute)
    try:
        _by_name(agents)
    except (TypeError, ValueError) as error:
        raise TargetError(f"{target}: {error}") from None
    return agents


def app_from_environment() -> object:
    """The app named by the environment (how each of uvicorn's worker processes builds it)."""
    return create_app(
        load_agents(os.environ["MINIAGENTS_REMOTE_AGENTS"]),
        redis_url=os.environ.get("MINIAGENTS_REMOTE_REDIS_URL") or None,
        token=os.environ.get("MINIAGENTS_REMOTE_TOKEN") or None,
        disconnect_grace=float(os.environ.get("MINIAGENTS_REMOTE_GRACE", "10")),
        redis_max_connections=int(os.environ.get("MINIAGENTS_REMOTE_REDIS_CONNECTIONS", "32")),
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description=__doc__,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "agents",
        metavar="MODULE:ATTR",
        help="the agents to serve: one agent, a list (each served under its alias) or a "
        "mapping of name to agent, importable from the current directory",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    parser.add_argument(
        "--port", type=int, default=8000, help="port to listen on; 0 picks a free one (%(default)s)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn worker processes on the one port (%(default)s); above 1 needs --redis-url",
    )
    parser.add_argument(
        "--redis-url",
        default=None,
        help="keep every run's events in Redis so any worker or server resumes any run "
        "(needed with several workers or several servers behind a balancer)",
    )
    parser.add_argument(
        "--redis-max-connections",
        type=int,
        default=32,
        help="the size of each worker's Redis connection pool (%(default)s; it blocks, never "
        "fails, when every connection is busy)",
    )
    parser.add_argument(
        "--disconnect-grace",
        type=float,
        default=10.0,
        help="seconds a run goes on with no client following it before it is cancelled "
        "(%(default)s)",
    )
    return parser


def _redis_where(url: str) -> str:
    """Where Redis is, without the credentials a URL may carry."""
    parts = urlsplit(url)
    return f"Redis at {parts.hostname}:{parts.port or 6379}{parts.path or ''}"


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, quiet but for the access log (info) and warnings."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["uvicorn.error"]["level"] = "WARNING"
    config["loggers"]["uvicorn.access"]["level"] = "INFO"
    config["loggers"]["miniagents_lc.remote"] = {"handlers": ["default"], "level": "INFO"}
    return config


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.workers > 1 and not args.redis_url:
        parser.error("--workers above 1 needs --redis-url: a resume may reach any worker.")
    try:
        _serve(args)
    except TargetError as error:
        sys.exit(f"{_PROG}: {error}")
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        sys.exit(130)


def _serve(args: argparse.Namespace) -> None:
    sys.path.insert(0, os.getcwd())
    os.environ["MINIAGENTS_REMOTE_AGENTS"] = args.agents
    os.environ["MINIAGENTS_REMOTE_GRACE"] = str(args.disconnect_grace)
    os.environ["MINIAGENTS_REMOTE_REDIS_CONNECTIONS"] = str(args.redis_max_connections)
    if args.redis_url:
        os.environ["MINIAGENTS_REMOTE_REDIS_URL"] = args.redis_url
    names = sorted(_by_name(load_agents(args.agents)))  # fail here, once, on a bad target
    config = uvicorn.Config(
        _APP_FACTORY,
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=_log_config(),
        timeout_graceful_shutdown=5,
    )
    socket = config.bind_socket()
    # Listening before the line is printed: a client that reads it and connects at once waits
    # in the backlog while the app starts (importing the AG-UI and A2A layers takes a while),
    # rather than being refused.
    socket.listen(config.backlog)
    port = socket.getsockname()[1]
    store = _redis_where(args.redis_url) if args.redis_url else "runs kept in memory"
    workers = f"{args.workers} worker{'s' if args.workers > 1 else ''}"
    print(
        f"Serving {', '.join(names)} at http://{args.host}:{port} ({workers}; {store})",
        flush=True,
    )
    try:
        if args.workers > 1:
            Multiprocess(config, sockets=[socket]).run()
        else:
            uvicorn.Server(config).run(sockets=[socket])
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the Ctrl-C it has handled: how a server is meant to stop
    print("Stopped.", flush=True)


if __name__ == "__main__":
    main()
