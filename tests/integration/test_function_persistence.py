"""Function libraries across real restarts: RDB files from and for a real
redis-server, SAVE and DEBUG RELOAD, and AOF rewrites with and without the RDB
preamble."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from support.raw import RawClient, library_codes
from support.servers import redis_server_path, start_redis, start_taipan

LIB = b"#!lua name=lib\nredis.register_function('f', function() return 1 end)"
LIB2 = b"#!lua name=lib2\nredis.register_function('g', function(keys) return keys[1] end)"

needs_redis = pytest.mark.skipif(redis_server_path() is None,
                                 reason="redis-server is not installed")


def _load_libraries(client: RawClient) -> None:
    assert client.call("FUNCTION", "LOAD", LIB) == b"$3\r\nlib\r\n"
    assert client.call("FUNCTION", "LOAD", LIB2) == b"$4\r\nlib2\r\n"
    assert client.call("SET", "k", "v") == b"+OK\r\n"


def _assert_libraries(client: RawClient) -> None:
    assert library_codes(client) == {LIB, LIB2}
    assert client.call("FCALL", "f", "0") == b":1\r\n"
    assert client.call("FCALL", "g", "1", "x") == b"$1\r\nx\r\n"
    assert client.call("GET", "k") == b"$1\r\nv\r\n"


@needs_redis
def test_libraries_from_a_redis_rdb(tmp_path: Path) -> None:
    server = start_redis("--dir", str(tmp_path))
    try:
        with RawClient(server.port) as client:
            _load_libraries(client)
            client.call("FUNCTION", "DELETE", "lib2")
            redis_dump = client.call("FUNCTION", "DUMP")
            client.call("FUNCTION", "LOAD", LIB2)
            assert client.call("SAVE") == b"+OK\r\n"
    finally:
        server.stop()
    taipan = start_taipan("--dir", str(tmp_path))
    try:
        with RawClient(taipan.port) as client:
            _assert_libraries(client)
            client.call("FUNCTION", "DELETE", "lib2")
            assert client.call("FUNCTION", "DUMP") == redis_dump
    finally:
        taipan.stop()


@needs_redis
def test_redis_loads_libraries_taipan_saved(tmp_path: Path) -> None:
    taipan = start_taipan("--dir", str(tmp_path))
    try:
        with RawClient(taipan.port) as client:
            _load_libraries(client)
            assert client.call("SAVE") == b"+OK\r\n"
    finally:
        taipan.stop()
    server = start_redis("--dir", str(tmp_path))
    try:
        with RawClient(server.port) as client:
            _assert_libraries(client)
    finally:
        server.stop()


def test_save_restart_and_debug_reload(tmp_path: Path) -> None:
    taipan = start_taipan("--dir", str(tmp_path))
    try:
        with RawClient(taipan.port) as client:
            _load_libraries(client)
            assert client.call("DEBUG", "RELOAD") == b"+OK\r\n"
            _assert_libraries(client)
            # NOFLUSH: the libraries exist already, which fails the load (as in Redis).
            assert client.call("DEBUG", "RELOAD", "NOFLUSH").startswith(
                b"-ERR Error trying to load the RDB dump")
            assert client.call("FUNCTION", "FLUSH") == b"+OK\r\n"
            assert client.call("DEBUG", "RELOAD", "NOSAVE") == b"+OK\r\n"
            _assert_libraries(client)
            assert client.call("SAVE") == b"+OK\r\n"
    finally:
        taipan.stop()
    taipan = start_taipan("--dir", str(tmp_path))
    try:
        with RawClient(taipan.port) as client:
            _assert_libraries(client)
    finally:
        taipan.stop()


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_aof_rewrite_carries_libraries(tmp_path: Path, preamble: str) -> None:
    args = ("--dir", str(tmp_path), "--appendonly", "yes", "--aof-use-rdb-preamble",
            preamble)
    taipan = start_taipan(*args)
    try:
        with RawClient(taipan.port) as client:
            _load_libraries(client)
            assert client.call("BGREWRITEAOF").startswith(b"+")
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                info = client.call("INFO", "persistence")
                if (b"aof_rewrite_in_progress:0" in info
                        and b"aof_rewrite_scheduled:0" in info):
                    break
                time.sleep(0.05)
            names = os.listdir(tmp_path / "appendonlydir")
            suffix = ".base.rdb" if preamble == "yes" else ".base.aof"
            assert f"appendonly.aof.2{suffix}" in names
    finally:
        taipan.stop()
    taipan = start_taipan(*args)
    try:
        with RawClient(taipan.port) as client:
            _assert_libraries(client)
    finally:
        taipan.stop()
