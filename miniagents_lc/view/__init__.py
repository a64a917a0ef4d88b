"""Seeing agents work: the state of each agent call read from a run's protocol events, its
usage (and cost) per call and per subtree, a live terminal tree, and a timeline picture."""

from typing import TYPE_CHECKING, Any

from miniagents_lc.view.state import CallState, CallStatus, RunState
from miniagents_lc.view.timeline import timeline_svg
from miniagents_lc.view.usage import (
    USAGE_BY_AGENT_CONFIG,
    USAGE_KEY,
    ModelPrice,
    PriceTable,
    usage_breakdown,
    usage_by_agent,
    usage_cost,
)

if TYPE_CHECKING:
    from miniagents_lc.view.live import EventSource, LiveTree, live_tree, run_with_live_tree

_LIVE = frozenset({"EventSource", "LiveTree", "live_tree", "run_with_live_tree"})


def __getattr__(name: str) -> Any:
    # Only the live tree needs rich: it is loaded on first use, keeping ~1.5 MB out of every
    # process that never draws a tree.
    if name in _LIVE:
        from miniagents_lc.view import live

        return getattr(live, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "USAGE_BY_AGENT_CONFIG",
    "USAGE_KEY",
    "CallState",
    "CallStatus",
    "EventSource",
    "LiveTree",
    "ModelPrice",
    "PriceTable",
    "RunState",
    "live_tree",
    "run_with_live_tree",
    "timeline_svg",
    "usage_breakdown",
    "usage_by_agent",
    "usage_cost",
]
