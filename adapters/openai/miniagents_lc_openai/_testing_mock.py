"""`OpenAIMock`: a respx router that serves scripted OpenAI replies to the real SDK, offline."""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx
import openai
import respx
from respx.models import AllMockedAssertionError, ResolvedRoute

from ._testing_body import RecordedRequest, ScriptedBody
from ._testing_faults import Fault
from ._testing_mocker import ANY_STACK_MOCKER, stack_of
from ._testing_scripts import (
    Build,
    Delay,
    SSEBody,
    UsageSpec,
    chat_script,
    responses_script,
    sse_script,
)
from ._testing_sse import ToolCall, openai_error_body

__all__ = ["DEFAULT_BASE_URL", "OpenAIMock", "ScriptedReply", "UnscriptedRequestError"]

#: Base URL of the pytest fixtures; the `.test` TLD can never resolve, so nothing leaks out.
DEFAULT_BASE_URL = "https://api.openai.test/v1"
Headers = Mapping[str, str]
_SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8"}
_JSON_HEADERS = {"content-type": "application/json"}


class UnscriptedRequestError(AllMockedAssertionError):
    """A request reached the mock with no scripted reply left for it.

    It is not an httpx error, so the SDK neither retries nor wraps it: it surfaces at the
    call site. `OpenAIMock` also re-raises it on exit, in case the code under test caught it.
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
    """A respx router that reports requests it cannot match to its `OpenAIMock`."""

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


class OpenAIMock:
    """Serves scripted streaming replies for `/chat/completions`, `/responses` or any path.

    While active (`with`/`async with`, or `start()`/`stop()`) it intercepts both httpcore2
    (openai 3) and httpcore (openai 1.x/2.x or a legacy `httpx` client), so no request reaches
    the network: one with no reply left raises `UnscriptedRequestError`. Replies queue per path
    and are consumed in order; each request is kept in `requests` with its timings.
    """

    def __init__(self, base_url: str = DEFAULT_BASE_URL, *, assert_all_consumed: bool = True):
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
        self._queues: dict[tuple[str, str], deque[ScriptedReply]] = {}
        self._serial = 0
        self._active = False

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> OpenAIMock:
        """Begin intercepting requests."""
        if self._active:
            raise RuntimeError("OpenAIMock is already active")
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
        """Raise AssertionError if any request was unscripted or, when `assert_all_consumed`,
        any scripted reply is still queued."""
        if self.unscripted:
            listed = ", ".join(f"{r.method} {r.url}" for r in self.unscripted)
            raise UnscriptedRequestError(f"unscripted requests reached the OpenAI mock: {listed}")
        leftover = [reply for queue in self._queues.values() for reply in queue]
        if self.assert_all_consumed and leftover:
            listed = ", ".join(f"{r.method} {r.path} ({r.status})" for r in leftover)
            raise AssertionError(f"scripted replies were never requested: {listed}")

    def __enter__(self) -> OpenAIMock:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop(verify=exc_type is None)

    async def __aenter__(self) -> OpenAIMock:
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop(verify=exc_type is None)

    # -- scripting -----------------------------------------------------------------------

    def chat(
        self,
        tokens: Sequence[str] = (),
        *,
        delay: Delay = 0.0,
        tool_calls: Sequence[ToolCall] = (),
        finish_reason: str | None = "stop",
        usage: UsageSpec = "auto",
        model: str | None = None,
        fault: Fault | None = None,
        status: int = 200,
        headers: Headers | None = None,
        path: str = "/chat/completions",
    ) -> ScriptedReply:
        """Queue one streamed Chat Completions reply: a role chunk, one chunk per token and
        tool-call piece (each after its `delay`), the finish chunk, usage, then `[DONE]`.

        `usage="auto"` sends the usage chunk only if the request set
        `stream_options.include_usage`, like the API; True or a mapping of counts always sends
        it. A `fault` cuts the stream; a `status` of 400 or more answers with an OpenAI error
        body instead of a stream (add e.g. `headers={"retry-after-ms": "10"}`).
        """
        build = chat_script(
            self._next_serial(),
            tokens,
            delay=delay,
            tool_calls=tool_calls,
            finish_reason=finish_reason,
            usage=usage,
            model=model,
            fault=fault,
        )
        return self._enqueue_api(path, status, headers, build)

    def responses(
        self,
        tokens: Sequence[str] = (),
        *,
        delay: Delay = 0.0,
        usage: Mapping[str, int] | None = None,
        model: str | None = None,
        fault: Fault | None = None,
        status: int = 200,
        headers: Headers | None = None,
        path: str = "/responses",
    ) -> ScriptedReply:
        """Queue one streamed Responses API text reply: created, in_progress, the output item
        and part, one `response.output_text.delta` per token, the done events, and
        `response.completed` with `usage` (by default input 10, output = number of tokens).
        """
        build = responses_script(
            self._next_serial(), tokens, delay=delay, usage=usage, model=model, fault=fault
        )
        return self._enqueue_api(path, status, headers, build)

    def sse(
        self,
        path: str,
        body: SSEBody,
        *,
        delay: Delay = 0.0,
        fault: Fault | None = None,
        status: int = 200,
        headers: Headers | None = None,
        method: str = "POST",
    ) -> ScriptedReply:
        """Queue a raw SSE body, such as a recorded fixture file, served one event per read.

        Bytes or text are split on blank lines; a sequence holds raw event bytes or mappings
        (sent as `data:` JSON). `delay` comes before each event; a `fault` counts events.
        """
        build = sse_script(body, delay=delay, fault=fault)
        return self._enqueue(method, path, status, headers, build, _SSE_HEADERS)

    def json_reply(
        self,
        path: str,
        body: Mapping[str, Any] | Sequence[Any],
        *,
        status: int = 200,
        headers: Headers | None = None,
        method: str = "POST",
    ) -> ScriptedReply:
        """Queue a plain JSON reply, e.g. a non-streamed completion or a custom error body."""
        content = json.dumps(body, ensure_ascii=False).encode()
        return self._enqueue(
            method, path, status, headers, lambda _payload: [content], _JSON_HEADERS
        )

    # -- inspection ----------------------------------------------------------------------

    def calls(self, path: str, method: str = "POST") -> list[RecordedRequest]:
        """Requests answered for `path` (relative to `base_url`), in arrival order."""
        full = httpx.URL(self.base_url + _normalize(path)).path
        return [r for r in self.requests if r.path == full and r.method == method.upper()]

    def route(self, path: str, method: str = "POST") -> respx.Route:
        """The respx route serving `path`, for respx's own call assertions."""
        return self.router.routes[_route_name(method, path)]

    def async_client(self, **overrides: Any) -> openai.AsyncOpenAI:
        """An `openai.AsyncOpenAI` aimed at this mock (key "sk-test", `max_retries=0`)."""
        return openai.AsyncOpenAI(**self._client_options(overrides))

    def client(self, **overrides: Any) -> openai.OpenAI:
        """A sync `openai.OpenAI` aimed at this mock (key "sk-test", `max_retries=0`)."""
        return openai.OpenAI(**self._client_options(overrides))

    # -- internals -----------------------------------------------------------------------

    def _client_options(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        return {"api_key": "sk-test", "base_url": self.base_url, "max_retries": 0, **overrides}

    def _next_serial(self) -> int:
        self._serial += 1
        return self._serial

    def _enqueue(
        self,
        method: str,
        path: str,
        status: int,
        headers: Headers | None,
        build: Build,
        stream_headers: Mapping[str, str],
    ) -> ScriptedReply:
        method = method.upper()
        path = _normalize(path)
        reply = ScriptedReply(method, path, status, {**stream_headers, **(headers or {})}, build)
        key = (method, path)
        if key not in self._queues:
            self._queues[key] = deque()
            self.router.request(method, path, name=_route_name(method, path)).mock(
                side_effect=lambda request: self._serve(key, request)
            )
        self._queues[key].append(reply)
        return reply

    def _enqueue_api(
        self,
        path: str,
        status: int,
        headers: Headers | None,
        build: Build,
    ) -> ScriptedReply:
        if status < 400:
            return self._enqueue("POST", path, status, headers, build, _SSE_HEADERS)
        error = json.dumps(openai_error_body(status)).encode()
        return self._enqueue("POST", path, status, headers, lambda _p: [error], _JSON_HEADERS)

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
            f"OpenAIMock has no reply for {request.method} {request.url} (scripted: {scripted})"
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
