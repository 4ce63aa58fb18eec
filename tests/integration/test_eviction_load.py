"""maxmemory eviction under load, over TCP against a real Taipan process.

1. A pipelined write load of ~1 KB values into ``maxmemory 64mb``, under each of the
   eight policies: used_memory stays within maxmemory (sampled during the load), RSS
   stays within a stated bound, and the policies that cannot evict (``noeviction``, a
   volatile policy once the volatile keys are gone) refuse writes with -OOM, having
   evicted only volatile keys.
2. The LRU/LFU approximations against redis-server on one access pattern: a seeded
   Zipf-distributed cache-aside workload whose key universe is ~4x what fits; the
   hit ratios after warm-up must be within 5 percentage points of Redis's.

``pytest -s`` prints the measured figures.
"""

from __future__ import annotations

import bisect
import itertools
import random
import time
from collections.abc import Iterator

import pytest
import redis
from support.raw import RawClient
from support.servers import ServerProcess, redis_server_path, start_redis, start_taipan

needs_redis = pytest.mark.skipif(redis_server_path() is None,
                                 reason="redis-server is not installed")

MB = 1024 * 1024
MAXMEMORY = 64 * MB
VALUE = bytes(random.Random(7).getrandbits(8) for _ in range(1000))  # ~1 KB
OOM_REPLY = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"
POLICIES = ["noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
            "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"]

# -- 1. eviction under load ------------------------------------------------------

BATCH = 500  # SETs per pipeline
SAMPLE_EVERY = 10  # batches between INFO samples
# allkeys-*: writes in all, ~1.25x what fits (a key costs ~1.2 KB in Taipan's
# used_memory, so 64 MB holds ~56k keys): 11-14k evictions.
ALLKEYS_WRITES = 70_000
MAX_WRITES = 160_000  # noeviction / volatile-*: a safety stop; OOM comes well before
# noeviction and volatile-*: a write is admitted while used_memory <= maxmemory, so
# the last one admitted may leave it above by that key (~1.2 KB) and by structures
# measured since (dict tables growing a step). 256 KB is 0.4% of maxmemory.
OOM_MARGIN = 256 * 1024
# RSS bound: the interpreter's own RSS at start (measured per server: 33-34 MB of
# code and modules, not counted in used_memory as Redis doesn't count its binary)
# plus 1.5x maxmemory. used_memory models the objects' real sizes, so the data
# occupies about maxmemory; the rest covers what the model leaves out or RSS keeps:
# allocator fragmentation as 1 KB values are freed and reallocated at random by
# eviction (glibc malloc for >512-byte objects, pymalloc arenas for small ones that
# are only returned to the OS when wholly empty), dict tables that never shrink on
# deletion, and the pipelines' query and reply buffers (~0.5 MB each). Measured:
# baseline + 65..68 MB (allkeys-*) and + 74..77 MB (volatile-*), i.e. 1.0-1.2x
# maxmemory, so the bound leaves ~20 MB; redis-server under the same load ends at
# baseline + 1.07x maxmemory. Leaking what the volatile runs evict (~50k values,
# ~60 MB) would exceed it; the allkeys runs evict too few (11-14k) to tell.
RSS_FACTOR = 1.5


def _key(rng: random.Random, n: int) -> str:
    return f"load:{rng.getrandbits(48):012x}:{n}"  # random, and unique by ``n``


def _memory(client: redis.Redis) -> tuple[int, int]:
    info = client.info("memory")
    return info["used_memory"], info["used_memory_rss"]


@pytest.mark.parametrize("policy", POLICIES)
def test_eviction_under_load(policy: str) -> None:
    server = start_taipan("--maxmemory", str(MAXMEMORY), "--maxmemory-policy", policy)
    try:
        _load(server, policy)
    finally:
        server.stop()


def _load(server: ServerProcess, policy: str) -> None:
    client = redis.Redis(port=server.port, socket_timeout=30)
    baseline_rss = _memory(client)[1]
    allkeys = policy.startswith("allkeys")
    volatile = policy.startswith("volatile")
    rng = random.Random(policy)
    persistent_ok: list[str] = []
    volatile_ok: list[str] = []
    ooms = 0
    admitted_after_oom = 0  # writes that succeeded after the first -OOM
    samples: list[tuple[int, int]] = []
    started = time.perf_counter()
    total = ALLKEYS_WRITES if allkeys else MAX_WRITES
    for batch in range(total // BATCH):
        pipe = client.pipeline(transaction=False)
        keys = []
        for i in range(BATCH):
            n = batch * BATCH + i
            key = _key(rng, n)
            ttl = volatile and n % 2 == 1  # every other key with a TTL no one reaches
            pipe.set(key, VALUE, ex=3600 if ttl else None)
            keys.append((key, ttl))
        replies = pipe.execute(raise_on_error=False)
        batch_ooms = 0
        for (key, ttl), reply in zip(keys, replies, strict=True):
            if reply is True:
                admitted_after_oom += bool(ooms or batch_ooms)
                (volatile_ok if ttl else persistent_ok).append(key)
            elif isinstance(reply, redis.exceptions.OutOfMemoryError):
                assert not allkeys, f"{policy}: OOM with keys to evict"
                assert str(reply) == "command not allowed when used memory > 'maxmemory'."
                batch_ooms += 1
            else:
                raise AssertionError(f"{policy}: SET {key} -> {reply!r}")
        ooms += batch_ooms
        if batch % SAMPLE_EVERY == 0 or ooms:
            samples.append(_memory(client))
        if batch_ooms == BATCH:
            break  # a whole batch refused: the server is full for good
    elapsed = time.perf_counter() - started
    samples.append(_memory(client))
    info = client.info()
    evicted = info["evicted_keys"]
    dbsize = client.dbsize()
    used_max = max(used for used, _ in samples)
    rss_max = max(rss for _, rss in samples)
    rss_bound = baseline_rss + RSS_FACTOR * MAXMEMORY
    written = len(persistent_ok) + len(volatile_ok) + ooms
    print(f"\n[load] {policy}: {written} writes in {elapsed:.1f}s, "
          f"{len(persistent_ok) + len(volatile_ok)} ok, {ooms} OOM "
          f"({admitted_after_oom} ok after the first OOM), evicted {evicted}, "
          f"dbsize {dbsize}; used_memory max {used_max} ({used_max - MAXMEMORY:+d} vs "
          f"maxmemory, final {samples[-1][0]}); RSS baseline {baseline_rss / MB:.1f} MB, "
          f"max {rss_max / MB:.1f} MB (bound {rss_bound / MB:.1f} MB)")
    assert rss_max <= rss_bound
    assert dbsize > 0
    if allkeys:
        assert ooms == 0
        assert used_max <= MAXMEMORY, [used for used, _ in samples]
        assert evicted > 0
        assert dbsize == written - evicted
        return
    # Once refused, refused for good (Redis: nothing frees memory any more), with
    # used_memory at most a key and a little over maxmemory. Taipan re-measures the
    # non-dataset part of used_memory (client buffers, tables) periodically, so the
    # first refusal may come early by what was transient then (a pipeline's pending
    # query buffer), and a few writes go in after it: allowed up to OOM_MARGIN's
    # worth of keys, as used_memory may end up OOM_MARGIN over. The checks are
    # collected so that one failure shows them all.
    per_key = samples[-1][0] / max(dbsize, 1)
    problems = []
    if not ooms or batch_ooms != BATCH:
        problems.append(f"not refusing writes for good ({ooms} OOM in all)")
    if admitted_after_oom * per_key > OOM_MARGIN:
        problems.append(f"{admitted_after_oom} writes admitted after the first OOM "
                        f"(~{admitted_after_oom * per_key / 1024:.0f} KB)")
    if used_max > MAXMEMORY + OOM_MARGIN:
        problems.append(f"used_memory {used_max - MAXMEMORY} bytes over maxmemory: "
                        f"{[used for used, _ in samples]}")
    with RawClient(server.port) as raw:  # the exact error line
        reply = raw.call("SET", "one-more", "x")
        if reply != OOM_REPLY:
            problems.append(f"SET when full -> {reply!r}")
        assert raw.call("GET", persistent_ok[0])[:1] == b"$"  # reads still work
    if policy == "noeviction":
        assert evicted == 0
        assert dbsize == len(persistent_ok)
        assert not problems, problems
        return
    # Only volatile keys went: every persistent key written is still there, and the
    # OOM came once no volatile key was left.
    persistent_left = _count_existing(client, persistent_ok)
    volatile_left = _count_existing(client, volatile_ok)
    if persistent_left != len(persistent_ok):
        problems.append(f"{len(persistent_ok) - persistent_left} persistent keys evicted")
    if volatile_left or info.get("db0", {}).get("expires", 0):
        problems.append(f"{volatile_left} volatile keys left")
    if evicted != len(volatile_ok) - volatile_left:
        problems.append(f"evicted_keys {evicted} != volatile keys gone "
                        f"{len(volatile_ok) - volatile_left}")
    if dbsize != persistent_left + volatile_left:
        problems.append(f"dbsize {dbsize} != {persistent_left} + {volatile_left}")
    assert evicted > 0
    assert not problems, problems


def _count_existing(client: redis.Redis, keys: list[str]) -> int:
    pipe = client.pipeline(transaction=False)
    for start in range(0, len(keys), 1000):
        pipe.exists(*keys[start:start + 1000])
    return sum(pipe.execute())


# -- 2. hit ratio of a Zipf workload, Taipan vs Redis ---------------------------------

UNIVERSE = 40_000  # distinct keys requested
CAPACITY = 10_000  # keys that fit: 25% of the universe
ZIPF_EXPONENT = 1.0
PREFILL = 2 * CAPACITY  # SETs of uniformly drawn keys first: the cache starts full
WARMUP = 10_000  # requests before measuring
MEASURED = 40_000
READ_BATCH = 50  # GETs per pipeline, then the misses SET in one pipeline
# Both servers are driven at the same request rate, so that the LRU clock (one
# second resolution in both) sees the same access pattern in time.
RATE = 30_000  # requests a second
HIT_TOLERANCE = 0.05
# volatile-lru (every entry with a TTL) measured within 0.5 point of Redis too
# (0.8005 vs 0.7965) but adds ~8 s: left out to keep the file under a minute.
HIT_POLICIES = ["allkeys-lru", "allkeys-lfu"]

_CDF = list(itertools.accumulate(1.0 / (rank + 1) ** ZIPF_EXPONENT
                                 for rank in range(UNIVERSE)))


def zipf_ranks(seed: int, count: int) -> list[int]:
    """``count`` ranks in [0, UNIVERSE), rank r drawn with probability ~ 1/(r+1)^s."""
    rng = random.Random(seed)
    total = _CDF[-1]
    return [bisect.bisect_left(_CDF, rng.random() * total) for _ in range(count)]


@pytest.fixture(scope="module")
def taipan_server() -> Iterator[ServerProcess]:
    server = start_taipan()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def redis_server() -> Iterator[ServerProcess]:
    if redis_server_path() is None:
        pytest.skip("redis-server is not installed")
    server = start_redis()
    yield server
    server.stop()


def _set_value(pipe: redis.client.Pipeline, rank: int, ttl: bool) -> None:
    pipe.set(f"obj:{rank}", VALUE, ex=3600 if ttl else None)


def _calibrate(client: redis.Redis, policy: str, ttl: bool) -> float:
    """Set a maxmemory that holds CAPACITY keys; return the bytes per key."""
    client.config_set("maxmemory", 0)
    client.config_set("maxmemory-policy", policy)
    client.flushall()
    client.config_resetstat()
    before = client.info("memory")["used_memory"]
    pipe = client.pipeline(transaction=False)
    for rank in range(CAPACITY):
        _set_value(pipe, rank, ttl)
    pipe.execute()
    after = client.info("memory")["used_memory"]
    client.flushall()
    client.config_set("maxmemory", after)  # = before + CAPACITY * per key
    return (after - before) / CAPACITY


def _run(client: redis.Redis, ranks: list[int], ttl: bool) -> int:
    """Cache-aside over ``ranks`` at RATE requests a second; return the hits."""
    hits = 0
    started = time.perf_counter()
    for start in range(0, len(ranks), READ_BATCH):
        due = started + start / RATE
        now = time.perf_counter()
        if now < due:
            time.sleep(due - now)
        chunk = ranks[start:start + READ_BATCH]
        pipe = client.pipeline(transaction=False)
        for rank in chunk:
            pipe.get(f"obj:{rank}")
        misses = [rank for rank, value in zip(chunk, pipe.execute(), strict=True)
                  if value is None]
        hits += len(chunk) - len(misses)
        if misses:
            pipe = client.pipeline(transaction=False)
            for rank in dict.fromkeys(misses):
                _set_value(pipe, rank, ttl)
            for reply in pipe.execute(raise_on_error=False):
                assert reply is True, reply
    return hits


def _hold_capacity(client: redis.Redis, per_key: float) -> int:
    """Correct maxmemory to the number of keys actually held; return that number.

    Per-key costs under churn differ from those of a bulk load (in Taipan the key
    dicts grow a step as deleted slots pile up), and the comparison is about which
    keys stay, not how many."""
    dbsize = client.dbsize()
    maxmemory = int(client.config_get("maxmemory")["maxmemory"])
    client.config_set("maxmemory", maxmemory + int((CAPACITY - dbsize) * per_key))
    return dbsize


def _hit_ratio(server: ServerProcess, policy: str) -> dict[str, float]:
    client = redis.Redis(port=server.port, socket_timeout=30)
    ttl = policy.startswith("volatile")  # every entry with a TTL: all are candidates
    per_key = _calibrate(client, policy, ttl)
    started = time.perf_counter()
    prefill = random.Random(99)
    pipe = client.pipeline(transaction=False)
    for _ in range(PREFILL):
        _set_value(pipe, prefill.randrange(UNIVERSE), ttl)
    pipe.execute()
    held_uncorrected = _hold_capacity(client, per_key)
    ranks = zipf_ranks(2024, WARMUP + MEASURED)
    _run(client, ranks[:WARMUP], ttl)
    _hold_capacity(client, per_key)
    evicted_before = client.info("stats")["evicted_keys"]
    hits = _run(client, ranks[WARMUP:], ttl)
    elapsed = time.perf_counter() - started
    info = client.info()
    return {"hit": hits / MEASURED, "per_key": per_key, "held_uncorrected": held_uncorrected,
            "dbsize": client.dbsize(),
            "maxmemory": int(client.config_get("maxmemory")["maxmemory"]),
            "used": info["used_memory"], "seconds": elapsed,
            "evicted": info["evicted_keys"] - evicted_before}


@needs_redis
@pytest.mark.parametrize("policy", HIT_POLICIES)
def test_hit_ratio_matches_redis(policy: str, taipan_server: ServerProcess,
                                 redis_server: ServerProcess) -> None:
    ours = _hit_ratio(taipan_server, policy)
    theirs = _hit_ratio(redis_server, policy)
    for name, figures in (("taipan", ours), ("redis", theirs)):
        print(f"\n[hit] {policy} {name}: hit ratio {figures['hit']:.4f}, "
              f"{figures['per_key']:.0f} B/key (bulk load), keys held "
              f"{figures['held_uncorrected']} after the prefill (before correcting "
              f"maxmemory), {figures['dbsize']} at the end "
              f"(maxmemory {figures['maxmemory']}, used {figures['used']}), "
              f"{figures['evicted']} evicted while measuring, {figures['seconds']:.1f}s",
              end="")
    print(f"\n[hit] {policy}: taipan - redis = {ours['hit'] - theirs['hit']:+.4f}")
    assert abs(ours["hit"] - theirs["hit"]) <= HIT_TOLERANCE
