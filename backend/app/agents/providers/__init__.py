"""LLM providers: `local` (built-in, offline) and `openai` (any OpenAI-compatible endpoint)."""

from __future__ import annotations

from app.agents.providers.local import LocalResponder
from app.agents.providers.openai import LLMUnavailable, OpenAIProvider
from app.config import Settings

__all__ = ["LLMUnavailable", "LocalResponder", "OpenAIProvider", "build_provider"]


def build_provider(settings: Settings) -> LocalResponder | OpenAIProvider:
    """The provider LLM_PROVIDER names; the agent keeps a LocalResponder for failover either way."""
    if settings.llm_provider == "openai":
        return OpenAIProvider(settings)
    return LocalResponder()
