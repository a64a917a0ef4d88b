"""Shared fixtures: the scheduling modes in which engine behaviours must hold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from miniagents_lc.promising import DEFAULT, Defaultable, PromisingContext


@dataclass(frozen=True)
class Scheduling:
    """A `schedule_immediately` argument together with the context default it is used under.

    The explicit values run under the *opposite* context default, so a test also proves that an
    explicit argument overrides the context; `DEFAULT` runs under both context defaults.
    """

    schedule_immediately: Defaultable
    context_default: bool

    @property
    def immediate(self) -> bool:
        """Whether production is expected to start without a consumer."""
        if self.schedule_immediately is DEFAULT:
            return self.context_default
        return bool(self.schedule_immediately)

    def context(self, **kwargs: Any) -> PromisingContext:
        """A fresh context whose `schedule_immediately_by_default` is this mode's default."""
        return PromisingContext(schedule_immediately_by_default=self.context_default, **kwargs)


_SCHEDULINGS = {
    "True": Scheduling(True, context_default=False),
    "False": Scheduling(False, context_default=True),
    "DEFAULT-ctx-True": Scheduling(DEFAULT, context_default=True),
    "DEFAULT-ctx-False": Scheduling(DEFAULT, context_default=False),
}


@pytest.fixture(params=list(_SCHEDULINGS.values()), ids=list(_SCHEDULINGS))
def scheduling(request: pytest.FixtureRequest) -> Scheduling:
    """Every scheduling mode: True, False, and DEFAULT under both context defaults."""
    mode: Scheduling = request.param
    return mode
