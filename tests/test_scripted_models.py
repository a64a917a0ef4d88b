"""The offline models of the demo, the examples and the benchmarks."""

from __future__ import annotations

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage

from miniagents_lc.testing.chat_models import ScriptedChatModel, ScriptedToolModel


@pytest.mark.parametrize(
    "model",
    [
        ScriptedChatModel(reply="hi there", first_token_delay=0, token_delay=0),
        ScriptedToolModel(turns=[AIMessage(content="hi there")]),
    ],
    ids=["ScriptedChatModel", "ScriptedToolModel"],
)
async def test_a_scripted_models_repr_leaves_out_what_it_recorded(model: BaseChatModel) -> None:
    # LangChain renders a model's repr when the model first runs: records would make it grow.
    before = repr(model)
    await model.ainvoke("a question that must not show up")
    assert repr(model) == before
    assert "must not show up" not in repr(model)
