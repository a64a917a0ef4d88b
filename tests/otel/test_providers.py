"""The OpenAI and Anthropic agents' model calls as `chat` spans and GenAI metrics: the usage
attributes are what the providers reported in their streams, cache tokens included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from miniagents_lc_anthropic import AnthropicAgent
from miniagents_lc_anthropic.testing import AnthropicMock
from miniagents_lc_openai import OpenAIAgent
from miniagents_lc_openai.testing import OpenAIMock
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from miniagents_lc import MiniAgent, MiniAgents
from miniagents_lc.otel import instrument

from .spans import model_agent, named, span_tree

USAGE_KEYS = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.reasoning.output_tokens",
)


def usage_attributes(attributes: Any) -> dict[str, Any]:
    return {key: attributes[key] for key in USAGE_KEYS if key in attributes}


def openai_writer(openai_mock: OpenAIMock) -> MiniAgent:
    openai_mock.chat(
        ["Hel", "lo"],
        usage={
            "prompt_tokens": 40,
            "completion_tokens": 6,
            "cached_tokens": 32,
            "reasoning_tokens": 2,
        },
    )
    return OpenAIAgent.fork(alias="writer", model="gpt-4o-mini", client=openai_mock.async_client())


def anthropic_writer(anthropic_mock: AnthropicMock) -> MiniAgent:
    anthropic_mock.messages(
        ["Hi", " there"],
        usage={
            "input_tokens": 9,
            "output_tokens": 4,
            "cache_read_input_tokens": 100,
            "cache_creation_input_tokens": 20,
        },
    )
    return AnthropicAgent.fork(
        alias="writer", model="claude-sonnet-4-5", client=anthropic_mock.async_client()
    )


PROVIDERS: dict[str, tuple[str, Callable[[Any], MiniAgent], str, dict[str, int]]] = {
    # provider: (its kit's fixture, the scripted agent, its model, the usage attributes)
    "openai": (
        "openai_mock",
        openai_writer,
        "gpt-4o-mini",
        {
            "gen_ai.usage.input_tokens": 40,
            "gen_ai.usage.output_tokens": 6,
            "gen_ai.usage.cache_read.input_tokens": 32,
            "gen_ai.usage.reasoning.output_tokens": 2,
        },
    ),
    # Input counts every input token, the cached ones too (as the conventions ask).
    "anthropic": (
        "anthropic_mock",
        anthropic_writer,
        "claude-sonnet-4-5",
        {
            "gen_ai.usage.input_tokens": 129,
            "gen_ai.usage.output_tokens": 4,
            "gen_ai.usage.cache_read.input_tokens": 100,
            "gen_ai.usage.cache_creation.input_tokens": 20,
        },
    ),
}


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_providers_model_call_reports_the_usage_its_stream_reported(
    provider: str,
    request: pytest.FixtureRequest,
    tracer_provider: TracerProvider,
    exporter: InMemorySpanExporter,
) -> None:
    fixture, writer, model, usage = PROVIDERS[provider]
    agent = writer(request.getfixturevalue(fixture))
    async with MiniAgents(instruments=[instrument(tracer_provider)]):
        await agent.trigger("Hi").acollect_messages()
    spans = exporter.get_finished_spans()
    assert span_tree(spans) == [model_agent("writer", model)]
    chat = named(spans, f"chat {model}")
    assert chat.attributes is not None
    assert usage_attributes(chat.attributes) == usage
    assert chat.attributes["gen_ai.provider.name"] == provider
    assert chat.attributes["gen_ai.response.model"] == model
    # The agent's span sums the usage of its own model calls: here, the one.
    writer_span = named(spans, "invoke_agent writer")
    assert writer_span.attributes is not None
    assert usage_attributes(writer_span.attributes) == usage


async def test_an_anthropic_call_reports_its_message_id_and_stop_reason(
    anthropic_mock: AnthropicMock, tracer_provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    agent = anthropic_writer(anthropic_mock)
    async with MiniAgents(instruments=[instrument(tracer_provider)]):
        await agent.trigger("Hi").acollect_messages()
    chat = named(exporter.get_finished_spans(), "chat claude-sonnet-4-5")
    assert chat.attributes is not None
    assert str(chat.attributes["gen_ai.response.id"]).startswith("msg_")
    assert chat.attributes["gen_ai.response.finish_reasons"] == ("end_turn",)


def histogram_points(reader: InMemoryMetricReader, name: str) -> list[HistogramDataPoint]:
    data = reader.get_metrics_data()
    assert data is not None
    return [
        point
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == name
        for point in metric.data.data_points
        if isinstance(point, HistogramDataPoint)
    ]


async def test_each_model_call_records_token_usage_duration_and_time_to_first_chunk(
    openai_mock: OpenAIMock,
    tracer_provider: TracerProvider,
    meter_provider: MeterProvider,
    metric_reader: InMemoryMetricReader,
) -> None:
    for _ in range(2):
        openai_mock.chat(["a", "b"], usage={"prompt_tokens": 10, "completion_tokens": 3})
    agent = OpenAIAgent.fork(model="gpt-4o-mini", client=openai_mock.async_client())
    async with MiniAgents(instruments=[instrument(tracer_provider, meter_provider)]):
        for _ in range(2):
            await agent.trigger("Hi").acollect_messages()
    tokens = {
        str((point.attributes or {})["gen_ai.token.type"]): (point.count, point.sum)
        for point in histogram_points(metric_reader, "gen_ai.client.token.usage")
    }
    assert tokens == {"input": (2, 20), "output": (2, 6)}
    for name in ("gen_ai.client.operation.duration", "gen_ai.client.operation.time_to_first_chunk"):
        (point,) = histogram_points(metric_reader, name)
        assert point.count == 2
        assert (point.attributes or {})["gen_ai.provider.name"] == "openai"
