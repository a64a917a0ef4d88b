"""Make the kit's fixtures available even where pytest plugin autoloading is off.

Installing miniagents-lc-anthropic registers `miniagents_lc_anthropic.testing.pytest_plugin`
through the `pytest11` entry point; with PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 (or before the
package is installed) this conftest registers the same module itself, under the entry point's
name.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

if importlib.util.find_spec("miniagents_lc_anthropic") is None:
    # Not installed yet: test the sources next to this directory.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from miniagents_lc_anthropic.testing import pytest_plugin


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.is_registered(pytest_plugin):
        config.pluginmanager.register(pytest_plugin, "miniagents_lc_anthropic")
