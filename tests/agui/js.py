"""Running the Node scripts of `tests/js/` (the official JS clients, pinned in its
package.json): Node and the installed packages must be present, else the test fails saying how
to install them."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

JS_DIR = Path(__file__).resolve().parents[1] / "js"


def node_script(script: str, *args: str, timeout: float = 60) -> dict[str, Any]:
    """Run `tests/js/<script>` with `args`; its JSON output."""
    node = shutil.which("node")
    assert node, "Node.js is needed for the JS client tests: install Node 20+ and put it on PATH"
    assert (JS_DIR / "node_modules" / "@ag-ui" / "client").is_dir(), (
        "the pinned JS clients are not installed: run `npm ci --prefix tests/js`"
    )
    done = subprocess.run(
        [node, str(JS_DIR / script), *args],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{script} failed ({done.returncode}): {done.stderr[-2000:]}"
    result: dict[str, Any] = json.loads(done.stdout)
    return result
