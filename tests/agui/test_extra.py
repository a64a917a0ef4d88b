"""The `agui` extra stays optional: without it the AG-UI package says how to install it, and
the remote app still serves (without `/agui` and `/ui`); with a token, the mounted AG-UI
endpoints ask for it too. (Each module runs again as a copy with the extra hidden, in this
process.)"""

from __future__ import annotations

import importlib.util
import re
import sys
from types import ModuleType

import httpx
import pytest

import miniagents_lc.agui
import miniagents_lc.remote.server
from miniagents_lc.remote import create_app

from .support import greeter, parse_sse_text, run_input


def fresh_copy(module: ModuleType, name: str) -> ModuleType:
    """`module`'s source run again as a module of its own (the original is left alone)."""
    assert module.__file__ is not None
    spec = importlib.util.spec_from_file_location(name, module.__file__)
    assert spec is not None
    assert spec.loader is not None
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    return copy


def test_without_the_extra_the_agui_package_names_the_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "ag_ui.core", None)
    with pytest.raises(ImportError, match=re.escape('pip install -e ".[agui]"')):
        fresh_copy(miniagents_lc.agui, "agui_without_the_extra")


def test_without_the_extra_the_remote_app_still_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "miniagents_lc.agui", None)
    server = fresh_copy(miniagents_lc.remote.server, "remote_server_without_agui")
    paths = [getattr(route, "path", None) for route in server.create_app([greeter]).routes]
    assert "/agents" in paths
    assert "/agui/{name}" not in paths
    assert "/ui" not in paths


async def test_create_app_mounts_agui_behind_the_same_token() -> None:
    transport = httpx.ASGITransport(app=create_app([greeter], token="t0ken"))
    async with httpx.AsyncClient(transport=transport, base_url="http://remote") as client:
        refused = await client.post("/agui/greeter", json=run_input("Al"))
        answered = await client.post(
            "/agui/greeter", json=run_input("Al"), headers={"Authorization": "Bearer t0ken"}
        )
        page = await client.get("/ui")
    assert refused.status_code == 401
    events = parse_sse_text(answered.text)
    assert [getattr(e, "delta", None) for e in events if e.type == "TEXT_MESSAGE_CONTENT"] == [
        "hello: Al"
    ]
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<script" in page.text
    assert "http://" not in page.text
    assert "https://" not in page.text
