"""The `a2a` extra stays optional: without it the package names the install, and
`create_app` serves its agents without their A2A mounts."""

from __future__ import annotations

import importlib
import sys

import pytest

from miniagents_lc import InteractionContext, miniagent
from miniagents_lc.remote import create_app


@pytest.fixture
def without_a2a_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if a2a-sdk were not installed (sys.modules is restored afterwards)."""
    monkeypatch.setitem(sys.modules, "a2a", None)
    for name in [name for name in sys.modules if name.startswith("miniagents_lc.a2a")]:
        monkeypatch.delitem(sys.modules, name)


@pytest.mark.usefixtures("without_a2a_sdk")
def test_without_the_extra_the_package_names_the_install() -> None:
    with pytest.raises(ImportError, match=r'pip install -e "\.\[a2a\]"'):
        importlib.import_module("miniagents_lc.a2a")


@pytest.mark.usefixtures("without_a2a_sdk")
def test_without_the_extra_create_app_serves_without_a2a_mounts() -> None:
    @miniagent
    async def echo(ctx: InteractionContext) -> None:
        ctx.reply("hi")

    paths = sorted(getattr(route, "path", "") for route in create_app([echo]).routes)
    assert {"/agents", "/agents/{name}/runs", "/runs/{run_id}/events"} <= set(paths)
    assert not [path for path in paths if path.startswith("/a2a")]
