"""OpenTelemetry GenAI traces and metrics of agent trees (the `otel` extra).

    from miniagents_lc import MiniAgents
    from miniagents_lc.otel import instrument

    async with MiniAgents(instruments=[instrument()]):
        ...

`instrument()` returns an `Instrument` (see `miniagents_lc.agents.instruments`) that turns
what the agents do into spans and metrics of the OpenTelemetry GenAI semantic conventions:

- one `invoke_agent {alias}` span per agent call, the child of the span of the call that
  triggered it (although every call runs in a task of its own), or of the span current where a
  call was made outside any agent; it is the current span while its agent's code runs, so
  other instrumentations (and `RemoteAgent`'s `traceparent`) nest under it. It lasts until
  the call's reply has ended, carries the usage of the call's own model calls, summed, and
  ends with an error status and the exception when the call failed;
- one `chat {model}` span per model call (provider, request and response model, finish
  reasons, usage with cache reads and writes, response id) and one `execute_tool {name}` span
  per tool call, children of the span of the agent call that made them;
- the metrics `gen_ai.client.token.usage`, `gen_ai.client.operation.duration` and
  `gen_ai.client.operation.time_to_first_chunk` per model call.

Message content (model input and output, tool arguments and results) is recorded only with
`capture_content=True`; no client, key or other call argument is ever recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import UsageMetadata
from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider

from miniagents_lc.agents import AgentCall, Instrument, ModelCall, ToolRun
from miniagents_lc.messages import Message

__all__ = ["GenAIInstrument", "instrument"]

_SCOPE = "miniagents_lc"

# The GenAI semantic conventions' names (opentelemetry-semantic-conventions is not a
# dependency of the API, so they are spelled here).
OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
AGENT_NAME = "gen_ai.agent.name"
AGENT_DESCRIPTION = "gen_ai.agent.description"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
RESPONSE_ID = "gen_ai.response.id"
FINISH_REASONS = "gen_ai.response.finish_reasons"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
CACHE_READ = "gen_ai.usage.cache_read.input_tokens"
CACHE_CREATION = "gen_ai.usage.cache_creation.input_tokens"
REASONING = "gen_ai.usage.reasoning.output_tokens"
TOOL_NAME = "gen_ai.tool.name"
TOOL_CALL_ID = "gen_ai.tool.call.id"
TOOL_ARGUMENTS = "gen_ai.tool.call.arguments"
TOOL_RESULT = "gen_ai.tool.call.result"
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
TOKEN_TYPE = "gen_ai.token.type"
ERROR_TYPE = "error.type"


@dataclass
class _CallSpan:
    """The span of one agent call and the usage of its own model calls."""

    span: Span
    usage: dict[str, int] = field(default_factory=dict)


class GenAIInstrument(Instrument):
    """An `Instrument` that records agent calls, model calls and tool calls as OpenTelemetry
    GenAI spans and metrics (made by `instrument()`)."""

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        *,
        capture_content: bool = False,
    ) -> None:
        self._tracer = trace.get_tracer(_SCOPE, tracer_provider=tracer_provider)
        meter = metrics.get_meter(_SCOPE, meter_provider=meter_provider)
        self._token_usage = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used per model call.",
        )
        self._duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="Duration of each model call.",
        )
        self._first_chunk = meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk",
            unit="s",
            description="Time from the request to the first streamed chunk of each model call.",
        )
        self.capture_content = capture_content
        self._calls: dict[AgentCall, _CallSpan] = {}
        self._models: dict[ModelCall, Span] = {}
        self._tools: dict[ToolRun, Span] = {}

    def __repr__(self) -> str:
        return f"GenAIInstrument(capture_content={self.capture_content})"

    # -- agent calls --------------------------------------------------------------------

    def call_started(self, call: AgentCall) -> None:
        parent = call.parent
        parent_record = self._calls.get(parent) if parent is not None else None
        parent_context = (
            trace.set_span_in_context(parent_record.span) if parent_record is not None else None
        )
        agent = call.agent
        attributes: dict[str, Any] = {OPERATION: "invoke_agent", AGENT_NAME: call.alias}
        if agent.description:
            attributes[AGENT_DESCRIPTION] = agent.description
        span = self._tracer.start_span(
            f"invoke_agent {call.alias}",
            context=parent_context,
            kind=SpanKind.INTERNAL,
            attributes=attributes,
        )
        self._calls[call] = _CallSpan(span)
        # Current in the call's own task (which ends with its function, so nothing needs to
        # detach it): what the agent does there nests under its span.
        otel_context.attach(trace.set_span_in_context(span))

    def call_finished(self, call: AgentCall, error: BaseException | None) -> None:
        record = self._calls.pop(call, None)
        if record is None:
            return
        span = record.span
        span.set_attributes(
            {_USAGE_ATTRIBUTES[name]: count for name, count in record.usage.items()}
        )
        _end(span, error)

    # -- model calls --------------------------------------------------------------------

    def model_call_started(self, model_call: ModelCall) -> None:
        record = self._calls.get(model_call.call)
        attributes: dict[str, Any] = {OPERATION: "chat", PROVIDER: model_call.provider}
        if model_call.request_model:
            attributes[REQUEST_MODEL] = model_call.request_model
        if self.capture_content:
            attributes[INPUT_MESSAGES] = _messages_json(model_call.input_messages)
        self._models[model_call] = self._tracer.start_span(
            f"chat {model_call.request_model or model_call.provider}",
            context=trace.set_span_in_context(record.span) if record is not None else None,
            kind=SpanKind.CLIENT,
            attributes=attributes,
        )

    def model_call_finished(self, model_call: ModelCall, error: BaseException | None) -> None:
        span = self._models.pop(model_call, None)
        if span is None:
            return
        attributes: dict[str, Any] = {}
        if model_call.response_model:
            attributes[RESPONSE_MODEL] = model_call.response_model
        if model_call.response_id:
            attributes[RESPONSE_ID] = model_call.response_id
        if model_call.finish_reason:
            attributes[FINISH_REASONS] = [model_call.finish_reason]
        counts = usage_counts(model_call.usage)
        attributes.update({_USAGE_ATTRIBUTES[name]: count for name, count in counts.items()})
        if self.capture_content:
            attributes[OUTPUT_MESSAGES] = json.dumps(
                [
                    {
                        "role": "assistant",
                        "parts": [{"type": "text", "content": model_call.output_text}],
                        "finish_reason": model_call.finish_reason or "",
                    }
                ]
            )
        span.set_attributes(attributes)
        _end(span, error)
        record = self._calls.get(model_call.call)
        if record is not None:
            for name, count in counts.items():
                record.usage[name] = record.usage.get(name, 0) + count
        self._record_metrics(model_call, counts, error)

    def _record_metrics(
        self, model_call: ModelCall, counts: dict[str, int], error: BaseException | None
    ) -> None:
        attributes: dict[str, Any] = {OPERATION: "chat", PROVIDER: model_call.provider}
        if model_call.request_model:
            attributes[REQUEST_MODEL] = model_call.request_model
        if model_call.response_model:
            attributes[RESPONSE_MODEL] = model_call.response_model
        if error is not None:
            attributes[ERROR_TYPE] = type(error).__qualname__
        if model_call.duration is not None:
            self._duration.record(model_call.duration, attributes)
        if model_call.time_to_first_chunk is not None:
            self._first_chunk.record(model_call.time_to_first_chunk, attributes)
        for kind in ("input", "output"):
            if f"{kind}_tokens" in counts:
                self._token_usage.record(counts[f"{kind}_tokens"], {**attributes, TOKEN_TYPE: kind})

    # -- tool calls ---------------------------------------------------------------------

    def tool_call_started(self, tool_run: ToolRun) -> None:
        record = self._calls.get(tool_run.call) if tool_run.call is not None else None
        attributes: dict[str, Any] = {OPERATION: "execute_tool", TOOL_NAME: tool_run.name}
        if tool_run.call_id:
            attributes[TOOL_CALL_ID] = tool_run.call_id
        if self.capture_content:
            attributes[TOOL_ARGUMENTS] = json.dumps(dict(tool_run.arguments), default=str)
        self._tools[tool_run] = self._tracer.start_span(
            f"execute_tool {tool_run.name}",
            context=trace.set_span_in_context(record.span) if record is not None else None,
            kind=SpanKind.INTERNAL,
            attributes=attributes,
        )

    def tool_call_finished(self, tool_run: ToolRun, error: BaseException | None) -> None:
        span = self._tools.pop(tool_run, None)
        if span is None:
            return
        if self.capture_content and tool_run.result is not None:
            span.set_attribute(TOOL_RESULT, tool_run.result)
        _end(span, error)


def instrument(
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    *,
    capture_content: bool = False,
) -> GenAIInstrument:
    """An instrument producing GenAI spans and metrics through the given providers (the
    global ones by default): register it with `MiniAgents(instruments=[instrument()])`, a
    scope (`with instrumented(instrument()):`) or a run's config. Message content is
    recorded only with `capture_content=True`."""
    return GenAIInstrument(tracer_provider, meter_provider, capture_content=capture_content)


_USAGE_ATTRIBUTES = {
    "input_tokens": INPUT_TOKENS,
    "output_tokens": OUTPUT_TOKENS,
    "cache_read": CACHE_READ,
    "cache_creation": CACHE_CREATION,
    "reasoning": REASONING,
}


def usage_counts(usage: UsageMetadata | None) -> dict[str, int]:
    """The counts of a model call's usage that have a GenAI attribute (cache and reasoning
    tokens only where the provider reported them)."""
    if not usage:
        return {}
    counts = {"input_tokens": usage["input_tokens"], "output_tokens": usage["output_tokens"]}
    for details_key, names in (
        ("input_token_details", ("cache_read", "cache_creation")),
        ("output_token_details", ("reasoning",)),
    ):
        details: Any = usage.get(details_key) or {}
        for name in names:
            value = details.get(name)
            if isinstance(value, int):
                counts[name] = value
    return counts


def _messages_json(messages: tuple[Message, ...]) -> str:
    return json.dumps(
        [
            {"role": message.role or "user", "parts": [{"type": "text", "content": message.text}]}
            for message in messages
        ]
    )


def _end(span: Span, error: BaseException | None) -> None:
    if error is not None:
        span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        span.set_attribute(ERROR_TYPE, type(error).__qualname__)
        if isinstance(error, Exception):
            span.record_exception(error)
    span.end()
