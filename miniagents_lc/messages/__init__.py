"""Messages: immutable `Message`s, the promises that stream them, and flattened sequences."""

from miniagents_lc.messages.assistant import AssistantMessage, thaw
from miniagents_lc.messages.error import ErrorMessage
from miniagents_lc.messages.from_langchain import message_from_langchain
from miniagents_lc.messages.message import FrozenDict, Message, MessagePromise
from miniagents_lc.messages.promises import MESSAGE_SEPARATOR, MessageSequencePromise, joined_text
from miniagents_lc.messages.sequence import MessageSequence, MessageType, fed_message_sequence

__all__ = [
    "MESSAGE_SEPARATOR",
    "AssistantMessage",
    "ErrorMessage",
    "FrozenDict",
    "Message",
    "MessagePromise",
    "MessageSequence",
    "MessageSequencePromise",
    "MessageType",
    "fed_message_sequence",
    "joined_text",
    "message_from_langchain",
    "thaw",
]
