"""Sentinel values of the engine."""

from __future__ import annotations

import enum
from typing import Final, Literal


class _Default(enum.Enum):
    """The type of `DEFAULT`: "use the active context's setting"."""

    DEFAULT = "DEFAULT"

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Final = _Default.DEFAULT
"""Passed for `schedule_immediately` or `capture_errors`: take the value from the active context."""

Defaultable = bool | Literal[_Default.DEFAULT]
"""A flag that may be left to the active context (`DEFAULT`)."""


__all__ = [
    "DEFAULT",
    "Defaultable",
]
