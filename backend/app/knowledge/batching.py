"""Dynamic batching: concurrent callers' items are handed to one blocking call, run in a worker thread.

The policy is the one of Hugging Face text-embeddings-inference: the batching task takes whatever is
queued (up to `max_batch` items) as soon as the previous batch is done, so a lone caller starts at
once and adds no latency, while callers that arrive during a batch form the next one. Under load the
batch size grows by itself with the arrival rate; nothing waits for a batch to fill. `max_wait`
(Triton's `max_queue_delay`) optionally holds a batch open for a few more milliseconds after its
first item, but only when another item is already waiting, i.e. when there is load to collect.

The batcher lives in the event loop (one task per loop); the work runs in the batcher's own thread so
the loop keeps serving while the model computes. One thread, always the same: torch keeps its thread
settings and thread pool per calling thread, and batches never run two at a time. Callers that are
cancelled before their batch starts are dropped from it; a batch that raises fails only its callers,
and `work` may return an Exception as one item's result (that caller alone fails).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from app.observability import metrics

log = logging.getLogger("app.knowledge.batching")
T = TypeVar("T")
R = TypeVar("R")


class BatcherClosed(RuntimeError):
    """The batcher was shut down before this item could run."""


@dataclass
class _Entry(Generic[T, R]):
    item: T
    future: asyncio.Future[R]
    queued_at: float = field(default_factory=time.perf_counter)


class MicroBatcher(Generic[T, R]):
    def __init__(self, work: Callable[[list[T]], Sequence[R]], *, max_batch: int = 32, max_wait: float = 0.0,
                 name: str = "batch") -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.work = work
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.name = name
        self._queue: asyncio.Queue[_Entry[T, R]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._running = False
        self._executor: ThreadPoolExecutor | None = None

    async def submit(self, item: T) -> R:
        """The result of `work` for this item, computed together with whatever else is queued."""
        if self._closed:
            raise BatcherClosed(f"{self.name} batcher is closed")
        queue = self._ensure_running()
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        queue.put_nowait(_Entry(item, future))
        return await future  # cancelling this cancels the future, and the entry is skipped

    async def aclose(self) -> None:
        """Fail every queued caller with BatcherClosed, let a running batch deliver, stop the task."""
        self._closed = True
        task, queue = self._task, self._queue
        if task is None or queue is None or task.get_loop() is not asyncio.get_running_loop():
            return
        _fail(_drain(queue, queue.qsize()), BatcherClosed(f"{self.name} batcher closed"))
        if not self._running:
            task.cancel()  # idle or collecting: nothing runs in a thread
        await asyncio.gather(task, return_exceptions=True)
        if self._executor is not None:
            self._executor.shutdown(wait=False)  # idle by now: the task ends after its batch

    def _ensure_running(self) -> asyncio.Queue[_Entry[T, R]]:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._queue is None or self._task is None or self._task.done():
            # First use, or a new event loop (tests, a restarted app): the old loop's task is gone.
            self._loop, self._queue = loop, asyncio.Queue()
            self._task = loop.create_task(self._serve(self._queue), name=f"{self.name}-batcher")
        return self._queue

    async def _serve(self, queue: asyncio.Queue[_Entry[T, R]]) -> None:
        while not self._closed:
            batch = [await queue.get()]
            try:
                if self.max_wait > 0 and not queue.empty():
                    await self._collect(queue, batch)
            except asyncio.CancelledError:
                _fail(batch, BatcherClosed(f"{self.name} batcher closed"))
                raise
            batch += _drain(queue, self.max_batch - len(batch))
            live = [e for e in batch if not e.future.done()]  # callers cancelled while queued
            if live:
                self._running = True
                try:
                    await self._run(live)
                finally:
                    self._running = False

    async def _collect(self, queue: asyncio.Queue[_Entry[T, R]], batch: list[_Entry[T, R]]) -> None:
        deadline = batch[0].queued_at + self.max_wait
        while len(batch) < self.max_batch:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return
            try:
                batch.append(await asyncio.wait_for(queue.get(), remaining))
            except TimeoutError:
                return

    async def _run(self, batch: list[_Entry[T, R]]) -> None:
        started = time.perf_counter()
        metrics.BATCH_SIZE.labels(batcher=self.name).observe(len(batch))
        for entry in batch:
            metrics.BATCH_QUEUE_SECONDS.labels(batcher=self.name).observe(started - entry.queued_at)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.name}-batch")
        running = asyncio.get_running_loop().run_in_executor(self._executor, self.work, [e.item for e in batch])
        try:
            results = await asyncio.shield(running)
            if len(results) != len(batch):
                raise RuntimeError(f"{self.name}: {len(results)} results for {len(batch)} items")
        except asyncio.CancelledError:
            # The thread cannot be interrupted: wait for it, so that no batch touches the model or the
            # store after the task has ended.
            await asyncio.wait([running])
            _fail(batch, BatcherClosed(f"{self.name} batcher closed"))
            raise
        except Exception as exc:
            log.warning("batch.failed", extra={"batcher": self.name, "size": len(batch),
                                               "error": type(exc).__name__})
            _fail(batch, exc)
            return
        for entry, result in zip(batch, results, strict=True):
            if entry.future.done():
                continue
            if isinstance(result, Exception):  # `work` failed this item alone
                entry.future.set_exception(result)
            else:
                entry.future.set_result(result)


def _drain(queue: asyncio.Queue[_Entry[T, R]], limit: int) -> list[_Entry[T, R]]:
    taken: list[_Entry[T, R]] = []
    while len(taken) < limit and not queue.empty():
        taken.append(queue.get_nowait())
    return taken


def _fail(entries: list[_Entry[T, R]], exc: BaseException) -> None:
    for entry in entries:
        if not entry.future.done():
            entry.future.set_exception(exc)
