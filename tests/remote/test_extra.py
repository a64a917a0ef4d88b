"""The `remote` extra stays optional: the core imports none of it, and the remote package says
how to install it."""

from __future__ import annotations

import subprocess
import sys

WEB_MODULES = ["starlette", "sse_starlette", "uvicorn", "httpx_sse", "redis"]


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_core_imports_no_web_dependency() -> None:
    result = run_python(
        "import sys, miniagents_lc, miniagents_lc.protocol\n"
        f"print(sorted(m for m in {WEB_MODULES!r} if m in sys.modules))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_remote_package_without_the_extra_names_the_install() -> None:
    result = run_python(
        "import sys\nsys.modules['sse_starlette'] = None\nimport miniagents_lc.remote"
    )
    assert result.returncode != 0
    assert 'pip install -e ".[remote]"' in result.stderr
    assert "sse_starlette" in result.stderr
