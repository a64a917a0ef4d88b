"""examples/tool_agents.py runs offline: agent tools run in parallel, stream in call order."""

from __future__ import annotations

import re

import pytest

from tests.example_runs import index_of, timed_events

TEXT = re.compile(r"^text    \(read from (?P<read_from>[\d.]+)s\) (?P<text>.*)$")
CALL_ORDER = ["historian", "economist", "engineer"]


@pytest.fixture(scope="module")
def events() -> list[tuple[float, str]]:
    return timed_events("tool_agents.py")


def test_researchers_all_start_before_any_finishes(events: list[tuple[float, str]]) -> None:
    starts = [index_of(events, f"start   {name} ") for name in CALL_ORDER]
    finishes = [index_of(events, f"finish  {name}") for name in CALL_ORDER]
    assert max(starts) < min(finishes)


def test_replies_stream_in_call_order_not_finish_order(events: list[tuple[float, str]]) -> None:
    finished = [index_of(events, f"finish  {name}") for name in CALL_ORDER]
    texts = [match["text"] for _, event in events if (match := TEXT.match(event))]
    assert finished[1] < finished[2] < finished[0]  # economist, engineer, historian
    assert [text.split(":")[0] for text in texts[1:]] == CALL_ORDER


def test_the_first_reply_is_read_while_it_is_produced(events: list[tuple[float, str]]) -> None:
    historian = next(m for _, e in events if (m := TEXT.match(e)) and "historian:" in e)
    assert float(historian["read_from"]) < events[index_of(events, "finish  historian")][0]


def test_the_model_answers_from_every_tool_result(events: list[tuple[float, str]]) -> None:
    results = events[index_of(events, "results ")][1]
    assert "word_count=4" in results
    for name in CALL_ORDER:
        assert f"{name}={name}: " in results
    assert index_of(events, "finish  historian") < index_of(events, "answer  ")
    assert events[-1][1] == "done"
