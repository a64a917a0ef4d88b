"""The adapter contract runs whole for every adapter: each of its tests is collected, with every
parametrization, once per contract subclass (OpenAI's two APIs and Anthropic), and a subclass
that leaves out a provider-specific piece can't be made."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from miniagents_lc.testing import AdapterContract, ContractReply

ROOT = Path(__file__).resolve().parents[2]
SUBCLASSES = {
    "adapters/openai/tests/test_openai_contract.py": [
        "TestChatCompletionsContract",
        "TestResponsesContract",
    ],
    "adapters/anthropic/tests/test_anthropic_contract.py": ["TestAnthropicContract"],
}


def collected() -> list[str]:
    """The node ids pytest collects from the adapters' contract modules."""
    command = ["pytest", "--collect-only", "-q", "-n", "0", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [sys.executable, "-m", *command, *SUBCLASSES],
        cwd=ROOT,
        env={key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_every_contract_test_is_collected_alike_for_every_adapter() -> None:
    contract_tests = {name for name in dir(AdapterContract) if name.startswith("test_")}
    per_class: dict[str, Counter[str]] = {}
    for node in collected():
        path, cls, test = node.split("::")
        per_class.setdefault(f"{path}::{cls}", Counter())[test.partition("[")[0]] += 1

    expected = {f"{path}::{cls}" for path, classes in SUBCLASSES.items() for cls in classes}
    assert set(per_class) == expected
    counts = list(per_class.values())
    assert set(counts[0]) == contract_tests
    assert all(count == counts[0] for count in counts)  # the same parametrizations each


def test_a_subclass_without_its_provider_pieces_cannot_be_made() -> None:
    class Unfinished(AdapterContract):
        def reply_id(self, serial: int) -> str:
            return f"id-{serial}"

    with pytest.raises(TypeError, match="script"):
        Unfinished()  # type: ignore[abstract]


def test_a_contract_reply_defaults_to_a_plain_streamed_reply() -> None:
    reply = ContractReply(["a"])

    assert (reply.tool_calls, reply.usage, reply.fault, reply.status, reply.prefix) == (
        (),
        None,
        None,
        200,
        "",
    )
