"""What search keeps in memory per knowledge-base version: every chunk with both its vectors, and BM25.

Chroma then only has to say which chunks are nearest (ids), in one query per vector kind for a whole
batch of questions; texts, metadata and vectors come from here instead of being decoded from every
query's response (on a batch of 32 that decoding cost more than the search itself). Rebuilt when the
knowledge-base version changes, like the BM25 index always was; a chunk newer than the snapshot (an
ingestion within the version's re-read interval) is fetched from the store.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.knowledge.lexical import LexicalIndex
from app.knowledge.vector_store import StoredChunk, VectorStore


@dataclass(frozen=True)
class Snapshot:
    version: str
    chunks: dict[str, StoredChunk]  # with the passage vector
    heads: dict[str, np.ndarray]  # heading vector by chunk id
    lexical: LexicalIndex

    @classmethod
    def load(cls, store: VectorStore, version: str) -> Snapshot:
        chunks, heads = store.snapshot()
        enriched = [f"{c.metadata.get('title', '')} {c.metadata.get('section', '')} {c.content}" for c in chunks]
        return cls(version=version, chunks={c.id: c for c in chunks}, heads=heads,
                   lexical=LexicalIndex([c.id for c in chunks], enriched))

    def chunk(self, chunk_id: str) -> StoredChunk | None:
        """A caller's own copy of the metadata: hits are handed on, the snapshot is shared."""
        c = self.chunks.get(chunk_id)
        return None if c is None else StoredChunk(c.id, c.content, dict(c.metadata), c.distance, c.embedding)
