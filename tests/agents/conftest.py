"""Fixtures of the agents specification: `MiniAgents` contexts per scheduling mode.

`scheduling` (tests/conftest.py) runs a test in every mode: `schedule_immediately` True, False
(each under the opposite context default) and DEFAULT under both context defaults.
`immediate_scheduling` covers only the modes in which agents start without a consumer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from miniagents_lc import DEFAULT, MiniAgents
from miniagents_lc.promising import Defaultable


@dataclass(frozen=True)
class ImmediateScheduling:
    """A mode in which a triggered agent starts at the next task switch, with no consumer."""

    schedule_immediately: Defaultable
    context_default: bool


_IMMEDIATE = {
    "True": ImmediateScheduling(True, context_default=False),
    "DEFAULT-ctx-True": ImmediateScheduling(DEFAULT, context_default=True),
}


@pytest.fixture(params=list(_IMMEDIATE.values()), ids=list(_IMMEDIATE))
def immediate_scheduling(request: pytest.FixtureRequest) -> ImmediateScheduling:
    """The scheduled-immediately modes: explicit True under a deferring context, and DEFAULT
    under an immediate one."""
    mode: ImmediateScheduling = request.param
    return mode


@pytest.fixture
def agents_context(scheduling: Any) -> Callable[[], MiniAgents]:
    """A factory of `MiniAgents` contexts with the current scheduling mode's context default."""

    def make() -> MiniAgents:
        return MiniAgents(schedule_immediately_by_default=scheduling.context_default)

    return make
