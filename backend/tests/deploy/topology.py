"""The production topology as plain processes on loopback: Debian's nginx with deploy/nginx/nginx.conf, N
`python -m app` replicas on PostgreSQL + Redis + a `chroma run` server, and Prometheus with the prod
scrape config. Only addresses change: compose service names become 127.0.0.1 ports."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from app.config import REPO_ROOT
from tests.conftest import free_port
from tests.deploy.deploy_files import BACKEND_PORT, NGINX_CONF, NGINX_DIR, PROD_PROMETHEUS, missing, tool
from tests.observability.monitoring_files import ALERT_RULE_FILES
from tests.observability.stack import _stop, _wait

BACKEND_DIR = REPO_ROOT / "backend"


class Process:
    """A server process with its output in a log file."""

    def __init__(self, name: str, args: list[str], log_dir: Path, **popen: Any) -> None:
        self.name = name
        self.log = log_dir / f"{name}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, **popen)

    def wait_http(self, url: str, timeout: float, ok: tuple[int, ...] = (200,)) -> None:
        _wait(lambda: httpx.get(url, timeout=5).status_code in ok, self.process, self.name, self.log, timeout)

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, no goodbye frames, as when a machine dies."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def rss_mib(self) -> float:
        """The process and its children (a backend's model process, its file parser), resident."""
        # Each thread lists the children it started (the model process is started from a worker thread);
        # a worker thread may end while this reads.
        children: list[str] = []
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            try:
                children += (task / "children").read_text().split()
            except FileNotFoundError:
                continue
        total = 0
        for pid in [str(self.process.pid), *children]:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except FileNotFoundError:  # a child that has just exited
                continue
            match = re.search(r"^VmRSS:\s+(\d+) kB", status, flags=re.M)
            total += int(match.group(1)) if match else 0  # a zombie has no VmRSS line
        assert total, f"no memory read for {self.process.pid}"
        return total / 1024

    def stop(self) -> None:
        _stop(self.process)


def chroma_server(log_dir: Path) -> tuple[Process, int]:
    port = free_port()
    binary = tool("chroma", "the chromadb package's CLI, installed with the backend") \
        if not (Path(sys.executable).parent / "chroma").exists() else str(Path(sys.executable).parent / "chroma")
    server = Process("chroma", [binary, "run", "--host", "127.0.0.1", "--port", str(port),
                                "--path", str(log_dir / "chroma-data")], log_dir)
    server.wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=60)
    return server, port


def backend(name: str, env: dict[str, str], log_dir: Path) -> tuple[Process, int]:
    """`python -m app`, as the image's CMD runs it. Started, not waited for (replicas start in parallel)."""
    port = free_port()
    process = Process(name, [sys.executable, "-m", "app"], log_dir, cwd=BACKEND_DIR,
                      env={**env, "PORT": str(port), "HOST": "127.0.0.1"})
    return process, port


def migrate(env: dict[str, str], log_dir: Path) -> None:
    """The compose file's one-shot `migrate` job: `python -m app.db.migrate`."""
    job = Process("migrate", [sys.executable, "-m", "app.db.migrate"], log_dir, cwd=BACKEND_DIR, env=env)
    assert job.process.wait(timeout=120) == 0, job.log.read_text()[-3000:]


def nginx_config(upstreams: dict[str, int], listen_port: int, tls_port: int, workdir: Path) -> Path:
    """deploy/nginx/nginx.conf with only its `server backend-N:8000` and `listen 80` lines pointed at
    loopback. The folder it includes (mounted at /etc/nginx/support-agent in compose) gets the
    repository's locations.conf and, as conf.d/tls.conf, the TLS example with a throwaway certificate."""
    text = NGINX_CONF.read_text()
    for service, port in upstreams.items():
        text, count = re.subn(rf"(\n\s*server\s+){re.escape(service)}:{BACKEND_PORT}\b", rf"\g<1>127.0.0.1:{port}",
                              text)
        assert count == 1, f"{service} is not in the nginx upstream"
    text, count = re.subn(r"(\n\s*listen\s+)80\b", rf"\g<1>127.0.0.1:{listen_port}", text)
    assert count == 1, "nginx.conf should listen on port 80 exactly once"
    conf_dir = workdir / "nginx"
    included = conf_dir / "support-agent"
    (included / "conf.d").mkdir(parents=True)
    (included / "locations.conf").symlink_to(NGINX_DIR / "locations.conf")
    certs = conf_dir / "certs"
    certs.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1",
                    "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(certs / "privkey.pem"), "-out", str(certs / "fullchain.pem")],
                   check=True, capture_output=True, timeout=60)
    tls, count = re.subn(r"(\n\s*listen\s+)443\b", rf"\g<1>127.0.0.1:{tls_port}",
                         (NGINX_DIR / "conf.d" / "tls.conf.example").read_text())
    assert count == 1, "tls.conf.example should listen on 443 exactly once"
    (included / "conf.d" / "tls.conf").write_text(tls.replace("/etc/nginx/certs/", f"{certs}/"))
    (conf_dir / "nginx.conf").write_text(text)
    return conf_dir / "nginx.conf"


def nginx(upstreams: dict[str, int], log_dir: Path) -> tuple[Process, int, int]:
    """Debian's nginx on the prod config; returns the process, the HTTP port and the HTTPS port."""
    binary = tool("nginx", "`make test` installs Debian's nginx package (make deploy-tools)")
    tool("openssl", "Debian's openssl package (the TLS server needs a certificate)")
    if os.geteuid() != 0 and not os.access("/var/lib/nginx", os.W_OK):
        # Debian's build keeps its temp folders there; only the http block could move them.
        missing("nginx needs root (or a writable /var/lib/nginx) for its temp folders; CI runs as root")
    port, tls_port = free_port(), free_port()
    config = nginx_config(upstreams, port, tls_port, log_dir)
    check = subprocess.run([binary, "-t", "-c", str(config), "-e", "stderr", "-g", f"pid {log_dir}/nginx.pid;"],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    server = Process("nginx", [binary, "-c", str(config), "-e", "stderr",
                               "-g", f"daemon off; pid {log_dir}/nginx.pid;"], log_dir)
    server.wait_http(f"http://127.0.0.1:{port}/nginx-health", timeout=30)
    return server, port, tls_port


def prometheus(targets: dict[str, int], log_dir: Path) -> tuple[Process, str]:
    """monitoring/prometheus/prometheus.prod.yml with its targets on loopback and a 1 s interval."""
    binary = tool("prometheus", "`make test` installs Debian's prometheus package (make monitoring-tools)")
    port = free_port()
    config = yaml.safe_load(PROD_PROMETHEUS.read_text())
    config["global"].update({"scrape_interval": "1s", "evaluation_interval": "1s"})
    config["rule_files"] = [str(path) for path in ALERT_RULE_FILES]
    config.pop("alerting")  # no Alertmanager here
    for job in config["scrape_configs"]:
        job.update({"scrape_interval": "1s", "scrape_timeout": "1s"})
        for static in job["static_configs"]:
            static["targets"] = [f"127.0.0.1:{targets[t.split(':')[0]]}" if t.split(":")[0] in targets
                                 else f"127.0.0.1:{port}" for t in static["targets"]]
    path = log_dir / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    url = f"http://127.0.0.1:{port}"
    server = Process("prometheus", [binary, f"--config.file={path}", f"--storage.tsdb.path={log_dir / 'tsdb'}",
                                    f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"], log_dir)
    server.wait_http(f"{url}/-/ready", timeout=60)
    return server, url


def wait_for_targets(url: str, expected: dict[str, float], timeout: float = 30) -> None:
    """Until Prometheus's `up` for each target is as expected: scraped data, not a fixed sleep."""
    deadline = time.monotonic() + timeout
    seen: dict[str, float] = {}
    while time.monotonic() < deadline:
        result = httpx.get(f"{url}/api/v1/query", params={"query": 'up{job="support-backend"}'}, timeout=10).json()
        seen = {r["metric"]["instance"]: float(r["value"][1]) for r in result["data"]["result"]}
        if seen == expected:
            return
        time.sleep(0.25)
    raise AssertionError(f"Prometheus shows up = {seen}, expected {expected}")


def clean_env(**values: str) -> dict[str, str]:
    """This process's environment without the settings a developer's shell might carry, plus `values`."""
    from app.config import Settings

    settings = {name.upper() for name in Settings.model_fields}
    base = {k: v for k, v in os.environ.items() if k not in settings and k != "PROMETHEUS_MULTIPROC_DIR"}
    return {**base, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **values}
