"""Fixtures and collection rules of the LangChain-face tests."""

from __future__ import annotations

import pytest

from miniagents_lc import MiniAgents
from tests.langchain.scripted import OuterContext, no_context


@pytest.fixture(
    params=["none", "immediate", "deferred"],
    ids=["no-context", "in-MiniAgents-immediate", "in-MiniAgents-deferred"],
)
def outer_context(request: pytest.FixtureRequest) -> OuterContext:
    """Where a Runnable is called: with no context (the run makes its own), or inside a
    `MiniAgents` context that schedules immediately or on demand by default."""
    if request.param == "none":
        return no_context
    immediate = request.param == "immediate"
    return lambda: MiniAgents(schedule_immediately_by_default=immediate)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the standard langchain-tests a test class names in `not_applicable` (test name
    -> reason): they would only skip themselves, and the suite forbids overriding them."""
    kept: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        cls = getattr(item, "cls", None)
        not_applicable: dict[str, str] = getattr(cls, "not_applicable", {})
        name = getattr(item, "originalname", item.name)
        (deselected if name in not_applicable else kept).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
