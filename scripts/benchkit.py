"""What the load benchmarks share: distinct questions, a help center to serve, the model's raw speed.

Imported by bench_api.py and bench_ws.py (scripts/ is on sys.path when they run). The questions come
from a BEIR-style queries.jsonl (`{"_id", "text"}` per line) and are never repeated within a run, so
the query cache cannot flatter the numbers. The knowledge base is a folder of documents, or a BEIR
dataset folder whose corpus.jsonl is written out as one Markdown document per entry (as
eval_retrieval.py does).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATASET = Path("../shared/eval/covidfaq")  # relative to the working directory, like the README


def load_questions(path: Path) -> list[str]:
    """Distinct question texts, in file order (duplicates and blanks dropped)."""
    if not path.is_file():
        raise SystemExit(f"queries file not found: {path} (pass --queries)")
    seen: dict[str, None] = {}
    with path.open() as handle:
        for line in handle:
            if line.strip():
                text = str(json.loads(line).get("text", "")).strip()
                if text:
                    seen.setdefault(text, None)
    return list(seen)


class Questions:
    """Hands out each question once; running out is an error, not a silent repeat."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.used = 0

    def take(self, n: int) -> list[str]:
        if self.used + n > len(self.texts):
            raise SystemExit(f"needs {self.used + n} distinct questions, the file has {len(self.texts)}: "
                             "lower --messages/--turns or pass a bigger --queries file")
        taken = self.texts[self.used:self.used + n]
        self.used += n
        return taken


def knowledge_folder(kb: Path, workdir: Path) -> Path:
    """A folder the server can ingest: `kb` itself, or its corpus.jsonl written out as Markdown."""
    corpus = kb / "corpus.jsonl"
    if not corpus.is_file():
        if not kb.is_dir():
            raise SystemExit(f"knowledge base not found: {kb} (pass --kb)")
        return kb
    out = workdir / "kb"
    out.mkdir(parents=True, exist_ok=True)
    with corpus.open() as handle:
        for line in handle:
            row = json.loads(line)
            title, text = row.get("title", ""), row.get("text", "")
            (out / f"{row['_id']}.md").write_text(f"# {title}\n\n{text}\n" if title else text)
    return out


def raw_encode_rates(questions: list[str], batch: int = 32, threads: tuple[int, ...] = (1, 2)) -> dict[str, float]:
    """Queries/s of the bare model, one at a time and in batches, on the same machine in the same run.

    Measured with each torch thread count in `threads`; the reference rates are the best of them (the
    server must beat the model at its best, not at a setting that suits batching). Also the CPU time
    per query (this process, all threads): on a machine shared with other work the wall-clock rates
    move with the neighbours' load, CPU time much less.
    """
    sys.path.insert(0, str(ROOT / "backend"))
    import torch

    from app.knowledge.embeddings import load_embedder

    embedder = load_embedder("")
    default_threads = torch.get_num_threads()
    out: dict[str, float] = {}
    try:
        for n in threads:
            torch.set_num_threads(n)
            embedder.encode(questions[:batch])  # warm-up: first calls allocate and pick kernels
            wall, cpu = time.perf_counter(), time.process_time()
            for text in questions:
                embedder.encode([text])
            single, single_cpu = time.perf_counter() - wall, time.process_time() - cpu
            wall, cpu = time.perf_counter(), time.process_time()
            for i in range(0, len(questions), batch):
                embedder.encode(questions[i:i + batch])
            batched, batched_cpu = time.perf_counter() - wall, time.process_time() - cpu
            k = len(questions)
            out.update({f"threads{n}_single_per_s": round(k / single, 1),
                        f"threads{n}_batch_per_s": round(k / batched, 1),
                        f"threads{n}_single_cpu_ms": round(1000 * single_cpu / k, 2),
                        f"threads{n}_batch_cpu_ms": round(1000 * batched_cpu / k, 2)})
    finally:
        torch.set_num_threads(default_threads)
    single_rate = max(out[f"threads{n}_single_per_s"] for n in threads)
    batch_rate = max(out[f"threads{n}_batch_per_s"] for n in threads)
    return {"raw_single_per_s": single_rate, f"raw_batch{batch}_per_s": batch_rate,
            "raw_batch_ratio": round(batch_rate / single_rate, 2), **out}


def mean_rates(*runs: dict[str, float]) -> dict[str, float]:
    """The raw rates averaged over measurements taken before and after the load (the machine drifts)."""
    return {key: round(sum(r[key] for r in runs) / len(runs), 2) for key in runs[0]}


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads, and of its running children (the server's
    model process, its file parser): from /proc, Linux. A child that exits between two readings takes
    its time with it; the server's children live as long as it does."""
    def own(p: str) -> int:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            return 0
        return int(fields[11]) + int(fields[12])

    return sum(own(p) for p in [str(pid), *child_pids(pid)]) / os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[str]:
    """Every thread's children: /proc lists a child under the thread that started it (the model process
    is started from a worker thread). A thread may end while this reads (the server's worker threads do)."""
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children += (task / "children").read_text().split()
        except FileNotFoundError:
            continue
    return children


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def stop_server(process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    """SIGTERM, then SIGKILL after 20 s, and close its log."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()

