"""`OpenAIMock`: the kit's `APIMock` with OpenAI's streams, error bodies and clients."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import openai
from miniagents_lc.testing import APIMock, Build, Delay, ScriptedReply

from ._chat import PLAIN_TOOL_STREAM, ToolCall, ToolStream, openai_error_body
from ._scripts import Fault, UsageSpec, chat_script, encode_chat_fault, responses_script

__all__ = ["DEFAULT_BASE_URL", "OpenAIMock"]

#: Base URL of the pytest fixtures; the `.test` TLD can never resolve, so nothing leaks out.
DEFAULT_BASE_URL = "https://api.openai.test/v1"
Headers = Mapping[str, str]


class OpenAIMock(APIMock):
    """Serves scripted streaming replies for `/chat/completions`, `/responses` or any path.

    While active (`with`/`async with`, or `start()`/`stop()`) it intercepts both httpcore2
    (openai 3) and httpcore (openai 1.x/2.x or a legacy `httpx` client), so no request reaches
    the network: one with no reply left raises `UnscriptedRequestError`. Replies queue per path
    and are consumed in order; each request is kept in `requests` with its timings. An
    `ErrorEvent` in a raw `sse()` body is sent as a chat stream's error event.
    """

    def __init__(
        self, base_url: str = DEFAULT_BASE_URL, *, assert_all_consumed: bool = True
    ) -> None:
        super().__init__(
            base_url, assert_all_consumed=assert_all_consumed, encode_event=encode_chat_fault
        )

    def chat(
        self,
        tokens: Sequence[str] = (),
        *,
        delay: Delay = 0.0,
        tool_calls: Sequence[ToolCall] = (),
        tool_stream: ToolStream = PLAIN_TOOL_STREAM,
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

        Each of `tool_calls` streams a header, then one chunk per argument fragment;
        `tool_stream` interleaves parallel calls or adds a provider quirk (a shared or missing
        index, arguments resent whole, the id on every chunk).

        `usage="auto"` sends the usage chunk only if the request set
        `stream_options.include_usage`, like the API; True or a mapping of counts always sends
        it. A `fault` cuts the stream; a `status` of 400 or more answers with an OpenAI error
        body instead of a stream (add e.g. `headers={"retry-after-ms": "10"}`).
        """
        build = chat_script(
            self.next_serial(),
            tokens,
            delay=delay,
            tool_calls=tool_calls,
            tool_stream=tool_stream,
            finish_reason=finish_reason,
            usage=usage,
            model=model,
            fault=fault,
        )
        return self._api_reply(path, status, headers, build)

    def responses(
        self,
        tokens: Sequence[str] = (),
        *,
        delay: Delay = 0.0,
        tool_calls: Sequence[ToolCall] = (),
        tool_stream: ToolStream = PLAIN_TOOL_STREAM,
        incomplete: str | None = None,
        usage: Mapping[str, int] | None = None,
        model: str | None = None,
        fault: Fault | None = None,
        status: int = 200,
        headers: Headers | None = None,
        path: str = "/responses",
    ) -> ScriptedReply:
        """Queue one streamed Responses API reply: created, in_progress, the output message
        with one `response.output_text.delta` per token (left out when there are only tool
        calls), each function call's item with one `function_call_arguments.delta` per
        fragment, and `response.completed` with `usage` (by default input 10, output = number
        of tokens and fragments), or `response.incomplete` with the reason `incomplete`
        (e.g. "max_output_tokens"). `tool_stream` can interleave the calls' deltas or resend
        the arguments whole. Faults count the deltas.
        """
        build = responses_script(
            self.next_serial(),
            tokens,
            delay=delay,
            tool_calls=tool_calls,
            tool_stream=tool_stream,
            incomplete=incomplete,
            usage=usage,
            model=model,
            fault=fault,
        )
        return self._api_reply(path, status, headers, build)

    def async_client(self, **overrides: Any) -> openai.AsyncOpenAI:
        """An `openai.AsyncOpenAI` aimed at this mock (key "sk-test", `max_retries=0`)."""
        return openai.AsyncOpenAI(**self._client_options(overrides))

    def client(self, **overrides: Any) -> openai.OpenAI:
        """A sync `openai.OpenAI` aimed at this mock (key "sk-test", `max_retries=0`)."""
        return openai.OpenAI(**self._client_options(overrides))

    def _client_options(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        return {"api_key": "sk-test", "base_url": self.base_url, "max_retries": 0, **overrides}

    def _api_reply(
        self, path: str, status: int, headers: Headers | None, build: Build
    ) -> ScriptedReply:
        return self.stream_or_error(
            path, build, status=status, headers=headers, error_body=openai_error_body
        )
