"""Compare SAVE, BGSAVE and startup load of an RDB file: redis-server vs Taipan.

Usage: python bench/persistence.py [--keys 1000000] [--seed 1]

Both servers get the same mixed data set (70% strings, 10% hashes of 5 fields,
10% lists of 5 items, 5% sets of 5 members, 5% zsets of 5 members), loaded by
pipelined commands.  Measured per server:

* SAVE wall-clock time and the dump.rdb size;
* BGSAVE time until INFO persistence shows rdb_bgsave_in_progress:0 (10 ms
  polls), peak VmRSS of parent + forked child (fork-shared pages are counted
  twice), and the peak Private_Dirty of the child (the real copy-on-write cost);
* load at startup: time from process start to the first PING answer on the
  same dir, and the "DB loaded from disk: X seconds" line from the log;
* AOF: CONFIG SET appendonly yes (until its first rewrite is done), a
  BGREWRITEAOF (RDB-preamble base, the default), the rewrite child's
  copy-on-write size as the server reports it, and startup from the AOF.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis  # noqa: E402

from bench.servers import TREE, Server, free_port  # noqa: E402

BATCH = 5000


def redis_cmd(port: int, workdir: str) -> list[str]:
    path = shutil.which("redis-server")
    if path is None:
        raise RuntimeError("redis-server is not installed")
    return [path, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", workdir]


def taipan_cmd(port: int, workdir: str) -> list[str]:
    return [sys.executable, "-m", "taipan", "--port", str(port), "--bind", "127.0.0.1",
            "--save", "", "--dir", workdir]


COMMANDS = {"redis": redis_cmd, "taipan": taipan_cmd}


def start(kind: str, workdir: str, log_name: str,
          extra: tuple[str, ...] = ()) -> tuple[Server, float]:
    """Start a server on ``workdir``; return it and seconds from spawn to PING."""
    port = free_port()
    server = Server.__new__(Server)
    server.kind = kind
    server.port = port
    server.workdir = workdir
    server.log_path = os.path.join(workdir, log_name)
    server.final_log = ""
    env = dict(os.environ)
    if kind == "taipan":
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [TREE, env.get("PYTHONPATH")]))
    started = time.monotonic()
    with open(server.log_path, "wb") as log:
        server.proc = subprocess.Popen([*COMMANDS[kind](port, workdir), *extra], cwd=workdir,
                                       env=env,
                                       stdout=log, stderr=subprocess.STDOUT)
    deadline = started + 600
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"{kind} exited:\n{server.log_tail()}")
        if _pong(port):
            return server, time.monotonic() - started
        time.sleep(0.005)
    raise RuntimeError(f"{kind} not ready")


def _pong(port: int) -> bool:
    """Whether the server answers PING now (-LOADING while it loads). A raw socket:
    redis-py retries a refused connection with backoff, which blurred this timing
    by up to a second."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def stop(server: Server) -> None:
    if server.alive():
        server.proc.terminate()
        try:
            server.proc.wait(60)
        except Exception:
            server.proc.kill()
            server.proc.wait(5)


def load_data(client: redis.Redis, keys: int, seed: int) -> None:
    rng = random.Random(seed)
    pipe = client.pipeline(transaction=False)
    for i in range(keys):
        r = rng.random()
        if r < 0.70:
            pipe.set(f"s:{i}", f"value-{i}-{rng.randrange(10**6)}")
        elif r < 0.80:
            pipe.hset(f"h:{i}", mapping={f"f{j}": f"v{j}-{i}" for j in range(5)})
        elif r < 0.90:
            pipe.rpush(f"l:{i}", *[f"item{j}-{i}" for j in range(5)])
        elif r < 0.95:
            pipe.sadd(f"set:{i}", *[f"m{j}-{i}" for j in range(5)])
        else:
            pipe.zadd(f"z:{i}", {f"m{j}-{i}": j * 1.5 for j in range(5)})
        if (i + 1) % BATCH == 0:
            pipe.execute()
    pipe.execute()


def kb_field(text: str, name: str) -> int:
    match = re.search(rf"^{name}:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) * 1024 if match else 0


def read(path: str) -> str:
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ""


def children(pid: int) -> list[int]:
    found: set[int] = set()
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            found.update(int(c) for c in read(f"/proc/{pid}/task/{task}/children").split())
    except OSError:
        pass
    if not found:
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                stat = read(f"/proc/{entry}/stat")
                if stat and int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.add(int(entry))
    return sorted(found)


def bgsave(server: Server) -> dict:
    client = redis.Redis(port=server.port, socket_timeout=600)
    peak_sum = peak_dirty = 0
    dirty_readable = False
    started = time.monotonic()
    client.bgsave()
    while True:
        parent = kb_field(read(f"/proc/{server.pid}/status"), "VmRSS")
        kids = children(server.pid)
        total = parent + sum(kb_field(read(f"/proc/{k}/status"), "VmRSS") for k in kids)
        peak_sum = max(peak_sum, total)
        for kid in kids:
            rollup = read(f"/proc/{kid}/smaps_rollup")
            if rollup:
                dirty_readable = True
                peak_dirty = max(peak_dirty, kb_field(rollup, "Private_Dirty"))
        if int(client.info("persistence").get("rdb_bgsave_in_progress", 0)) == 0:
            break
        time.sleep(0.01)
    elapsed = time.monotonic() - started
    info = client.info("persistence")
    client.close()
    return {"time": elapsed, "peak_rss": peak_sum,
            "child_dirty": peak_dirty if dirty_readable else None,
            "status": info.get("rdb_last_bgsave_status"), "cow": info.get("rdb_last_cow_size")}


def wait_rewrite(client: redis.Redis) -> dict:
    """Poll until no AOF rewrite runs or waits; INFO persistence then."""
    while True:
        info = client.info("persistence")
        if not int(info.get("aof_rewrite_in_progress", 0)) and not int(
                info.get("aof_rewrite_scheduled", 0)):
            return info
        time.sleep(0.01)


def measure(kind: str, keys: int, seed: int) -> dict:
    workdir = tempfile.mkdtemp(prefix=f"bench-persist-{kind}-")
    out: dict = {}
    try:
        server, _ = start(kind, workdir, "server.log")
        client = redis.Redis(port=server.port, socket_timeout=600)
        t0 = time.monotonic()
        load_data(client, keys, seed)
        out["fill_s"] = time.monotonic() - t0
        out["dbsize"] = client.dbsize()
        out["rss_before"] = server.rss_bytes()
        t0 = time.monotonic()
        client.save()
        out["save_s"] = time.monotonic() - t0
        out["rdb_bytes"] = os.path.getsize(os.path.join(workdir, "dump.rdb"))
        client.close()
        bg = bgsave(server)
        out.update(bgsave_s=bg["time"], bg_peak_rss=bg["peak_rss"],
                   bg_child_dirty=bg["child_dirty"], bg_status=bg["status"], rdb_cow=bg["cow"])
        stop(server)
        server, out["startup_s"] = start(kind, workdir, "restart.log")
        client = redis.Redis(port=server.port, socket_timeout=600)
        out["dbsize_after"] = client.dbsize()
        match = re.search(r"DB loaded from disk: ([\d.]+) seconds",
                          read(os.path.join(workdir, "restart.log")))
        out["loaded_log_s"] = float(match.group(1)) if match else None
        t0 = time.monotonic()
        client.config_set("appendonly", "yes")
        wait_rewrite(client)
        out["aof_enable_s"] = time.monotonic() - t0
        t0 = time.monotonic()
        client.bgrewriteaof()
        info = wait_rewrite(client)
        out["bgrewriteaof_s"] = time.monotonic() - t0
        out["aof_cow"] = info.get("aof_last_cow_size")
        client.close()
        stop(server)
        server, out["aof_startup_s"] = start(kind, workdir, "aof.log", ("--appendonly", "yes"))
        client = redis.Redis(port=server.port, socket_timeout=60)
        out["dbsize_aof"] = client.dbsize()
        client.close()
        stop(server)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return out


def fmt(key: str, value) -> str:
    if value is None:
        return "n/a"
    if key.endswith("_s"):
        return f"{value:.3f} s"
    if key in ("rdb_bytes", "rss_before", "bg_peak_rss", "bg_child_dirty", "rdb_cow",
               "aof_cow"):
        return f"{value / 2**20:.1f} MiB"
    return str(value)


ROWS = [
    ("fill (pipelined load)", "fill_s"),
    ("DBSIZE", "dbsize"),
    ("RSS before save", "rss_before"),
    ("SAVE time", "save_s"),
    ("dump.rdb size", "rdb_bytes"),
    ("BGSAVE time", "bgsave_s"),
    ("BGSAVE status", "bg_status"),
    ("BGSAVE peak RSS parent+child", "bg_peak_rss"),
    ("BGSAVE child Private_Dirty", "bg_child_dirty"),
    ("startup to PING", "startup_s"),
    ("'DB loaded from disk' log", "loaded_log_s"),
    ("DBSIZE after restart", "dbsize_after"),
    ("rdb_last_cow_size (INFO)", "rdb_cow"),
    ("appendonly yes: first rewrite", "aof_enable_s"),
    ("BGREWRITEAOF time", "bgrewriteaof_s"),
    ("aof_last_cow_size (INFO)", "aof_cow"),
    ("startup from AOF to PING", "aof_startup_s"),
    ("DBSIZE after AOF restart", "dbsize_aof"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    results = {}
    for kind in ("redis", "taipan"):
        t0 = time.monotonic()
        results[kind] = measure(kind, args.keys, args.seed)
        print(f"# {kind} done in {time.monotonic() - t0:.1f} s", file=sys.stderr, flush=True)
    print(f"keys={args.keys} load average={os.getloadavg()}")
    print(f"{'metric':<30} {'redis':>14} {'taipan':>14} {'ratio':>8}")
    for label, key in ROWS:
        rv, tv = results["redis"].get(key), results["taipan"].get(key)
        ratio = f"{tv / rv:.2f}x" if isinstance(rv, (int, float)) and isinstance(
            tv, (int, float)) and rv else ""
        print(f"{label:<30} {fmt(key, rv):>14} {fmt(key, tv):>14} {ratio:>8}")


if __name__ == "__main__":
    main()
