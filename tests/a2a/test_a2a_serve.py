"""`create_a2a_app` seen by a2a-sdk's own client: the card, streaming, tasks, errors."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from a2a.client import A2AClientError
from a2a.types import (
    CancelTaskRequest,
    GetTaskRequest,
    InvalidParamsError,
    StreamResponse,
    SubscribeToTaskRequest,
    TaskNotFoundError,
    TaskState,
)
from a2a_agents import GATES, STOPPED, Gate, gated, team, words
from a2a_support import (
    STOP_WITHIN,
    TOKEN,
    artifact_texts,
    sdk_client,
    served,
    user_message,
)
from google.protobuf.json_format import MessageToDict
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from miniagents_lc.a2a import create_a2a_app
from miniagents_lc.remote import create_app

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


async def test_the_card_names_the_agent_its_skill_and_streaming(agents_url: str) -> None:
    async with httpx.AsyncClient() as http:
        card = (await http.get(f"{agents_url}/words/.well-known/agent-card.json")).json()
    assert card["name"] == "words"
    assert card["description"] == words.description
    assert card["capabilities"]["streaming"] is True
    assert [skill["id"] for skill in card["skills"]] == ["words"]
    assert card["supportedInterfaces"][0]["url"] == f"{agents_url}/words/"


async def test_a_token_protected_card_declares_the_bearer_scheme(guarded_url: str) -> None:
    async with httpx.AsyncClient() as http:
        card = (await http.get(f"{guarded_url}/.well-known/agent-card.json")).json()
    assert card["securitySchemes"]["bearer"]["httpAuthSecurityScheme"]["scheme"] == "Bearer"


async def stream(url: str, text: str) -> list[StreamResponse]:
    async with sdk_client(url) as client:
        return [response async for response in client.send_message(user_message(text))]


async def test_artifact_chunks_assemble_into_the_text_astream_gives(agents_url: str) -> None:
    responses = await stream(f"{agents_url}/team", "go")
    expected = "".join([chunk.text async for chunk in team.astream("go")])
    assert "\n\n".join(artifact_texts(responses).values()) == expected
    assert responses[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED


async def test_one_artifact_per_reply_message_in_reply_order_across_parallel_agents(
    agents_url: str,
) -> None:
    responses = await stream(f"{agents_url}/team", "go")
    firsts = [r.artifact_update for r in responses if r.HasField("artifact_update")]
    opened = [update.artifact for update in firsts if not update.append]
    assert [artifact.name for artifact in opened] == ["team", "slow", "quick"]
    assert [MessageToDict(a.metadata)["index"] for a in opened] == [0, 1, 2]
    ends = [u.artifact.artifact_id for u in firsts if u.last_chunk]
    # quick works while slow does: its text is complete before slow's, placed after it.
    assert ends.index(opened[2].artifact_id) < ends.index(opened[1].artifact_id)
    assert list(artifact_texts(responses).values()) == ["team here", "slow and steady", "quick one"]


async def test_sub_agent_calls_show_as_working_status_messages(agents_url: str) -> None:
    responses = await stream(f"{agents_url}/team", "go")
    notes = [
        MessageToDict(r.status_update.status.message.metadata)["miniagents"]
        for r in responses
        if r.HasField("status_update") and r.status_update.status.message.parts
    ]
    assert {(note["alias"], note["status"]) for note in notes} >= {
        ("slow", "started"),
        ("slow", "completed"),
        ("quick", "started"),
        ("quick", "completed"),
    }


async def test_the_first_chunk_arrives_before_the_agent_produces_its_last_token(
    agents_url: str,
) -> None:
    key = uuid.uuid4().hex
    gate = GATES[key] = Gate()
    texts: list[str] = []
    async with sdk_client(f"{agents_url}/gated") as client:
        async for response in client.send_message(user_message(key)):
            if response.HasField("artifact_update"):
                texts.append(response.artifact_update.artifact.parts[0].text)
                if texts[-1] == "first ":
                    # The agent is waiting at the gate: "last" cannot have been produced yet.
                    assert not gate.is_open
                    gate.open()
    assert "".join(texts) == "first last"


async def test_send_message_blocks_until_the_task_is_done_with_its_artifacts(
    agents_url: str,
) -> None:
    async with sdk_client(f"{agents_url}/words") as client:
        client._config.streaming = False  # SendMessage, not SendStreamingMessage
        [response] = [r async for r in client.send_message(user_message("a b"))]
        assert response.task.status.state == TaskState.TASK_STATE_COMPLETED
        answer = response.task.artifacts
        assert ["".join(part.text for part in artifact.parts) for artifact in answer] == [
            "a b done."
        ]
        task = await client.get_task(GetTaskRequest(id=response.task.id))
    texts = ["".join(part.text for part in artifact.parts) for artifact in task.artifacts]
    assert texts == ["a b done."]


async def test_cancel_task_stops_the_agent_and_runs_its_finally(
    agents_url: str,
) -> None:
    key = uuid.uuid4().hex
    stopped = STOPPED[key] = Gate()
    async with sdk_client(f"{agents_url}/gated") as client:
        events = client.send_message(user_message(key))
        task_id = ""
        async for response in events:
            if response.HasField("artifact_update"):
                task_id = response.artifact_update.task_id
                break
        await events.aclose()
        asked = time.monotonic()
        task = await client.cancel_task(CancelTaskRequest(id=task_id))
        assert stopped.at is not None
        print(f"\nthe agent stopped {(stopped.at - asked) * 1000:.1f} ms after CancelTask")
        assert stopped.at - asked < STOP_WITHIN
        assert task.status.state == TaskState.TASK_STATE_CANCELED
        stored = await client.get_task(GetTaskRequest(id=task_id))
    assert stored.status.state == TaskState.TASK_STATE_CANCELED
    assert "".join(part.text for part in stored.artifacts[0].parts) == "first "


async def test_a_second_client_joins_a_running_task_told_what_it_missed(
    agents_url: str,
) -> None:
    key = uuid.uuid4().hex
    gate = GATES[key] = Gate()
    async with (
        sdk_client(f"{agents_url}/gated") as first,
        sdk_client(f"{agents_url}/gated") as second,
    ):
        events = first.send_message(user_message(key))
        async for response in events:
            if (
                response.HasField("artifact_update")
                and response.artifact_update.artifact.parts[0].text
            ):
                task_id = response.artifact_update.task_id
                break
        joined = second.subscribe(SubscribeToTaskRequest(id=task_id))
        snapshot = (await anext(joined)).task  # what it missed: the task so far
        assert "".join(part.text for part in snapshot.artifacts[0].parts) == "first "
        gate.open()
        rest = [response async for response in joined]
        await events.aclose()
    chunks = [
        r.artifact_update.artifact.parts[0].text for r in rest if r.HasField("artifact_update")
    ]
    # The message's end comes with its last text or in an empty last chunk after it.
    assert "".join(chunks) == "last"
    assert chunks[0] == "last"
    assert rest[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED


async def test_a_failing_agent_fails_the_task_after_its_partial_text(agents_url: str) -> None:
    responses = await stream(f"{agents_url}/failing", "go")
    assert list(artifact_texts(responses).values()) == ["partial text "]
    status = responses[-1].status_update.status
    assert status.state == TaskState.TASK_STATE_FAILED
    assert status.message.parts[0].text == "Boom: the tool broke"


async def test_an_unknown_task_is_the_protocols_task_not_found(agents_url: str) -> None:
    async with sdk_client(f"{agents_url}/words") as client:
        with pytest.raises(TaskNotFoundError):
            await client.get_task(GetTaskRequest(id="no-such-task"))


async def test_a_message_without_text_is_refused_with_invalid_params(agents_url: str) -> None:
    request = user_message("x")
    del request.message.parts[:]
    async with sdk_client(f"{agents_url}/words") as client:
        with pytest.raises(InvalidParamsError, match="no text part"):
            _ = [r async for r in client.send_message(request)]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", -32700),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "NoSuchMethod", "params": {}}', -32601),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": 5, "x": []}}', -32602),
        (b'{"jsonrpc": "1.0", "id": 1, "method": "GetTask", "params": {}}', -32600),
    ],
    ids=["not-json", "unknown-method", "bad-params", "not-json-rpc-2"],
)
async def test_a_malformed_request_gets_the_protocols_error_code(
    agents_url: str, body: bytes, code: int
) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{agents_url}/words/",
            content=body,
            headers={"Content-Type": "application/json", "A2A-Version": "1.0"},
        )
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]


async def test_a_wrong_token_is_refused_with_401(guarded_url: str) -> None:
    async with sdk_client(guarded_url, token="wrong") as client:
        with pytest.raises(A2AClientError, match="401"):
            await client.get_task(GetTaskRequest(id="t"))
    async with sdk_client(guarded_url, token=TOKEN) as client:
        with pytest.raises(TaskNotFoundError):
            await client.get_task(GetTaskRequest(id="t"))


async def test_create_a2a_app_refuses_what_it_cannot_serve() -> None:
    with pytest.raises(TypeError, match="MiniAgent"):
        create_a2a_app(print)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty token"):
        create_a2a_app(words, token="")


def _alone() -> tuple[ASGIApp, str]:
    return create_a2a_app(gated), ""


def _in_create_app() -> tuple[ASGIApp, str]:
    return create_app([gated]), "/a2a/gated"


def _mounted_as_the_docs_say() -> tuple[ASGIApp, str]:
    a2a_app = create_a2a_app(gated)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with a2a_app.router.lifespan_context(a2a_app):
            yield

    return Starlette(routes=[Mount("/gated", a2a_app)], lifespan=lifespan), "/gated"


def _noting_shutdown(app: ASGIApp, note: Callable[[], None]) -> ASGIApp:
    """`app`, calling `note()` as it reports its lifespan's shutdown complete."""

    async def noted(scope: Scope, receive: Receive, send: Send) -> None:
        async def sending(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                note()
            await send(message)

        await app(scope, receive, sending if scope["type"] == "lifespan" else send)

    return noted


@pytest.mark.parametrize("serve", [_alone, _in_create_app, _mounted_as_the_docs_say])
async def test_a_shutdown_stops_the_a2a_tasks_still_running_before_it_completes(
    serve: Callable[[], tuple[ASGIApp, str]],
) -> None:
    key = uuid.uuid4().hex
    stopped = STOPPED[key] = Gate()
    stopped_at_shutdown: list[bool] = []
    app, path = serve()
    with served(_noting_shutdown(app, lambda: stopped_at_shutdown.append(stopped.is_open))) as url:
        async with sdk_client(f"{url}{path}") as client:
            events = client.send_message(user_message(key))
            async for response in events:
                if response.HasField("artifact_update"):
                    break  # the agent now waits at its gate, which never opens
            await events.aclose()
            task = await client.get_task(GetTaskRequest(id=response.artifact_update.task_id))
            assert task.status.state == TaskState.TASK_STATE_WORKING
    # Stopped by the app's own shutdown, not later by the event loop's teardown.
    assert stopped_at_shutdown == [True]
