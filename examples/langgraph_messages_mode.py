"""A LangGraph node answered by a team of agents, streamed token by token (offline).

The graph has one node, "team", that calls `MiniAgentChatModel(agent=team)`: to LangGraph it is
a chat model, so `stream_mode="messages"` streams its tokens. Behind it, the `team` agent asks
two `chat_model_agent`s in parallel (a researcher and a writer, each the embedded scripted
chat model streaming word by word, no API key) and replies with both answers, in that order.
The tokens print as they arrive; at the end the graph state holds the same text once:

    researcher: LangGraph streams chat-model tokens in messages mode.

    writer: An agent tree looks like one chat model to the graph.

    [streamed 11 chunks; the state's last message is the same text]

The researcher's words print one by one. The writer is faster and works at the same time, so
its answer is complete by the time its turn comes: it arrives as one chunk.

Run it with `python examples/langgraph_messages_mode.py`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage
from langgraph.graph import END, START, MessagesState, StateGraph

from miniagents_lc import InteractionContext, miniagent
from miniagents_lc.langchain import MiniAgentChatModel, chat_model_agent
from miniagents_lc.testing import ScriptedChatModel

researcher = chat_model_agent(
    ScriptedChatModel(
        reply="researcher: LangGraph streams chat-model tokens in messages mode.",
        first_token_delay=0.04,
        token_delay=0.04,
    ),
    alias="researcher",
)
writer = chat_model_agent(
    ScriptedChatModel(
        reply="writer: An agent tree looks like one chat model to the graph.",
        first_token_delay=0.03,
        token_delay=0.03,
    ),
    alias="writer",
)


@miniagent
async def team(ctx: InteractionContext) -> None:
    """Asks the researcher and the writer at once; replies with both, researcher first."""
    ctx.reply([researcher.trigger(ctx.message_promises), writer.trigger(ctx.message_promises)])


def build_graph() -> Any:
    """A one-node graph whose node calls the team as a chat model."""
    model = MiniAgentChatModel(agent=team)

    async def team_node(state: MessagesState) -> dict[str, list[BaseMessage]]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("team", team_node)
    builder.add_edge(START, "team")
    builder.add_edge("team", END)
    return builder.compile()


async def main() -> None:
    graph = build_graph()
    chunks: list[str] = []
    final: dict[str, Any] = {}
    question = {"messages": [HumanMessage("How do agents stream through LangGraph?")]}
    async for mode, payload in graph.astream(question, stream_mode=["messages", "values"]):
        if mode == "messages":
            message, _metadata = payload
            if message.text:
                chunks.append(message.text)
                print(message.text, end="", flush=True)
        else:
            final = payload
    same = final["messages"][-1].text == "".join(chunks)
    print(
        f"\n\n[streamed {len(chunks)} chunks; the state's last message is "
        f"{'the same text' if same else 'DIFFERENT'}]"
    )


if __name__ == "__main__":
    asyncio.run(main())
