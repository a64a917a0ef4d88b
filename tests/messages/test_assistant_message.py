"""AssistantMessage: one typed shape of a model's reply, in LangChain's own metadata shapes."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage
from pydantic import ValidationError

from miniagents_lc.agents.conversion import message_to_langchain
from miniagents_lc.messages import AssistantMessage, FrozenDict, message_from_langchain, thaw

_USAGE = {
    "input_tokens": 12,
    "output_tokens": 5,
    "total_tokens": 17,
    "input_token_details": {"cache_read": 8},
}
_CALL = {"id": "call_1", "name": "search", "args": {"query": "x", "tags": ["a", "b"]}}


def test_an_assistant_message_has_the_assistant_role_by_default():
    assert AssistantMessage(text="hi").role == "assistant"


def test_typed_metadata_is_frozen_like_every_message_field():
    message = AssistantMessage(text="", usage=_USAGE, tool_calls=[_CALL])
    assert isinstance(message.usage, FrozenDict)
    assert message.usage["input_token_details"]["cache_read"] == 8
    assert message.tool_calls[0]["args"]["tags"] == ("a", "b")
    assert hash(message.hash_key)


@pytest.mark.parametrize(
    ("field", "value", "missing"),
    [
        ("tool_calls", [{"id": "c", "args": {}}], "name"),
        ("usage", {"input_tokens": 1, "output_tokens": 2}, "total_tokens"),
        ("invalid_tool_calls", [{"id": "c", "name": "f", "args": "{"}], "error"),
    ],
)
def test_metadata_of_the_wrong_shape_is_refused_naming_the_missing_key(field, value, missing):
    with pytest.raises(ValidationError, match=missing):
        AssistantMessage(**{field: value})


def test_thawed_metadata_builds_a_langchain_message_with_the_same_content():
    message = AssistantMessage(text="ok", usage=_USAGE, tool_calls=[_CALL])
    ai = AIMessage(
        content=message.text or "",
        tool_calls=thaw(message.tool_calls),
        usage_metadata=thaw(message.usage),
    )
    assert ai.tool_calls == [{**_CALL, "type": "tool_call"}]
    assert ai.usage_metadata == _USAGE
    assert type(thaw(message.usage)) is dict
    assert type(ai.tool_calls[0]["args"]["tags"]) is list


def test_provider_specifics_without_a_typed_field_stay_extra_fields():
    message = AssistantMessage(text="", status="completed")
    assert message.status == "completed"  # type: ignore[attr-defined]


def test_an_ai_message_round_trips_through_its_assistant_message():
    original = AIMessage(
        content="Let me look.",
        id="msg-1",
        tool_calls=[{**_CALL, "type": "tool_call"}],
        invalid_tool_calls=[
            {"id": "c2", "name": "f", "args": "{", "error": "bad JSON", "type": "invalid_tool_call"}
        ],
        usage_metadata=_USAGE,
        response_metadata={"model_name": "m-1", "finish_reason": "tool_calls"},
    )
    message = message_from_langchain(original)
    assert isinstance(message, AssistantMessage)
    assert (message.model_name, message.finish_reason) == ("m-1", "tool_calls")
    assert message_to_langchain(message) == original
