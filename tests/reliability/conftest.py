"""Reliability suite: the `soak` marker, for long runs deselected unless `-m soak` is given."""

from __future__ import annotations

import pytest

SOAK_MARKER = "soak"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{SOAK_MARKER}: long reliability run, deselected unless `-m soak` is given"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SOAK_MARKER in (config.getoption("-m") or ""):
        return
    kept: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        (deselected if item.get_closest_marker(SOAK_MARKER) else kept).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
