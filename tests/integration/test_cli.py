"""The command line: ``taipan-server``/``python -m taipan`` as redis-server behaves."""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from support.servers import free_port, redis_server_path, wait_for_port

from taipan import __version__, cli


def _run(*args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=30,
                          cwd=cwd)


def test_version_via_module() -> None:
    result = _run(sys.executable, "-m", "taipan", "--version")
    assert result.returncode == 0
    assert result.stdout.startswith(f"Taipan server v={__version__} redis_version=7.0.15 ")


@pytest.mark.skipif(shutil.which("taipan-server") is None, reason="package not installed")
def test_version_via_console_script() -> None:
    result = _run("taipan-server", "-v")
    assert result.returncode == 0 and result.stdout.startswith("Taipan server v=")


@pytest.fixture
def never_serve(monkeypatch) -> None:
    """In-process ``cli.main`` must stop at the configuration, never start serving."""

    def refuse(config: object) -> int:
        raise AssertionError("the configuration was accepted: a server would start")

    monkeypatch.setattr(cli, "_run", refuse)


def test_help_exits_1_with_usage(capsys) -> None:
    assert cli.main(["--help"]) == 1
    assert capsys.readouterr().err.startswith("Usage: ./taipan-server [/path/to/redis.conf]")


def test_config_file_include_and_overrides(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "extra.conf").write_text("timeout 5\nmaxmemory 2mb\n")
    config = tmp_path / "taipan.conf"
    config.write_text(f"# comment\nport 1\nbind 127.0.0.1\nmaxclients 123\n"
                      f"include {tmp_path / 'extra.conf'}\nsave 100 10\nsave 200 20\n"
                      f'requirepass "pass word"\nenable-debug-command yes\n')
    log = open(tmp_path / "out.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "taipan", str(config), "--port", str(port),
                             "--maxmemory", "3mb", "--dir", str(tmp_path)],
                            stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        wait_for_port(port, proc)
        r = redis.Redis(port=port, password="pass word", decode_responses=True)
        assert r.config_get("maxclients") == {"maxclients": "123"}
        assert r.config_get("timeout") == {"timeout": "5"}
        assert r.config_get("maxmemory") == {"maxmemory": str(3 * 1024 * 1024)}  # last wins
        assert r.config_get("save") == {"save": "100 10 200 20"}
        assert r.info("server")["config_file"] == str(config)
        r.close()
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(b'AUTH "pass word"\r\nSHUTDOWN NOSAVE\r\n')
            assert sock.recv(100) == b"+OK\r\n"
    finally:
        assert proc.wait(10) == 0
        log.close()
    assert "Configuration loaded" in (tmp_path / "out.log").read_text()


BAD_CONFIGS = [
    "port 1234\nmaxclients abc\n", "port 1234\nnosuch 5\n", 'port 1234\nsave "a\n',
    "maxmemory-policy foo\n", "appendonly maybe\n", "port\n", "save 10 b\n", "save 10\n",
    "maxclients   5  \n  port 0x\n", "MAXCLIENTS 5\nport 5 6\n", "loglevel nothing\n",
    "unixsocketperm 778\n", "client-output-buffer-limit normal 1 2\n", "hz 1\nhz x\n",
    "io-threads 129\n", "oom-score-adj-values 1 2\n", "include\n",
    "rename-command GET\n", 'dir "/no/such/dir"\n', "notify-keyspace-events Z\n",
]


@pytest.mark.skipif(redis_server_path() is None, reason="needs redis-server")
@pytest.mark.parametrize("text", BAD_CONFIGS)
def test_config_file_errors_match_redis(tmp_path: Path, text: str, capsys, never_serve) -> None:
    path = tmp_path / "bad.conf"
    path.write_text(text)
    expected = _run(redis_server_path(), str(path))
    assert expected.returncode == 1
    assert cli.main([str(path)]) == 1
    assert capsys.readouterr().err == expected.stderr


@pytest.mark.skipif(redis_server_path() is None, reason="needs redis-server")
@pytest.mark.parametrize("args", [["--maxclients", "abc"], ["--nosuch", "1"],
                                  ["--port", "1234", "--maxclients", "1", "2"],
                                  ["--save", "--maxclients", "0"],
                                  ["--maxclients", "--5"], ["--bind", "a b", "--hz", "x y"]])
def test_command_line_errors_match_redis(args: list[str], capsys, never_serve) -> None:
    expected = _run(redis_server_path(), *args)
    assert expected.returncode == 1
    assert cli.main(args) == 1
    assert capsys.readouterr().err == expected.stderr


@pytest.mark.skipif(redis_server_path() is None, reason="needs redis-server")
def test_config_from_stdin_matches_redis(tmp_path: Path, capsys, monkeypatch,
                                        never_serve) -> None:
    path = tmp_path / "base.conf"
    path.write_text("port 1234\n")
    stdin = "maxclients 10\nhz abc\n"
    expected = _run(redis_server_path(), str(path), "--timeout", "3", "-", stdin=stdin)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    assert cli.main([str(path), "--timeout", "3", "-"]) == 1
    assert capsys.readouterr().err == expected.stderr


def test_missing_config_file_process(tmp_path: Path) -> None:
    result = _run(sys.executable, "-m", "taipan", str(tmp_path / "nope.conf"))
    assert result.returncode == 1
    assert result.stdout.rstrip().endswith(
        f"# Fatal error, can't open config file '{tmp_path / 'nope.conf'}': "
        "No such file or directory")


def test_fatal_config_error_process(tmp_path: Path) -> None:
    path = tmp_path / "bad.conf"
    path.write_text("maxclients 0\n")
    result = _run(sys.executable, "-m", "taipan", str(path))
    assert result.returncode == 1
    assert result.stderr == ("\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n"
                             "Reading the configuration file, at line 1\n"
                             ">>> 'maxclients 0'\n"
                             "argument must be between 1 and 4294967295 inclusive\n")


def test_port_in_use_exits_1(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        result = _run(sys.executable, "-m", "taipan", "--port", str(busy.getsockname()[1]),
                      "--bind", "127.0.0.1", cwd=tmp_path)
    assert result.returncode == 1
    assert "Could not create server TCP listening socket 127.0.0.1:" in result.stdout
    assert "Failed listening on port" in result.stdout
