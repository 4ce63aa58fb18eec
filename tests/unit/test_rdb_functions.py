"""Function libraries in RDB files and AOF rewrites: written before the databases,
read back through the loader callback, checked by the check tool, and exchanged with
a real redis-server both ways.

The scripting engine is a dependency of these file-format tests, so a small stand-in
with the interface persistence uses (``taipan.persistence.functions_link``) plays it.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import time
from types import SimpleNamespace

import pytest
from support.raw import RawClient, library_codes
from support.servers import redis_server_path, start_redis

from taipan.config import Config
from taipan.instance import Instance
from taipan.persistence.aof_load import _load_rdb_preamble
from taipan.persistence.aof_rewrite import write_base
from taipan.persistence.rdb_file import RdbWriter, read_rdb, snapshot
from taipan.persistence.rdb_format import RdbError, write_string
from taipan.persistence.snapshot import RdbSnapshots, SnapshotError
from taipan.tools.check_rdb import check_rdb

LIB = b"#!lua name=lib\nredis.register_function('f', function() return 1 end)"
LIB2 = b"#!lua name=lib2\nredis.register_function('g', function() return 2 end)"
LONG = (b"#!lua name=long\nredis.register_function('h', function() return 3 end)\n"
        + b"-- padding padding padding\n" * 40)
BLOB = b"redis.register_function('f', function() return 1 end)"
CONFIG = SimpleNamespace(rdbcompression=True)

needs_redis = pytest.mark.skipif(redis_server_path() is None,
                                 reason="redis-server is not installed")


class StandInFunctions:
    """What persistence needs of the function engine: libraries by name with their
    code, creating one from its code, dropping them all."""

    def __init__(self) -> None:
        self.libraries: dict[str, SimpleNamespace] = {}

    def load_from_persistence(self, code: bytes, replace: bool = False) -> None:
        match = re.match(rb"#!lua name=(\w+)\n", code)
        if match is None:
            raise ValueError("Missing library metadata")
        name = match.group(1).decode()
        if name in self.libraries and not replace:
            raise ValueError(f"Library '{name}' already exists")
        self.libraries[name] = SimpleNamespace(code=code)

    def flush(self) -> None:
        self.libraries.clear()

    def codes(self) -> list[bytes]:
        return [library.code for library in self.libraries.values()]


def _string(value: bytes) -> bytes:
    out = bytearray()
    write_string(out, value, compress=False)
    return bytes(out)


def _file(*records: bytes) -> bytes:
    """An RDB file: an AUX field, ``records`` (raw), one key."""
    writer = RdbWriter(CONFIG)
    writer.aux(b"redis-ver", b"7.0.15")
    for record in records:
        writer.out += record
    writer.select_db(0, 1, 0)
    writer.key(b"k", b"v")
    return writer.finish()


def _instance(tmp_path, preamble: bool = True) -> Instance:
    instance = Instance(Config())
    instance.config.dir = str(tmp_path)
    instance.config.aof_use_rdb_preamble = preamble
    instance.functions = StandInFunctions()
    return instance


# -- reading and writing --------------------------------------------------------------


def test_written_libraries_come_back_through_the_callback() -> None:
    writer = RdbWriter(CONFIG)
    writer.aux(b"redis-ver", b"7.0.15")
    for code in (LIB, LIB2, LONG):
        writer.function(code)
    writer.select_db(0, 1, 0)
    writer.key(b"k", b"v")
    received: list[bytes] = []
    contents = read_rdb(writer.finish(), CONFIG, received.append)
    assert received == contents.functions == [LIB, LIB2, LONG]
    assert contents.databases[0][b"k"] == b"v"
    assert read_rdb(writer.finish(), CONFIG).functions == [LIB, LIB2, LONG]


def test_snapshot_writes_libraries_between_aux_and_databases() -> None:
    instance = Instance(Config())
    instance.databases[0].set(b"k", b"v")
    data = snapshot(instance.databases, CONFIG, functions=[LIB])
    record = b"\xf5" + _string(LIB)
    assert data.index(record) < data.index(b"\xfe\x00")  # SELECTDB 0
    assert data.rindex(b"\xfa", 0, data.index(record)) > 0  # after the AUX fields
    assert read_rdb(data, CONFIG).functions == [LIB]
    # Without libraries there is no FUNCTION2 record (the opcode byte alone may turn
    # up in the ctime field or the checksum, so the file is read, not searched).
    bare = snapshot(instance.databases, CONFIG)
    assert b"\xf5" + _string(LIB) not in bare
    assert read_rdb(bare, CONFIG).functions == []


def test_pre_release_function_records_are_translated() -> None:
    old = b"\xf6" + _string(b"lib") + _string(b"lua") + b"\x01" + _string(b"d") + _string(BLOB)
    received: list[bytes] = []
    read_rdb(_file(old), CONFIG, received.append)
    assert received == [b"#!lua name=lib\n" + BLOB]


def test_unreadable_library_fails_the_load_at_its_offset() -> None:
    data = _file(b"\xf5" + _string(LIB))
    offset = data.index(b"\xf5")
    cut = data[:offset + 20]
    with pytest.raises(RdbError, match=f"^Failed loading library, Failed loading library "
                                        f"payload in the record at offset {offset}$"):
        read_rdb(cut, CONFIG)
    old = _file(b"\xf6" + _string(b"lib") + b"\x81")
    with pytest.raises(RdbError, match="Failed loading library, Failed loading engine name"):
        read_rdb(old, CONFIG)


def test_a_library_the_engine_refuses_fails_the_load() -> None:
    data = _file(b"\xf5" + _string(LIB), b"\xf5" + _string(LIB))
    second = data.index(b"\xf5", data.index(b"\xf5") + 1)
    functions = StandInFunctions()
    with pytest.raises(RdbError, match=f"^Failed loading library, Library 'lib' already "
                                       f"exists in the record at offset {second}$"):
        read_rdb(data, CONFIG, functions.load_from_persistence)


def test_check_tool_reads_function_records() -> None:
    lines: list[str] = []
    old = b"\xf6" + _string(b"lib") + _string(b"lua") + b"\x00" + _string(BLOB)
    assert check_rdb(_file(b"\xf5" + _string(LIB), old), "f", lines.append).ok
    assert "RDB looks OK" in lines[-4]
    lines.clear()
    data = _file(b"\xf5" + _string(LIB))
    offset = data.index(b"\xf5")
    report = check_rdb(data[:offset + 20], "f", lines.append)
    assert not report.ok
    # As redis-check-rdb: the offset after the string's length, before its bytes.
    assert f"[offset {offset + 3}] Failed loading library, Failed loading library payload" \
        in lines
    assert "[additional info] While doing: read-functions" in lines


# -- RDB snapshots of an instance, AOF rewrites ---------------------------------------


def test_save_and_debug_reload_carry_libraries(tmp_path) -> None:
    instance = _instance(tmp_path)
    functions = instance.functions
    functions.load_from_persistence(LIB)
    functions.load_from_persistence(LIB2)
    instance.databases[0].set(b"k", b"v")
    rdb = RdbSnapshots(instance, can_fork=False)
    rdb.reload()  # save, flush keys and libraries, load
    assert functions.codes() == [LIB, LIB2]
    assert instance.databases[0].data == {b"k": b"v"}
    # NOFLUSH: the libraries exist already, and that fails the load, as in Redis.
    with pytest.raises(SnapshotError, match="Library 'lib' already exists"):
        rdb.reload(save=False, flush=False)
    rdb.reload(save=False, flush=False, merge=True)  # MERGE replaces them
    assert functions.codes() == [LIB, LIB2]
    # A file without libraries flushes them.
    functions.flush()
    rdb.reload()
    assert functions.codes() == []


def test_startup_load_hands_libraries_to_the_engine(tmp_path) -> None:
    (tmp_path / "dump.rdb").write_bytes(_file(b"\xf5" + _string(LIB)))
    instance = _instance(tmp_path)
    assert RdbSnapshots(instance, can_fork=False).load_at_startup()
    assert instance.functions.codes() == [LIB]
    assert instance.databases[0].data == {b"k": b"v"}


def test_aof_rdb_base_carries_libraries(tmp_path) -> None:
    instance = _instance(tmp_path)
    instance.functions.load_from_persistence(LIB)
    instance.databases[0].set(b"k", b"v")
    path = str(tmp_path / "base.rdb")
    write_base(path, instance)
    with open(path, "rb") as handle:
        data = handle.read()
    loaded = _instance(tmp_path)
    assert _load_rdb_preamble(loaded, data, "base.rdb") == len(data)
    assert loaded.functions.codes() == [LIB]
    assert loaded.databases[0].data == {b"k": b"v"}


def test_aof_command_base_loads_libraries_first(tmp_path) -> None:
    instance = _instance(tmp_path, preamble=False)
    instance.functions.load_from_persistence(LIB)
    instance.databases[0].set(b"k", b"v")
    path = str(tmp_path / "base.aof")
    write_base(path, instance)
    with open(path, "rb") as handle:
        assert handle.read() == (
            b"*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n$%d\r\n%s\r\n" % (len(LIB), LIB)
            + b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")


# -- with a real redis-server -----------------------------------------------------------


@needs_redis
def test_read_a_redis_dump_with_libraries(tmp_path) -> None:
    server = start_redis("--dir", str(tmp_path))
    try:
        with RawClient(server.port) as client:
            for code in (LIB, LIB2, LONG):
                client.call("FUNCTION", "LOAD", code)
            client.call("SET", "k", "v")
            assert client.call("SAVE") == b"+OK\r\n"
    finally:
        server.stop()
    data = (tmp_path / "dump.rdb").read_bytes()
    functions = StandInFunctions()
    contents = read_rdb(data, CONFIG, functions.load_from_persistence)
    assert sorted(functions.codes()) == sorted([LIB, LIB2, LONG])
    assert contents.databases[0][b"k"] == b"v"
    # Before the first SELECTDB, as rdbSaveRio writes them.
    assert data.index(b"\xf5") < data.index(b"\xfe\x00")
    assert check_rdb(data, "dump.rdb", lambda line: None).ok


@needs_redis
@pytest.mark.parametrize("compress", [True, False])
def test_redis_loads_libraries_we_wrote(tmp_path, compress: bool) -> None:
    writer = RdbWriter(SimpleNamespace(rdbcompression=compress))
    writer.aux(b"redis-ver", b"7.0.15")
    writer.aux(b"redis-bits", b"64")
    for code in (LIB, LIB2, LONG):
        writer.function(code)
    writer.select_db(0, 1, 0)
    writer.key(b"k", b"v")
    (tmp_path / "dump.rdb").write_bytes(writer.finish())
    check = subprocess.run(["redis-check-rdb", str(tmp_path / "dump.rdb")],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    server = start_redis("--dir", str(tmp_path), "--dbfilename", "dump.rdb")
    try:
        with RawClient(server.port) as client:
            assert library_codes(client) == {LIB, LIB2, LONG}
            assert client.call("FCALL", "h", "0") == b":3\r\n"
            assert client.call("GET", "k") == b"$1\r\nv\r\n"
    finally:
        server.stop()


@needs_redis
def test_command_base_matches_redis_rewrite(tmp_path) -> None:
    server = start_redis("--appendonly", "yes", "--aof-use-rdb-preamble", "no")
    try:
        with RawClient(server.port) as client:
            client.call("FUNCTION", "LOAD", LIB)
            client.call("SET", "k", "v")
            assert client.call("BGREWRITEAOF").startswith(b"+")
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                info = client.call("INFO", "persistence")
                if (b"aof_rewrite_in_progress:0" in info
                        and b"aof_rewrite_scheduled:0" in info
                        and b"aof_last_bgrewrite_status:ok" in info
                        and len(glob.glob(os.path.join(server.workdir, "appendonlydir",
                                                       "*.2.base.aof")))):
                    break
                time.sleep(0.05)
        (base,) = glob.glob(os.path.join(server.workdir, "appendonlydir", "*.2.base.aof"))
        with open(base, "rb") as handle:
            expected = handle.read()
    finally:
        server.stop()
    instance = _instance(tmp_path, preamble=False)
    instance.functions.load_from_persistence(LIB)
    instance.databases[0].set(b"k", b"v")
    write_base(str(tmp_path / "base.aof"), instance)
    assert (tmp_path / "base.aof").read_bytes() == expected
