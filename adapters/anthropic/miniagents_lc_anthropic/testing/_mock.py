"""`AnthropicMock`: the kit's `APIMock` with Anthropic's Messages streams, error bodies and
clients."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import anthropic
from miniagents_lc.testing import (
    APIMock,
    Delay,
    ScriptedReply,
    Step,
    compile_stream,
    delays_for,
)

from ._stream import (
    DEFAULT_MODEL,
    Fault,
    MessagesStreamBuilder,
    ToolUse,
    anthropic_error_body,
    encode_anthropic_fault,
)

__all__ = ["DEFAULT_BASE_URL", "AnthropicMock"]

#: Base URL of the pytest fixtures; the `.test` TLD can never resolve, so nothing leaks out.
DEFAULT_BASE_URL = "https://api.anthropic.test"
Headers = Mapping[str, str]


class AnthropicMock(APIMock):
    """Serves scripted streaming replies for `/v1/messages` (or any path) to the `anthropic` SDK.

    While active (`with`/`async with`, or `start()`/`stop()`) it intercepts httpcore2, which
    the SDK's httpx2 client runs on, so no request reaches the network: one with no reply left
    raises `UnscriptedRequestError`. Replies queue per path and are consumed in order; each
    request is kept in `requests` with its timings. An `ErrorEvent` in a raw `sse()` body is
    sent as the stream's `error` event.
    """

    def __init__(
        self, base_url: str = DEFAULT_BASE_URL, *, assert_all_consumed: bool = True
    ) -> None:
        super().__init__(
            base_url, assert_all_consumed=assert_all_consumed, encode_event=encode_anthropic_fault
        )

    def messages(
        self,
        tokens: Sequence[str] = (),
        *,
        thinking: Sequence[str] = (),
        signature: str = "",
        tool_uses: Sequence[ToolUse] = (),
        stop_reason: str | None = None,
        usage: Mapping[str, int] | None = None,
        cumulative_usage: bool = True,
        ping: bool = True,
        delay: Delay = 0.0,
        model: str | None = None,
        fault: Fault | None = None,
        status: int = 200,
        headers: Headers | None = None,
        path: str = "/v1/messages",
    ) -> ScriptedReply:
        """Queue one streamed Messages reply: `message_start`, a `ping`, a thinking block (the
        `thinking` pieces, then `signature`), a text block (`tokens`), one block per tool use
        (its input fragments), then `message_delta` and `message_stop`.

        `delay` comes before each payload event (thinking piece, token or input fragment) and
        a `fault` counts them. `usage` takes `input_tokens`, `output_tokens`,
        `cache_creation_input_tokens` and `cache_read_input_tokens`; `message_start` reports
        the input counts, `message_delta` the totals (with `cumulative_usage=False`, the output
        count only). A `status` of 400 or more answers with an Anthropic error body instead
        (529 → `anthropic.OverloadedError`, 429 → `RateLimitError`, after the SDK's retries;
        add e.g. `headers={"retry-after-ms": "10"}` to keep them fast).
        """
        serial = self.next_serial()

        def build(request: Mapping[str, Any]) -> list[Step]:
            # Made per request, to echo the request's model.
            builder = MessagesStreamBuilder(
                message_id=f"msg_test{serial:04d}",
                model=model or str(request.get("model") or DEFAULT_MODEL),
                cumulative_usage=cumulative_usage,
                ping=ping,
            )
            plan = builder.plan(
                tokens,
                thinking=thinking,
                signature=signature,
                tool_uses=tool_uses,
                stop_reason=stop_reason,
                usage=usage,
            )
            delays = delays_for(delay, len(plan.payload))
            return compile_stream(plan, delays, fault, encode_anthropic_fault)

        return self.stream_or_error(
            path, build, status=status, headers=headers, error_body=anthropic_error_body
        )

    def async_client(self, **overrides: Any) -> anthropic.AsyncAnthropic:
        """An `anthropic.AsyncAnthropic` aimed at this mock (key "sk-ant-test",
        `max_retries=0`)."""
        return anthropic.AsyncAnthropic(**self._client_options(overrides))

    def client(self, **overrides: Any) -> anthropic.Anthropic:
        """A sync `anthropic.Anthropic` aimed at this mock (key "sk-ant-test",
        `max_retries=0`)."""
        return anthropic.Anthropic(**self._client_options(overrides))

    def _client_options(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        return {"api_key": "sk-ant-test", "base_url": self.base_url, "max_retries": 0, **overrides}
