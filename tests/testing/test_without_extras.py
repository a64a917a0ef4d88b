"""Installing a distribution without its `testing` extra never breaks anyone's pytest.

Each test runs Python in a subprocess over a copy of this environment's site-packages (links to
its entries) with respx and httpx left out, so the subprocess sees neither their modules nor
their distribution metadata, exactly as after installing without the extra.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

#: What the `testing` extras bring and a plain installation lacks.
EXTRAS = ("respx", "httpx")


@pytest.fixture(scope="module")
def site_without_extras(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site directory with every entry of this environment's except the extras."""
    site_packages = Path(sysconfig.get_paths()["purelib"])
    site = tmp_path_factory.mktemp("site-without-extras")
    for entry in os.listdir(site_packages):
        distribution = entry.split("-")[0].removesuffix(".py").lower()
        if distribution not in EXTRAS:
            (site / entry).symlink_to(site_packages / entry)
    return site


def run_python(site: Path, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter whose only site directory is `site` (`-S` skips the
    usual one; `addsitedir` still processes the .pth files of editable installs)."""
    prelude = f"import site; site.addsitedir({str(site)!r}); import sys\n"
    return subprocess.run(
        [sys.executable, "-S", "-c", prelude + code],
        cwd=cwd,
        env={key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_subprocess_really_lacks_the_extras(site_without_extras: Path, tmp_path: Path) -> None:
    probe = (
        "import importlib.util as u; print([u.find_spec(m) is None for m in ('respx', 'httpx')])"
    )

    result = run_python(site_without_extras, probe, tmp_path)

    assert result.stdout.strip() == "[True, True]", result.stderr


PLUGINS = [
    "miniagents_lc_openai.testing.pytest_plugin",
    "miniagents_lc_anthropic.testing.pytest_plugin",
]


@pytest.mark.parametrize("plugin", PLUGINS)
def test_the_plugin_module_imports_nothing_optional_even_where_the_extras_are_installed(
    plugin: str, tmp_path: Path
) -> None:
    code = (
        "import sys\n"
        f"import {plugin}\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {EXTRAS!r}))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )

    assert (result.returncode, result.stdout.strip()) == (0, "[]"), result.stderr


def test_pytest_runs_and_only_the_kits_fixtures_fail_naming_the_install(
    site_without_extras: Path, tmp_path: Path
) -> None:
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
    )
    (tmp_path / "test_user_project.py").write_text(
        "def test_unrelated_to_the_kit():\n"
        "    assert 'respx' not in __import__('sys').modules\n"
        "\n"
        "def test_asks_for_the_kit(openai_mock):\n"
        "    pass\n"
        "\n"
        "def test_anthropic_kit(anthropic_mock):\n"
        "    pass\n"
    )
    session = (
        "import pytest\n"
        "code = pytest.main(['-q', '-p', 'no:cacheprovider', '-rE', 'test_user_project.py'])\n"
        "sys.exit(int(code))\n"
    )

    result = run_python(site_without_extras, session, tmp_path)

    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, output
    assert "1 passed, 2 errors" in output
    assert "ERROR test_user_project.py::test_asks_for_the_kit - pytest.UsageError" in output
    assert 'pip install -e ".[testing]" -e "./adapters/openai[testing]"' in output
    assert "ERROR test_user_project.py::test_anthropic_kit - pytest.UsageError" in output
    assert 'pip install -e ".[testing]" -e "./adapters/anthropic[testing]"' in output


OPENAI_KIT = '-e ".[testing]" -e "./adapters/openai[testing]"'
NEEDS_EXTRA = [
    ("miniagents_lc.testing", "APIMock", '-e ".[testing]"'),
    ("miniagents_lc_openai.testing", "OpenAIMock", OPENAI_KIT),
    ("miniagents_lc_openai.testing", "RecordedRequest", OPENAI_KIT),
    (
        "miniagents_lc_anthropic.testing",
        "AnthropicMock",
        '-e ".[testing]" -e "./adapters/anthropic[testing]"',
    ),
]
STDLIB_ONLY = [
    ("miniagents_lc.testing", "encode_sse"),
    ("miniagents_lc_openai.testing", "Truncate"),
    ("miniagents_lc_openai.testing", "ChatStreamBuilder"),
    ("miniagents_lc.testing", "LoopbackSSEServer"),
    ("miniagents_lc_anthropic.testing", "Truncate"),
    ("miniagents_lc_anthropic.testing", "MessagesStreamBuilder"),
    ("miniagents_lc_anthropic.testing", "ToolUse"),
]


@pytest.fixture(scope="module")
def names_without_extras(
    site_without_extras: Path, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    """What each kit name gives in one interpreter without the extras: "ok" or the error."""
    names = [(package, name) for package, name, *_ in [*NEEDS_EXTRA, *STDLIB_ONLY]]
    code = (
        "import importlib, json\n"
        "results = {}\n"
        f"for package, name in {names!r}:\n"
        "    kit = importlib.import_module(package)\n"
        "    try:\n"
        "        getattr(kit, name)\n"
        "        results[package + ':' + name] = 'ok'\n"
        "    except ImportError as error:\n"
        "        results[package + ':' + name] = f'{type(error).__name__}: {error}'\n"
        "print(json.dumps(results))\n"
    )
    result = run_python(site_without_extras, code, tmp_path_factory.mktemp("names"))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(("package", "name", "install"), NEEDS_EXTRA)
def test_a_kits_names_that_need_the_extra_say_how_to_install_it(
    package: str, name: str, install: str, names_without_extras: dict[str, str]
) -> None:
    outcome = names_without_extras[f"{package}:{name}"]

    assert outcome.startswith("MissingExtraError: ")
    assert f"pip install {install}" in outcome


@pytest.mark.parametrize(("package", "name"), STDLIB_ONLY)
def test_a_kits_names_that_need_only_the_standard_library_work_without_the_extra(
    package: str, name: str, names_without_extras: dict[str, str]
) -> None:
    assert names_without_extras[f"{package}:{name}"] == "ok"
