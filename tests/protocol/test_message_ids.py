"""`message_ids`: the reply's message ids (and namespaces) in reply order, as `messages` hands
them out."""

from __future__ import annotations

import pytest

from tests.protocol.trees import SHAPES, TreeShape, build_tree


@pytest.mark.parametrize("shape", SHAPES, ids=str)
async def test_message_ids_follow_the_messages_projection(shape: TreeShape) -> None:
    agent = build_tree(shape)
    async with await agent.astream_events("go", version="v3") as run:
        pairs = [pair async for pair in run.message_ids]
        ids = [message_id for message_id, _namespace in pairs]
        streams = [stream async for stream in run.messages]
        started = [
            event["params"]["data"]["id"]
            async for event in run.events(channels=["messages"])
            if event["params"]["data"]["event"] == "message-start"
        ]
    assert ids == [stream.message_id for stream in streams]
    assert [namespace for _id, namespace in pairs] == [list(s.namespace) for s in streams]
    assert ids
    assert set(ids) <= set(started)
