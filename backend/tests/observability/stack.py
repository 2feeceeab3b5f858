"""A real backend (`python -m app`) and a real Prometheus scraping it, both on loopback, for one test module."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from app.config import REPO_ROOT
from tests.agents.openai_server import FakeOpenAI
from tests.conftest import free_port
from tests.observability.monitoring_files import ALERT_RULE_FILES, PROMETHEUS_DIR, binary

BACKEND_DIR = REPO_ROOT / "backend"
# A few help-center articles: ingestion at start stays quick and its metrics are real.
KB_SAMPLE = ["account-password-reset.md", "returns-policy.md", "shipping-options-and-costs.md"]


def _wait(check: Any, process: subprocess.Popen[bytes], what: str, log: Path, timeout: float) -> None:
    """Poll `check()` until true; fail at once with the log when the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what} not ready after {timeout:g} s:\n{log.read_text()[-4000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class Backend:
    """`python -m app` in multiprocess metrics mode, JSON logs captured to a file."""

    def __init__(self, root: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stdout = root / "backend.stdout.jsonl"
        self.stderr = root / "backend.stderr.log"
        kb = root / "kb"
        kb.mkdir()
        for name in KB_SAMPLE:
            shutil.copy(REPO_ROOT / "docs" / "knowledge-base" / name, kb / name)
        multiproc = root / "prometheus-multiproc"
        multiproc.mkdir()
        self.env = {**os.environ, "ENVIRONMENT": "test", "HOST": "127.0.0.1", "PORT": str(self.port),
                    "RATE_LIMITS_ENABLED": "false", "LLM_STARTUP_CHECK": "false",
                    "DATA_DIR": str(root / "data"), "KNOWLEDGE_BASE_DIR": str(kb), "KB_AUTO_INGEST": "true",
                    "DATABASE_URL": "", "LOG_LEVEL": "INFO", "HEALTH_PROBE_INTERVAL_SECONDS": "1",
                    "PROMETHEUS_MULTIPROC_DIR": str(multiproc), "HF_HUB_OFFLINE": "1",
                    "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **env}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
            self.process = subprocess.Popen([sys.executable, "-m", "app"], cwd=BACKEND_DIR, env=self.env,
                                            stdout=out, stderr=err)
        _wait(lambda: httpx.get(f"{self.url}/health/readiness", timeout=5).status_code == 200,
              self.process, "backend", self.stderr, timeout=180)

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)


class FakeLLM:
    """tests/agents' OpenAI-compatible server (real HTTP and SSE, usage included) on its own event loop in a
    thread, for a synchronous test. Steps appended to `server.script` answer the next requests in order."""

    def __init__(self) -> None:
        self.server = FakeOpenAI()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), name="fake-llm", daemon=True)

    @property
    def url(self) -> str:
        return self.server.url

    async def _serve(self) -> None:
        try:
            self._loop = asyncio.get_running_loop()
            self._done = asyncio.Event()
            async with self.server:  # listening once entered
                self._ready.set()
                await self._done.wait()
        except BaseException as exc:
            self._error = exc
            raise
        finally:
            self._ready.set()

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(timeout=30) or self._error is not None or not self.url:
            raise AssertionError(f"fake LLM server did not start: {self._error!r}")

    def stop(self) -> None:
        if self._loop is not None and self._done is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._done.set)
            self._thread.join(timeout=20)


class Prometheus:
    """The project's prometheus.yml and rules, pointed at the test backend with a 1 s scrape interval."""

    def __init__(self, root: Path, backend_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.root = root
        self.log = root / "prometheus.log"
        config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
        config["global"].update({"scrape_interval": "1s", "evaluation_interval": "1s"})
        config["rule_files"] = [str(path) for path in ALERT_RULE_FILES]
        config.pop("alerting", None)  # no Alertmanager in the test
        targets = {"support-backend": backend_url.removeprefix("http://"), "prometheus": f"127.0.0.1:{self.port}"}
        for job in config["scrape_configs"]:
            job["scrape_interval"] = "1s"
            job["scrape_timeout"] = "1s"
            job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
        self.config = root / "prometheus.yml"
        self.config.write_text(yaml.safe_dump(config))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [binary("prometheus"), f"--config.file={self.config}", f"--storage.tsdb.path={self.root / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
                stdout=log, stderr=subprocess.STDOUT)
        _wait(lambda: httpx.get(f"{self.url}/-/ready", timeout=5).status_code == 200,
              self.process, "prometheus", self.log, timeout=60)

    def query(self, expr: str) -> dict[str, Any]:
        """Instant query; returns Prometheus's JSON (status error carries the parse error)."""
        return httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10).json()

    def value(self, expr: str) -> float | None:
        result = self.query(expr)["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def wait_for(self, expr: str, expected: float, timeout: float = 30) -> None:
        """Until the scraped data shows `expr == expected`: an event, not a fixed sleep."""
        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            seen = self.value(expr)
            if seen is not None and abs(seen - expected) < 1e-9:
                return
            time.sleep(0.25)
        raise AssertionError(f"Prometheus shows {expr} = {seen}, expected {expected}")

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
