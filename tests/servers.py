"""An ASGI app served for real: uvicorn on a loopback port, in a thread with its own loop."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from miniagents_lc.testing import poll_until


@contextlib.contextmanager
def serve_in_thread(app: ASGIApp, port: int | None = None) -> Iterator[str]:
    """`app` served by uvicorn on 127.0.0.1 (on `port`, else on one picked by binding port 0,
    so no other process can take it meanwhile), in a thread; yields its base URL and stops it
    on the way out."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port or 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn:{port}", daemon=True
    )
    thread.start()

    def started() -> bool:
        if not thread.is_alive():
            raise RuntimeError(f"uvicorn ended before it started on 127.0.0.1:{port}")
        return server.started

    poll_until(started, what=f"uvicorn started on 127.0.0.1:{port}", within=10)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


__all__ = ["serve_in_thread"]
