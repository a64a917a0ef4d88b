"""Fixtures of the protocol tests: the outer contexts of the LangChain-face tests."""

from tests.langchain.conftest import outer_context

__all__ = ["outer_context"]
