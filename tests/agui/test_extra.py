"""The `agui` extra stays optional: without it the AG-UI package says how to install it, and
the remote app still serves (without `/agui` and `/ui`); with a token, the mounted AG-UI
endpoints ask for it too."""

from __future__ import annotations

import subprocess
import sys

import httpx

from miniagents_lc.remote import create_app

from .support import greeter, parse_sse_text, run_input


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_without_the_extra_the_agui_package_names_the_install_and_remote_still_serves() -> None:
    result = run_python(
        "import sys\nsys.modules['ag_ui'] = None\n"
        "from miniagents_lc.remote import create_app\n"
        "from miniagents_lc import miniagent\n"
        "@miniagent\nasync def a(ctx): pass\n"
        "paths = [route.path for route in create_app([a]).routes]\n"
        "print('/agui/{name}' in paths, '/agents' in paths)\n"
        "import miniagents_lc.agui"
    )
    assert result.stdout.strip() == "False True"
    assert result.returncode != 0
    assert "pip install 'miniagents-lc[agui]'" in result.stderr


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
