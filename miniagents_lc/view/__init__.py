"""Seeing agents work: the state of each agent call read from a run's protocol events, its
usage (and cost) per call and per subtree, a live terminal tree, and a timeline picture."""

from miniagents_lc.view.live import EventSource, LiveTree, live_tree, run_with_live_tree
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
