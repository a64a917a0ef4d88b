"""Observability, side by side: `python -m benchmarks.otel [--quick] [--base PATH]`.

- **small call**: a whole small call (trigger, reply one string, read it) and its trigger
  alone, in µs with the garbage collector off: no instrument registered, an instrument that
  does nothing, and the OpenTelemetry instrument (in-memory exporter). With `--base PATH` (a
  checkout of the code before the instrument seam, e.g. `git archive c739ac3 miniagents_lc`
  unpacked there) the no-instrument figure of that code runs too, in a process of its own;
- **tree (b)** and **astream (c)**, the workloads of `python -m benchmarks`, with the
  OpenTelemetry instrument on and off (alternating, best of the repeats);
- **200 OpenAI calls**: 200 concurrent streamed chat calls through `OpenAIAgent`, served by the
  offline OpenAI kit, on and off; beside them the anchor: the same 200 calls through the raw
  SDK with `opentelemetry-instrumentation-openai-v2` on and off, in a process of its own. (Its
  2.4b0 does not import with the opentelemetry-util-genai 1.3b0 of the shared environment;
  `pip install --no-deps --target DIR opentelemetry-util-genai==0.4b0` and `--genai-path DIR`
  give that process a version it works with.)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


# -- small call (needs nothing but miniagents_lc, so it also runs against older code) ------------


def small_call(calls: int, variant: str) -> dict[str, float]:
    """µs per whole small call and per trigger, GC off, in the given variant."""
    from miniagents_lc import InteractionContext, MiniAgents, miniagent

    @miniagent
    async def small(ctx: InteractionContext) -> None:
        ctx.reply("ok")

    async def main() -> dict[str, float]:
        async with MiniAgents():
            for _ in range(200):  # warm-up
                await small.trigger("x").acollect_messages()
            gc.collect()
            gc.disable()
            try:
                started = time.perf_counter()
                for _ in range(calls):
                    await small.trigger("x").acollect_messages()
                whole = time.perf_counter() - started
                started = time.perf_counter()
                replies = [small.trigger("x") for _ in range(calls)]
                trigger = time.perf_counter() - started
                for reply in replies:
                    await reply.acollect_messages()
            finally:
                gc.enable()
        return {"whole_us": whole / calls * 1e6, "trigger_us": trigger / calls * 1e6}

    with _variant(variant):
        return asyncio.run(main())


@contextmanager
def _variant(variant: str) -> Iterator[Any]:
    """Nothing, a do-nothing instrument, or the OpenTelemetry one, for the block's runs."""
    if variant == "none":
        yield None
        return
    from miniagents_lc import Instrument, instrumented

    instrument: Instrument
    if variant == "noop":
        instrument = Instrument()
        exporter = None
    else:
        instrument, exporter = _otel_instrument()
    with instrumented(instrument):
        yield exporter


def _otel_instrument() -> tuple[Any, Any]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from miniagents_lc.otel import instrument

    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    return instrument(tracer_provider, meter_provider), exporter


# -- tree (b) and astream (c) --------------------------------------------------------------------


def workloads(quick: bool, repeats: int) -> dict[str, dict[str, float]]:
    from benchmarks import impl_miniagents_lc
    from benchmarks.workloads import FULL, QUICK

    # The workloads as `python -m benchmarks` runs them (the issue's targets are on those).
    sizes = QUICK if quick else FULL
    runs: dict[str, Callable[[Any], Any]] = {
        "tree (b)": impl_miniagents_lc.tree,
        "astream (c)": impl_miniagents_lc.astream,
    }
    figures: dict[str, dict[str, float]] = {}
    for name, run in runs.items():
        walls: dict[str, list[float]] = {"off": [], "noop": [], "on": []}
        for _ in range(repeats):
            for variant, key in (("none", "off"), ("noop", "noop"), ("otel", "on")):
                with _variant(variant):
                    walls[key].append(run(sizes)["wall_s"])
        figures[name] = {key: min(values) for key, values in walls.items()}
    return figures


# -- 200 OpenAI calls ----------------------------------------------------------------------------

TOKENS = ["tok "] * 20


def _best_walls(
    variants: dict[str, Callable[[], Any]],
    work: Callable[[Any], Awaitable[None]],
    calls: int,
    repeats: int,
) -> dict[str, float]:
    """The best wall time of `work(client)` per variant (a context manager factory), the
    variants alternating, each run served by the OpenAI kit's 200 scripted streams."""
    from miniagents_lc_openai.testing import OpenAIMock

    mock = OpenAIMock()
    walls: dict[str, list[float]] = {key: [] for key in variants}
    with mock:
        for _ in range(repeats):
            for key, variant in variants.items():
                for _ in range(calls):
                    mock.chat(TOKENS, usage={"prompt_tokens": 12, "completion_tokens": len(TOKENS)})
                with variant():
                    started = time.perf_counter()
                    asyncio.run(work(mock.async_client()))  # type: ignore[arg-type]
                    walls[key].append(time.perf_counter() - started)
    return {key: min(values) for key, values in walls.items()}


def openai_agent_calls(calls: int, repeats: int) -> dict[str, float]:
    """200 concurrent calls through `OpenAIAgent`, the OpenTelemetry instrument off / on."""
    from miniagents_lc_openai import OpenAIAgent

    from miniagents_lc import MiniAgents

    async def through_agent(client: Any) -> None:
        agent = OpenAIAgent.fork(model="gpt-4o-mini", client=client)
        async with MiniAgents():
            replies = [agent.trigger("Hi") for _ in range(calls)]
            for reply in replies:
                await reply.acollect_messages()

    return _best_walls(
        {"off": lambda: _variant("none"), "on": lambda: _variant("otel")},
        through_agent,
        calls,
        repeats,
    )


def openai_sdk_calls(calls: int, repeats: int) -> dict[str, float]:
    """The anchor: the same calls through the raw SDK, `opentelemetry-instrumentation-openai-v2`
    off / on (in-memory exporter)."""
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    async def through_sdk(client: Any) -> None:
        async def one() -> None:
            stream = await client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "Hi"}],
                stream=True,
                stream_options={"include_usage": True},
            )
            async for _chunk in stream:
                pass

        await asyncio.gather(*(one() for _ in range(calls)))
        await client.close()

    @contextmanager
    def instrumented_sdk() -> Iterator[None]:
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
        # Untyped where the bench extra installs it, Any (a missing import) where it does not.
        instrumentor = OpenAIInstrumentor()  # type: ignore[no-untyped-call, unused-ignore]
        instrumentor.instrument(tracer_provider=provider)
        try:
            yield
        finally:
            instrumentor.uninstrument()

    @contextmanager
    def plain() -> Iterator[None]:
        yield

    return _best_walls({"off": plain, "on": instrumented_sdk}, through_sdk, calls, repeats)


# -- report --------------------------------------------------------------------------------------


def _in_process(path_before: str | None, *args: str) -> Any:
    """This script's JSON answer to `args`, in a process of its own, with `path_before` first
    on its path (older code, or a package version of its own)."""
    path = os.environ.get("PYTHONPATH", "")
    env = {**os.environ, "PYTHONPATH": f"{path_before}:{path}" if path_before else path}
    if path_before and "--small-only" in args:
        env["PYTHONPATH"] = path_before
    done = subprocess.run(
        [sys.executable, str(Path(__file__)), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1])
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--base", help="a checkout of the code before the seam, to compare")
    parser.add_argument(
        "--genai-path",
        help="a directory with an opentelemetry-util-genai that the installed "
        "opentelemetry-instrumentation-openai-v2 works with (put there with pip's "
        "--no-deps and --target options)",
    )
    parser.add_argument(
        "--only", choices=("small", "walls"), help="only the small call, or only the walls"
    )
    parser.add_argument("--repeats", type=int, help="rounds (default 5 for the small call, 3)")
    parser.add_argument("--small-only", type=int, metavar="CALLS", help=argparse.SUPPRESS)
    parser.add_argument("--sdk-only", type=int, nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.small_only:
        print(json.dumps(small_call(args.small_only, "none")))
        return 0
    if args.sdk_only:
        print(json.dumps(openai_sdk_calls(*args.sdk_only)))
        return 0
    repeats = args.repeats or (1 if args.quick else 3)
    calls = 500 if args.quick else 3_000
    if args.only != "walls":
        _print_small_calls(args.base, calls, args.repeats or (1 if args.quick else 5))
    if args.only != "small":
        _print_walls(args.quick, repeats, args.genai_path)
    return 0


def _print_small_calls(base: str | None, calls: int, repeats: int) -> None:
    print("Small call, µs (GC off; the best of the rounds, the variants alternating):")
    rows: dict[str, list[dict[str, float]]] = {}
    for _ in range(repeats):
        if base:
            # Both in fresh processes of their own, so that they compare like with like.
            rows.setdefault("before the seam (own process)", []).append(
                _in_process(base, "--small-only", str(calls))
            )
            rows.setdefault("no instrument (own process)", []).append(
                _in_process(str(ROOT), "--small-only", str(calls))
            )
        for variant, label in (
            ("none", "no instrument"),
            ("noop", "a do-nothing instrument"),
            ("otel", "the OpenTelemetry instrument"),
        ):
            rows.setdefault(label, []).append(small_call(calls, variant))
    for label, results in rows.items():
        whole = min(result["whole_us"] for result in results)
        trigger = min(result["trigger_us"] for result in results)
        print(f"  {label:<36} whole {whole:7.1f}   trigger {trigger:6.1f}")


def _print_walls(quick: bool, repeats: int, genai_path: str | None) -> None:
    print(
        "\nWall time, s (best of the repeats): no instrument (off), a do-nothing instrument "
        "(noop, where measured), the OpenTelemetry instrument (on):"
    )
    figures = workloads(quick, repeats)
    model_calls = 50 if quick else 200
    figures[f"{model_calls} OpenAI calls via OpenAIAgent"] = openai_agent_calls(
        model_calls, repeats
    )
    anchor = f"{model_calls} calls, raw SDK + opentelemetry-instrumentation-openai-v2"
    try:
        figures[anchor] = _in_process(genai_path, "--sdk-only", str(model_calls), str(repeats))
    except RuntimeError as error:
        print(f"  (anchor not measured: {error}; see --genai-path)")
    for name, walls in figures.items():
        ratio = walls["on"] / walls["off"]
        noop = walls.get("noop")
        noop_text = f"  noop {noop:7.3f} ({noop / walls['off']:5.3f}x)" if noop else ""
        print(
            f"  {name:<58} off {walls['off']:7.3f}  on {walls['on']:7.3f} ({ratio:5.3f}x)"
            f"{noop_text}"
        )


if __name__ == "__main__":
    if __package__ in (None, ""):
        sys.path.insert(0, str(ROOT))
    sys.exit(main())
