"""The timeline picture: each call a row under its caller, bars placed by measured times,
reply order against finish order among siblings."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from miniagents_lc.view import RunState, timeline_svg

SVG = "{http://www.w3.org/2000/svg}"


def _state(events: list[tuple[int, str, tuple[str, ...], dict[str, Any]]]) -> RunState:
    state = RunState()
    for timestamp, method, namespace, data in events:
        state.apply(method, namespace, data, timestamp)
    return state


def _delta(text: str) -> dict[str, Any]:
    return {
        "event": "content-block-delta",
        "index": 0,
        "delta": {"type": "text-delta", "text": text},
    }


def _started(alias: str) -> dict[str, Any]:
    return {"event": "started", "graph_name": alias}


COMPLETED = {"event": "completed"}

# lead starts at 1000 ms and asks a (first token at 1200, ends 2000) and b (first token 1100,
# ends 1500): b replies second and finishes first.
PARALLEL = _state(
    [
        (1000, "lifecycle", (), _started("lead")),
        (1000, "lifecycle", ("a:0",), _started("a")),
        (1000, "lifecycle", ("b:1",), _started("b")),
        (1100, "messages", ("b:1",), _delta("b says")),
        (1200, "messages", ("a:0",), _delta("a says")),
        (1500, "lifecycle", ("b:1",), COMPLETED),
        (2000, "lifecycle", ("a:0",), COMPLETED),
        (2000, "lifecycle", (), COMPLETED),
    ]
)


def _rows(svg: str) -> tuple[list[str], list[ET.Element], list[str]]:
    root = ET.fromstring(svg)
    labels = [text.text or "" for text in root.iter(f"{SVG}text") if text.get("class") == "agent"]
    bars = [rect for rect in root.iter(f"{SVG}rect") if rect.get("class")]
    notes = [text.text or "" for text in root.iter(f"{SVG}text") if "replied" in (text.text or "")]
    return labels, bars, notes


def test_each_call_is_a_row_in_tree_order_with_reply_and_finish_order() -> None:
    labels, _bars, notes = _rows(timeline_svg([("parallel", PARALLEL)]))
    assert labels == ["lead", "a", "b"]
    assert notes == ["replied 1st, finished 2nd", "replied 2nd, finished 1st"]


def test_bars_are_placed_by_the_measured_times() -> None:
    width = 960
    _labels, bars, _notes = _rows(timeline_svg([("parallel", PARALLEL)], width=width))
    by_kind = [
        (bar.get("class"), float(bar.get("x", 0)), float(bar.get("width", 0))) for bar in bars
    ]
    # lead: waits 100 ms (b's first token), streams 900; a: waits 200, streams 800.
    lead_wait, lead_stream, a_wait, a_stream, b_wait, b_stream = by_kind
    assert b_wait[2] == pytest.approx(100 * lead_stream[2] / 900, abs=0.2)
    scale = lead_stream[2] / 900
    assert lead_wait[2] == pytest.approx(100 * scale, abs=0.2)
    assert a_wait[2] == pytest.approx(200 * scale, abs=0.2)
    assert a_stream[1] == pytest.approx(lead_wait[1] + 200 * scale, abs=0.2)
    assert b_stream[2] == pytest.approx(400 * scale, abs=0.2)
    assert [kind for kind, _, _ in by_kind] == ["waiting", "streaming"] * 3


def test_an_unfinished_run_is_refused_with_the_reason() -> None:
    running = _state([(1000, "lifecycle", (), _started("lead"))])
    with pytest.raises(ValueError, match="has not finished"):
        timeline_svg([("running", running)])
