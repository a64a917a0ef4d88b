"""`APIMock`: a respx router that serves scripted replies to a provider's real SDK, offline."""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import httpx
import respx
from respx.models import AllMockedAssertionError, ResolvedRoute

from ._body import RecordedRequest, ScriptedBody
from ._faults import EventEncoder, PlacedFault, compile_stream, delays_for
from ._sse import StreamPlan, encode_sse, split_sse
from ._steps import Build, Delay, Step
from ._transports import ANY_STACK_MOCKER, stack_of

__all__ = [
    "JSON_HEADERS",
    "SSE_HEADERS",
    "APIMock",
    "SSEBody",
    "ScriptedReply",
    "UnscriptedRequestError",
]

SSEBody = bytes | str | Sequence[bytes | Mapping[str, Any]]
Headers = Mapping[str, str]

SSE_HEADERS: Mapping[str, str] = {"content-type": "text/event-stream; charset=utf-8"}
JSON_HEADERS: Mapping[str, str] = {"content-type": "application/json"}


class UnscriptedRequestError(AllMockedAssertionError):
    """A request reached the mock with no scripted reply left for it.

    It is not an httpx error, so an SDK neither retries nor wraps it: it surfaces at the call
    site. The mock also re-raises it on exit, in case the code under test caught it.
    """


@dataclass
class ScriptedReply:
    """A queued reply; `request` is filled in with the request that consumed it."""

    method: str
    path: str
    status: int
    headers: dict[str, str]
    build: Build = field(repr=False)
    request: RecordedRequest | None = None


class _ScriptRouter(respx.MockRouter):
    """A respx router that reports requests it cannot match to its mock."""

    def __init__(self, on_unmatched: Callable[[httpx.Request], Exception], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_unmatched = on_unmatched

    def resolve(self, request: httpx.Request) -> ResolvedRoute:
        try:
            return super().resolve(request)
        except UnscriptedRequestError:
            raise
        except AllMockedAssertionError:
            raise self._on_unmatched(request) from None

    async def aresolve(self, request: httpx.Request) -> ResolvedRoute:
        try:
            return await super().aresolve(request)
        except UnscriptedRequestError:
            raise
        except AllMockedAssertionError:
            raise self._on_unmatched(request) from None


class APIMock:
    """Serves scripted replies, streamed or not, under `base_url`, to any SDK over httpx/httpx2.

    While active (`with`/`async with`, or `start()`/`stop()`) it intercepts httpcore2 and
    httpcore together, so no request reaches the network: one with no reply left raises
    `UnscriptedRequestError`. Replies queue per method and path and are consumed in order; each
    answered request is kept in `requests` with its timings. Provider kits build on it by
    scripting their API's streams with `script()`.

    `encode_event` writes the API's in-stream error event for an `ErrorEvent` fault in `sse()`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        assert_all_consumed: bool = True,
        encode_event: EventEncoder | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.assert_all_consumed = assert_all_consumed
        self.requests: list[RecordedRequest] = []
        self.unscripted: list[httpx.Request] = []
        self.router = _ScriptRouter(
            self._unmatched,
            using=ANY_STACK_MOCKER,
            base_url=self.base_url,
            assert_all_mocked=True,
            assert_all_called=False,
        )
        self._encode_event = encode_event
        self._queues: dict[tuple[str, str], deque[ScriptedReply]] = {}
        self._serial = 0
        self._active = False

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> Self:
        """Begin intercepting requests."""
        if self._active:
            raise RuntimeError(f"{type(self).__name__} is already active")
        self.router.start()
        self._active = True
        return self

    def stop(self, *, verify: bool = True) -> None:
        """Stop intercepting; with `verify`, raise if a request went unscripted or a reply
        was never used (see `verify`)."""
        if self._active:
            self._active = False
            # Keep routes and respx's call log readable after the block ends.
            self.router.stop(clear=False, reset=False, quiet=True)
        if verify:
            self.verify()

    def verify(self) -> None:
        """Raise if any request was unscripted (`UnscriptedRequestError`) or, when
        `assert_all_consumed`, any scripted reply is still queued (AssertionError)."""
        if self.unscripted:
            listed = ", ".join(f"{r.method} {r.url}" for r in self.unscripted)
            raise UnscriptedRequestError(
                f"unscripted requests reached the {type(self).__name__}: {listed}"
            )
        leftover = [reply for queue in self._queues.values() for reply in queue]
        if self.assert_all_consumed and leftover:
            listed = ", ".join(f"{r.method} {r.path} ({r.status})" for r in leftover)
            raise AssertionError(f"scripted replies were never requested: {listed}")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop(verify=exc_type is None)

    async def __aenter__(self) -> Self:
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop(verify=exc_type is None)

    # -- scripting -----------------------------------------------------------------------

    def script(
        self,
        path: str,
        build: Build,
        *,
        status: int = 200,
        headers: Headers | None = None,
        method: str = "POST",
        content_type: Mapping[str, str] = SSE_HEADERS,
    ) -> ScriptedReply:
        """Queue a reply whose body steps `build` makes from the request's JSON body.

        `build` runs once here, on an empty request, so a script mistake (a fault past the end,
        a wrong number of delays) fails where the test scripts it rather than mid-request.
        """
        build({})
        method = method.upper()
        path = _normalize(path)
        reply = ScriptedReply(method, path, status, {**content_type, **(headers or {})}, build)
        key = (method, path)
        if key not in self._queues:
            self._queues[key] = deque()
            self.router.request(method, path, name=_route_name(method, path)).mock(
                side_effect=lambda request: self._serve(key, request)
            )
        self._queues[key].append(reply)
        return reply

    def stream_or_error(
        self,
        path: str,
        build: Build,
        *,
        status: int,
        headers: Headers | None,
        error_body: Callable[[int], Mapping[str, Any]],
    ) -> ScriptedReply:
        """Queue the stream `build` makes, or, for a `status` of 400 or more, the API's error
        body for that status (`error_body(status)`) in its place.

        `build` runs either way, so a script mistake fails where the test scripts it even when
        an error status replaces the stream.
        """
        if status < 400:
            return self.script(path, build, status=status, headers=headers)
        build({})
        return self.json_reply(path, error_body(status), status=status, headers=headers)

    def sse(
        self,
        path: str,
        body: SSEBody,
        *,
        delay: Delay = 0.0,
        fault: PlacedFault | None = None,
        status: int = 200,
        headers: Headers | None = None,
        method: str = "POST",
    ) -> ScriptedReply:
        """Queue a raw SSE body, such as a recorded fixture file, served one event per read.

        Bytes or text are split on blank lines; a sequence holds raw event bytes or mappings
        (sent as `data:` JSON). `delay` comes before each event; a `fault` counts events.
        """
        plan = StreamPlan(head=(), payload=tuple(_sse_events(body)))

        def build(_request: Mapping[str, Any]) -> list[Step]:
            delays = delays_for(delay, len(plan.payload))
            return compile_stream(plan, delays, fault, self._encode_event)

        return self.script(path, build, status=status, headers=headers, method=method)

    def json_reply(
        self,
        path: str,
        body: Mapping[str, Any] | Sequence[Any],
        *,
        status: int = 200,
        headers: Headers | None = None,
        method: str = "POST",
    ) -> ScriptedReply:
        """Queue a plain JSON reply, e.g. a non-streamed completion or an API error body."""
        content = json.dumps(body, ensure_ascii=False).encode()
        return self.script(
            path,
            lambda _request: [content],
            status=status,
            headers=headers,
            method=method,
            content_type=JSON_HEADERS,
        )

    def next_serial(self) -> int:
        """Number the next scripted reply (1, 2, ...), for ids unique within this mock."""
        self._serial += 1
        return self._serial

    # -- inspection ----------------------------------------------------------------------

    def calls(self, path: str, method: str = "POST") -> list[RecordedRequest]:
        """Requests answered for `path` (relative to `base_url`), in arrival order."""
        full = httpx.URL(self.base_url + _normalize(path)).path
        return [r for r in self.requests if r.path == full and r.method == method.upper()]

    def route(self, path: str, method: str = "POST") -> respx.Route:
        """The respx route serving `path`, for respx's own call assertions."""
        return self.router.routes[_route_name(method, path)]

    # -- internals -----------------------------------------------------------------------

    def _serve(self, key: tuple[str, str], request: httpx.Request) -> httpx.Response:
        queue = self._queues[key]
        if not queue:
            raise self._unmatched(request)
        reply = queue.popleft()
        record = RecordedRequest(
            method=request.method,
            url=str(request.url),
            headers=request.headers,
            content=request.content,
            stack=stack_of(request),
            started_at=time.monotonic(),
            status=reply.status,
        )
        reply.request = record
        self.requests.append(record)
        timeout = request.extensions.get("timeout", {})
        body = ScriptedBody(
            reply.build(_json_payload(record.content)),
            record=record,
            read_timeout=timeout.get("read"),
        )
        headers = {"x-request-id": f"req_test{len(self.requests):04d}", **reply.headers}
        return httpx.Response(reply.status, headers=headers, stream=body, request=request)

    def _unmatched(self, request: httpx.Request) -> UnscriptedRequestError:
        self.unscripted.append(request)
        scripted = ", ".join(f"{m} {p}" for m, p in self._queues) or "nothing"
        return UnscriptedRequestError(
            f"{type(self).__name__} has no reply for {request.method} {request.url} "
            f"(scripted: {scripted})"
        )


def _normalize(path: str) -> str:
    return "/" + path.lstrip("/")


def _route_name(method: str, path: str) -> str:
    return f"{method.upper()} {_normalize(path)}"


def _json_payload(content: bytes) -> Mapping[str, Any]:
    try:
        payload = json.loads(content) if content else {}
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _sse_events(body: SSEBody) -> list[bytes]:
    if isinstance(body, str):
        return split_sse(body.encode())
    if isinstance(body, bytes):
        return split_sse(body)
    return [item if isinstance(item, bytes) else encode_sse(item) for item in body]
