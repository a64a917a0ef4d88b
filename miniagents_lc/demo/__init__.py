"""The main job: an offline live demo of parallel nested agents streaming through LangChain."""
