"""respx mockers that intercept httpcore2 and httpcore, the transports under the provider SDKs.

httpcore2 serves httpx2, which openai 3.x and anthropic 2.15 use; httpcore serves httpx, which
older releases of both SDKs and any legacy `httpx` client given to an SDK use. Stock respx
patches httpcore only.

respx names each mocker class in a process-wide registry and refuses a second class with the
same name, so every class here is created at most once per process: if the registry already has
the name (this module imported twice, or another library defined it), that class is reused.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, ClassVar, Literal, cast

import httpcore
import httpx
from respx.mocks import HTTPCoreMocker, Mocker

__all__ = [
    "ANY_STACK_MOCKER",
    "HTTPCORE2_MOCKER",
    "STACK_EXTENSION",
    "AnyStackMocker",
    "HTTPCore2Mocker",
    "Stack",
    "httpcore2_available",
    "stack_of",
    "transport_module",
]

Stack = Literal["httpcore", "httpcore2"]

#: Key the mockers add to `httpx.Request.extensions` so route handlers know which transport
#: stack sent the request, and can raise that stack's own exception classes.
STACK_EXTENSION = "miniagents_lc.testing.stack"

#: respx `using=` name of the mocker that patches httpcore2 only.
HTTPCORE2_MOCKER = "httpcore2"
#: respx `using=` name of the mocker that patches httpcore and httpcore2 together.
ANY_STACK_MOCKER = "miniagents-lc:httpcore-any"


def _optional_module(name: str) -> ModuleType | None:
    # httpcore2 comes with the SDKs built on httpx2; the kit must still import without it.
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


_httpcore2 = _optional_module("httpcore2")


def httpcore2_available() -> bool:
    """Tell whether httpcore2 (the transport of httpx2-based SDKs) is importable here."""
    return _httpcore2 is not None


def transport_module(stack: Stack) -> ModuleType:
    """Return the httpcore module of `stack`, whose exception classes the SDK maps for us."""
    if stack == "httpcore2":
        if _httpcore2 is None:
            raise RuntimeError("httpcore2 is not installed")
        return _httpcore2
    return httpcore


def stack_of(request: httpx.Request) -> Stack:
    """Return the transport stack that sent `request` (httpcore2 when unknown and installed)."""
    marked = request.extensions.get(STACK_EXTENSION)
    if marked in ("httpcore", "httpcore2"):
        return cast(Stack, marked)
    return "httpcore2" if _httpcore2 is not None else "httpcore"


def _stack_of_core_request(core_request: object) -> Stack:
    if _httpcore2 is not None and isinstance(core_request, _httpcore2.Request):
        return "httpcore2"
    return "httpcore"


def _targets(package: str) -> list[str]:
    return [
        f"{package}._{mode}.{module}.{prefix}{cls}"
        for mode, prefix in (("sync", ""), ("async", "Async"))
        for module, cls in (
            ("connection", "HTTPConnection"),
            ("connection_pool", "ConnectionPool"),
            ("http_proxy", "HTTPProxy"),
        )
    ]


def _define_mocker(mocker_name: str, packages: list[str]) -> type[HTTPCoreMocker]:
    existing = Mocker.registry.get(mocker_name)
    if existing is not None:
        return cast(type[HTTPCoreMocker], existing)

    class StackAwareMocker(HTTPCoreMocker):
        # Mocker.__init_subclass__ registers the class under `name` as the statement runs.
        name = mocker_name
        targets: ClassVar[list[str]] = [
            target for package in packages for target in _targets(package)
        ]

        @classmethod
        def to_httpx_request(cls, **kwargs: Any) -> httpx.Request:
            base: Any = super()  # respx's mocker methods are unannotated
            request = cast(httpx.Request, base.to_httpx_request(**kwargs))
            stack = _stack_of_core_request(kwargs["request"])
            request.extensions = {**request.extensions, STACK_EXTENSION: stack}
            return request

        @classmethod
        def from_sync_httpx_response(
            cls, httpx_response: httpx.Response, target: object, **kwargs: Any
        ) -> object:
            module = transport_module(_stack_of_core_request(kwargs["request"]))
            return module.Response(
                status=httpx_response.status_code,
                headers=httpx_response.headers.raw,
                content=httpx_response.stream,
                extensions=httpx_response.extensions,
            )

    return StackAwareMocker


_installed = ["httpcore", *(["httpcore2"] if _httpcore2 is not None else [])]

#: Mocker for `respx.mock(using="httpcore2")`: patches httpcore2 only, like respx's own
#: "httpcore" mocker does for httpcore. Absent when httpcore2 is not installed.
HTTPCore2Mocker: type[HTTPCoreMocker] | None = (
    _define_mocker(HTTPCORE2_MOCKER, ["httpcore2"]) if _httpcore2 is not None else None
)

#: Mocker that patches both stacks at once, so one router sees requests of any SDK generation.
AnyStackMocker: type[HTTPCoreMocker] = _define_mocker(ANY_STACK_MOCKER, _installed)
