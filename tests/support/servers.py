"""Start real server processes for tests: Taipan (python -m taipan) and redis-server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise RuntimeError(f"server exited with {proc.returncode}:\n{out}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                # Listening is not enough: a server loading its dataset answers
                # -LOADING until it is done.
                sock.sendall(b"PING\r\n")
                reply = sock.recv(100)
                if reply and not reply.startswith(b"-LOADING"):
                    return  # PONG, or -NOAUTH from a server with a password
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start in {timeout}s")


@dataclass
class ServerProcess:
    port: int
    proc: subprocess.Popen
    workdir: str
    kind: str
    args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def output(self) -> str:
        path = os.path.join(self.workdir, "server.log")
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except OSError:
            return ""


def _spawn(cmd: list[str], port: int, workdir: str, kind: str,
           env: dict[str, str] | None = None) -> ServerProcess:
    log = open(os.path.join(workdir, "server.log"), "wb")
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
                            env=None if env is None else {**os.environ, **env})
    server = ServerProcess(port, proc, workdir, kind, cmd)
    try:
        wait_for_port(port, proc)
    except RuntimeError as exc:
        server.stop()
        raise RuntimeError(f"{exc}\n{server.output()}") from None
    return server


def start_taipan(*extra: str, port: int | None = None,
                 env: dict[str, str] | None = None) -> ServerProcess:
    port = port or free_port()
    workdir = tempfile.mkdtemp(prefix="taipan-test-")
    cmd = [sys.executable, "-m", "taipan", "--port", str(port), "--bind", "127.0.0.1",
           "--enable-debug-command", "yes", "--save", "", *extra]
    return _spawn(cmd, port, workdir, "taipan", env)


def redis_server_path() -> str | None:
    return shutil.which("redis-server")


def start_redis(*extra: str, port: int | None = None) -> ServerProcess:
    path = redis_server_path()
    if path is None:
        raise RuntimeError("redis-server is not installed")
    port = port or free_port()
    workdir = tempfile.mkdtemp(prefix="redis-ref-")
    cmd = [path, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
           "--appendonly", "no", "--enable-debug-command", "yes", "--dir", workdir, *extra]
    return _spawn(cmd, port, workdir, "redis")
