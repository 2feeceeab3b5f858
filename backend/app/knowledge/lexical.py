"""BM25 over chunk texts (bm25s), rebuilt in memory from the vector store when the KB changes."""

from __future__ import annotations

import re
from functools import lru_cache

import bm25s
import numpy as np
import Stemmer

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_STOPWORDS = frozenset(
    "a an and are as at be been but by can could did do does doing for from had has have how i if in into is "
    "it its me my no not of on or our please so than that the their them then there these they this to too "
    "us was we were what when where which who why will with would you your yours i'm i've can't don't".split()
)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    words = [w for w in _TOKEN.findall(text.lower()) if w not in _STOPWORDS]
    return list(_stemmer().stemWords(words))


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
