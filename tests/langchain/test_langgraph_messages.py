"""A LangGraph node calling `MiniAgentChatModel`, or awaiting an agent itself: its tokens stream
in `stream_mode="messages"`, once, and the node's final message is not emitted again after them."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.runnables import Runnable
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph

from miniagents_lc.langchain import MiniAgentChatModel, chat_model_agent
from tests.langchain.scripted import Tree, scripted_model, three_leaf_tree


def _one_node_graph(
    answerer: Runnable[Any, BaseMessage],
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """A graph whose node `team` awaits `answerer` on the conversation."""

    async def team(state: MessagesState) -> dict[str, list[BaseMessage]]:
        return {"messages": [await answerer.ainvoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("team", team)
    builder.add_edge(START, "team")
    builder.add_edge("team", END)
    return builder.compile()


def _graph(tree: Tree) -> CompiledStateGraph[Any, Any, Any, Any]:
    return _one_node_graph(MiniAgentChatModel(agent=tree.agent))


async def _streamed_and_final(
    graph: CompiledStateGraph[Any, Any, Any, Any],
) -> tuple[list[BaseMessage], AIMessage]:
    streamed: list[BaseMessage] = []
    final: dict[str, Any] = {}
    async for mode, payload in graph.astream(
        {"messages": [HumanMessage("hi")]}, stream_mode=["messages", "values"]
    ):
        if mode == "messages":
            assert isinstance(payload, tuple)
            streamed.append(payload[0])
        else:
            assert isinstance(payload, dict)
            final = payload
    reply = final["messages"][-1]
    assert isinstance(reply, AIMessage)
    return streamed, reply


async def _messages_mode(tree: Tree) -> list[tuple[BaseMessage, dict[str, Any]]]:
    stream = _graph(tree).astream({"messages": [HumanMessage("hi")]}, stream_mode="messages")
    received: list[tuple[BaseMessage, dict[str, Any]]] = []
    async for message, metadata in stream:
        assert isinstance(message, BaseMessage)
        assert isinstance(metadata, dict)
        received.append((message, metadata))
    return received


async def test_node_streams_the_agent_tokens_in_messages_mode() -> None:
    tree = three_leaf_tree()
    streamed = await _messages_mode(tree)
    assert all(isinstance(message, AIMessageChunk) for message, _ in streamed)
    assert "".join(message.text for message, _ in streamed) == tree.text
    assert len([message for message, _ in streamed if message.text]) >= 6
    assert {metadata["langgraph_node"] for _, metadata in streamed} == {"team"}
    assert {metadata["ls_model_name"] for _, metadata in streamed} == {"aggregator"}


async def test_no_whole_message_repeats_the_tokens_and_ids_match_the_state() -> None:
    tree = three_leaf_tree()
    streamed, reply = await _streamed_and_final(_graph(tree))
    assert not any(type(message) is AIMessage for message in streamed)
    assert reply.text == tree.text
    assert {message.id for message in streamed} == {reply.id}


async def test_models_inside_the_agent_do_not_stream_the_text_a_second_time() -> None:
    tree = three_leaf_tree()
    streamed = await _messages_mode(tree)
    assert {metadata["ls_provider"] for _, metadata in streamed} == {"miniagents"}
    assert sum(len(model.calls) for model in tree.models.values()) == 3


async def test_a_node_awaiting_a_model_agent_streams_its_reply_once_under_the_state_id() -> None:
    """Like a chat model called in a node: tokens stream, the whole does not come again, and
    the message in the state has the id the tokens streamed under."""
    model = scripted_model(tokens=["Hel", "lo", "!"], delay=0.001)
    streamed, reply = await _streamed_and_final(
        _one_node_graph(chat_model_agent(model, alias="writer"))
    )
    assert all(isinstance(message, AIMessageChunk) for message in streamed)
    assert "".join(message.text for message in streamed) == reply.text == "Hello!"
    assert {message.id for message in streamed} == {reply.id}


async def test_a_node_awaiting_an_agent_tree_does_not_send_the_whole_reply_again() -> None:
    tree = three_leaf_tree()
    streamed, reply = await _streamed_and_final(_one_node_graph(tree.agent))
    assert reply.text == tree.text
    assert not any(type(message) is AIMessage for message in streamed)
    texts_by_id: dict[str | None, str] = {}
    for message in streamed:  # each leaf's model streams its own message
        texts_by_id[message.id] = texts_by_id.get(message.id, "") + message.text
    assert sorted(texts_by_id.values()) == sorted(
        "".join(model.tokens) for model in tree.models.values()
    )
    assert reply.id in texts_by_id
