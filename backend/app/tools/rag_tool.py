"""rag_search: find help-center passages for a question."""

from __future__ import annotations

from typing import Any, ClassVar

import anyio

from app.knowledge.search import KnowledgeBase
from app.tools.base_tool import BaseTool, ToolResult


class RagSearchTool(BaseTool):
    name = "rag_search"
    description = "Search the company's help-center articles for passages that answer the customer's question."
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "The question, in the customer's words", "minLength": 1},
            "k": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
        },
        "required": ["query"],
        "additionalProperties": False,
    }

    def __init__(self, knowledge: KnowledgeBase, top_k: int = 3) -> None:
        self.knowledge = knowledge
        self.top_k = top_k

    async def run(self, **kwargs: Any) -> ToolResult:
        query = str(kwargs.get("query", "")).strip()
        if not query:
            return ToolResult(success=False, error="query must not be empty")
        k = int(kwargs.get("k") or self.top_k)
        retrieval = await anyio.to_thread.run_sync(self.knowledge.retrieve, query, k)
        return ToolResult(success=True, data=retrieval,
                          metadata={"count": len(retrieval.hits), "confidence": retrieval.confidence})
