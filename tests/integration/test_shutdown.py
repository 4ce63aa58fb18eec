"""Shutting a server process down: SHUTDOWN, SIGTERM, SIGINT — exit 0, Redis-like log."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess

import pytest
from support.servers import start_taipan

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX signals")

_LINE = r"\d+:M \d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3} [#*.-] "


def _wait(server, timeout: float = 10) -> int:
    try:
        return server.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        raise


def test_shutdown_nosave_exits_cleanly(tmp_path) -> None:
    pidfile = tmp_path / "taipan.pid"
    server = start_taipan("--pidfile", str(pidfile), "--loglevel", "verbose")
    try:
        assert pidfile.read_text().strip() == str(server.proc.pid)
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            other = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sock.sendall(b"*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n")
            assert sock.recv(100) == b""  # no reply: the connection just closes
            assert other.recv(100) == b""  # every client is disconnected
            other.close()
        assert _wait(server) == 0
        log = server.output()
        assert re.search(_LINE + r"User requested shutdown\.\.\.\n", log)
        assert re.search(_LINE + r"Removing the pid file\.\n", log)
        assert re.search(_LINE + r"Taipan is now ready to exit, bye bye\.\.\.\n", log)
        assert not pidfile.exists()
    finally:
        server.stop()


@pytest.mark.parametrize("signum,name", [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")])
def test_signal_shutdown(signum: int, name: str) -> None:
    server = start_taipan()
    try:
        client = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        server.proc.send_signal(signum)
        assert _wait(server) == 0
        assert client.recv(100) == b""
        client.close()
        log = server.output()
        assert re.search(rf"\d+:signal-handler \(\d+\) Received {name} scheduling shutdown\.\.\.\n",
                         log)
        assert re.search(_LINE + r"User requested shutdown\.\.\.\n", log)
        assert log.rstrip().endswith("Taipan is now ready to exit, bye bye...")
        assert "Traceback" not in log
    finally:
        server.stop()
