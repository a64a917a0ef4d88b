"""`LoopbackSSEServer`: a real HTTP server on a loopback port, for what a transport mock can't show.

A mocked transport keeps no connections, so a client reused across event loops, or one never
closed, only misbehaves on a real socket. This server answers every POST with the same body,
keeps connections alive as provider APIs do, and counts the connections it has seen and those
still open. Standard library only.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

__all__ = ["LoopbackSSEServer"]


class LoopbackSSEServer(ThreadingHTTPServer):
    """Serves `body` as `text/event-stream` to every POST on 127.0.0.1, at a port the OS picks.

    Use it as a context manager (`with LoopbackSSEServer(body) as server:`), which serves from
    a thread and stops it on exit. `base_url` is its address; `opened` counts the connections
    accepted, `open` those not yet closed, and `authorizations` the credentials each request
    carried (its `Authorization` or `X-Api-Key` header), for tests of what a client sends.
    """

    daemon_threads = True

    def __init__(self, body: bytes) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.body = body
        self.lock = threading.Lock()
        self.opened = 0
        self.open = 0
        self.authorizations: list[str] = []
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def wait_all_closed(self, timeout: float = 5.0) -> int:
        """Wait until no connection is open, at most `timeout` s; return how many still are."""
        deadline = time.monotonic() + timeout
        while self.open and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.open

    def __enter__(self) -> Self:
        self._thread = threading.Thread(target=self.serve_forever, name="loopback-sse")
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LoopbackSSEServer

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.opened += 1
            self.server.open += 1

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.lock:
                self.server.open -= 1

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        credential = self.headers.get("Authorization") or self.headers.get("X-Api-Key") or ""
        with self.server.lock:
            self.server.authorizations.append(credential)
        body = self.server.body
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the test output is for the tests
