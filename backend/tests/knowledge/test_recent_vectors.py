"""The embedder's memory of recent texts: a turn's message is encoded once for escalation and search."""

from __future__ import annotations

import numpy as np

from app.knowledge.embeddings import load_embedder


class CountingModel:
    """The real model, counting the texts it is asked to encode."""

    def __init__(self, model) -> None:  # noqa: ANN001
        self.model, self.texts = model, []

    def encode(self, texts, **kwargs):  # noqa: ANN001, ANN003, ANN201
        self.texts += list(texts)
        return self.model.encode(texts, **kwargs)


def test_remembered_texts_are_not_encoded_again_and_get_the_same_vectors() -> None:
    embedder = load_embedder("")
    embedder._recent.clear()  # the process's one embedder: other tests' searches may have remembered these
    fresh = embedder.encode_array(["where is my parcel", "how do I return boots"])
    counting = CountingModel(embedder.model)
    embedder.model = counting
    try:
        first = embedder.encode_array(["where is my parcel", "where is my parcel"], remember=True)
        again = embedder.encode_array(["how do I return boots", "where is my parcel"], remember=True)
        assert counting.texts == ["where is my parcel", "how do I return boots"]  # each once
        np.testing.assert_allclose(first[0], fresh[0], atol=1e-6)
        np.testing.assert_allclose(again, fresh[::-1], atol=1e-6)
        # Without `remember` (ingestion, measurements) every call encodes.
        embedder.encode_array(["where is my parcel"])
        assert counting.texts[-1] == "where is my parcel" and len(counting.texts) == 3
        assert embedder.encode_array([], remember=True).shape == (0, embedder.dimension)
    finally:
        embedder.model = counting.model
        embedder._recent.clear()


def test_the_memory_is_bounded() -> None:
    embedder = load_embedder("")
    size, embedder.recent_size = embedder.recent_size, 3
    try:
        embedder.encode_array([f"question number {i}" for i in range(10)], remember=True)
        assert list(embedder._recent) == [f"question number {i}" for i in (7, 8, 9)]
    finally:
        embedder.recent_size = size
        embedder._recent.clear()


def test_a_lone_text_is_encoded_on_one_thread_and_a_batch_on_the_configured_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    import torch

    embedder = load_embedder("")
    seen: list[int] = []

    class ThreadsModel(CountingModel):
        def encode(self, texts, **kwargs):  # noqa: ANN001, ANN003, ANN201
            seen.append(torch.get_num_threads())
            return super().encode(texts, **kwargs)

    def run() -> None:  # a thread of its own: torch keeps the setting per calling thread
        original = embedder.model
        embedder.model = ThreadsModel(original)
        try:
            embedder.encode_array(["one question"], threads=2)
            embedder.encode_array(["a first question", "a second one"], threads=2)
            embedder._recent.clear()
            embedder.encode_array(["a third", "a third", "x"], threads=2, remember=True)  # two to encode
            embedder.encode_array(["a third", "a fourth"], threads=2, remember=True)  # one left to encode
        finally:
            embedder.model = original

    with ThreadPoolExecutor(1) as pool:
        pool.submit(run).result()
    assert seen == [1, 2, 2, 1]
