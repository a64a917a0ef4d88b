"""Interop: an agent written with a2a-sdk alone inside a miniagents team, and the demo team
served over A2A to a2a-sdk's client and to @a2a-js/sdk's client under Node."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from a2a_agents import words
from a2a_support import (
    STOP_WITHIN,
    artifact_texts,
    loopback_port,
    sdk_client,
    seconds_to_stop,
    served,
    user_message,
)
from langchain_core.messages import AIMessageChunk
from sdk_only_agent import CHUNKS, SDK_STOPPED, Gate, forecast_app

from miniagents_lc import InteractionContext, miniagent
from miniagents_lc.a2a import A2AAgent, A2AAgentError, create_a2a_app
from miniagents_lc.demo.team import Specialist, build_team
from miniagents_lc.langchain import chat_model_agent
from miniagents_lc.testing.chat_models import ScriptedChatModel

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

JS_DIR = Path(__file__).resolve().parents[1] / "js"


@pytest.fixture(scope="module")
def forecast_url() -> Iterator[str]:
    port = loopback_port()
    with served(forecast_app(f"http://127.0.0.1:{port}/"), port=port) as url:
        yield url


async def test_an_sdk_only_agent_streams_in_a_team_next_to_local_agents(forecast_url: str) -> None:
    forecast = await A2AAgent.afrom_url(forecast_url)

    @miniagent
    async def trip(ctx: InteractionContext) -> None:
        ctx.reply("Packing list:")
        ctx.reply([forecast.trigger(ctx.message_promises), words.trigger(ctx.message_promises)])

    chunks = [chunk.text async for chunk in trip.astream("slow")]
    assert "".join(chunks) == f"Packing list:\n\n{''.join(CHUNKS)}\n\nslow done."
    assert chunks.count("sunny ") == 1  # the artifact came chunk by chunk
    assert forecast.alias == "forecast"


async def test_an_sdk_only_agent_that_fails_ends_the_reply_with_its_state(
    forecast_url: str,
) -> None:
    forecast = A2AAgent(forecast_url, alias="forecast")
    seen: list[str] = []
    with pytest.raises(A2AAgentError, match=r"'forecast' ended its task as failed: no satellite"):
        await _read(forecast.astream("fail please"), seen)
    assert "".join(seen) == "Forecast: sunny "


async def _read(chunks: object, seen: list[str]) -> None:
    async for chunk in chunks:  # type: ignore[attr-defined]
        assert isinstance(chunk, AIMessageChunk)
        seen.append(chunk.text)


async def test_an_sdk_only_agent_is_cancelled_when_the_consumer_stops(forecast_url: str) -> None:
    question = "slow, then stop"
    stopped = SDK_STOPPED[question] = Gate()
    forecast = A2AAgent(forecast_url, alias="forecast")
    assert await seconds_to_stop(forecast, question, "Forecast: ", stopped) < STOP_WITHIN


def _fast_team() -> object:
    def model_agent(specialist: Specialist) -> object:
        model = ScriptedChatModel(
            reply=specialist.scripted_reply, first_token_delay=0.0, token_delay=0.0005
        )
        return chat_model_agent(model, alias=f"{specialist.alias}-model")

    return build_team(model_agent)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    with served(create_a2a_app(_fast_team())) as url:  # type: ignore[arg-type]
        yield url


async def expected_demo_text(question: str) -> str:
    team = _fast_team()
    return "".join([chunk.text async for chunk in team.astream(question)])  # type: ignore[attr-defined]


async def test_the_demo_team_streams_to_a2a_sdks_client(demo_url: str) -> None:
    async with sdk_client(demo_url) as client:
        responses = [r async for r in client.send_message(user_message("Why stream?"))]
    texts = artifact_texts(responses)
    assert "\n\n".join(texts.values()) == await expected_demo_text("Why stream?")
    assert next(iter(texts.values())) == "[researcher]"


async def test_the_demo_team_streams_to_the_javascript_sdks_client(demo_url: str) -> None:
    node = shutil.which("node")
    assert node is not None, "Node.js is not on PATH: install Node 20+ (.ci/run does)."
    if not (JS_DIR / "node_modules" / "@a2a-js" / "sdk").is_dir():
        pytest.fail("The JS clients are not installed: run `npm ci --prefix tests/js`.")
    process = await asyncio.create_subprocess_exec(
        node,
        str(JS_DIR / "a2a" / "stream_agent.mjs"),
        demo_url,
        "Why stream?",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    result = json.loads(out)
    texts = [artifact["text"] for artifact in result["artifacts"]]
    assert "\n\n".join(texts) == await expected_demo_text("Why stream?")
    assert result["chunks"] > len(texts)  # streamed, not sent whole
    assert result["states"][0] == "TASK_STATE_WORKING"
    assert result["states"][-1] == "TASK_STATE_COMPLETED"
