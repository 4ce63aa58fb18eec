"""taipan-check-rdb and taipan-check-aof on files written by a real redis-server 7.0
and by Taipan, intact and damaged (cut short, bit-flipped, garbage)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from support.servers import redis_server_path, start_redis, start_taipan

from taipan.tools import check_aof, check_rdb

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX paths")

needs_redis = pytest.mark.skipif(redis_server_path() is None,
                                 reason="redis-server is not installed")

AOF_DIR = "appendonlydir"
MANIFEST = "appendonly.aof.manifest"
INCR = "appendonly.aof.1.incr.aof"


def _resp(*argv: bytes) -> bytes:
    out = b"*%d\r\n" % len(argv)
    for arg in argv:
        out += b"$%d\r\n%s\r\n" % (len(arg), arg)
    return out


def _fill(r: redis.Redis) -> None:
    r.set("str", "v")
    r.set("ttl", "x", ex=1000)
    r.set("long", "abc" * 100)  # LZF-compressed in the RDB
    r.rpush("list", "a", "b", "c")
    r.sadd("set", "m1", "m2", "3")
    r.sadd("intset", 1, 2, 3)
    r.zadd("zset", {"one": 1, "half": 0.5})
    r.hset("hash", mapping={"f1": "v1", "f2": "v2"})
    r.hset("bighash", mapping={f"f{i}": "x" * 100 for i in range(200)})


FILLED_KEYS = 9


def _rdb(path: Path, capsys) -> tuple[int, str]:
    code = check_rdb.main([str(path)])
    return code, capsys.readouterr().out


def _aof(capsys, *args: str | Path) -> tuple[int, str]:
    code = check_aof.main([str(arg) for arg in args])
    return code, capsys.readouterr().out


def _reference(path: str, *args: str) -> int:
    tool = shutil.which(path)
    if tool is None:
        return -1
    return subprocess.run([tool, *args], capture_output=True, stdin=subprocess.DEVNULL,
                          timeout=20).returncode


def _wait_rewrite(r: redis.Redis) -> None:
    for _ in range(200):
        info = r.info("persistence")
        if not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
            return
        time.sleep(0.02)


def _stop_taipan(server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(_resp(b"SHUTDOWN", b"NOSAVE"))
        sock.recv(100)
    server.proc.wait(10)
    server.stop()


@pytest.fixture(scope="module")
def redis_files(tmp_path_factory) -> Path:
    """dump.rdb and a multi-part AOF (RDB base, RESP incr) written by redis-server."""
    if redis_server_path() is None:
        pytest.skip("redis-server is not installed")
    directory = tmp_path_factory.mktemp("redis-files")
    server = start_redis("--appendonly", "yes", "--aof-timestamp-enabled", "yes",
                         "--dir", str(directory))
    try:
        r = redis.Redis(port=server.port, socket_timeout=10)
        r.set("before-rewrite", "1")
        _wait_rewrite(r)
        r.bgrewriteaof()
        _wait_rewrite(r)
        _fill(r)
        with r.pipeline(transaction=True) as pipe:
            pipe.incr("counter").incr("counter").execute()
        # A stream for the RDB walk only: Taipan has no streams to replay from the AOF.
        r.config_set("appendonly", "no")
        r.xadd("stream", {"f": "v"})
        r.xgroup_create("stream", "group", id="0")
        r.xreadgroup("group", "consumer", {"stream": ">"})
        r.save()
        r.shutdown(nosave=True)
    except redis.ConnectionError:
        pass
    finally:
        server.proc.wait(10)
    return directory


def _copy(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(source, target)
    return target


# -- RDB --------------------------------------------------------------------------------


def test_rdb_written_by_redis_is_ok(redis_files: Path, capsys) -> None:
    code, out = _rdb(redis_files / "dump.rdb", capsys)
    assert code == 0, out
    assert out.startswith(f"[offset 0] Checking RDB file {redis_files / 'dump.rdb'}\n")
    assert "[offset 27] AUX FIELD redis-ver = '7.0.15'" in out
    assert re.search(r"\[offset \d+\] Selecting DB ID 0", out)
    size = (redis_files / "dump.rdb").stat().st_size
    assert f"[offset {size}] Checksum OK" in out
    assert f"[offset {size}] \\o/ RDB looks OK! \\o/" in out
    assert f"[info] {FILLED_KEYS + 3} keys read" in out  # + before-rewrite, stream, counter
    assert "[info] 1 expires" in out and "[info] 0 already expired" in out


def test_rdb_written_by_taipan_is_ok(tmp_path: Path, capsys) -> None:
    from taipan.embed import Server
    from taipan.persistence.rdb_file import snapshot

    with Server() as server:
        _fill(redis.Redis(port=server.port))
        data = snapshot(server.instance.databases, server.instance.config)
    path = tmp_path / "taipan.rdb"
    path.write_bytes(data)
    code, out = _rdb(path, capsys)
    assert code == 0, out
    assert f"[info] {FILLED_KEYS} keys read" in out and "[info] 1 expires" in out
    assert _reference("redis-check-rdb", str(path)) in (0, -1)


def _damaged(data: bytes) -> dict[str, bytes]:
    crc_at = len(data) - 8
    middle = len(data) // 2
    return {
        "cut-in-header": data[:7],
        "cut-in-middle": data[:middle],
        "cut-before-checksum": data[:crc_at + 3],
        "no-eof": data[:crc_at - 1],
        "flip-in-checksum": data[:crc_at] + bytes([data[crc_at] ^ 0x01]) + data[crc_at + 1:],
        "flip-in-body": data[:middle] + bytes([data[middle] ^ 0x40]) + data[middle + 1:],
        "wrong-magic": b"REDIX" + data[5:],
        "wrong-version": b"REDIS0099" + data[9:],
        "unknown-opcode": data[:9] + b"\x63" + data[9:],
        "garbage": b"this is not an rdb file at all\n" * 4,
        "trailing-garbage": data + b"junk",
    }


@pytest.mark.parametrize("damage", list(_damaged(b"REDIS0010" + b"x" * 40)))
def test_damaged_rdb_is_reported_with_its_offset(redis_files: Path, tmp_path: Path,
                                                 capsys, damage: str) -> None:
    data = _damaged((redis_files / "dump.rdb").read_bytes())[damage]
    path = tmp_path / "bad.rdb"
    path.write_bytes(data)
    code, out = _rdb(path, capsys)
    assert code == 1, out
    assert "--- RDB ERROR DETECTED ---" in out
    found = re.search(r"--- RDB ERROR DETECTED ---\n\[offset (\d+)\] (.+)\n", out)
    assert found, out
    assert 0 <= int(found.group(1)) <= len(data)
    assert "[info]" in out and "keys read" in out
    tool = shutil.which("redis-check-rdb")
    if tool is not None and damage != "trailing-garbage":  # Redis ignores bytes after the CRC
        reference = subprocess.run([tool, str(path)], capture_output=True, text=True,
                                   stdin=subprocess.DEVNULL, timeout=20)
        assert reference.returncode == 1
        if damage in _SAME_OFFSET_AS_REDIS:
            where = re.search(r"--- RDB ERROR DETECTED ---\n(\[offset \d+\])", reference.stdout)
            assert where and where.group(1) == f"[offset {found.group(1)}]", reference.stdout


_SAME_OFFSET_AS_REDIS = {"cut-in-header", "cut-in-middle", "cut-before-checksum", "no-eof",
                         "flip-in-checksum", "wrong-magic", "wrong-version", "unknown-opcode"}


def test_rdb_error_names_the_key_being_read(redis_files: Path, tmp_path: Path, capsys) -> None:
    data = (redis_files / "dump.rdb").read_bytes()
    at = data.index(b"bighash") + len(b"bighash")
    path = tmp_path / "cut.rdb"
    path.write_bytes(data[:at + 50])
    code, out = _rdb(path, capsys)
    assert code == 1
    assert "[additional info] Reading key 'bighash'" in out
    assert "[additional info] While doing: read-object-value" in out


def test_check_rdb_usage_and_missing_file(tmp_path: Path, capsys) -> None:
    assert check_rdb.main([]) == 1
    assert "Usage" in capsys.readouterr().out
    assert check_rdb.main([str(tmp_path / "nope.rdb")]) == 1


# -- AOF --------------------------------------------------------------------------------


def test_multi_part_aof_written_by_redis_is_valid(redis_files: Path, capsys) -> None:
    code, out = _aof(capsys, redis_files / AOF_DIR / MANIFEST)
    assert code == 0, out
    assert "Start checking Multi Part AOF" in out
    assert "Start to check BASE AOF (RDB format)." in out
    assert "RDB preamble is OK, proceeding with AOF tail..." in out
    assert "BASE AOF appendonly.aof.2.base.rdb is valid" in out
    assert "INCR AOF appendonly.aof.2.incr.aof is valid" in out
    assert out.endswith("All AOF files and manifest are valid\n")


def test_single_incr_file_is_valid(redis_files: Path, capsys) -> None:
    path = redis_files / AOF_DIR / "appendonly.aof.2.incr.aof"
    code, out = _aof(capsys, path)
    assert code == 0, out
    size = path.stat().st_size
    assert re.search(rf"AOF analyzed: filename=.*, size={size}, ok_up_to={size}, "
                     rf"ok_up_to_line=\d+, diff=0", out)
    assert f"AOF {path} is valid" in out


def _incr(directory: Path) -> Path:
    return directory / AOF_DIR / "appendonly.aof.2.incr.aof"


def _corrupt_cases(data: bytes) -> dict[str, tuple[bytes, int]]:
    """name -> (damaged file, the offset up to which it is still valid)."""
    data += _resp(b"SET", b"tail", b"1")  # the file ends with a MULTI/EXEC block
    last = data.rindex(b"*", 0, data.rindex(b"\r\n*") + 3)
    start_last = data.rindex(b"\r\n*") + 2
    flip = start_last + 1  # the argument count of the last command
    return {
        "truncated": (data[:-5], start_last),
        "bit-flip": (data[:flip] + b"x" + data[flip + 1:], start_last),
        "garbage": (data + b"garbage\r\n", len(data)),
        "open-multi": (data + _resp(b"MULTI") + _resp(b"INCR", b"c"), len(data)),
        "unexpected-exec": (data + _resp(b"EXEC"), len(data)),
    } if last >= 0 else {}


@pytest.mark.parametrize("case", ["truncated", "bit-flip", "garbage", "open-multi",
                                  "unexpected-exec"])
def test_damaged_aof_is_invalid_with_ok_up_to(redis_files: Path, tmp_path: Path, capsys,
                                              case: str) -> None:
    directory = _copy(redis_files, tmp_path)
    incr = _incr(directory)
    original = incr.read_bytes()
    data, ok_up_to = _corrupt_cases(original)[case]
    incr.write_bytes(data)
    code, out = _aof(capsys, directory / AOF_DIR / MANIFEST)
    assert code == 1, out
    assert (f"AOF analyzed: filename=appendonly.aof.2.incr.aof, size={len(data)}, "
            f"ok_up_to={ok_up_to}, ") in out
    assert f"diff={len(data) - ok_up_to}" in out
    assert re.search(r"^0x *[0-9a-f]+: .+", out, re.M)
    assert "AOF appendonly.aof.2.incr.aof is not valid. Use the --fix option" in out
    tool = shutil.which("redis-check-aof")
    if tool is not None:  # same verdict, same ok_up_to and line as the real tool
        reference = subprocess.run([tool, str(directory / AOF_DIR / MANIFEST)], text=True,
                                   capture_output=True, stdin=subprocess.DEVNULL, timeout=20)
        assert reference.returncode == 1
        analyzed = [line for line in out.splitlines() if line.startswith("AOF analyzed")]
        expected = [line for line in reference.stdout.splitlines()
                    if line.startswith("AOF analyzed")]
        assert analyzed[-1] == expected[-1]
    assert incr.read_bytes() == data  # checking never writes


def test_fix_truncates_and_taipan_loads_the_result(redis_files: Path, tmp_path: Path,
                                                   capsys) -> None:
    directory = _copy(redis_files, tmp_path)
    incr = _incr(directory)
    original = incr.read_bytes()
    partial = _resp(b"SET", b"lost", b"value")[:-4]
    incr.write_bytes(original + partial)
    manifest = directory / AOF_DIR / MANIFEST
    code, out = _aof(capsys, "--fix", manifest)
    assert code == 0, out
    assert (f"This will shrink the AOF appendonly.aof.2.incr.aof from "
            f"{len(original) + len(partial)} bytes, with {len(partial)} bytes, to "
            f"{len(original)} bytes") in out
    assert "Successfully truncated AOF appendonly.aof.2.incr.aof" in out
    assert incr.read_bytes() == original
    assert _aof(capsys, manifest)[0] == 0
    assert _reference("redis-check-aof", str(manifest)) in (0, -1)
    server = start_taipan("--appendonly", "yes", "--dir", str(directory),
                          "--aof-load-truncated", "no")
    try:
        r = redis.Redis(port=server.port, socket_timeout=10)
        assert r.get("str") == b"v" and r.get("counter") == b"2"
        assert r.exists("lost") == 0 and r.hlen("bighash") == 200
    finally:
        _stop_taipan(server)


def test_fix_refuses_a_file_that_is_not_the_last(tmp_path: Path, capsys) -> None:
    aof = tmp_path / AOF_DIR
    aof.mkdir()
    (aof / MANIFEST).write_text("file appendonly.aof.1.base.aof seq 1 type b\n"
                                "file appendonly.aof.1.incr.aof seq 1 type i\n")
    (aof / "appendonly.aof.1.base.aof").write_bytes(_resp(b"SET", b"a", b"1")[:-3])
    (aof / INCR).write_bytes(_resp(b"SET", b"b", b"2"))
    code, out = _aof(capsys, "--fix", "--yes", aof / MANIFEST)
    assert code == 1
    assert "Failed to truncate AOF appendonly.aof.1.base.aof because it is not the last file" in out
    assert (aof / "appendonly.aof.1.base.aof").stat().st_size == 24  # untouched


def test_truncate_to_timestamp(tmp_path: Path, capsys) -> None:
    path = tmp_path / "appendonly.aof"
    first = b"#TS:1000\r\n" + _resp(b"SET", b"a", b"1")
    path.write_bytes(first + b"#TS:2000\r\n" + _resp(b"SET", b"b", b"2"))
    code, out = _aof(capsys, "--truncate-to-timestamp", "1500", path)
    assert code == 0, out
    assert f"Successfully truncated AOF {path} to timestamp 1500" in out
    assert path.read_bytes() == first
    code, out = _aof(capsys, "--truncate-to-timestamp", "1500", path)
    assert code == 0 and f"Truncate nothing in AOF {path} to timestamp 1500" in out
    code, out = _aof(capsys, "--truncate-to-timestamp", "10", path)
    assert code == 1 and "has nothing before timestamp 10" in out


def test_aof_written_by_taipan_is_valid(tmp_path: Path, capsys) -> None:
    server = start_taipan("--appendonly", "yes", "--dir", str(tmp_path))
    try:
        r = redis.Redis(port=server.port, socket_timeout=10)
        _fill(r)
        assert r.bgrewriteaof()
        _wait_rewrite(r)
        with r.pipeline(transaction=True) as pipe:
            pipe.incr("counter").incr("counter").execute()
        r.set("after", "rewrite")
    finally:
        _stop_taipan(server)
    manifest = tmp_path / AOF_DIR / MANIFEST
    code, out = _aof(capsys, manifest)
    assert code == 0, out
    assert out.endswith("All AOF files and manifest are valid\n")
    assert _reference("redis-check-aof", str(manifest)) in (0, -1)


def test_old_style_aof_with_rdb_preamble(redis_files: Path, tmp_path: Path, capsys) -> None:
    path = tmp_path / "appendonly.aof"
    path.write_bytes((redis_files / AOF_DIR / "appendonly.aof.2.base.rdb").read_bytes()
                     + _resp(b"SET", b"tail", b"1"))
    code, out = _aof(capsys, path)
    assert code == 0, out
    assert "RDB preamble is OK, proceeding with AOF tail..." in out


def test_empty_file_and_usage(tmp_path: Path, capsys) -> None:
    path = tmp_path / "empty.aof"
    path.write_bytes(b"")
    code, out = _aof(capsys, path)
    assert code == 0 and f"AOF {path} is empty" in out
    assert _aof(capsys)[0] == 1
    assert _aof(capsys, "--fix", "--truncate-to-timestamp", "5", path)[0] == 1


@pytest.mark.skipif(shutil.which("taipan-check-aof") is None, reason="package not installed")
def test_console_scripts_exit_codes(tmp_path: Path) -> None:
    good = tmp_path / "good.aof"
    good.write_bytes(_resp(b"SET", b"a", b"1"))
    bad = tmp_path / "bad.aof"
    bad.write_bytes(_resp(b"SET", b"a", b"1")[:-1])
    run = [sys.executable, "-c", "import sys; from taipan.tools.check_aof import main; "
           "sys.exit(main())"]
    assert subprocess.run([*run, str(good)], capture_output=True).returncode == 0
    assert subprocess.run(["taipan-check-aof", str(bad)], capture_output=True).returncode == 1
    result = subprocess.run(["taipan-check-aof", "--fix", str(bad)], capture_output=True,
                            stdin=subprocess.DEVNULL, text=True)
    assert result.returncode == 0 and "Successfully truncated AOF" in result.stdout
    assert bad.read_bytes() == b""
    rdb = tmp_path / "x.rdb"
    rdb.write_bytes(b"garbage")
    assert subprocess.run(["taipan-check-rdb", str(rdb)], capture_output=True).returncode == 1


def test_manifest_naming_a_missing_file_or_malformed(tmp_path: Path, capsys) -> None:
    aof = tmp_path / AOF_DIR
    aof.mkdir()
    manifest = aof / MANIFEST
    manifest.write_text(f"file {INCR} seq 1 type i\n")
    code, out = _aof(capsys, manifest)
    assert code == 1 and f"Cannot open file {aof / INCR}" in out
    manifest.write_text(f"file {INCR} seq 1 type i extra\n")
    code, out = _aof(capsys, manifest)
    assert code == 1 and "Invalid AOF manifest file format" in out
