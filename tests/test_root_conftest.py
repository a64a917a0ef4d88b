"""The repository's conftest: test ids must be the same in every pytest-xdist worker."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT_CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"


def collect_with_ids(pytester: pytest.Pytester, ids: str) -> pytest.RunResult:
    """Collect, under the repository's conftest alone, a test of a function parameter."""
    pytester.makeconftest(ROOT_CONFTEST.read_text(encoding="utf-8"))
    pytester.makepyfile(
        f"""
        import pytest

        def f():
            pass

        @pytest.mark.parametrize("x", [f], ids={ids})
        def test_x(x):
            assert x is f
        """
    )
    return pytester.runpytest_inprocess("--collect-only", "-q")


@pytest.fixture(autouse=True)
def only_pytests_own_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def test_a_test_id_holding_a_memory_address_stops_the_collection_naming_it(
    pytester: pytest.Pytester,
) -> None:
    result = collect_with_ids(pytester, "repr")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*hold a memory address*test_x[[]<function f at 0x*"])


def test_a_named_test_id_is_collected(pytester: pytest.Pytester) -> None:
    result = collect_with_ids(pytester, "lambda f: f.__name__")

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*test_x[[]f[]]*"])
