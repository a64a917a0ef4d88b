"""SSE framing and the compiling of reply plans into body steps (no HTTP involved)."""

from __future__ import annotations

import pytest

from miniagents_lc.testing import (
    ConnectionReset,
    ErrorEvent,
    Fail,
    Hang,
    MalformedLine,
    Pause,
    PlacedFault,
    Stall,
    Step,
    StreamPlan,
    Truncate,
    compile_stream,
    delays_for,
    encode_sse,
    split_sse,
)

PLAN = StreamPlan(head=(b"H\n\n",), payload=(b"1\n\n", b"2\n\n", b"3\n\n"), tail=(b"T\n\n",))


def test_an_event_is_compact_utf8_json_after_its_optional_event_line() -> None:
    assert encode_sse({"text": "café ☕", "n": [1, 2]}, event="delta") == (
        'event: delta\ndata: {"text":"café ☕","n":[1,2]}\n\n'.encode()
    )
    assert encode_sse("[DONE]") == b"data: [DONE]\n\n"


def test_splitting_a_body_keeps_each_separator_and_a_cut_last_event() -> None:
    body = b"data: a\n\nevent: e\ndata: b\n\ndata: c"

    assert split_sse(body) == [b"data: a\n\n", b"event: e\ndata: b\n\n", b"data: c"]
    assert b"".join(split_sse(body)) == body


def test_a_plan_without_fault_pauses_before_each_payload_event_then_ends_with_its_tail() -> None:
    steps = compile_stream(PLAN, [0.0, 0.2, 0.3], None)

    assert steps == [b"H\n\n", b"1\n\n", Pause(0.2), b"2\n\n", Pause(0.3), b"3\n\n", b"T\n\n"]


@pytest.mark.parametrize(
    ("fault", "last"),
    [
        (Truncate(after=2), []),
        (Stall(after=2, seconds=1.5), [Hang(1.5)]),
        (ConnectionReset(after=2), [Fail("read_error")]),
        (MalformedLine(after=2, line=b"data: {\n\n"), [b"data: {\n\n"]),
        (ErrorEvent(after=2, message="boom"), [b"encoded boom after 2"]),
    ],
)
def test_a_fault_replaces_the_rest_of_the_reply_after_its_payload_events(
    fault: PlacedFault, last: list[Step]
) -> None:
    def encode_event(event: PlacedFault, after: int) -> bytes:
        assert isinstance(event, ErrorEvent)
        return f"encoded {event.message} after {after}".encode()

    steps = compile_stream(PLAN, [0.0] * 3, fault, encode_event)

    assert steps == [b"H\n\n", b"1\n\n", b"2\n\n", *last]


def test_a_fault_may_strike_before_any_payload_or_after_all_of_it() -> None:
    assert compile_stream(PLAN, [0.0] * 3, Truncate(after=0)) == [b"H\n\n"]
    assert compile_stream(PLAN, [0.0] * 3, Truncate(after=3)) == list(PLAN.events()[:-1])


def test_one_delay_applies_to_every_event_and_a_list_needs_one_per_event() -> None:
    assert delays_for(0.5, 3) == [0.5, 0.5, 0.5]
    assert delays_for([0, 1, 2], 3) == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="got 2 delays for 3 payload events"):
        delays_for([0.1, 0.2], 3)
