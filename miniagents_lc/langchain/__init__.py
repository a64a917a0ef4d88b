"""The LangChain face: agents as Runnables, message conversion and chat-model adapters."""
