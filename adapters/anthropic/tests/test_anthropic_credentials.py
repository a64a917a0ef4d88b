"""AnthropicAgent's credentials: a missing key is named to the reader, and the key it sends
never shows. (Its default client per event loop is specified with the other adapters', in
tests/adapters/test_default_clients.py.)"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import anthropic
import pytest
from miniagents_lc import MiniAgents

from miniagents_lc_anthropic import AnthropicAgent
from miniagents_lc_anthropic.testing import AnthropicMock

MODEL = "claude-sonnet-4-5"
KEY = "sk-ant-api03-never-shown-0123456789"


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An environment where the SDK finds no credential: no key, token, federation or profile
    (the profiles on disk live under the home directory, here an empty one)."""
    for name in [name for name in os.environ if name.startswith("ANTHROPIC_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))


async def test_a_missing_key_is_named_to_the_reader_before_any_request(
    no_credentials: None, anthropic_mock: AnthropicMock
) -> None:
    agent = AnthropicAgent.fork(model=MODEL)
    async with MiniAgents():
        reply = agent.trigger("Hi")  # no error yet
        with pytest.raises(RuntimeError, match="ANTHROPIC_API_KEY") as raised:
            await reply.acollect_messages()

    assert "client=anthropic.AsyncAnthropic(api_key=...)" in str(raised.value)
    assert anthropic_mock.requests == []


async def test_the_key_never_appears_in_reprs_logs_or_errors(
    anthropic_mock: AnthropicMock, caplog: pytest.LogCaptureFixture
) -> None:
    anthropic_mock.messages(status=401)
    agent = AnthropicAgent.fork(model=MODEL, client=anthropic_mock.async_client(api_key=KEY))
    caplog.set_level(logging.DEBUG)

    async with MiniAgents():
        reply = agent.trigger("Hi")
        with pytest.raises(anthropic.AuthenticationError) as raised:
            await reply.acollect_messages()

    assert anthropic_mock.requests[0].headers["authorization"] == f"Bearer {KEY}"  # it was sent
    shown = [repr(agent), str(agent), repr(reply), str(raised.value), repr(raised.value)]
    shown += [caplog.text, repr(raised.value.body)]
    assert [text for text in shown if KEY in text] == []
