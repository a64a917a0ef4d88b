"""Specification of the provider-neutral kit `miniagents_lc.testing`, over both HTTP stacks.

The SDKs sit on httpx2 (openai 3.x, anthropic 2.x) or httpx (older releases, legacy clients);
these tests drive bare clients of both, so what holds here holds under any SDK built on them.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import httpx
import httpx2
import pytest

from miniagents_lc import testing
from miniagents_lc.testing import (
    APIMock,
    ConnectionReset,
    ErrorEvent,
    MalformedLine,
    PlacedFault,
    Stall,
    Truncate,
    UnscriptedRequestError,
)
from miniagents_lc.testing.pytest_support import CALL_FAILED, serve_for_test

BASE_URL = "https://api.example.test/v1"
EVENTS = [b"data: one\n\n", b"data: two\n\n", b"data: three\n\n"]
STACKS = {"httpcore": httpx, "httpcore2": httpx2}


@pytest.fixture(params=sorted(STACKS))
def stack(request: pytest.FixtureRequest) -> str:
    """The transport stack under test, named as `RecordedRequest.stack` names it."""
    return str(request.param)


@pytest.fixture
def http(stack: str) -> ModuleType:
    """The HTTP client library of `stack`: httpx or httpx2."""
    return STACKS[stack]


@pytest.fixture
def mock() -> Any:
    with APIMock(BASE_URL) as active:
        yield active


async def read_events(
    http: ModuleType, into: list[tuple[bytes, float]] | None = None, read_timeout: float = 5.0
) -> list[tuple[bytes, float]]:
    """POST to the mock's /stream and collect each body read with its arrival time `into` a
    list (kept when the read fails), which is returned."""
    reads = [] if into is None else into
    async with (
        http.AsyncClient(timeout=read_timeout) as client,
        client.stream("POST", f"{BASE_URL}/stream", json={"model": "m"}) as response,
    ):
        async for piece in response.aiter_raw():
            reads.append((piece, time.monotonic()))
    return reads


async def test_an_sse_body_is_served_one_event_per_read_after_each_delay(
    http: ModuleType, stack: str, mock: APIMock
) -> None:
    reply = mock.sse("/stream", EVENTS, delay=[0.0, 0.15, 0.15])

    reads = await read_events(http)

    assert [piece for piece, _ in reads] == EVENTS
    assert reads[1][1] - reads[0][1] >= 0.12
    assert reads[2][1] - reads[1][1] >= 0.12
    assert reply.request is not None
    assert reply.request.stack == stack


async def test_a_request_is_recorded_with_its_body_and_the_times_of_its_reply(
    http: ModuleType, mock: APIMock
) -> None:
    reply = mock.sse("/stream", EVENTS, delay=0.05)

    before = time.monotonic()
    reads = await read_events(http)

    record = reply.request
    assert record is not None
    assert record.json == {"model": "m"}
    assert (record.method, record.path, record.outcome) == ("POST", "/v1/stream", "complete")
    assert record.first_byte_at is not None
    assert record.finished_at is not None
    assert before <= record.started_at < record.first_byte_at <= reads[0][1]
    assert record.finished_at - record.first_byte_at >= 0.08  # two more delays after the first
    assert mock.calls("/stream") == [record]


@pytest.mark.parametrize(
    ("fault", "error_name"),
    [
        (Stall(after=1), "ReadTimeout"),
        (ConnectionReset(after=1), "ReadError"),
        (ConnectionReset(after=1, kind="remote_protocol_error"), "RemoteProtocolError"),
    ],
)
async def test_transport_faults_raise_the_stacks_own_errors_after_the_earlier_events(
    fault: PlacedFault, error_name: str, http: ModuleType, mock: APIMock
) -> None:
    reply = mock.sse("/stream", EVENTS, fault=fault)
    reads: list[tuple[bytes, float]] = []

    with pytest.raises(getattr(http, error_name)):
        await read_events(http, reads, read_timeout=0.2)

    assert [piece for piece, _ in reads] == EVENTS[:1]
    assert reply.request is not None
    assert reply.request.outcome == "fault"


@pytest.mark.parametrize(
    ("fault", "served"),
    [
        (Truncate(after=2), EVENTS[:2]),
        (MalformedLine(after=1, line=b"data: {\n\n"), [EVENTS[0], b"data: {\n\n"]),
        (ErrorEvent(after=2, message="overloaded"), [*EVENTS[:2], b"error: overloaded\n\n"]),
    ],
)
async def test_body_faults_end_the_stream_with_what_they_send(
    fault: PlacedFault, served: list[bytes], http: ModuleType
) -> None:
    def encode_event(event: PlacedFault, after: int) -> bytes:
        assert isinstance(event, ErrorEvent)
        return f"error: {event.message}\n\n".encode()

    async with APIMock(BASE_URL, encode_event=encode_event) as mock:
        mock.sse("/stream", EVENTS, fault=fault)
        reads = await read_events(http)

    assert [piece for piece, _ in reads] == served


def test_an_error_event_without_a_provider_encoding_fails_where_it_is_scripted(
    mock: APIMock,
) -> None:
    with pytest.raises(ValueError, match="ErrorEvent needs a provider's reply builder"):
        mock.sse("/stream", EVENTS, fault=ErrorEvent(after=1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fault": Truncate(after=4)}, "fault after 4 events, but the reply has only 3"),
        ({"delay": [0.1, 0.1]}, "got 2 delays for 3 payload events"),
    ],
)
def test_script_mistakes_fail_where_they_are_scripted(
    kwargs: dict[str, Any], message: str, mock: APIMock
) -> None:
    with pytest.raises(ValueError, match=message):
        mock.sse("/stream", EVENTS, **kwargs)


async def test_an_http_status_reply_carries_its_json_body_and_headers(
    http: ModuleType, mock: APIMock
) -> None:
    mock.json_reply("/stream", {"error": {"type": "overloaded_error"}}, status=529)

    async with http.AsyncClient() as client:
        response = await client.post(f"{BASE_URL}/stream", headers={"retry-after": "1"})

    assert response.status_code == 529
    assert response.json() == {"error": {"type": "overloaded_error"}}
    assert response.headers["content-type"] == "application/json"


async def test_replies_queue_per_path_and_are_consumed_in_order(
    http: ModuleType, mock: APIMock
) -> None:
    mock.json_reply("/a", {"n": 1})
    mock.json_reply("/b", {"n": 2})
    mock.json_reply("/a", {"n": 3})

    async with http.AsyncClient() as client:
        got = [(await client.post(f"{BASE_URL}/{path}")).json()["n"] for path in "aab"]

    assert got == [1, 3, 2]
    assert [r.path for r in mock.requests] == ["/v1/a", "/v1/a", "/v1/b"]


async def test_an_unscripted_request_fails_at_the_call_and_again_on_exit(http: ModuleType) -> None:
    mock = APIMock(BASE_URL).start()
    async with http.AsyncClient() as client:
        with pytest.raises(UnscriptedRequestError, match="APIMock has no reply for POST"):
            await client.post(f"{BASE_URL}/nothing")

    with pytest.raises(UnscriptedRequestError, match="unscripted requests reached the APIMock"):
        mock.stop()


def test_a_reply_never_requested_fails_the_exit() -> None:
    never_requested = r"never requested: POST /stream \(200\)"
    with pytest.raises(AssertionError, match=never_requested), APIMock(BASE_URL) as mock:
        mock.sse("/stream", EVENTS)


def test_the_sync_clients_read_the_same_scripts(http: ModuleType, mock: APIMock) -> None:
    mock.sse("/stream", EVENTS, delay=0.01)
    mock.sse("/stream", EVENTS, fault=Stall(after=2))

    with http.Client(timeout=0.2) as client:
        with client.stream("POST", f"{BASE_URL}/stream") as response:
            whole = list(response.iter_raw())
        with pytest.raises(http.ReadTimeout), client.stream("POST", f"{BASE_URL}/stream") as cut:
            list(cut.iter_raw())

    assert whole == EVENTS


@pytest.mark.parametrize(("call_failed", "raises"), [(False, True), (True, False)])
def test_a_fixture_verifies_its_mock_only_after_a_passing_test(
    call_failed: bool, raises: bool
) -> None:
    request: Any = SimpleNamespace(node=SimpleNamespace(stash={CALL_FAILED: call_failed}))
    serving = serve_for_test(request, APIMock(BASE_URL))
    next(serving).sse("/stream", EVENTS)  # scripted, never requested

    if raises:
        with pytest.raises(AssertionError, match="never requested"):
            next(serving, None)
    else:
        assert next(serving, None) is None


def test_importing_the_transports_twice_reuses_the_registered_mockers() -> None:
    # A second copy of the module (as a stray sys.path entry would give) must not redefine the
    # mockers: respx rejects a second mocker class under a registered name.
    source = Path(testing.__file__).with_name("_transports.py")
    spec = importlib.util.spec_from_file_location("second_copy_of_transports", source)
    assert spec is not None
    assert spec.loader is not None
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)

    assert copy.HTTPCore2Mocker is testing.HTTPCore2Mocker
    assert copy.AnyStackMocker is testing.AnyStackMocker


def test_every_public_name_of_the_kit_resolves() -> None:
    missing = [name for name in testing.__all__ if getattr(testing, name, None) is None]

    assert missing == []
    assert set(testing.__all__) <= set(dir(testing))
