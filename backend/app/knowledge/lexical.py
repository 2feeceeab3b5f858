"""BM25 over chunk texts (bm25s), rebuilt in memory from the vector store when the KB changes."""

from __future__ import annotations

from functools import lru_cache

import bm25s
import numpy as np
import Stemmer


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """bm25s's own English pipeline (word pattern, stopword list, Snowball stemmer)."""
    tokens = bm25s.tokenize([text], stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)
    return list(tokens[0]) if tokens else []


class LexicalIndex:
    def __init__(self, ids: list[str], texts: list[str]) -> None:
        self.ids = ids
        self.position = {chunk_id: i for i, chunk_id in enumerate(ids)}
        self.retriever = bm25s.BM25()
        corpus = [tokenize(t) or ["_empty_"] for t in texts]
        if corpus:
            self.retriever.index(corpus, show_progress=False)

    def scores(self, query: str) -> dict[str, float]:
        """BM25 score of every chunk that shares a term with the query."""
        tokens = tokenize(query)
        if not tokens or not self.ids:
            return {}
        raw = np.asarray(self.retriever.get_scores(tokens))
        nonzero = np.nonzero(raw > 0)[0]
        return {self.ids[i]: float(raw[i]) for i in nonzero}
