"""Start redis-server and Taipan as child processes and read their /proc figures."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from bench.parsing import proc_stat_cpu_seconds, proc_status_rss_bytes

REPO = Path(__file__).resolve().parent.parent
# The tree Taipan runs from: this checkout (pure Python), or TAIPAN_BENCH_TREE, e.g. a
# copy with the compiled modules built in place (``--tree build/compiled``).
TREE = os.environ.get("TAIPAN_BENCH_TREE") or str(REPO)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One server process on a free port, with its own scratch directory and log."""

    def __init__(self, kind: str, cmd: list[str], port: int, workdir: str) -> None:
        self.kind = kind
        self.port = port
        self.workdir = workdir
        self.log_path = os.path.join(workdir, "server.log")
        self.final_log = ""
        env = dict(os.environ)
        if kind == "taipan":  # run this checkout's Taipan, installed or not
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [TREE, env.get("PYTHONPATH")]))
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=log,
                                         stderr=subprocess.STDOUT)
        self._wait_ready()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}:\n"
                                   f"{self.log_tail()}")
            try:
                if self.client().ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.kind} on port {self.port} not ready in {timeout}s")

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=60, decode_responses=True)

    def cpu_seconds(self) -> float:
        """utime + stime of the server process so far (all its threads)."""
        with open(f"/proc/{self.pid}/stat") as handle:
            return proc_stat_cpu_seconds(handle.read(), CLOCK_TICKS)

    def rss_bytes(self) -> int:
        with open(f"/proc/{self.pid}/status") as handle:
            return proc_status_rss_bytes(handle.read())

    def info(self, section: str = "memory") -> dict:
        client = self.client()
        try:
            return client.info(section)
        finally:
            client.close()

    def log_tail(self, lines: int = 30) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as handle:
                return "".join(handle.readlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the server; its log survives in ``self.final_log``, the directory does not."""
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.final_log = self.log_tail(200)
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_redis(extra: tuple[str, ...] = ()) -> Server:
    path = shutil.which("redis-server")
    if path is None:
        raise RuntimeError("redis-server is not installed (apt-get install -y redis-server)")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="bench-redis-")
    cmd = [path, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
           "--appendonly", "no", "--dir", workdir, *extra]
    return Server("redis", cmd, port, workdir)


def start_taipan(extra: tuple[str, ...] = ()) -> Server:
    """``extra``: more ``--directive value`` arguments (both servers take the same)."""
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="bench-taipan-")
    cmd = [sys.executable, "-m", "taipan", "--port", str(port), "--bind", "127.0.0.1",
           "--save", "", "--dir", workdir, *extra]
    return Server("taipan", cmd, port, workdir)


def versions() -> dict[str, str]:
    def first_line(cmd: list[str], env: dict | None = None) -> str:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env=env)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "unknown"

    env = dict(os.environ, PYTHONPATH=TREE)
    try:
        import uvloop  # noqa: F401
        loop = "uvloop"
    except ImportError:
        loop = "asyncio"
    if os.environ.get("TAIPAN_NO_UVLOOP"):
        loop = "asyncio (TAIPAN_NO_UVLOOP)"
    return {
        "redis_server": first_line(["redis-server", "--version"]),
        "redis_benchmark": first_line(["redis-benchmark", "--version"]),
        "taipan": first_line([sys.executable, "-m", "taipan", "--version"], env),
        "taipan_event_loop": loop,
        "python": sys.version.split()[0],
    }
