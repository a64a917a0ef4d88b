"""The main job: an offline live demo of parallel nested agents streaming through LangChain."""

__all__: list[str] = []
