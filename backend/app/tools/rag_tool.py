"""rag_search: find help-center passages for a question."""

from __future__ import annotations

from typing import Any, ClassVar

from app.knowledge.search import KnowledgeBase
from app.tools.base_tool import BaseTool, ToolContext, ToolResult


class RagSearchTool(BaseTool):
    name = "rag_search"
    description = ("Search the company's help-center articles for passages that answer the customer's question. "
                   "Returns numbered passages with their source; cite them as [1], [2].")
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "The question, in the customer's words", "minLength": 1,
                      "maxLength": 2000},
            "k": {"type": "integer", "minimum": 1, "maximum": 10, "description": "How many passages (default 3)"},
        },
        "required": ["query"],
        "additionalProperties": False,
    }

    def __init__(self, knowledge: KnowledgeBase, top_k: int = 3) -> None:
        self.knowledge = knowledge
        self.top_k = top_k

    @classmethod
    def build(cls, deps: Any, options: dict[str, Any]) -> BaseTool:
        if deps.knowledge is None:
            raise ValueError("rag_search needs the knowledge base")
        return cls(deps.knowledge, int(options.get("top_k", deps.settings.rag_top_k)))

    async def run(self, context: ToolContext, **kwargs: Any) -> ToolResult:
        query = str(kwargs.get("query", "")).strip()
        if not query:
            return ToolResult(success=False, error="query must not be empty")
        k = int(kwargs.get("k") or self.top_k)
        retrieval = await self.knowledge.aretrieve(query, k)  # batched with concurrent turns' searches
        return ToolResult(success=True, data=retrieval,
                          metadata={"count": len(retrieval.hits), "confidence": retrieval.confidence,
                                    "answerable": retrieval.answerable})
