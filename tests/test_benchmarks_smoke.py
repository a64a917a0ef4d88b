"""Every benchmark workload runs correctly at toy sizes (its counts checked), never timed.

The figures come from `python -m benchmarks`; this only keeps the workloads working as the
code under them changes.
"""

from __future__ import annotations

import importlib

import pytest

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
