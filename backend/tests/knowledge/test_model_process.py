"""The model in a child process (EMBEDDING_PROCESS, the server's default): same vectors as in this
process, a child that dies costs only the call it was running, and a child never outlives its server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pytest

from app.knowledge.embeddings import Embedder, load_embedder

TEXTS = ["where is my parcel", "how do I return boots", "Can I change the delivery address of an order?"]


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in state  # exited, waiting for whoever adopted it to reap it


def _wait(condition, seconds: float = 30.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_the_child_gives_the_vectors_of_the_model_in_this_process() -> None:
    child, here = load_embedder("", process=True), load_embedder("")
    assert child.model is None and child.process is not None and child.process.pid() != os.getpid()
    assert child.dimension == here.dimension == 384
    np.testing.assert_allclose(child.encode_array(TEXTS, threads=1), here.encode_array(TEXTS), atol=1e-5)
    np.testing.assert_allclose(child.encode_array(TEXTS[:1], remember=True)[0], here.encode_array(TEXTS[:1])[0],
                               atol=1e-5)
    assert child.encode_array([]).shape == (0, 384)


def test_the_childs_openmp_threads_wait_passively_unless_the_operator_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spinning OpenMP threads took half the child's CPU from the event loop's cores: the child sets the
    passive policy before torch loads, and leaves this process's environment alone."""
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    embedder = Embedder("", process=True)
    try:
        assert embedder.process is not None
        child_env = embedder.process._pool.submit(os.getenv, "OMP_WAIT_POLICY").result(timeout=60)
        loaded_after = embedder.process._pool.submit(_torch_loaded_after_policy).result(timeout=60)
    finally:
        assert embedder.process is not None
        embedder.process.close()
    assert child_env == "PASSIVE" and loaded_after
    assert "OMP_WAIT_POLICY" not in os.environ
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    embedder = Embedder("", process=True)
    try:
        assert embedder.process is not None
        assert embedder.process._pool.submit(os.getenv, "OMP_WAIT_POLICY").result(timeout=60) == "ACTIVE"
    finally:
        embedder.process.close()


def _torch_loaded_after_policy() -> bool:
    """In the child: the policy was set before torch was imported, and torch's OpenMP runtime (which
    reads it once, when loaded) is loaded now."""
    from app.knowledge import embeddings

    return embeddings._child_policy_before_torch is True and "libgomp" in Path("/proc/self/maps").read_text()


@pytest.fixture(scope="module")
def own_child():  # noqa: ANN201 - a child of its own, not the apps' one: these tests kill it
    embedder = Embedder("", process=True)
    yield embedder
    assert embedder.process is not None
    embedder.process.close()


def test_a_child_killed_while_idle_is_replaced_without_failing_the_next_call(own_child: Embedder) -> None:
    process = own_child.process
    assert process is not None
    first = process.pid()
    assert first is not None
    os.kill(first, signal.SIGKILL)
    assert _wait(lambda: process.broken)  # the pool has seen it die
    vectors = own_child.encode_array(TEXTS)
    assert vectors.shape == (3, 384)
    assert process.pid() not in (None, first)


def test_a_child_killed_while_encoding_fails_that_call_only(own_child: Embedder) -> None:
    process = own_child.process
    assert process is not None
    first = process.pid()
    assert first is not None
    outcome: list[BaseException | np.ndarray] = []

    def encode_many() -> None:
        try:
            outcome.append(own_child.encode_array([f"question number {i} about parcels" for i in range(20_000)]))
        except BaseException as exc:  # noqa: BLE001 - what the caller got is the point
            outcome.append(exc)

    worker = threading.Thread(target=encode_many)
    worker.start()
    # The child is busy once its CPU time grows (it has the 20,000 texts); then kill it.
    stat = Path(f"/proc/{first}/stat")
    start = sum(int(x) for x in stat.read_text().rsplit(")", 1)[1].split()[11:13])
    assert _wait(lambda: sum(int(x) for x in stat.read_text().rsplit(")", 1)[1].split()[11:13]) > start + 20)
    os.kill(first, signal.SIGKILL)
    worker.join(60)
    assert len(outcome) == 1 and isinstance(outcome[0], BrokenProcessPool)
    assert own_child.encode_array(TEXTS).shape == (3, 384)
    assert process.pid() not in (None, first)


SERVER = """
import sys, time
from app.knowledge.embeddings import Embedder
embedder = Embedder("", process=True)
embedder.encode_array(["hello"])
print(embedder.process.pid(), flush=True)
time.sleep(600)
"""


def test_the_child_ends_when_its_server_is_killed() -> None:
    backend = Path(__file__).resolve().parents[2]
    server = subprocess.Popen([sys.executable, "-c", SERVER], cwd=backend, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        child = int(server.stdout.readline())
        assert not _gone(child)
        server.kill()  # SIGKILL: no shutdown of the pool, no atexit
        server.wait(30)
        assert _wait(lambda: _gone(child), 30), "the child outlived its server"
    finally:
        server.kill()
