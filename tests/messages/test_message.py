"""Message: an immutable pydantic model, frozen all the way down, identified by its content."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any, Literal

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from pydantic import Field, ValidationError

from miniagents_lc.agents.conversion import message_to_langchain
from miniagents_lc.messages import AssistantMessage, FrozenDict, Message, message_from_langchain


def test_a_message_keeps_extra_fields():
    message = Message(text="hi", role="user", model="gpt", temperature=0.5)
    assert message.text == "hi"
    assert message.role == "user"
    assert message.model == "gpt"  # type: ignore[attr-defined]
    assert message.temperature == 0.5  # type: ignore[attr-defined]


@pytest.mark.parametrize("field", ["text", "role", "extra"])
def test_fields_of_a_message_cannot_be_reassigned(field):
    message = Message(text="hi", role="user", extra="value")
    with pytest.raises(ValidationError, match="frozen"):
        setattr(message, field, "changed")
    assert getattr(message, field) != "changed"


def test_lists_become_tuples_and_dicts_become_frozen_dicts_all_the_way_down():
    message = Message(
        text="hi",
        tags=["a", "b"],
        meta={"usage": {"tokens": [1, 2]}, "items": [{"k": "v"}, ["x"]]},
    )
    assert message.tags == ("a", "b")  # type: ignore[attr-defined]
    meta = message.meta  # type: ignore[attr-defined]
    assert isinstance(meta, FrozenDict)
    assert isinstance(meta["usage"], FrozenDict)
    assert meta["usage"]["tokens"] == (1, 2)
    assert isinstance(meta["items"], tuple)
    assert isinstance(meta["items"][0], FrozenDict)
    assert meta["items"][1] == ("x",)
    assert meta == {"usage": {"tokens": (1, 2)}, "items": ({"k": "v"}, ("x",))}


@pytest.mark.parametrize(
    "value",
    [frozenset({"a", "b"}), {"a", "b"}],
    ids=["frozenset", "set"],
)
def test_a_set_field_stays_a_set_frozen(value):
    """A set has no order, so it does not become a tuple: it stays a set, as a frozenset."""
    message = Message(text="hi", tags=value, meta={"inner": value})
    assert message.tags == frozenset({"a", "b"})  # type: ignore[attr-defined]
    assert type(message.tags) is frozenset  # type: ignore[attr-defined]
    assert type(message.meta["inner"]) is frozenset  # type: ignore[attr-defined]


def test_a_declared_frozenset_field_keeps_its_type():
    class LabelledMessage(Message):
        labels: frozenset[str] = frozenset()

    message = LabelledMessage(text="hi", labels={"x", "y"})
    assert type(message.labels) is frozenset
    assert message.labels == {"x", "y"}


def test_the_hash_key_of_a_set_does_not_depend_on_its_iteration_order():
    """Strings hash differently in every process: the key must not follow set order."""
    script = (
        "from miniagents_lc.messages import Message; "
        "tags = frozenset(f'tag{i}' for i in range(20)); "
        "print(Message(text='hi', tags=tags).hash_key, ','.join(tags))"
    )
    # Two seeds suffice when they iterate the set in different orders (checked below); the
    # processes run side by side.
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        for seed in ("1", "2")
    ]
    outputs = [process.communicate(timeout=60)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0]
    keys, orders = zip(*(output.split() for output in outputs), strict=True)
    assert orders[0] != orders[1]
    assert keys[0] == keys[1]
    assert re.fullmatch(r"[0-9a-f]{64}", keys[0])


def test_freezing_does_not_touch_the_callers_containers():
    tags = ["a"]
    meta: dict[str, Any] = {"k": ["v"]}
    Message(text="hi", tags=tags, meta=meta)
    tags.append("b")
    meta["k"].append("w")
    assert tags == ["a", "b"]
    assert meta == {"k": ["v", "w"]}


def _set_item(d: Any) -> None:
    d["new"] = 1


def _del_item(d: Any) -> None:
    del d["k"]


def _in_place_or(d: Any) -> None:
    d |= {"new": 1}


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(_set_item, id="setitem"),
        pytest.param(_del_item, id="delitem"),
        pytest.param(lambda d: d.clear(), id="clear"),
        pytest.param(lambda d: d.pop("k"), id="pop"),
        pytest.param(lambda d: d.popitem(), id="popitem"),
        pytest.param(lambda d: d.setdefault("new", 1), id="setdefault"),
        pytest.param(lambda d: d.update(new=1), id="update"),
        pytest.param(_in_place_or, id="ior"),
    ],
)
def test_a_frozen_dict_refuses_every_mutation(mutate):
    message = Message(text="hi", meta={"k": {"nested": "v"}})
    for mapping in (message.meta, message.meta["k"]):  # type: ignore[attr-defined]
        before = dict(mapping)
        with pytest.raises(TypeError, match="frozen"):
            mutate(mapping)
        assert mapping == before


def test_a_message_with_nested_containers_is_hashable():
    first = Message(text="hi", meta={"k": [1, {"x": [2]}]})
    second = Message(text="hi", meta={"k": [1, {"x": [2]}]})
    assert first == second
    assert hash(first) == hash(second)
    assert len({first, second}) == 1


def test_a_subclass_freezes_its_declared_fields_and_still_has_a_hash_key():
    class TaggedMessage(Message):
        tags: list[str] = Field(default_factory=list)
        scores: dict[str, int] = Field(default_factory=dict)

    message = TaggedMessage(text="hi", tags=["a"], scores={"x": 1})
    assert message.tags == ("a",)
    assert isinstance(message.scores, FrozenDict)
    # Serializing the frozen forms of declared list / dict fields must not warn.
    assert message.hash_key == TaggedMessage(text="hi", tags=("a",), scores={"x": 1}).hash_key


@pytest.mark.parametrize(
    ("text", "expected"),
    [("hello", "hello"), ("", ""), (None, "")],
)
def test_str_of_a_message_is_its_text(text, expected):
    assert str(Message(text=text, role="user")) == expected


def test_hash_key_is_a_sha256_hex_digest():
    assert re.fullmatch(r"[0-9a-f]{64}", Message(text="hi").hash_key)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(
            lambda: Message(text="hi", role="user"),
            lambda: Message(text="hi", role="user"),
            id="same-fields",
        ),
        pytest.param(
            lambda: Message(text="hi", tags=["a", "b"]),
            lambda: Message(text="hi", tags=("a", "b")),
            id="list-or-tuple",
        ),
        pytest.param(
            lambda: Message(text="hi", meta={"a": 1, "b": 2}),
            lambda: Message(text="hi", meta={"b": 2, "a": 1}),
            id="dict-key-order",
        ),
        pytest.param(
            lambda: Message(text="hi", reply_to=Message(text="q", meta={"x": [1]})),
            lambda: Message(text="hi", reply_to=Message(text="q", meta={"x": (1,)})),
            id="nested-message",
        ),
    ],
)
def test_equal_content_gives_an_equal_hash_key(first, second):
    assert first().hash_key == second().hash_key


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(lambda: Message(text="hi"), lambda: Message(text="ho"), id="text"),
        pytest.param(
            lambda: Message(text="hi", role="user"),
            lambda: Message(text="hi", role="assistant"),
            id="role",
        ),
        pytest.param(
            lambda: Message(text="hi"), lambda: Message(text="hi", extra=1), id="extra-field"
        ),
        pytest.param(
            lambda: Message(text="hi", meta={"a": [1, 2]}),
            lambda: Message(text="hi", meta={"a": [2, 1]}),
            id="nested-order",
        ),
        pytest.param(
            lambda: Message(text="hi", reply_to=Message(text="q1")),
            lambda: Message(text="hi", reply_to=Message(text="q2")),
            id="nested-message",
        ),
        pytest.param(
            lambda: Message(text="hi", items=[Message(text="a")]),
            lambda: Message(text="hi", items=[Message(text="a", role="user")]),
            id="message-in-list",
        ),
    ],
)
def test_different_content_gives_a_different_hash_key(first, second):
    assert first().hash_key != second().hash_key


def test_the_hash_key_is_not_part_of_the_content():
    message = Message(text="hi", meta={"k": "v"})
    key = message.hash_key
    assert message.hash_key == key
    assert "hash_key" not in message.model_dump()
    assert message == Message(text="hi", meta={"k": "v"})


@pytest.mark.parametrize(
    ("langchain_message", "role", "message_class"),
    [
        pytest.param(HumanMessage("hello"), "user", Message, id="HumanMessage"),
        pytest.param(AIMessage("hello"), "assistant", AssistantMessage, id="AIMessage"),
        pytest.param(SystemMessage("hello"), "system", Message, id="SystemMessage"),
        pytest.param(
            ToolMessage("hello", tool_call_id="call-1"), "tool", Message, id="ToolMessage"
        ),
    ],
)
def test_a_langchain_message_becomes_a_message_with_its_role(
    langchain_message: BaseMessage, role: str, message_class: type[Message]
):
    message = message_from_langchain(langchain_message)
    assert type(message) is message_class
    assert message.role == role
    assert message.text == "hello"
    assert str(message) == "hello"


def test_a_langchain_tool_message_keeps_its_tool_call_id():
    message = message_from_langchain(ToolMessage("result", tool_call_id="call-1"))
    assert message.tool_call_id == "call-1"  # type: ignore[attr-defined]


@pytest.mark.parametrize("status", ["success", "error"])
@pytest.mark.parametrize("content", ["result", [{"type": "text", "text": "result"}]])
def test_a_tool_message_round_trips_with_its_status_and_content(
    status: Literal["success", "error"], content: str | list[str | dict[str, Any]]
) -> None:
    original = ToolMessage(content, tool_call_id="call-1", name="lookup", status=status)
    assert message_to_langchain(message_from_langchain(original)) == original
