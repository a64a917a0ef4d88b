"""The official AG-UI client (`@ag-ui/client`, run with Node) against the demo team served on
real uvicorn: it accepts the whole run (it verifies every event), every event passes
`@ag-ui/core`'s schema, the text it assembles per message is what `.astream()` gives, and the
sub-agent events nest as the calls did."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from miniagents_lc.agui import create_agui_app

from .js import node_script
from .support import TEAM_AUTHORS, TEAM_CALLERS, astream_text, quick_team, serve_in_thread

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

TOKEN = "js-client-token"
QUESTION = "How do agents stream?"


@pytest.fixture(scope="module")
def seen() -> Iterator[dict[str, object]]:
    """What the JS client saw of one run of the demo team."""
    with serve_in_thread(create_agui_app(quick_team(), token=TOKEN)) as url:
        yield node_script("agui/run_client.mjs", f"{url}/team", QUESTION, TOKEN)


def test_every_event_passes_the_official_schema(seen: dict[str, object]) -> None:
    events = seen["events"]
    assert isinstance(events, list)
    assert seen["invalid"] == []
    assert events[0]["type"] == "RUN_STARTED"
    assert events[-1]["type"] == "RUN_FINISHED"


def test_the_text_per_message_is_what_astream_gives(seen: dict[str, object]) -> None:
    messages = seen["messages"]
    assert isinstance(messages, list)
    expected = asyncio.run(astream_text(quick_team(), QUESTION))
    assert "\n\n".join(message["text"] for message in messages) == expected
    # The conversation the client keeps holds the same messages, in the same order.
    kept = seen["kept"]
    assert isinstance(kept, list)
    assert [m["content"] for m in kept[1:]] == [m["text"] for m in messages]


def test_sub_agent_events_nest_as_the_calls_did(seen: dict[str, object]) -> None:
    subagents = seen["subagents"]
    assert isinstance(subagents, list)
    name_of = {call["id"]: call["name"] for call in subagents}
    assert {call["name"]: name_of.get(call["parent"]) for call in subagents} == TEAM_CALLERS
    messages = seen["messages"]
    assert isinstance(messages, list)
    assert [name_of[m["subagentRunId"]] for m in messages] == TEAM_AUTHORS
