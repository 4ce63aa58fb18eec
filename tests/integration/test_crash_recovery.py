"""Crash tests over real processes: ``kill -9`` at random (seeded) moments under a write
load, then a restart on the same ``--dir``.

What they prove, as the durability guarantees read:

* ``appendfsync always``: every acknowledged write is present after the restart;
* ``appendfsync everysec``: at most about a second of acknowledged writes is lost, and
  what survives is a prefix of the acknowledged sequence (no holes);
* repeated crash / restart cycles keep the dataset equal to a model of the acknowledged
  operations (each in-flight operation either happened or not);
* an RDB snapshot interrupted by killing the server or its BGSAVE child leaves
  ``dump.rdb`` either absent / the old complete file or the new complete file, never a
  ``temp-*.rdb`` mistaken for data;
* an interrupted AOF rewrite (server or rewrite child killed) loses nothing.

``kill -9`` leaves the kernel's page cache intact, so these tests are about what the
server does before it acknowledges, not about power loss.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from support.servers import ServerProcess, start_taipan

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX signals and paths")

AOF_DIR = "appendonlydir"
# What a client can see when the server dies under it.
DEAD = (redis.ConnectionError, redis.TimeoutError, OSError)
Value = Any  # bytes | list[bytes] | dict[bytes, bytes] | set[bytes] | dict[bytes, float]


# -- processes ------------------------------------------------------------------------


def _client(server: ServerProcess, db: int = 0) -> redis.Redis:
    """A client that never retries: a retried write could be applied twice."""
    return redis.Redis(port=server.port, db=db, socket_timeout=10,
                       socket_connect_timeout=10, retry=Retry(NoBackoff(), 0))


def _wait_ready(server: ServerProcess, timeout: float = 30.0) -> None:
    """Retry PING until PONG: right after start the server may answer -LOADING."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise AssertionError(f"server exited with {server.proc.returncode}:\n"
                                 f"{server.output()}")
        r = _client(server)
        try:
            if r.ping():
                return
        except (redis.BusyLoadingError, redis.ConnectionError, redis.TimeoutError) as exc:
            last = exc
        except redis.ResponseError as exc:
            if not str(exc).startswith("LOADING"):
                raise
            last = exc
        finally:
            r.close()
        time.sleep(0.05)
    raise AssertionError(f"server not ready after {timeout}s ({last!r}):\n{server.output()}")


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its reaper counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (a forked BGSAVE or rewrite child)."""
    found: set[int] = set()
    for path in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found.update(int(item) for item in path.read_text().split())
        except OSError:
            pass
    if not found and shutil.which("pgrep"):
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True,
                             timeout=10).stdout
        found.update(int(item) for item in out.split())
    return sorted(child for child in found if _alive(child))


def _wait_child(pid: int, timeout: float = 2.0) -> int | None:
    """Poll for the server's first forked child; None when none shows up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = _children(pid)
        if children:
            return children[0]
        time.sleep(0.005)
    return None


def _resp(*argv: bytes) -> bytes:
    out = b"*%d\r\n" % len(argv)
    for arg in argv:
        out += b"$%d\r\n%s\r\n" % (len(arg), arg)
    return out


@dataclass
class Servers:
    """Every server a test starts: killed, logged (shown on failure) and cleaned up."""

    started: list[ServerProcess] = field(default_factory=list)
    orphans: list[int] = field(default_factory=list)

    def start(self, directory: Path, *extra: str) -> ServerProcess:
        server = start_taipan("--dir", str(directory), *extra)
        self.started.append(server)
        _wait_ready(server)
        return server

    def kill9(self, server: ServerProcess, wait_orphans: bool = True) -> None:
        """SIGKILL the server; its forked children (if any) are let finish on their
        own, as they would after a real crash, before anything reads the files."""
        children = _children(server.proc.pid)
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(10)
        self.orphans += children
        if wait_orphans:
            self.wait_orphans()

    def wait_orphans(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while any(_alive(pid) for pid in self.orphans):
            if time.monotonic() > deadline:
                raise AssertionError(f"orphaned children {self.orphans} still running")
            time.sleep(0.02)

    def close(self) -> None:
        for pid in self.orphans:
            if _alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        for server in self.started:
            if server.proc.poll() is None:
                server.proc.kill()
                server.proc.wait(10)
            print(f"---- server log ({' '.join(server.args[3:])}) ----")
            print(server.output()[-6000:])
            server.stop()


@pytest.fixture
def servers() -> Iterator[Servers]:
    group = Servers()
    yield group
    group.close()


def _info(server: ServerProcess, name: str) -> Any:
    r = _client(server)
    try:
        return r.info("persistence").get(name)
    finally:
        r.close()


def _wait_info(server: ServerProcess, name: str, timeout: float = 30.0) -> None:
    """Poll INFO persistence until ``name`` is 0 (a BGSAVE / rewrite finished)."""
    deadline = time.monotonic() + timeout
    while _info(server, name):
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} still set after {timeout}s")
        time.sleep(0.02)


class Writers:
    """Writer threads that stop on the first connection error (the kill)."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []

    def spawn(self, body: Callable[[], None]) -> None:
        def run() -> None:
            try:
                body()
            except DEAD:
                pass
            except BaseException as exc:  # surfaced by join()
                self.errors.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self.threads.append(thread)

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(20)
            assert not thread.is_alive(), "a writer thread hung after the kill"
        if self.errors:
            raise self.errors[0]


# -- 1. appendfsync always --------------------------------------------------------------


@dataclass
class PlainLog:
    """SET p{t}:{i} i and INCR p{t}:counter, one command at a time."""

    acked_sets: int = 0
    sent_sets: int = 0
    acked_incrs: int = 0
    sent_incrs: int = 0


@dataclass
class BatchLog:
    """Pipelines of rounds; round b does SET, RPUSH, HSET, SADD, ZADD and INCR."""

    acked: int = 0  # rounds 0 .. acked-1 were acknowledged
    sent: int = 0  # rounds 0 .. sent-1 were (maybe partly) sent


def _plain_writer(server: ServerProcess, t: int, log: PlainLog,
                  stop: threading.Event) -> Callable[[], None]:
    def body() -> None:
        r = _client(server)
        i = 0
        while not stop.is_set():
            log.sent_sets = i + 1
            assert r.set(f"p{t}:{i}", i) is True
            log.acked_sets = i + 1
            log.sent_incrs += 1
            assert r.incr(f"p{t}:counter") == log.acked_incrs + 1
            log.acked_incrs += 1
            i += 1
    return body


def _batch_writer(server: ServerProcess, t: int, log: BatchLog, rng: random.Random,
                  stop: threading.Event) -> Callable[[], None]:
    def body() -> None:
        r = _client(server)
        while not stop.is_set():
            rounds = rng.randint(1, 5)
            first = log.acked
            with r.pipeline(transaction=False) as pipe:
                for b in range(first, first + rounds):
                    pipe.set(f"m{t}:s:{b}", b)
                    pipe.rpush(f"m{t}:list", b)
                    pipe.hset(f"m{t}:hash", f"f{b}", b)
                    pipe.sadd(f"m{t}:set", b)
                    pipe.zadd(f"m{t}:zset", {f"z{b}": b})
                    pipe.incr(f"m{t}:counter")
                log.sent = first + rounds
                replies = pipe.execute()
            assert replies[-1] == first + rounds  # the INCR of the last round
            log.acked = first + rounds
    return body


def _check_batches(r: redis.Redis, t: int, log: BatchLog) -> None:
    acked, sent = log.acked, log.sent
    strings = r.mget([f"m{t}:s:{b}" for b in range(sent + 1)])
    for b, value in enumerate(strings):
        if b < acked:
            assert value == b"%d" % b, f"writer m{t}: acknowledged SET of round {b} lost"
        elif b >= sent:
            assert value is None, f"writer m{t}: round {b} was never sent"
        else:
            assert value in (None, b"%d" % b)
    items = r.lrange(f"m{t}:list", 0, -1)
    assert acked <= len(items) <= sent, (f"writer m{t}: list has {len(items)} items, "
                                         f"{acked} acknowledged, {sent} sent")
    assert items == [b"%d" % b for b in range(len(items))]
    counter = int(r.get(f"m{t}:counter") or 0)
    assert acked <= counter <= sent, (f"writer m{t}: counter {counter}, "
                                      f"{acked} acknowledged, {sent} sent")
    for kind, members in (("hash", set(r.hkeys(f"m{t}:hash"))),
                          ("set", r.smembers(f"m{t}:set")),
                          ("zset", set(r.zrange(f"m{t}:zset", 0, -1)))):
        prefix = {"hash": b"f", "set": b"", "zset": b"z"}[kind]
        assert {prefix + b"%d" % b for b in range(acked)} <= members, \
            f"writer m{t}: acknowledged {kind} members lost"
        assert members <= {prefix + b"%d" % b for b in range(sent)}
    scores = dict(r.zrange(f"m{t}:zset", 0, -1, withscores=True))
    assert all(score == int(member[1:]) for member, score in scores.items())


def test_appendfsync_always_keeps_every_acknowledged_write(tmp_path: Path,
                                                           servers: Servers) -> None:
    """With ``appendfsync always``, four concurrent writers (two issuing single commands,
    two mixed-type pipelines) are killed with SIGKILL at a random moment: after the
    restart every acknowledged write is there, and nothing that was never sent."""
    rng = random.Random(20240601)
    server = servers.start(tmp_path, "--appendonly", "yes", "--appendfsync", "always")
    writers = Writers()
    plain = [PlainLog() for _ in range(2)]
    batches = [BatchLog() for _ in range(2)]
    for t, log in enumerate(plain):
        writers.spawn(_plain_writer(server, t, log, writers.stop))
    for t, batch in enumerate(batches):
        writers.spawn(_batch_writer(server, t, batch, random.Random(rng.random()),
                                    writers.stop))
    time.sleep(rng.uniform(0.3, 1.5))
    servers.kill9(server)
    writers.join()
    assert all(log.acked_sets > 0 for log in plain) and all(b.acked > 0 for b in batches)

    server = servers.start(tmp_path, "--appendonly", "yes", "--appendfsync", "always")
    r = _client(server)
    for t, log in enumerate(plain):
        values = r.mget([f"p{t}:{i}" for i in range(log.sent_sets + 1)])
        lost = [i for i in range(log.acked_sets) if values[i] != b"%d" % i]
        assert not lost, f"writer p{t}: acknowledged SETs lost: {lost[:10]}"
        assert values[log.sent_sets] is None
        counter = int(r.get(f"p{t}:counter") or 0)
        assert log.acked_incrs <= counter <= log.sent_incrs
    for t, batch in enumerate(batches):
        _check_batches(r, t, batch)
    r.close()


# -- 2. appendfsync everysec ------------------------------------------------------------


def test_appendfsync_everysec_loses_at_most_about_a_second(tmp_path: Path,
                                                          servers: Servers) -> None:
    """With ``appendfsync everysec``, a single writer is killed after 2.3-3 s: every write
    acknowledged more than 2 s before the kill survives, and the survivors are a prefix
    of the acknowledged sequence (no holes), plus at most the one in-flight write."""
    rng = random.Random(4242)
    server = servers.start(tmp_path, "--appendonly", "yes", "--appendfsync", "everysec")
    acks: list[tuple[float, int]] = []
    writers = Writers()

    def body() -> None:
        r = _client(server)
        i = 0
        while not writers.stop.is_set():
            r.set(f"seq:{i}", i)
            acks.append((time.monotonic(), i))
            i += 1

    writers.spawn(body)
    time.sleep(rng.uniform(2.3, 3.0))
    killed_at = time.monotonic()
    servers.kill9(server)
    writers.join()
    assert [i for _, i in acks] == list(range(len(acks)))
    must_survive = sum(1 for at, _ in acks if at < killed_at - 2.0)
    assert must_survive > 0

    server = servers.start(tmp_path, "--appendonly", "yes")
    r = _client(server)
    values = r.mget([f"seq:{i}" for i in range(len(acks) + 2)])
    present = [i for i, value in enumerate(values) if value is not None]
    survived = len(present)
    assert present == list(range(survived)), "holes in the surviving writes"
    assert all(values[i] == b"%d" % i for i in present)
    assert survived >= must_survive, (f"only {survived} of {len(acks)} acknowledged writes "
                                      f"survived; {must_survive} were over 2 s old")
    assert survived <= len(acks) + 1
    r.close()


# -- 3. repeated crash cycles against a model -------------------------------------------

Op = tuple[Any, ...]


def _random_op(rng: random.Random, w: int) -> Op:
    j = rng.randrange(4)
    item = b"%d" % rng.randrange(12)
    kind = rng.choice(["set", "del", "incr", "rpush", "rpush", "lpop", "hset", "hdel",
                       "sadd", "srem", "zadd", "zincrby", "zrem"])
    if kind == "set":
        return ("set", f"w{w}:str:{j}".encode(), b"v%d" % rng.randrange(10**6))
    if kind == "del":
        family = rng.choice(["str", "ctr", "list", "hash", "set", "zset"])
        return ("del", f"w{w}:{family}:{j}".encode())
    if kind == "incr":
        return ("incr", f"w{w}:ctr:{j}".encode())
    if kind in ("rpush", "lpop"):
        return (kind, f"w{w}:list:{j}".encode(), b"x%d" % rng.randrange(10**6))
    if kind in ("hset", "hdel"):
        return (kind, f"w{w}:hash:{j}".encode(), item, b"h%d" % rng.randrange(10**6))
    if kind in ("sadd", "srem"):
        return (kind, f"w{w}:set:{j}".encode(), item)
    return (kind, f"w{w}:zset:{j}".encode(), item, float(rng.randrange(-50, 50)))


def _send(r: redis.Redis, op: Op) -> None:
    kind, key = op[0], op[1]
    if kind == "set":
        r.set(key, op[2])
    elif kind == "del":
        r.delete(key)
    elif kind == "incr":
        r.incr(key)
    elif kind == "rpush":
        r.rpush(key, op[2])
    elif kind == "lpop":
        r.lpop(key)
    elif kind == "hset":
        r.hset(key, op[2], op[3])
    elif kind == "hdel":
        r.hdel(key, op[2])
    elif kind == "sadd":
        r.sadd(key, op[2])
    elif kind == "srem":
        r.srem(key, op[2])
    elif kind == "zadd":
        r.zadd(key, {op[2]: op[3]})
    elif kind == "zincrby":
        r.zincrby(key, op[3], op[2])
    else:
        r.zrem(key, op[2])


def _apply(model: dict[bytes, Value], op: Op) -> None:
    """What ``op`` does to the model (empty collections disappear, as in Redis)."""
    kind, key = op[0], op[1]
    if kind == "set":
        model[key] = op[2]
    elif kind == "del":
        model.pop(key, None)
    elif kind == "incr":
        model[key] = b"%d" % (int(model.get(key, b"0")) + 1)
    elif kind == "rpush":
        model.setdefault(key, []).append(op[2])
    elif kind == "lpop":
        if key in model:
            model[key].pop(0)
    elif kind == "hset":
        model.setdefault(key, {})[op[2]] = op[3]
    elif kind == "hdel":
        model.get(key, {}).pop(op[2], None)
    elif kind == "sadd":
        model.setdefault(key, set()).add(op[2])
    elif kind == "srem":
        model.get(key, set()).discard(op[2])
    elif kind == "zadd":
        model.setdefault(key, {})[op[2]] = op[3]
    elif kind == "zincrby":
        zset = model.setdefault(key, {})
        zset[op[2]] = zset.get(op[2], 0.0) + op[3]
    else:
        model.get(key, {}).pop(op[2], None)
    if key in model and not isinstance(model[key], bytes) and not model[key]:
        del model[key]


def _copy(model: dict[bytes, Value]) -> dict[bytes, Value]:
    return {key: value if isinstance(value, bytes) else value.copy()
            for key, value in model.items()}


def _read_keys(r: redis.Redis, pattern: str) -> dict[bytes, Value]:
    """The keys matching ``pattern`` as model values."""
    out: dict[bytes, Value] = {}
    for key in r.scan_iter(match=pattern, count=500):
        kind = r.type(key)
        if kind == b"string":
            out[key] = r.get(key)
        elif kind == b"list":
            out[key] = r.lrange(key, 0, -1)
        elif kind == b"hash":
            out[key] = r.hgetall(key)
        elif kind == b"set":
            out[key] = r.smembers(key)
        elif kind == b"zset":
            out[key] = dict(r.zrange(key, 0, -1, withscores=True))
        else:
            raise AssertionError(f"unexpected type {kind!r} of {key!r}")
    return out


def _differing(ours: dict[bytes, Value], theirs: dict[bytes, Value]) -> dict[bytes, Value]:
    return {key: value for key, value in ours.items() if theirs.get(key) != value}


@dataclass
class ModelWriter:
    """One writer's keys: the model of its acknowledged operations, and the operation
    in flight when the server died (applied or not: both are right)."""

    index: int
    model: dict[bytes, Value] = field(default_factory=dict)
    pending: Op | None = None
    acked: int = 0

    def body(self, server: ServerProcess, rng: random.Random,
             stop: threading.Event) -> Callable[[], None]:
        def run() -> None:
            r = _client(server)
            while not stop.is_set():
                op = _random_op(rng, self.index)
                self.pending = op
                _send(r, op)
                _apply(self.model, op)
                self.pending = None
                self.acked += 1
        return run

    def reconcile(self, r: redis.Redis) -> None:
        actual = _read_keys(r, f"w{self.index}:*")
        candidates = [self.model]
        if self.pending is not None:
            after = _copy(self.model)
            _apply(after, self.pending)
            candidates.append(after)
        assert actual in candidates, (
            f"writer w{self.index}: dataset after restart matches neither the acknowledged "
            f"operations nor them plus the in-flight {self.pending!r}:\n"
            f"model: {_differing(self.model, actual)}\n"
            f"server: {_differing(actual, self.model)}")
        self.model, self.pending = actual, None


def test_repeated_kill_9_cycles_match_a_model(tmp_path: Path, servers: Servers) -> None:
    """Four cycles of: start on the same dir (``appendonly yes``), three writers issue
    random mixed-type writes (with a BGREWRITEAOF now and then), SIGKILL at a random
    moment. After each restart every writer's keys equal its model of acknowledged
    operations, give or take the one operation in flight at the kill."""
    rng = random.Random(777)
    options = ("--appendonly", "yes", "--appendfsync", "always")
    writers_state = [ModelWriter(w) for w in range(3)]
    for cycle in range(4):
        server = servers.start(tmp_path, *options)
        r = _client(server)
        for writer in writers_state:
            writer.reconcile(r)
        writers = Writers()
        for writer in writers_state:
            writers.spawn(writer.body(server, random.Random(rng.random()), writers.stop))
        delay = rng.uniform(0.3, 1.2)
        if cycle % 2:  # a rewrite in the middle of the load
            time.sleep(delay / 2)
            try:
                r.bgrewriteaof()
            except redis.ResponseError:
                pass  # e.g. one already in progress
            time.sleep(delay / 2)
        else:
            time.sleep(delay)
        servers.kill9(server)
        writers.join()
        r.close()
        assert all(writer.acked > 0 for writer in writers_state)
    server = servers.start(tmp_path, *options)
    r = _client(server)
    for writer in writers_state:
        writer.reconcile(r)
    assert r.dbsize() == sum(len(writer.model) for writer in writers_state)
    r.close()


# -- 4. snapshots ---------------------------------------------------------------------

OLD_KEYS = 50_000
NEW_KEYS = 55_000


def _fill(r: redis.Redis, start: int, stop: int) -> None:
    with r.pipeline(transaction=False) as pipe:
        for chunk in range(start, stop, 1000):
            pipe.mset({f"k:{i}": f"value-{i}" for i in range(chunk, min(chunk + 1000, stop))})
        pipe.execute()


def _check_rdb(path: Path) -> None:
    """``taipan-check-rdb`` (run as its module, with this interpreter) says OK."""
    result = subprocess.run([sys.executable, "-m", "taipan.tools.check_rdb", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "RDB looks OK" in result.stdout, \
        result.stdout + result.stderr


@pytest.mark.parametrize(("command", "victim", "had_old"), [
    ("SAVE", "server", True),
    ("SAVE", "server", False),
    ("BGSAVE", "server", True),
    ("BGSAVE", "child", True),
])
def test_interrupted_snapshot_leaves_old_or_new_complete_file(
        tmp_path: Path, servers: Servers, command: str, victim: str, had_old: bool) -> None:
    """SIGKILL the server (or only its forked BGSAVE child) at a random moment of a
    snapshot of ~50k keys: dump.rdb is then absent (only if there was none), byte for
    byte the old file, or the complete new one -- taipan-check-rdb says OK and a
    restart loads exactly the old or the new number of keys, ignoring temp-*.rdb."""
    rng = random.Random(f"{command}-{victim}-{had_old}")
    dump = tmp_path / "dump.rdb"
    server = servers.start(tmp_path)
    r = _client(server)
    _fill(r, 0, OLD_KEYS)
    started = time.monotonic()
    assert r.save() is True  # also times a save, to aim the kill inside the next one
    duration = time.monotonic() - started
    old: bytes | None = dump.read_bytes()
    if not had_old:
        dump.unlink()  # the interrupted save is then the first one
        old = None
    _fill(r, OLD_KEYS, NEW_KEYS)
    delay = duration * rng.uniform(0.3, 1.2)
    if command == "SAVE":
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(_resp(b"SAVE"))
            time.sleep(delay)
            servers.kill9(server)
    else:
        assert r.bgsave() is True
        child = _wait_child(server.proc.pid)
        time.sleep(delay)
        if victim == "server":
            servers.kill9(server)  # the orphaned child may still finish the file
        else:
            if child is not None:
                try:
                    os.kill(child, signal.SIGKILL)
                except ProcessLookupError:
                    pass  # it had finished already
            _wait_info(server, "rdb_bgsave_in_progress")
            assert r.dbsize() == NEW_KEYS  # the server itself is unharmed
            if child is not None:
                assert not (tmp_path / f"temp-{child}.rdb").exists(), \
                    "the killed child's temp file was left behind"
            servers.kill9(server)
    r.close()

    leftovers = sorted(name for name in os.listdir(tmp_path) if name.startswith("temp-"))
    if not dump.exists():
        assert old is None, "the old dump.rdb disappeared"
        expected = 0
    elif old is not None and dump.read_bytes() == old:
        expected = OLD_KEYS
    else:
        expected = NEW_KEYS
    print(f"outcome: {expected} keys in dump.rdb after {delay:.3f}s; leftovers {leftovers}")
    if dump.exists():
        _check_rdb(dump)
    server = servers.start(tmp_path)
    r = _client(server)
    assert r.dbsize() == expected, f"loaded {r.dbsize()} keys; temp files: {leftovers}"
    if expected:
        probes = [0, expected // 2, expected - 1]
        assert r.mget([f"k:{i}" for i in probes]) == [b"value-%d" % i for i in probes]
    r.close()


# -- 5. interrupted AOF rewrite -------------------------------------------------------

REWRITE_KEYS = 40_000


def _fill_for_rewrite(r: redis.Redis) -> dict[bytes, Value]:
    _fill(r, 0, REWRITE_KEYS)
    with r.pipeline(transaction=False) as pipe:
        pipe.rpush("big:list", *[f"item-{i}" for i in range(5000)])
        pipe.hset("big:hash", mapping={f"f{i}": f"v{i}" for i in range(5000)})
        pipe.sadd("big:set", *[f"m{i}" for i in range(5000)])
        pipe.zadd("big:zset", {f"z{i}": i / 4 for i in range(5000)})
        pipe.execute()
    return _read_keys(r, "big:*")


@pytest.mark.parametrize("victim", ["server", "child"])
def test_interrupted_aof_rewrite_loses_nothing(tmp_path: Path, servers: Servers,
                                               victim: str) -> None:
    """BGREWRITEAOF on ~40k keys and big collections while a writer keeps writing
    (``appendfsync always``); SIGKILL the server mid-rewrite (or only the rewrite
    child, when the rewrite forks one): the restart loads the whole dataset and every
    write acknowledged before the kill."""
    rng = random.Random(f"rewrite-{victim}")
    options = ("--appendonly", "yes", "--appendfsync", "always")
    server = servers.start(tmp_path, *options)
    r = _client(server)
    collections = _fill_for_rewrite(r)
    acked: list[int] = []
    writers = Writers()

    def body() -> None:
        w = _client(server)
        i = 0
        while not writers.stop.is_set():
            w.set(f"live:{i}", i)
            acked.append(i)
            i += 1

    started = time.monotonic()  # a first, complete rewrite: how long one takes
    r.bgrewriteaof()
    _wait_info(server, "aof_rewrite_in_progress")
    duration = time.monotonic() - started
    writers.spawn(body)
    time.sleep(0.1)
    forked = False
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        # Sent raw: while the rewrite is synchronous the reply only comes at its end.
        sent = time.monotonic()
        sock.sendall(_resp(b"BGREWRITEAOF"))
        target = duration * rng.uniform(0.2, 1.0)
        child = _wait_child(server.proc.pid,
                            timeout=max(target, 0.5) if victim == "child" else target)
        time.sleep(max(0.0, sent + target - time.monotonic()))
        if victim == "child" and child is not None:
            forked = True
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass  # it had finished already
            _wait_info(server, "aof_rewrite_in_progress")
            before = len(acked)
            deadline = time.monotonic() + 10
            while len(acked) < before + 10:  # the server still acknowledges writes
                assert time.monotonic() < deadline, "no writes acknowledged after the kill"
                time.sleep(0.01)
        servers.kill9(server)
    writers.join()
    r.close()
    assert acked, "no write was acknowledged"
    print(f"outcome: rewrite child {child}, {len(acked)} writes acknowledged, "
          f"files {sorted(os.listdir(tmp_path / AOF_DIR))}")

    server = servers.start(tmp_path, *options)
    r = _client(server)
    assert r.dbsize() >= REWRITE_KEYS + len(collections) + len(acked)
    for start in range(0, REWRITE_KEYS, 10_000):
        keys = [f"k:{i}" for i in range(start, start + 10_000)]
        assert r.mget(keys) == [b"value-%d" % i for i in range(start, start + 10_000)]
    assert _read_keys(r, "big:*") == collections
    values = r.mget([f"live:{i}" for i in acked])
    lost = [i for i, value in zip(acked, values, strict=True) if value != b"%d" % i]
    assert not lost, f"acknowledged writes lost: {lost[:10]} ({len(lost)} in all)"
    r.close()
    if victim == "child" and not forked:
        pytest.skip("BGREWRITEAOF ran without a forked child: no child to kill "
                    "(the dataset checks above passed)")
