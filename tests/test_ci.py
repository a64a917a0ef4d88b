"""The CI script (.ci/run) is valid bash, and the requirements it installs beyond README
command 1 come from the pins: the newest provider SDKs the adapters allow, the oldest anthropic
the Anthropic adapter allows, and the dev extra's pytest plugins."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def ci_requirements(*arguments: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "requirements.py"), *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def adapter_dependencies(adapter: str) -> list[Requirement]:
    pyproject = ROOT / "adapters" / adapter / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return [Requirement(requirement) for requirement in project["dependencies"]]


def test_the_ci_script_is_valid_bash() -> None:
    result = subprocess.run(
        ["bash", "-n", str(ROOT / ".ci" / "run")], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr


def test_ci_upgrades_each_provider_sdk_within_its_adapters_pin() -> None:
    sdks = {Requirement(line).name: Requirement(line) for line in ci_requirements("newest-sdks")}

    assert set(sdks) == {"openai", "anthropic"}
    for adapter in ("openai", "anthropic"):
        (pin,) = [r for r in adapter_dependencies(adapter) if r.name == adapter]
        assert sdks[adapter].specifier == pin.specifier


def test_ci_tests_the_oldest_anthropic_the_adapter_allows() -> None:
    (oldest,) = ci_requirements("oldest", "anthropic")
    (pin,) = [r for r in adapter_dependencies("anthropic") if r.name == "anthropic"]
    version = Version(oldest.removeprefix("anthropic=="))

    assert oldest.startswith("anthropic==")
    assert pin.specifier.contains(version)
    assert not pin.specifier.contains(Version(f"{version.major}.{version.minor - 1}.999"))


def test_ci_gives_the_oldest_sdks_venv_the_dev_extras_pytest_plugins() -> None:
    plugins = {Requirement(line).name for line in ci_requirements("pytest-plugins")}

    assert {
        "pytest",
        "pytest-asyncio",
        "pytest-socket",
        "pytest-timeout",
        "pytest-xdist",
    } <= plugins
