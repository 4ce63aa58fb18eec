"""maxmemory: evicting keys before a command runs, with Redis's eight policies.

``Evictor.perform`` is Redis's performEvictions: when used memory (``used_memory.py``,
the AOF buffer not counted) is above ``maxmemory`` it deletes keys until it is not,
or until ``maxmemory-eviction-tenacity``'s time budget is spent (the rest continues
on the event loop, between other clients' commands), and reports FAIL when nothing
more can be evicted (``noeviction``, or a volatile policy with no volatile keys), on
which the dispatcher refuses commands flagged ``denyoom`` with -OOM.

The approximations are Redis's: each round samples ``maxmemory-samples`` keys of
every database into a pool of the 16 best candidates so far (the longest idle for
LRU, the least frequently used for LFU, the nearest expiry for volatile-ttl) and
evicts the best that still exists. Python dicts have no random access, so samples
are drawn at random from a snapshot of the keys (a list), taken again once it has
served about half its length in draws or its draws keep landing on deleted keys.
"""

from __future__ import annotations

import asyncio
import random
import time
from bisect import insort
from typing import Any

from taipan.keyspace import events as ev

EVICT_OK = 0
EVICT_RUNNING = 1  # over the limit, time budget spent: continues on the loop
EVICT_FAIL = 2
POOL_SIZE = 16  # Redis's EVPOOL_SIZE
_RANDOM_WINDOW = 64  # random picks land among this many keys at a dict's front
_TTL_BASE = 1 << 63  # volatile-ttl scores: the sooner the deadline, the higher


def time_limit_us(tenacity: int) -> float:
    """How long one eviction run may take (Redis's evictionTimeLimitUs)."""
    if tenacity <= 10:
        return 50.0 * tenacity
    if tenacity < 100:
        return 500.0 * 1.15 ** (tenacity - 10)
    return float("inf")


class Evictor:
    def __init__(self, instance: Any) -> None:
        self.instance = instance
        # (score, db index, key), ascending: the best candidate last.
        self.pool: list[tuple[int, int, bytes]] = []
        self.next_db = 0
        # Per (db index, all keys?): a snapshot of the keys samples are drawn from,
        # and how many more draws it serves before it is taken again (``_sample``).
        self._rings: dict[tuple[int, bool], list[bytes]] = {}
        self._budgets: dict[tuple[int, bool], int] = {}
        self.evicted_keys = 0
        # INFO total/current_eviction_exceeded_time: since when used memory has been
        # over maxmemory (0.0: it isn't), and the total of past such periods (ms).
        self.exceeded_since = 0.0
        self.exceeded_total_ms = 0
        self._continuing = False

    # -- the run before each command ---------------------------------------------

    def perform(self, db: Any = None) -> int:
        """Evict until used memory is within maxmemory; EVICT_OK / RUNNING / FAIL.
        ``db``: the database of the command about to run, measured afresh."""
        instance = self.instance
        config = instance.config
        maxmemory = config.maxmemory
        if not maxmemory or instance.loading:
            return EVICT_OK
        accounting = instance.used_memory
        used = accounting.for_eviction(maxmemory, db)
        if used <= maxmemory:
            return self._metrics(EVICT_OK)
        for database in instance.databases:
            if database.resized:
                database.refresh_sizes()  # values changed since the last measure count
        used = accounting.for_eviction(maxmemory)
        if used <= maxmemory:
            return self._metrics(EVICT_OK)
        policy = config.maxmemory_policy
        if policy == "noeviction":
            return self._metrics(EVICT_FAIL)
        return self._metrics(self._evict_down(used - maxmemory, policy))

    def _evict_down(self, to_free: int, policy: str) -> int:
        instance = self.instance
        config = instance.config
        stats = instance.keyspace_stats
        lazy = bool(config.lazyfree_lazy_eviction)
        limit_us = time_limit_us(config.maxmemory_eviction_tenacity)
        started = time.perf_counter()
        freed = evicted = 0
        result = EVICT_OK
        while freed < to_free:
            found = self._random_key(policy) if "random" in policy else self._pooled_key(policy)
            if found is None:
                result = EVICT_FAIL  # nothing (more) to evict
                break
            before = stats.used
            self._evict(found[0], found[1], lazy)
            freed += before - stats.used
            evicted += 1
            if evicted % 16 == 0 and (time.perf_counter() - started) * 1e6 > limit_us:
                self._continue_later()
                result = EVICT_RUNNING
                break
        instance.latency.add_if_needed("eviction-cycle",
                                       int((time.perf_counter() - started) * 1000))
        return result

    def _evict(self, db: Any, key: bytes, lazy: bool) -> None:
        """Delete one key as Redis evicts it: WATCH and client caches see a write,
        ``evicted`` is notified, and the AOF gets a DEL (UNLINK when lazy)."""
        instance = self.instance
        started = time.perf_counter_ns()
        db.delete(key, lazy=lazy)
        instance.latency.add_if_needed("eviction-del",
                                       (time.perf_counter_ns() - started) // 1_000_000)
        self.evicted_keys += 1
        db.notify(ev.EVICTED, b"evicted", key)
        dispatcher = instance.dispatcher
        if instance.propagators and dispatcher is not None:
            dispatcher.propagate(db.index, [b"UNLINK" if lazy else b"DEL", key])

    def _continue_later(self) -> None:
        """Keep evicting between other clients' commands (Redis's evictionTimeProc)."""
        if self._continuing:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # embedded without a loop: the next command continues
        self._continuing = True
        loop.call_soon(self._continuation)

    def _continuation(self) -> None:
        self._continuing = False
        if self.perform() == EVICT_RUNNING:
            self._continue_later()

    def _metrics(self, result: int) -> int:
        if result == EVICT_OK:
            if self.exceeded_since:
                self.exceeded_total_ms += int((time.monotonic() - self.exceeded_since) * 1000)
                self.exceeded_since = 0.0
        elif not self.exceeded_since:
            self.exceeded_since = time.monotonic()
        return result

    def exceeded_ms(self) -> tuple[int, int]:
        """(total, current) milliseconds spent over maxmemory, for INFO stats."""
        current = int((time.monotonic() - self.exceeded_since) * 1000) if self.exceeded_since else 0
        return self.exceeded_total_ms + current, current

    # -- choosing the key --------------------------------------------------------

    def _pooled_key(self, policy: str) -> tuple[Any, bytes] | None:
        """The best candidate of the pool once every database's sample went in."""
        databases = self.instance.databases
        allkeys = policy.startswith("allkeys")
        pool = self.pool
        while True:
            sources = _sources(databases, allkeys)
            if not sources:
                return None
            for db, source in sources:
                self._populate(db, source, policy)
            while pool:
                _, index, key = pool.pop()
                db = databases[index]
                if key in (db.data if allkeys else db.expires):
                    return db, key
            # Every pooled key had gone: sample again.

    def _sample(self, db: Any, source: dict[bytes, Any], count: int) -> list[bytes]:
        """Up to ``count`` random keys of ``source`` that still exist, drawn from a
        snapshot of its keys. The snapshot is taken again once it has served about
        half its length in draws (so keys added since get their turn) or when draws
        keep landing on deleted keys: amortised O(count)."""
        slot = (db.index, source is db.data)
        ring = self._rings.get(slot)
        budget = self._budgets.get(slot, 0)
        if ring is None or budget <= 0:
            ring = self._rings[slot] = list(source)
            budget = len(ring) // 2 + count
        taken: list[bytes] = []
        misses = 0
        size = len(ring)
        while len(taken) < count and size:
            key = ring[random.randrange(size)]
            if key in source:
                taken.append(key)
            else:
                misses += 1
                if misses > count:
                    ring = self._rings[slot] = list(source)
                    size = len(ring)
                    budget = size // 2 + count
                    misses = -size  # no second snapshot in one call
        self._budgets[slot] = budget - count
        return taken

    def _populate(self, db: Any, source: dict[bytes, Any], policy: str) -> None:
        """Sample ``source`` into the pool (Redis's evictionPoolPopulate)."""
        samples = self._sample(db, source, self.instance.config.maxmemory_samples)
        pool = self.pool
        if policy.endswith("ttl"):
            scores = [_TTL_BASE - source[key] for key in samples]
        else:
            config = self.instance.config
            lfu = policy.endswith("lfu")
            access = db.track_access(lfu, config.lfu_log_factor, config.lfu_decay_time)
            if lfu:
                scores = [255 - access.frequency(key) for key in samples]
            else:
                scores = [access.idle_ms(key) for key in samples]
        index = db.index
        for score, key in zip(scores, samples, strict=True):
            if len(pool) >= POOL_SIZE and score <= pool[0][0]:
                continue  # no better than the worst candidate of a full pool
            insort(pool, (score, index, key))
            if len(pool) > POOL_SIZE:
                del pool[0]

    def _random_key(self, policy: str) -> tuple[Any, bytes] | None:
        """A random key of the next database that has one (Redis's next_db round
        robin), drawn from the same snapshots."""
        allkeys = policy.startswith("allkeys")
        sources = _sources(self.instance.databases, allkeys)
        if not sources:
            return None
        self.next_db += 1
        db, source = sources[self.next_db % len(sources)]
        taken = self._sample(db, source, 1)
        return (db, taken[0]) if taken else None

    def forget_pool(self) -> None:
        """Candidates are stale after FLUSHALL, SWAPDB or a policy change."""
        self.pool.clear()
        self._rings.clear()
        self._budgets.clear()


def _sources(databases: list[Any], allkeys: bool) -> list[tuple[Any, dict[bytes, Any]]]:
    """(database, the dict eviction draws from) for each database with candidates."""
    if allkeys:
        return [(db, db.data) for db in databases if db.data]
    return [(db, db.expires) for db in databases if db.expires]
