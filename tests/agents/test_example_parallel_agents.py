"""examples/parallel_agents.py runs offline and shows replies in order, execution interleaved."""

from __future__ import annotations

import re

import pytest

from tests.example_runs import index_of, timed_events

REPLY = re.compile(r"^reply (?P<number>\d+) (?P<agent>\w+) \(read from (?P<read_from>[\d.]+)s\): ")
WORKERS = ["slow_researcher", "quick_fact_checker", "medium_summarizer"]


@pytest.fixture(scope="module")
def events() -> list[tuple[float, str]]:
    return timed_events("parallel_agents.py")


def test_replies_are_printed_in_reply_order(events: list[tuple[float, str]]) -> None:
    replies = [match for _, event in events if (match := REPLY.match(event))]

    assert [int(match["number"]) for match in replies] == [1, 2, 3, 4, 5]
    assert [match["agent"] for match in replies] == ["aggregator", *WORKERS, "aggregator"]
    assert events[index_of(events, "reply 1 ")][1].endswith("Here is what the team found:")
    assert events[index_of(events, "reply 5 ")][1].endswith("That is all.")


def test_workers_all_start_before_any_finishes(events: list[tuple[float, str]]) -> None:
    starts = [index_of(events, f"start   {worker} ") for worker in WORKERS]
    finishes = [index_of(events, f"finish  {worker}") for worker in WORKERS]

    assert max(starts) < min(finishes)


def test_workers_finish_in_order_of_duration_not_of_reply(
    events: list[tuple[float, str]],
) -> None:
    slow, quick, medium = (index_of(events, f"finish  {worker}") for worker in WORKERS)

    assert quick < medium < slow
    assert events[quick][0] < events[slow][0]


def test_execution_interleaves_with_the_replies(events: list[tuple[float, str]]) -> None:
    aggregator_returns = index_of(events, "return  aggregator")
    first_reply = index_of(events, "reply 1 ")
    quick_finishes = index_of(events, "finish  quick_fact_checker")
    slow_finishes = index_of(events, "finish  slow_researcher")
    quick_reply = index_of(events, "reply 3 ")

    # The aggregator returns before its sub-agents are done; the first reply is read while
    # they still work; the quick worker's finished reply waits for the slow one before it.
    assert aggregator_returns < quick_finishes
    assert first_reply < quick_finishes
    assert slow_finishes < quick_reply


def test_slow_reply_streams_while_it_is_produced(events: list[tuple[float, str]]) -> None:
    slow_reply = REPLY.match(events[index_of(events, "reply 2 ")][1])
    slow_finished_at = events[index_of(events, "finish  slow_researcher")][0]

    assert slow_reply is not None
    assert slow_reply["agent"] == "slow_researcher"
    assert float(slow_reply["read_from"]) < slow_finished_at


def test_program_ends_after_reading_every_reply(events: list[tuple[float, str]]) -> None:
    assert events[-1][1] == "all replies read"
