"""The one hook through which a protocol stream learns of agent calls.

A run that maps its agent tree to events sets `call_observer` in its task; every `AgentCall`
created in that task, or in the tasks it starts, is reported to it as it is created. Outside such
a run the variable is unset, and creating a call costs one context-variable lookup.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

CallObserver = Callable[[Any], None]
"""Called with each new `AgentCall`, synchronously, in the task that created it."""

call_observer: contextvars.ContextVar[CallObserver | None] = contextvars.ContextVar(
    "miniagents_lc_call_observer", default=None
)

__all__ = ["CallObserver", "call_observer"]
