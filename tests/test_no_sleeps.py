"""Tests settle rather than sleep: no test file gains a non-zero sleep outside the allow-list.

A sleep that proves something did *not* happen (or gives something time to happen) is a guess:
too short and the test flakes on a loaded machine, too long and the suite crawls. Such a test
awaits `miniagents_lc.testing.settle()`, an event the test sets, or polls a condition to a
deadline (`apoll_until`/`poll_until`). A sleep stays only where time itself is the behaviour
under test, listed below with its reason and its exact number of sleeps, so that a new sleep
fails here and a removed one shrinks the list.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# `sleep(` followed by anything but a literal zero: `asyncio.sleep(0)` is a bare task switch.
NON_ZERO_SLEEP = re.compile(r"\bsleep\((?!\s*0\s*\))")

#: File (from the repository root) -> (how many non-zero sleeps it holds, why time is the
#: behaviour there). Keep it small: prefer settling, events and condition polls.
ALLOWED: dict[str, tuple[int, str]] = {
    "tests/testing/test_settle.py": (1, "settle() must count a task waiting on a timer"),
    "tests/promising/test_streamed_promise_reader_turn.py": (
        1,
        "readers are let in at most once a millisecond: the pause between pieces is the input",
    ),
    "tests/protocol/trees.py": (1, "model tokens paced in time, as the protocol tests stream"),
    "tests/protocol/test_observation.py": (
        1,
        "a reader gives up on a paced stream after a timeout",
    ),
    "tests/reliability/test_cancellation.py": (
        2,
        "cancellation at moments of a paced stream, measured in time against a bound",
    ),
    "tests/reliability/test_consumer_cancellation.py": (
        3,
        "a paced stream and lingering work stopped by a consumer's cancellation, timed",
    ),
    "tests/agui/support.py": (
        1,
        "an endless stream a client leaves mid-way: ticks paced in time, so each crosses the"
        " wire as its own event (the encoder joins pieces it reads at once)",
    ),
    "tests/a2a/a2a_agents.py": (
        1,
        "served over HTTP, the slow team member must end after the quick one (the wire and the"
        " SDK's queue are between them: settling in the server's loop does not order them)",
    ),
    "tests/a2a/sdk_only_agent.py": (1, "an A2A SDK agent served slowly for a parallel sibling"),
    "tests/langchain/tool_scripts.py": (
        2,
        "agent tools run in parallel, not one after the other: start delays with time bounds",
    ),
    "tests/remote/served.py": (4, "agents served by other processes stream at a pace"),
    "tests/remote/test_server.py": (
        2,
        "resuming inside a grace period; a reader that stalls while socket buffers fill",
    ),
    "tests/remote/test_workers.py": (
        3,
        "a restart that takes seconds; readers that stall past grace periods",
    ),
    "tests/remote/test_topology.py": (1, "the load test cuts connections at a pace"),
}


def suite_files() -> list[Path]:
    """Every Python file of the test suites (the root one and the adapters'), but this one,
    whose examples of the pattern are no sleeps."""
    found = [*REPO.glob("tests/**/*.py"), *REPO.glob("adapters/*/tests/**/*.py")]
    return sorted(path for path in found if path.resolve() != Path(__file__).resolve())


def non_zero_sleeps(path: Path) -> list[str]:
    """The lines of `path` that sleep for something other than a literal zero."""
    return [
        f"{number}: {line.strip()}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if NON_ZERO_SLEEP.search(line)
    ]


def test_the_pattern_tells_a_sleep_from_a_task_switch() -> None:
    assert NON_ZERO_SLEEP.search("await asyncio.sleep(0.01)")
    assert NON_ZERO_SLEEP.search("time.sleep(delay)")
    assert NON_ZERO_SLEEP.search("await anyio.sleep( 1 )")
    assert not NON_ZERO_SLEEP.search("await asyncio.sleep(0)")
    assert not NON_ZERO_SLEEP.search("await asyncio.sleep( 0 )")
    assert not NON_ZERO_SLEEP.search("await settle()")


def test_the_scan_finds_the_suites() -> None:
    names = {path.relative_to(REPO).as_posix() for path in suite_files()}
    assert "tests/agents/test_scheduling.py" in names
    assert any(name.startswith("adapters/openai/tests/") for name in names)
    assert set(ALLOWED) <= names, f"allow-listed files that do not exist: {set(ALLOWED) - names}"


@pytest.mark.parametrize("path", suite_files(), ids=lambda path: path.relative_to(REPO).as_posix())
def test_a_test_file_sleeps_only_where_time_is_the_behaviour(path: Path) -> None:
    name = path.relative_to(REPO).as_posix()
    found = non_zero_sleeps(path)
    allowed, reason = ALLOWED.get(name, (0, ""))
    if len(found) > allowed:
        pytest.fail(
            f"{name} sleeps {len(found)} time(s), {allowed} allowed"
            + (f" ({reason})" if reason else "")
            + ":\n  "
            + "\n  ".join(found)
            + "\nTo prove something did or did not happen, `await settle()` (from "
            "miniagents_lc.testing) or wait on an event the test sets; to wait for a server, "
            "thread or process, poll a condition with `apoll_until`/`poll_until`. Only where "
            "time itself is the behaviour, list the file in ALLOWED of tests/test_no_sleeps.py."
        )
    assert len(found) == allowed, (
        f"{name} now sleeps {len(found)} time(s), fewer than the {allowed} allowed: lower its "
        "count in ALLOWED (or drop the entry) so that the list stays true."
    )
