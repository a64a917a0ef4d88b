"""The `/ui` live view in a real headless Chromium (the system's, driven by playwright-core),
served by `miniagents_lc.remote.create_app` on uvicorn: the page loads with nothing fetched
from another host, a question grows the call tree with every agent's name and its streamed
text, and the reply it shows is what `.astream()` gives."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from miniagents_lc.remote import create_app

from .js import node_script
from .support import astream_text, quick_team, serve_in_thread

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
QUESTION = "What does the view show?"


def _require_chromium() -> None:
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return
    required = os.environ.get("MINIAGENTS_LC_REQUIRE", "").split(",")
    reason = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if "chromium" in (name.strip() for name in required):
        pytest.fail(f"{reason}, and MINIAGENTS_LC_REQUIRE names chromium")
    print(f"skipped: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def shown(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What the page showed for one question to the demo team."""
    _require_chromium()
    profile = tmp_path_factory.mktemp("chromium-profile")
    with serve_in_thread(create_app([quick_team()])) as url:
        seen = node_script("agui/ui_check.mjs", url, QUESTION, str(profile), timeout=90)
    seen["base"] = url
    return seen


def test_the_page_fetches_nothing_from_another_host(shown: dict[str, Any]) -> None:
    assert shown["pageErrors"] == []
    requests = shown["requests"]
    assert f"{shown['base']}/ui" in requests
    assert [url for url in requests if not url.startswith(f"{shown['base']}/")] == []


def test_the_tree_shows_every_call_with_its_streamed_text(shown: dict[str, Any]) -> None:
    calls = shown["calls"]
    assert [(call["name"], call["depth"]) for call in calls] == [
        ("team", 0),
        ("researcher", 1),
        ("researcher-model", 2),
        ("skeptic", 1),
        ("skeptic-model", 2),
        ("planner", 1),
        ("planner-model", 2),
        ("estimator", 2),
        ("estimator-model", 3),
    ]
    assert {call["status"] for call in calls} == {"done"}
    said: dict[str, list[str]] = defaultdict(list)
    for author, text in zip(shown["authors"], shown["reply"], strict=True):
        said[author].append(text)
    for call in calls[1:]:
        assert call["text"] == "\n\n".join(said[call["name"]]), call["name"]
        assert call["text"]
        assert call["tokens"].split()[0] != "0"


def test_the_reply_shown_is_what_astream_gives(shown: dict[str, Any]) -> None:
    assert shown["status"] == "finished"
    expected = asyncio.run(astream_text(quick_team(), QUESTION))
    assert "\n\n".join(shown["reply"]) == expected
