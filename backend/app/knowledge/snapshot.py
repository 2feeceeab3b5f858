"""What search keeps in memory per knowledge-base version: every chunk with both its vectors, and BM25.

Chroma then only has to say which chunks are nearest (ids), in one query per vector kind for a whole
batch of questions (and for a small knowledge base not even that: `nearest_ids` here is exact); texts,
metadata and vectors come from here instead of being decoded from every query's response (on a batch
of 32 that decoding cost more than the search itself). Rebuilt when the knowledge-base version
changes, like the BM25 index always was; a chunk newer than the snapshot (an ingestion within the
version's re-read interval) is fetched from the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.knowledge.lexical import LexicalIndex
from app.knowledge.vector_store import StoredChunk, VectorStore


@dataclass(frozen=True)
class Snapshot:
    version: str
    chunks: dict[str, StoredChunk]  # with the passage vector
    heads: dict[str, np.ndarray]  # heading vector by chunk id
    lexical: LexicalIndex
    # Both vector kinds stacked (rows in `*_ids` order), for exact search in memory; None when the
    # knowledge base is larger than the caller's limit (then Chroma's index answers).
    passage_ids: list[str] = field(default_factory=list)
    passage_matrix: np.ndarray | None = None
    head_ids: list[str] = field(default_factory=list)
    head_matrix: np.ndarray | None = None

    @classmethod
    def load(cls, store: VectorStore, version: str, exact_max_chunks: int = 0) -> Snapshot:
        chunks, heads = store.snapshot()
        enriched = [f"{c.metadata.get('title', '')} {c.metadata.get('section', '')} {c.content}" for c in chunks]
        exact = 0 < len(chunks) <= exact_max_chunks and all(c.embedding is not None for c in chunks)
        passage_ids = [c.id for c in chunks] if exact else []
        head_ids = list(heads) if exact else []
        return cls(version=version, chunks={c.id: c for c in chunks}, heads=heads,
                   lexical=LexicalIndex([c.id for c in chunks], enriched),
                   passage_ids=passage_ids, passage_matrix=_stack([c.embedding for c in chunks]) if exact else None,
                   head_ids=head_ids, head_matrix=_stack([heads[i] for i in head_ids]) if exact else None)

    @property
    def exact(self) -> bool:
        return self.passage_matrix is not None

    def nearest_ids(self, queries: np.ndarray, n: int, *, headings: bool = False) -> list[list[str]]:
        """`VectorStore.nearest_ids` answered here, exactly: the `n` chunks of highest cosine similarity
        (the vectors are unit length), nearest first. For a knowledge base of a few thousand chunks this
        is one matrix product, cheaper than a trip through Chroma's index (figures at EXACT_MAX_CHUNKS in
        search.py); tests/knowledge/test_exact_search.py checks it finds what the index finds."""
        ids, matrix = (self.head_ids, self.head_matrix) if headings else (self.passage_ids, self.passage_matrix)
        if matrix is None:
            raise RuntimeError("this snapshot keeps no vectors for exact search")
        if n <= 0 or not ids or len(queries) == 0:
            return [[] for _ in range(len(queries))]
        scores = queries @ matrix.T
        k = min(n, len(ids))
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]  # the k best, unordered
        ordered = np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, 1), axis=1, kind="stable"), 1)
        return [[ids[j] for j in row] for row in ordered]

    def chunk(self, chunk_id: str) -> StoredChunk | None:
        """A caller's own copy of the metadata: hits are handed on, the snapshot is shared."""
        c = self.chunks.get(chunk_id)
        return None if c is None else StoredChunk(c.id, c.content, dict(c.metadata), c.distance, c.embedding)


def _stack(vectors: list[np.ndarray | None]) -> np.ndarray:
    matrix = np.stack([np.asarray(v, dtype=np.float32) for v in vectors]) if vectors else np.zeros((0, 0), np.float32)
    matrix.flags.writeable = False
    return matrix
