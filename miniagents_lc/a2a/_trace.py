"""W3C trace context across A2A calls, when OpenTelemetry is installed (else nothing)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

try:
    from opentelemetry import context as otel_context
    from opentelemetry import propagate
except ImportError:  # pragma: no cover - the otel extra is optional
    otel_context = None  # type: ignore[assignment]
    propagate = None  # type: ignore[assignment]


@contextlib.contextmanager
def attached_trace(headers: Mapping[str, str]) -> Iterator[None]:
    """Within the block, the trace context of the request's `traceparent` is current."""
    if propagate is None or "traceparent" not in headers:
        yield
        return
    token = otel_context.attach(propagate.extract(dict(headers)))
    try:
        yield
    finally:
        otel_context.detach(token)


def trace_headers() -> dict[str, str]:
    """The current trace context as headers (`traceparent`, ...); empty without one."""
    headers: dict[str, str] = {}
    if propagate is not None:
        propagate.inject(headers)
    return headers


__all__ = ["attached_trace", "trace_headers"]
