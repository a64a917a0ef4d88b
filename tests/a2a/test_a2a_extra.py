"""The `a2a` extra stays optional: without it the package names the install, and
`create_app` serves its agents without their A2A mounts."""

from __future__ import annotations

import subprocess
import sys

WITHOUT_A2A = """
import sys
sys.modules["a2a"] = None  # as if a2a-sdk were not installed
try:
    import miniagents_lc.a2a
except ImportError as error:
    print(error)
from miniagents_lc import miniagent
from miniagents_lc.remote import create_app

@miniagent
async def echo(ctx) -> None:
    ctx.reply("hi")

app = create_app([echo])
print(sorted(getattr(route, "path", "") for route in app.routes))
"""


def test_without_the_extra_the_package_names_the_install_and_remote_still_serves() -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_A2A], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    message, routes = result.stdout.strip().splitlines()
    assert "pip install 'miniagents-lc[a2a]'" in message
    assert "a2a" in message
    assert routes == "['/agents', '/agents/{name}/runs', '/runs/{run_id}/events']"
