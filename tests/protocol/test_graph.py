"""Agent calls as nested namespaces in LangGraph's own v3 stream."""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.messages import AIMessage, BaseMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

from miniagents_lc import InteractionContext, MiniAgent, MiniAgentChatModel, miniagent
from tests.protocol.trees import TreeShape, build_tree


class State(TypedDict):
    messages: Annotated[list[BaseMessage], add_messages]


NodeFactory = Callable[[MiniAgent], Callable[[State], Awaitable[dict[str, Any]]]]


def through_chat_model(agent: MiniAgent) -> Callable[[State], Awaitable[dict[str, Any]]]:
    model = MiniAgentChatModel(agent=agent)

    async def node(state: State) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    return node


def through_ainvoke(agent: MiniAgent) -> Callable[[State], Awaitable[dict[str, Any]]]:
    async def node(state: State) -> dict[str, Any]:
        return {"messages": [await agent.ainvoke(state["messages"])]}

    return node


NODES = {"MiniAgentChatModel": through_chat_model, "ainvoke": through_ainvoke}


def graph_of(agent: MiniAgent, make_node: NodeFactory) -> Any:
    builder = StateGraph(State)
    builder.add_node("agent", make_node(agent))
    builder.add_edge(START, "agent")
    builder.add_edge("agent", END)
    return builder.compile()


async def graph_events(graph: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The raw events and the lifecycle projection of one v3 run of `graph`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the graph's v3 stream is announced as beta
        run = await graph.astream_events({"messages": [("user", "go")]}, version="v3")
    async with run:
        events = [event async for event in run]
    lifecycle = [e["params"]["data"] for e in events if e["method"] == "lifecycle"]
    return events, lifecycle


@pytest.mark.parametrize("make_node", NODES.values(), ids=NODES.keys())
async def test_every_agent_call_starts_and_completes_as_a_nested_namespace(
    make_node: NodeFactory,
) -> None:
    shape = TreeShape(2, 2)
    _, lifecycle = await graph_events(graph_of(build_tree(shape), make_node))
    by_name = {p["graph_name"]: p for p in lifecycle if p["event"] == "started"}
    node = by_name["agent"]["namespace"]
    root = by_name["root"]["namespace"]
    assert node[0].startswith("agent:")
    assert root[:-1] == node
    assert root[-1].startswith("root:")
    assert [by_name[alias]["namespace"] for alias in shape.leaf_aliases] == [
        [*root, "root_0:0"],
        [*root, "root_1:1"],
    ]
    completed = {tuple(p["namespace"]) for p in lifecycle if p["event"] == "completed"}
    assert completed == {tuple(p["namespace"]) for p in by_name.values()}


@pytest.mark.parametrize("make_node", NODES.values(), ids=NODES.keys())
async def test_each_agent_streams_its_own_messages_in_its_namespace(
    make_node: NodeFactory,
) -> None:
    events, lifecycle = await graph_events(graph_of(build_tree(TreeShape(2, 2)), make_node))
    namespace_of = {
        p["graph_name"]: tuple(p["namespace"]) for p in lifecycle if p["event"] == "started"
    }
    texts: dict[tuple[str, ...], str] = {}
    for event in events:
        if event["method"] != "messages":
            continue
        payload, metadata = event["params"]["data"]
        if isinstance(payload, dict) and payload["event"] == "content-block-delta":
            where = tuple(event["params"]["namespace"])
            texts[where] = texts.get(where, "") + payload["delta"]["text"]
            assert metadata["run_id"]
    assert texts[namespace_of["root"]] == "[root]"
    assert texts[namespace_of["root_0"]] == "leaf0 w0 w1 w2 w3"
    assert texts[namespace_of["root_1"]] == "leaf1 w0 w1 w2 w3"


async def test_a_failing_agent_call_fails_in_the_graph_lifecycle() -> None:
    @miniagent
    async def broken(ctx: InteractionContext) -> None:
        ctx.reply("trying")
        raise RuntimeError("no luck")

    @miniagent
    async def root(ctx: InteractionContext) -> None:
        ctx.reply(broken.trigger())

    async def node(state: State) -> dict[str, Any]:
        try:
            await root.ainvoke(state["messages"])
        except RuntimeError as error:
            return {"messages": [AIMessage(content=f"recovered from {error}")]}
        return {"messages": []}

    builder = StateGraph(State)
    builder.add_node("agent", node)
    builder.add_edge(START, "agent")
    builder.add_edge("agent", END)
    _, lifecycle = await graph_events(builder.compile())
    # The graph names a call when it starts; its end carries the namespace only.
    name_of = {tuple(p["namespace"]): p["graph_name"] for p in lifecycle if p["event"] == "started"}
    failed = {
        name_of[tuple(p["namespace"])]: p["error"] for p in lifecycle if p["event"] == "failed"
    }
    assert failed == {"broken": "RuntimeError: no luck", "root": "RuntimeError: no luck"}


@pytest.mark.parametrize("make_node", NODES.values(), ids=NODES.keys())
async def test_other_graph_streams_get_nothing_but_their_usual_messages(
    make_node: NodeFactory,
) -> None:
    graph = graph_of(build_tree(TreeShape(2, 2)), make_node)
    parts = [
        part
        async for part in graph.astream(
            {"messages": [("user", "go")]}, stream_mode=["messages", "tasks"], subgraphs=True
        )
    ]
    assert parts
    for namespace, mode, payload in parts:
        assert len(namespace) <= 1, "no agent call shows up as a namespace of its own"
        if mode == "messages":
            assert isinstance(payload[0], BaseMessage)
