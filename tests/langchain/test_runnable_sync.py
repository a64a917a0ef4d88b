"""Sync entry points of an agent (`invoke`, `stream`, `batch`) from plain code and from inside
a running event loop, and `abatch`."""

from __future__ import annotations

import threading
import time
from typing import Any

from langchain_core.messages import AIMessage

from tests.langchain.scripted import three_leaf_tree


def _stream_with_times(tree: Any) -> list[tuple[float, str]]:
    return [(time.perf_counter(), chunk.text) for chunk in tree.agent.stream("hi")]


def test_invoke_from_plain_code_returns_the_whole_reply() -> None:
    tree = three_leaf_tree()
    result = tree.agent.invoke("hi")
    assert isinstance(result, AIMessage)
    assert result.text == tree.text


def test_invoke_and_stream_from_a_plain_thread_return_the_whole_reply() -> None:
    tree = three_leaf_tree()
    invoked: list[str] = []
    streamed: list[list[tuple[float, str]]] = []

    def work() -> None:
        invoked.append(tree.agent.invoke("hi").text)
        streamed.append(_stream_with_times(tree))

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(timeout=30)
    assert invoked == [tree.text]
    (received,) = streamed
    assert "".join(text for _when, text in received) == tree.text
    arrivals = [when for when, text in received if text]
    assert arrivals[-1] - arrivals[0] >= 0.1


def test_stream_from_plain_code_yields_tokens_as_they_come() -> None:
    tree = three_leaf_tree()
    received = _stream_with_times(tree)
    arrivals = [when for when, text in received if text]
    assert "".join(text for _when, text in received) == tree.text
    assert len(arrivals) >= 6
    assert arrivals[-1] - arrivals[0] >= 0.1


async def test_invoke_inside_a_running_loop_returns_the_whole_reply() -> None:
    tree = three_leaf_tree()
    result = tree.agent.invoke("hi")
    assert result.text == tree.text


async def test_stream_inside_a_running_loop_yields_tokens_as_they_come() -> None:
    tree = three_leaf_tree()
    received = _stream_with_times(tree)
    arrivals = [when for when, text in received if text]
    assert "".join(text for _when, text in received) == tree.text
    assert arrivals[-1] - arrivals[0] >= 0.1


def test_closing_a_sync_stream_early_stops_the_leaves() -> None:
    tree = three_leaf_tree()
    stream = tree.agent.stream("hi")
    assert next(text for text in (chunk.text for chunk in stream) if text)
    stream.close()  # type: ignore[attr-defined]
    assert tree.started >= 1
    assert tree.finished == ["interrupted"] * tree.started


def test_batch_returns_one_reply_per_input_in_order() -> None:
    tree = three_leaf_tree()
    results = tree.agent.batch(["first", "second"])
    assert [result.text for result in results] == [tree.text, tree.text]
    asked = [call["messages"][0].text for call in tree.models["leaf_fast"].calls]
    assert sorted(asked) == ["first", "second"]


async def test_abatch_runs_the_inputs_concurrently() -> None:
    tree = three_leaf_tree()
    started = time.perf_counter()
    results = await tree.agent.abatch(["first", "second", "third"])
    elapsed = time.perf_counter() - started
    assert [result.text for result in results] == [tree.text] * 3
    # One after another, three runs could not take less than three slowest leaves (0.6 s);
    # together they take about one (0.2 s).
    assert elapsed < 3 * 4 * 0.05
