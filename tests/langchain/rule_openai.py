"""`RuleChatModel`'s rules served as the OpenAI Chat Completions API, behind a respx route.

`serve_rules(mock)` answers every streamed `/chat/completions` request the mock intercepts with
the reply `rule_reply` makes for its messages, tools, `tool_choice` and `stop`, streamed the
way OpenAI streams (the offline kit's `ChatStreamBuilder`): so an `OpenAIAgent` talking to the
mock behaves like `RuleChatModel`, through the real SDK.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import respx
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.ai import add_ai_message_chunks
from miniagents_lc_openai.testing import ChatStreamBuilder, OpenAIMock, ToolCall, chat_usage

from tests.langchain.rule_model import rule_reply

_ARGS_PIECE = 7  # characters of tool-call arguments per streamed chunk


def serve_rules(mock: OpenAIMock) -> respx.Route:
    """Answer every `/chat/completions` request `mock` intercepts by the rules; the route."""
    served = 0

    def respond(request: httpx.Request) -> httpx.Response:
        nonlocal served
        served += 1
        body = json.loads(request.content)
        if not body.get("stream"):
            raise ValueError("the rule responder serves streamed chat completions only")
        return httpx.Response(
            200,
            headers={"content-type": "text/event-stream"},
            content=_stream(body, f"chatcmpl-rule{served:04d}"),
        )

    return mock.router.post("/chat/completions").mock(side_effect=respond)


def _stream(body: dict[str, Any], completion_id: str) -> bytes:
    """The SSE body of the reply to one Chat Completions request."""
    stop = body.get("stop") or []
    chunks = rule_reply(
        [_langchain_message(entry) for entry in body["messages"]],
        tools=body.get("tools") or [],
        tool_choice=body.get("tool_choice"),
        stop=[stop] if isinstance(stop, str) else stop,
        model_name=body["model"],
    )
    reply: AIMessageChunk = add_ai_message_chunks(chunks[0], *chunks[1:])
    usage = reply.usage_metadata
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    builder = ChatStreamBuilder(completion_id, model=body["model"], with_usage_field=include_usage)
    plan = builder.plan(
        [chunk.text for chunk in chunks if chunk.text],
        tool_calls=[
            ToolCall(call["name"], _pieces(json.dumps(call["args"])), id=call["id"])
            for call in reply.tool_calls
        ],
        finish_reason="tool_calls" if reply.tool_calls else "stop",
        usage=chat_usage(usage["input_tokens"], usage["output_tokens"])
        if include_usage and usage is not None
        else None,
    )
    return b"".join([*plan.head, *plan.payload, *plan.tail])


def _pieces(text: str) -> list[str]:
    return [text[i : i + _ARGS_PIECE] for i in range(0, len(text), _ARGS_PIECE)]


def _langchain_message(entry: dict[str, Any]) -> BaseMessage:
    """A Chat Completions message as the LangChain message the rules read."""
    role, content = entry["role"], entry.get("content") or ""
    if role == "tool":
        return ToolMessage(content, tool_call_id=entry["tool_call_id"])
    if role == "assistant":
        calls = [
            {
                "id": call["id"],
                "name": call["function"]["name"],
                "args": json.loads(call["function"]["arguments"] or "{}"),
            }
            for call in entry.get("tool_calls") or []
        ]
        return AIMessage(content, tool_calls=calls)
    if role in ("system", "developer"):
        return SystemMessage(content)
    return HumanMessage(content)
