"""examples/a2a_agents.py runs offline on loopback and shows what it says."""

from __future__ import annotations

import ast

from tests.example_runs import timed_events


def test_the_example_mixes_an_sdk_only_agent_with_a_local_one() -> None:
    events = [event for _, event in timed_events("a2a_agents.py")]
    start = events.index("team, streamed through LangChain's astream():")
    assert events[start + 1 : start + 4] == [
        "  'Tokens in the stream\\n'",
        "  'each agent writes as it thinks\\n'",
        "  'the reader keeps up'",
    ]
    served = events[events.index("the team served over A2A, read by a2a-sdk's client:") :]
    assert "  status TASK_STATE_WORKING poet started" in served
    # Each artifact's chunks, joined; a message's end may come with its last text or in an
    # empty last chunk after it, as the stream's timing has it.
    chunks = [event for event in served if event.startswith("  artifact")]
    texts: dict[str, str] = {}
    for event in chunks:
        head, text = event.split(": ", 1)
        artifact_id = head.split()[1]
        texts[artifact_id] = texts.get(artifact_id, "") + ast.literal_eval(text)
    assert [text.splitlines()[-1] for text in texts.values()] == [
        "the reader keeps up",
        "Short, and it streams. ",
    ]
    assert sum("last=True" in event for event in chunks) == len(texts)
    assert served[-1] == "  status TASK_STATE_COMPLETED"
