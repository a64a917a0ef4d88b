"""Requirements CI installs beyond the README's command, read from the pyprojects so they never
drift from the pins: one per line on stdout.

    python .ci/requirements.py newest-sdks        the provider SDKs as the adapters pin them
    python .ci/requirements.py oldest NAME        NAME==<lowest version its adapter's pin allows>
    python .ci/requirements.py pytest-plugins     the dev extra's pytest and pytest plugins
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _project(pyproject: Path) -> dict[str, object]:
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    assert isinstance(data, dict)
    return data


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0]


def provider_sdks() -> list[str]:
    """The adapters' dependencies that are not a project of this repository."""
    ours = {str(_project(ROOT / "pyproject.toml")["name"])}
    adapters = sorted(ROOT.glob("adapters/*/pyproject.toml"))
    ours |= {str(_project(pyproject)["name"]) for pyproject in adapters}
    found = []
    for pyproject in adapters:
        dependencies = _project(pyproject).get("dependencies", [])
        assert isinstance(dependencies, list)
        found += [str(req) for req in dependencies if _name(str(req)) not in ours]
    return found


def oldest(name: str) -> str:
    """`name` pinned to the lower bound (`>=X`) of its adapter's requirement."""
    for requirement in provider_sdks():
        if _name(requirement) == name:
            lower = re.search(r">=\s*([\w.]+)", requirement)
            if lower is None:
                raise SystemExit(f"{requirement!r} has no lower bound (>=) to test")
            return f"{name}=={lower[1]}"
    raise SystemExit(f"no adapter depends on {name!r}: {provider_sdks()}")


def pytest_plugins() -> list[str]:
    extras = _project(ROOT / "pyproject.toml")["optional-dependencies"]
    assert isinstance(extras, dict)
    return [str(req) for req in extras["dev"] if _name(str(req)).startswith("pytest")]


def main(argv: list[str]) -> None:
    match argv:
        case ["newest-sdks"]:
            print("\n".join(provider_sdks()))
        case ["oldest", name]:
            print(oldest(name))
        case ["pytest-plugins"]:
            print("\n".join(pytest_plugins()))
        case _:
            raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
