"""Every benchmark workload runs correctly at toy sizes (its counts checked), never timed.

The figures come from `python -m benchmarks`; this only keeps the workloads working as the
code under them changes.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from pathlib import Path

import pytest

from benchmarks import impl_tools, iteration_floor, stop_probe
from benchmarks.measure import IMPLEMENTATIONS, run

#: Implementations runnable in the test environment (MiniAgents needs its own interpreter).
HERE = ["miniagents_lc", "asyncio", "langchain", "protocol_v3"]


def measurements() -> list[tuple[str, str]]:
    return [
        (implementation, measurement)
        for implementation in HERE
        for measurement in importlib.import_module(IMPLEMENTATIONS[implementation]).MEASUREMENTS
    ]


def test_every_implementation_but_miniagents_is_smoke_tested() -> None:
    assert set(IMPLEMENTATIONS) - set(HERE) == {"miniagents"}


@pytest.mark.parametrize(("implementation", "measurement"), measurements())
def test_workload_runs_correctly_at_toy_size(implementation: str, measurement: str) -> None:
    result = run(implementation, measurement, "toy")
    figures = {key: value for key, value in result.items() if isinstance(value, int | float)}
    assert figures, f"{implementation} {measurement} reported no figures: {result}"
    assert all(value >= 0 for value in figures.values()), result


@pytest.fixture
def quick_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tool workload (h) with its waits cut tenfold: the same shape, checked, not timed."""
    monkeypatch.setattr(impl_tools, "SUB_WAIT", impl_tools.SUB_WAIT / 10)
    monkeypatch.setattr(impl_tools, "GAP", impl_tools.GAP / 10)


@pytest.mark.usefixtures("quick_tools")
@pytest.mark.parametrize("label", list(impl_tools.IMPLEMENTATIONS))
def test_tool_workload_delivers_every_sub_agent_token(label: str) -> None:
    # `measure` raises unless every sub-agent token reached the consumer.
    figures = impl_tools.measure(impl_tools.IMPLEMENTATIONS[label])
    if label.startswith("miniagents_lc"):
        assert (figures.in_call_order, figures.contiguous) == (True, True)
    assert figures.total_s > 0


@pytest.mark.usefixtures("quick_tools")
def test_tool_workload_floors_wait_at_least_the_sub_agents_wait() -> None:
    assert impl_tools.models_floor_s() > impl_tools.SUB_WAIT
    assert impl_tools.floor_s() > impl_tools.SUB_WAIT


def test_iteration_floor_reads_every_item_every_way() -> None:
    # `measure` raises unless each way handed out every item.
    figures = asyncio.run(iteration_floor.measure(items=50, runs=1))
    ways = [name for name, _make in iteration_floor.WAYS]
    chains = [iteration_floor.chain_name(depth) for depth in iteration_floor.CHAIN_DEPTHS]
    assert set(figures) == {*ways, *chains, "plain for over the list (reference)"}
    assert all(value > 0 for value in figures.values()), figures


def test_iteration_floor_chains_yield_the_items_in_order() -> None:
    async def read(depth: int) -> list[str]:
        return [item async for item in iteration_floor.chain(["a", "b", "c"], depth)]

    assert [asyncio.run(read(depth)) for depth in (1, 2, 4)] == [["a", "b", "c"]] * 3


async def test_the_stop_probe_tells_when_the_agent_stopped(tmp_path: Path) -> None:
    stop_file = tmp_path / "stop"
    tokens = stop_probe.first_then_wait(str(stop_file))
    assert await anext(tokens) == stop_probe.FIRST_TOKEN
    left = time.monotonic()
    await tokens.aclose()  # what the agent's cancellation does: its `finally` runs
    assert left <= await stop_probe.stopped_at(stop_file, within=1) <= time.monotonic()


async def test_the_stop_probe_fails_when_the_agent_never_stops(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="did not stop within"):
        await stop_probe.stopped_at(tmp_path / "never", within=0.01)
