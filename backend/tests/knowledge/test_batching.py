"""MicroBatcher: concurrent callers share one call of the work function, and each gets its own answer.

The work function runs in a real worker thread; a gate (threading.Event) holds the first batch in it
so that later callers provably queue behind it and form the next batch.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from app.knowledge.batching import BatcherClosed, MicroBatcher


class GatedWork:
    """Records every batch; the first one waits in its thread until `release()`."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.started = threading.Event()
        self.gate = threading.Event()
        self.fail_on = fail_on

    def __call__(self, items: list[str]) -> list[str]:
        self.batches.append(list(items))
        if len(self.batches) == 1:
            self.started.set()
            assert self.gate.wait(30), "the test never released the first batch"
        if self.fail_on is not None and self.fail_on in items:
            raise ValueError(f"cannot process {self.fail_on}")
        return [item.upper() for item in items]

    async def first_batch_running(self) -> None:
        assert await asyncio.to_thread(self.started.wait, 30)

    def release(self) -> None:
        self.gate.set()


async def until_queued(batcher: MicroBatcher[str, str], n: int) -> None:
    """Let submitted tasks reach the queue (they need a turn of the event loop each)."""
    for _ in range(100):
        if batcher._queue is not None and batcher._queue.qsize() >= n:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{n} items never queued")


async def test_each_caller_gets_its_own_result_and_waiting_callers_share_one_batch() -> None:
    work = GatedWork()
    batcher: MicroBatcher[str, str] = MicroBatcher(work, max_batch=32)
    first = asyncio.create_task(batcher.submit("first"))
    await work.first_batch_running()
    words = [f"word{i}" for i in range(20)]
    rest = [asyncio.create_task(batcher.submit(w)) for w in words]
    await until_queued(batcher, len(words))
    work.release()

    assert await first == "FIRST"
    assert await asyncio.gather(*rest) == [w.upper() for w in words]
    assert work.batches == [["first"], words]  # the lone first caller did not wait for company
    await batcher.aclose()


async def test_a_batch_never_exceeds_max_batch() -> None:
    work = GatedWork()
    batcher: MicroBatcher[str, str] = MicroBatcher(work, max_batch=4)
    first = asyncio.create_task(batcher.submit("first"))
    await work.first_batch_running()
    words = [f"w{i}" for i in range(10)]
    rest = [asyncio.create_task(batcher.submit(w)) for w in words]
    await until_queued(batcher, len(words))
    work.release()

    assert await asyncio.gather(first, *rest) == ["FIRST", *(w.upper() for w in words)]
    assert work.batches == [["first"], words[0:4], words[4:8], words[8:10]]
    await batcher.aclose()


async def test_a_failed_batch_fails_only_its_own_callers() -> None:
    work = GatedWork(fail_on="bad")
    batcher: MicroBatcher[str, str] = MicroBatcher(work)
    first = asyncio.create_task(batcher.submit("first"))
    await work.first_batch_running()
    bad, neighbour = asyncio.create_task(batcher.submit("bad")), asyncio.create_task(batcher.submit("same-batch"))
    await until_queued(batcher, 2)
    work.release()

    assert await first == "FIRST"
    with pytest.raises(ValueError, match="cannot process bad"):
        await bad
    with pytest.raises(ValueError, match="cannot process bad"):
        await neighbour  # shared the failing call
    assert await batcher.submit("later") == "LATER"  # the batcher carries on
    assert work.batches == [["first"], ["bad", "same-batch"], ["later"]]
    await batcher.aclose()


async def test_a_work_function_returning_the_wrong_number_of_results_fails_its_batch() -> None:
    batcher: MicroBatcher[str, str] = MicroBatcher(lambda items: items[:-1])
    with pytest.raises(RuntimeError, match="0 results for 1 items"):
        await batcher.submit("x")
    await batcher.aclose()


async def test_a_cancelled_waiting_caller_is_left_out_and_the_others_are_served() -> None:
    work = GatedWork()
    batcher: MicroBatcher[str, str] = MicroBatcher(work)
    first = asyncio.create_task(batcher.submit("first"))
    await work.first_batch_running()
    tasks = {w: asyncio.create_task(batcher.submit(w)) for w in ("a", "b", "c")}
    await until_queued(batcher, 3)
    tasks["b"].cancel()
    work.release()

    assert await first == "FIRST"
    assert await tasks["a"] == "A"
    assert await tasks["c"] == "C"
    with pytest.raises(asyncio.CancelledError):
        await tasks["b"]
    assert work.batches == [["first"], ["a", "c"]]
    await batcher.aclose()


async def test_a_caller_cancelled_while_its_batch_runs_does_not_disturb_the_others() -> None:
    work = GatedWork()
    batcher: MicroBatcher[str, str] = MicroBatcher(work)
    first = asyncio.create_task(batcher.submit("first"))
    await work.first_batch_running()
    first.cancel()
    work.release()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await batcher.submit("next") == "NEXT"
    await batcher.aclose()


async def test_shutdown_fails_pending_callers_lets_the_running_batch_finish_and_refuses_new_ones() -> None:
    work = GatedWork()
    batcher: MicroBatcher[str, str] = MicroBatcher(work)
    running = asyncio.create_task(batcher.submit("running"))
    await work.first_batch_running()
    pending = asyncio.create_task(batcher.submit("pending"))
    await until_queued(batcher, 1)
    closing = asyncio.create_task(batcher.aclose())

    with pytest.raises(BatcherClosed):
        await pending  # failed at once, while the running batch is still in its thread
    assert not closing.done()  # shutdown waits for the thread
    work.release()
    await closing
    assert await running == "RUNNING"
    assert work.batches == [["running"]]
    with pytest.raises(BatcherClosed):
        await batcher.submit("after")


async def test_shutdown_of_an_idle_batcher_returns() -> None:
    batcher: MicroBatcher[str, str] = MicroBatcher(lambda items: items)
    assert await batcher.submit("x") == "x"
    await batcher.aclose()
    with pytest.raises(BatcherClosed):
        await batcher.submit("y")


async def test_max_wait_collects_callers_that_arrive_during_the_window() -> None:
    work = GatedWork()
    work.release()  # no gate: only the window can put the callers together
    batcher: MicroBatcher[str, str] = MicroBatcher(work, max_wait=30.0, max_batch=3)
    # The window opens only when something is already waiting behind the first item.
    assert await asyncio.gather(*(batcher.submit(w) for w in ("a", "b", "c"))) == ["A", "B", "C"]
    assert work.batches == [["a", "b", "c"]]  # closed by max_batch, long before 30 s
    await batcher.aclose()


async def test_every_batch_runs_in_the_batchers_one_thread_off_the_event_loop() -> None:
    threads: list[int] = []

    def work(items: list[str]) -> list[str]:
        threads.append(threading.get_ident())
        return items

    batcher: MicroBatcher[str, str] = MicroBatcher(work)
    for word in ("a", "b", "c"):
        assert await batcher.submit(word) == word
    assert len(threads) == 3 and len(set(threads)) == 1
    assert threads[0] != threading.get_ident()
    await batcher.aclose()
