"""Lua scripting over real TCP with redis-py: locks, Script objects, pipelines,
busy scripts and SCRIPT/FUNCTION KILL, limits, and what scripts write to the AOF."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.lock import Lock
from support.raw import RawClient
from support.servers import (
    ServerProcess,
    _spawn,
    free_port,
    redis_server_path,
    start_redis,
    start_taipan,
)

SPIN = "while true do end"
SPIN_LIBRARY = ("#!lua name=busy\n"
                "redis.register_function('spin', function() while true do end end)\n"
                "redis.register_function('spinwrite', function() redis.call('SET', 'w', 1) "
                "while true do end end)")
KILLED = "Script killed by user with SCRIPT KILL..."
BUSY_EVAL = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
BUSY_FUNCTION = ("BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
                 "SHUTDOWN NOSAVE.")


def client_for(server_or_client: Any, **options: Any) -> redis.Redis:
    if isinstance(server_or_client, redis.Redis):
        port = server_or_client.connection_pool.connection_kwargs["port"]
    else:
        port = server_or_client.port
    return redis.Redis(port=port, socket_timeout=10, **options)


@pytest.fixture
def clean(r: redis.Redis) -> Iterator[redis.Redis]:
    r.script_flush()
    r.function_flush()
    yield r
    r.script_flush()
    r.function_flush()


# -- redis-py Lock --------------------------------------------------------------------------

def test_lock_acquire_extend_reacquire_release(clean: redis.Redis) -> None:
    lock = clean.lock("resource", timeout=10)
    assert lock.acquire(blocking=False)
    token = clean.get("resource")
    assert token is not None and lock.owned()
    assert 9000 < clean.pttl("resource") <= 10000
    assert lock.extend(20)
    assert 29000 < clean.pttl("resource") <= 30000
    assert lock.extend(5, replace_ttl=True)
    assert 4000 < clean.pttl("resource") <= 5000
    assert lock.reacquire()
    assert 9000 < clean.pttl("resource") <= 10000
    lock.release()
    assert clean.get("resource") is None and not lock.owned()


def test_lock_held_by_another_token(clean: redis.Redis) -> None:
    mine, theirs = clean.lock("resource", timeout=10), clean.lock("resource", timeout=10)
    assert mine.acquire(blocking=False)
    assert not theirs.acquire(blocking=False)
    for attempt in (theirs.extend, theirs.reacquire, theirs.release):
        theirs.local.token = b"someone-else"  # release() forgets it
        with pytest.raises(redis.exceptions.LockNotOwnedError):
            attempt(10) if attempt == theirs.extend else attempt()
    assert mine.owned() and not theirs.owned()
    mine.release()
    with pytest.raises(redis.exceptions.LockError):
        mine.release()  # no token any more
    assert mine.acquire(blocking=False)
    clean.delete("resource")  # the key is gone: the release script answers 0
    with pytest.raises(redis.exceptions.LockNotOwnedError):
        mine.release()
    with pytest.raises(redis.exceptions.LockError):
        Lock(clean, "never-held").release()


def test_lock_blocking_acquire_with_timeout(clean: redis.Redis) -> None:
    holder = clean.lock("resource", timeout=0.4)
    assert holder.acquire()
    waiter = client_for(clean).lock("resource", timeout=5, sleep=0.02)
    start = time.monotonic()
    assert not waiter.acquire(blocking_timeout=0.1)
    assert time.monotonic() - start < 1
    assert waiter.acquire(blocking_timeout=3)  # the holder's key expires
    assert waiter.owned() and not holder.owned()
    with pytest.raises(redis.exceptions.LockNotOwnedError):
        holder.release()
    waiter.release()


def test_lock_as_context_manager_from_threads(clean: redis.Redis) -> None:
    counter: list[int] = []

    def worker() -> None:
        client = client_for(clean)
        for _ in range(5):
            with client.lock("ctx", timeout=5, sleep=0.005, blocking_timeout=5):
                value = int(client.get("n") or 0)
                client.set("n", value + 1)
                counter.append(value)
        client.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert int(clean.get("n")) == 20 and sorted(counter) == list(range(20))


# -- Script objects, pipelines, transactions ---------------------------------------------------

def test_register_script_falls_back_to_eval(clean: redis.Redis) -> None:
    script = clean.register_script("return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}")
    assert script(keys=["counter"], args=["a"]) == [b"counter", b"a", 1]
    assert clean.script_exists(script.sha) == [True]
    clean.script_flush()
    assert clean.script_exists(script.sha) == [False]
    assert script(keys=["counter"], args=["b"]) == [b"counter", b"b", 2]  # NOSCRIPT → EVAL
    assert clean.script_exists(script.sha) == [True]
    with pytest.raises(redis.exceptions.NoScriptError):
        clean.evalsha("0" * 40, 0)


def test_scripts_in_pipelines(clean: redis.Redis) -> None:
    script = clean.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    clean.script_flush()
    for transaction in (False, True):
        with clean.pipeline(transaction=transaction) as pipe:
            script(keys=["p"], args=[2], client=pipe)
            pipe.eval("return redis.call('GET', KEYS[1])", 1, "p")
            pipe.eval("return redis.call('nosuch')", 0)
            script(keys=["p"], args=[3], client=pipe)
            results = pipe.execute(raise_on_error=False)
        assert results[0] in (2, 7) and results[3] == results[0] + 3
        assert results[1] == str(results[0]).encode()
        assert isinstance(results[2], redis.ResponseError)
        assert "Unknown Redis command called from script" in str(results[2])
    assert clean.get("p") == b"10"


def test_watch_broken_by_a_script(clean: redis.Redis) -> None:
    other = client_for(clean)
    try:
        clean.set("w", 1)
        with clean.pipeline() as pipe:
            pipe.watch("w")
            other.eval("return redis.call('INCR', KEYS[1])", 1, "w")
            pipe.multi()
            pipe.set("w", "mine")
            with pytest.raises(redis.WatchError):
                pipe.execute()
        with clean.pipeline() as pipe:
            pipe.watch("w")
            other.eval_ro("return redis.call('GET', KEYS[1])", 1, "w")
            pipe.multi()
            pipe.set("w", "mine")
            assert pipe.execute() == [True]
    finally:
        other.close()


def test_functions_through_redis_py(clean: redis.Redis) -> None:
    library = ("#!lua name=mylib\n"
               "redis.register_function('incr2', function(keys, args) "
               "return redis.call('INCRBY', keys[1], 2) end)\n"
               "redis.register_function{function_name='peek', callback=function(keys) "
               "return redis.call('GET', keys[1]) end, flags={'no-writes'}}")
    assert clean.function_load(library) == b"mylib"
    assert clean.fcall("incr2", 1, "f") == 2
    assert clean.fcall_ro("peek", 1, "f") == b"2"
    with pytest.raises(redis.ResponseError, match="write flag"):
        clean.fcall_ro("incr2", 1, "f")
    listing = clean.function_list(withcode=True)
    assert listing[0][1] == b"mylib" and listing[0][-1] == library.encode()
    payload = clean.function_dump()
    clean.function_flush()
    assert clean.function_restore(payload) in (True, b"OK")
    assert clean.fcall("incr2", 1, "f") == 4


def test_resp3_client(r3: redis.Redis) -> None:
    assert r3.eval("return {map={a=1}}", 0) == {b"a": 1}
    assert r3.eval("return {double=1.5}", 0) == 1.5
    assert r3.eval("redis.setresp(3); return redis.call('HGETALL', 'nohash')", 0) == {}
    assert r3.eval("return true", 0) == 1
    assert r3.eval("redis.setresp(3); return true", 0) is True


def test_deep_reply_is_cut_and_the_server_goes_on(r: redis.Redis) -> None:
    """A self-nesting reply nests until an error element ends it (Redis: its Lua
    stack limit; Taipan: 400 levels, see the compat test)."""
    port = r.connection_pool.connection_kwargs["port"]
    with RawClient(port) as raw:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(20000)  # the raw reply parser recurses per level
        try:
            for script in ("local t = {} t[1] = t return t",
                           "local t = {} t.map = {a = t} return t"):
                reply = raw.call("EVAL", script, "0")
                assert reply.startswith(b"*") and reply.count(b"*") > 100
                assert reply.endswith(b"-ERR reached lua stack limit\r\n")
        finally:
            sys.setrecursionlimit(limit)
        assert raw.call("PING") == b"+PONG\r\n"


# -- busy scripts, SCRIPT KILL, FUNCTION KILL ---------------------------------------------------

class Busy:
    """Run one command in a thread; its reply or exception when it ends."""

    def __init__(self, client: redis.Redis, *args: Any) -> None:
        self.result: Any = None
        self.thread = threading.Thread(target=self._run, args=(client, args), daemon=True)
        self.thread.start()

    def _run(self, client: redis.Redis, args: tuple[Any, ...]) -> None:
        try:
            self.result = client.execute_command(*args)
        except Exception as error:  # the reply under test
            self.result = error

    def wait(self, timeout: float = 10) -> Any:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the busy command never ended"
        return self.result


def wait_busy(client: redis.Redis, timeout: float = 5) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            client.ping()
        except redis.ResponseError as error:
            if str(error).startswith("BUSY"):
                return str(error)
            raise
        time.sleep(0.02)
    raise AssertionError("the server never became busy")


@pytest.fixture
def busy_server(taipan: ServerProcess) -> Iterator[tuple[redis.Redis, redis.Redis]]:
    """(runner, other): two clients of a server with busy-reply-threshold 100 ms."""
    runner, other = client_for(taipan), client_for(taipan)
    other.config_set("busy-reply-threshold", 100)
    other.function_flush()
    other.function_load(SPIN_LIBRARY)
    yield runner, other
    for kill in (other.script_kill, lambda: other.execute_command("FUNCTION", "KILL")):
        try:
            kill()
        except redis.ResponseError:
            pass
    other.config_set("busy-reply-threshold", 5000)
    other.function_flush()
    runner.close()
    other.close()


def test_script_kill_ends_a_busy_script(busy_server) -> None:
    runner, other = busy_server
    busy = Busy(runner, "EVAL", "local i = 0\n" + SPIN, 0)
    assert wait_busy(other) == BUSY_EVAL
    for blocked in (lambda: other.get("x"), lambda: other.set("x", 1),
                    lambda: other.execute_command("FUNCTION", "STATS")):
        with pytest.raises(redis.ResponseError, match="^BUSY"):
            blocked()
    with pytest.raises(redis.ResponseError) as mismatch:
        other.execute_command("FUNCTION", "KILL")
    assert str(mismatch.value) == BUSY_EVAL
    assert other.script_kill() is True
    error = busy.wait()
    assert isinstance(error, redis.ResponseError)
    assert str(error).startswith(KILLED + " script: ") and str(error).endswith(
        ", on @user_script:2.")
    assert other.ping() and runner.ping()
    with pytest.raises(redis.ResponseError, match="^NOTBUSY"):
        other.script_kill()


def test_function_kill_ends_a_busy_function(busy_server) -> None:
    runner, other = busy_server
    busy = Busy(runner, "FCALL", "spin", 0, "arg")
    assert wait_busy(other) == BUSY_FUNCTION
    with pytest.raises(redis.ResponseError) as mismatch:
        other.script_kill()
    assert str(mismatch.value) == BUSY_FUNCTION
    stats = other.function_stats()
    assert stats[0] == b"running_script"
    running = dict(zip(stats[1][::2], stats[1][1::2], strict=True))
    assert running[b"name"] == b"spin"
    assert running[b"command"] == [b"FCALL", b"spin", b"0", b"arg"]
    assert running[b"duration_ms"] >= 100
    assert stats[2:] == [b"engines", [b"LUA", [b"libraries_count", 1, b"functions_count", 2]]]
    assert other.execute_command("FUNCTION", "KILL") in (b"OK", True)
    error = busy.wait()
    assert str(error) == KILLED + " script: spin, on @user_function:2."
    assert other.function_stats()[1] is None


def test_kill_when_nothing_runs(r: redis.Redis) -> None:
    for kill in ("SCRIPT", "FUNCTION"):
        with pytest.raises(redis.ResponseError, match="^NOTBUSY No scripts in execution"):
            r.execute_command(kill, "KILL")


def test_pcall_cannot_swallow_a_kill(busy_server) -> None:
    runner, other = busy_server
    busy = Busy(runner, "EVAL", "while true do pcall(function() while true do end end) end", 0)
    wait_busy(other)
    assert other.script_kill() is True
    assert KILLED in str(busy.wait())


def _unkillable_then_shutdown() -> Any:
    """A busy script that wrote: UNKILLABLE for SCRIPT KILL and FUNCTION KILL, BUSY for
    a plain SHUTDOWN; SHUTDOWN NOSAVE stops the server. What the script's caller got."""
    server = start_taipan("--busy-reply-threshold", "100")
    try:
        runner, other = client_for(server), client_for(server)
        raw = RawClient(server.port)
        other.ping()  # both connected before the script starts (see below)
        raw.call("PING")
        busy = Busy(runner, "EVAL", "redis.call('SET', 'x', 1)\n" + SPIN, 0)
        wait_busy(other)
        for kill in ("SCRIPT", "FUNCTION"):
            with pytest.raises(redis.ResponseError) as error:
                other.execute_command(kill, "KILL")
            assert str(error.value) == (
                "UNKILLABLE Sorry the script already executed write commands against the "
                "dataset. You can either wait the script termination or kill the server in a "
                "hard way using the SHUTDOWN NOSAVE command.")
        with pytest.raises(redis.ResponseError) as error:
            other.execute_command("SHUTDOWN")  # only SHUTDOWN NOSAVE
        assert str(error.value) == BUSY_EVAL
        raw.send_raw(b"SHUTDOWN NOSAVE\r\n")
        assert raw.sock.recv(100) == b""  # no reply: the server exits
        raw.close()
        assert server.proc.wait(10) == 0
        return busy.wait()
    finally:
        server.stop()


def test_busy_script_that_wrote_is_unkillable() -> None:
    _unkillable_then_shutdown()


def test_shutdown_nosave_leaves_the_script_caller_without_reply() -> None:
    assert isinstance(_unkillable_then_shutdown(), redis.ConnectionError)


def test_new_connection_during_a_busy_script(busy_server) -> None:
    runner, other = busy_server
    busy = Busy(runner, "EVAL", SPIN, 0)
    wait_busy(other)
    port = other.connection_pool.connection_kwargs["port"]
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        try:
            sock.sendall(b"PING\r\n")
            assert sock.recv(100).startswith(b"-BUSY")
            sock.sendall(b"HELLO 3\r\n")  # the client's state outlives the busy script
            assert sock.recv(1000).startswith(b"%7\r\n")
        finally:
            other.script_kill()
            busy.wait()
        # The event loop now serves the same connection, still in RESP3.
        sock.sendall(b"PING\r\nCLIENT INFO\r\n")
        data = b""
        while b"resp=3" not in data:
            chunk = sock.recv(4096)
            assert chunk
            data += chunk
        assert data.startswith(b"+PONG\r\n")


def test_function_load_timeout(clean: redis.Redis) -> None:
    start = time.monotonic()
    with pytest.raises(redis.ResponseError) as error:
        clean.function_load("#!lua name=forever\nlocal i = 0\nwhile true do i = i + 1 end")
    assert str(error.value) == "Error registering functions: ERR FUNCTION LOAD timeout"
    assert 0.4 < time.monotonic() - start < 5
    assert clean.function_list() == [] and clean.ping()


def _start_taipan_with_lua_limit(limit: int) -> ServerProcess:
    """A Taipan whose Lua states may use ``limit`` bytes (1 GiB normally)."""
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="taipan-test-")
    boot = ("import runpy, sys\n"
            "import taipan.scripting.lua_state as lua_state\n"
            f"lua_state.LUA_MAX_MEMORY = {limit}\n"
            "sys.argv = ['taipan'] + sys.argv[1:]\n"
            "runpy.run_module('taipan', run_name='__main__')\n")
    cmd = [sys.executable, "-c", boot, "--port", str(port), "--bind", "127.0.0.1",
           "--save", ""]
    return _spawn(cmd, port, workdir, "taipan")


def test_unbounded_allocation_fails_and_the_server_goes_on() -> None:
    server = _start_taipan_with_lua_limit(64 << 20)
    try:
        r = client_for(server)
        for script in ("local t = {} local s = 'x' while true do s = s .. s t[#t + 1] = s end",
                       "local t = {} local i = 0 while true do i = i + 1 "
                       "t[i] = string.rep('x', 100000) .. i end",
                       "local t = {} for i = 1, 1e8 do t[i] = i end"):
            with pytest.raises(redis.ResponseError) as error:
                r.eval(script, 0)
            assert str(error.value).startswith("Error running script ")
            assert str(error.value).endswith(", not enough memory")
            assert r.eval("return #string.rep('y', 20000000)", 0) == 20000000
        assert r.set("k", "v") and r.get("k") == b"v"
        assert r.eval("return redis.call('GET', 'k')", 0) == b"v"
    finally:
        server.stop()


# -- propagation: a script's writes in the AOF -----------------------------------------------

AOF_SCRIPTS: list[tuple[Any, ...]] = [
    ("EVAL", "redis.call('SET', KEYS[1], ARGV[1]); redis.call('INCR', 'counter'); return 1",
     1, "k1", "v1"),
    ("EVAL", "return redis.call('SET', 'single', 'x')", 0),
    ("EVAL", "return redis.call('GET', 'single')", 0),
    ("EVAL", "redis.call('SELECT', 3); redis.call('SET', 'in3', 'x'); redis.call('SELECT', 0); "
             "redis.call('DEL', 'single'); return 1", 0),
    ("EVAL", "redis.set_repl(redis.REPL_NONE); redis.call('SET', 'notprop', 'x'); "
             "redis.set_repl(redis.REPL_ALL); redis.call('SET', 'prop', 'y'); return 1", 0),
    ("EVAL", "redis.call('SET', 'e1', 'x', 'EX', 100); redis.call('EXPIRE', 'e1', 200); "
             "redis.call('INCRBYFLOAT', 'fl', '1.5'); return 1", 0),
    ("EVAL", "redis.call('SET', 'before', 'x'); redis.call('nosuch')", 0),
    ("EVAL", "redis.call('SPOP', 'noset'); redis.call('SADD', 'sp', 'a'); "
             "redis.call('SPOP', 'sp'); return 1", 0),
    ("EVAL", "#!lua flags=no-writes\nreturn redis.call('GET', 'prop')", 0),
    ("EVAL", "redis.call('DEL', 'nokey'); return redis.pcall('INCR', 'prop')", 0),
    ("FUNCTION", "LOAD", "#!lua name=aoflib\nredis.register_function('w', function(keys, args) "
                         "redis.call('SET', keys[1], args[1]) return redis.call('LPUSH', 'l', "
                         "args[1]) end)"),
    ("FCALL", "w", 1, "fk", "fv"),
    ("SELECT", 5),
    ("EVAL", "redis.call('SET', 'in5', 'x'); redis.call('SELECT', 6); "
             "return redis.call('SET', 'in6', 'y')", 0),
    ("SET", "plain", "5"),
    ("SELECT", 0),
    ("EVAL", "return redis.call('SET', 'after', 'x')", 0),
]


def _aof_commands(directory: Path) -> list[list[bytes]]:
    """The commands of the AOF's incr file, timestamps of expirations masked."""
    aof = directory / "appendonlydir"
    incr = next(name for name in os.listdir(aof) if name.endswith(".incr.aof"))
    data = (aof / incr).read_bytes()
    commands, pos = [], 0
    while pos < len(data):
        assert data[pos:pos + 1] == b"*", data[pos:pos + 40]
        end = data.index(b"\r\n", pos)
        count, pos = int(data[pos + 1:end]), end + 2
        command = []
        for _ in range(count):
            end = data.index(b"\r\n", pos)
            length = int(data[pos + 1:end])
            command.append(data[end + 2:end + 2 + length])
            pos = end + 4 + length
        commands.append(command)
    for command in commands:
        for index, word in enumerate(command[:-1]):
            if word.upper() in (b"PXAT", b"PEXPIREAT"):
                command[index + 1] = b"<ms>"
        if command[0].upper() == b"PEXPIREAT":
            command[2] = b"<ms>"
    return commands


def _run_and_stop(start: Callable[..., ServerProcess], directory: Path) -> list[list[bytes]]:
    server = start("--appendonly", "yes", "--appendfsync", "always", "--dir", str(directory))
    try:
        client = client_for(server)
        for command in AOF_SCRIPTS:
            try:
                client.execute_command(*command)
            except redis.ResponseError:
                pass  # the failing script: its earlier write is still propagated
        client.close()
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"SHUTDOWN\r\n")
            sock.recv(100)
        server.proc.wait(10)
    finally:
        server.stop()
    return _aof_commands(directory)


@pytest.mark.skipif(redis_server_path() is None, reason="redis-server is not installed")
def test_script_writes_reach_the_aof_as_redis_writes_them(tmp_path: Path) -> None:
    (tmp_path / "redis").mkdir()
    (tmp_path / "taipan").mkdir()
    expected = _run_and_stop(start_redis, tmp_path / "redis")
    actual = _run_and_stop(start_taipan, tmp_path / "taipan")
    assert actual == expected
    assert [b"MULTI"] in expected  # the comparison covers wrapped script effects
