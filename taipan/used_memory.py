"""``used_memory``: what the dataset and the server's own structures occupy.

Redis counts every allocation; CPython can't be asked cheaply, so the figure is
assembled from parts that are cheap to keep current:

- the dataset: keys and values, maintained incrementally by each ``Database``
  (``KeyspaceStats.used``; cost model in ``keyspace/sizes.py``);
- the keyspace's tables (the dicts, the expiry heap, access metadata) measured with
  ``sys.getsizeof`` in O(1) each;
- clients (a fixed cost each, their query and output buffers), the script and
  function caches, the AOF buffer, pub/sub subscriptions, the slow log.

The last two groups ("structures") are measured by ``refresh`` (the cron, INFO,
MEMORY, eviction) and whenever the dataset moved by more than 1/32 of maxmemory,
so the per-command check under maxmemory is two additions. The interpreter itself
(code, modules) is not counted, as Redis doesn't count its binary: RSS includes it.
"""

from __future__ import annotations

import sys
from typing import Any

from taipan import memory

# A connected client's fixed cost: its Client and connection objects, the
# transport, the reader and their buffers when empty (measured: RSS growth per
# idle connection).
CLIENT_BASE = 8 * 1024
_SIZE_ENTRY = 64 + 3 * 32  # a measured value's (bytes, length, sampled) tuple
_SUBSCRIPTION = 2 * (3 * 8 + 8) + 48  # an entry in the channel's and the client's dicts
_SLOWLOG_ENTRY = 512


def client_memory(client: Any) -> int:
    """What one client occupies (CLIENT LIST ``tot-mem``, maxmemory-clients)."""
    total = CLIENT_BASE + client.query_buffer_size() + client.output_memory()
    if client.multi is not None:
        total += sum(64 + sum(map(len, argv)) for _, argv in client.multi)
    return total


class UsedMemory:
    def __init__(self, instance: Any) -> None:
        self.instance = instance
        self.structures = 0  # the non-dataset part, as of the last ``refresh``
        self.clients_normal = 0
        self.aof_buffer = 0
        self._dataset_at_refresh = 0
        # Each database's tables as last measured (part of ``structures``).
        self._tables = [0] * len(instance.databases)
        self.peak = 0
        self.refresh()
        self.startup = self.used()
        # The process before the server allocated anything: the interpreter, its
        # modules, the command table (MEMORY DOCTOR weighs RSS beyond this).
        self.baseline_rss = memory.rss_bytes()

    def refresh(self) -> None:
        """Measure every database's changed values and the server's structures."""
        instance = self.instance
        for db in instance.databases:
            db.refresh_sizes()
            self._tables[db.index] = _keyspace_tables(db)
        tables = sum(self._tables)
        self.clients_normal = sum(client_memory(c) for c in instance.clients.values())
        aof = instance.aof
        self.aof_buffer = len(aof.buffer) if aof is not None else 0
        scripting = instance.scripting
        pubsub = instance.pubsub
        subscriptions = (sum(len(c.channels) + len(c.patterns) + len(c.shard_channels)
                             for c in instance.clients.values()))
        self.structures = (tables + self.clients_normal + self.aof_buffer
                           + scripting.scripts_memory + scripting.functions.overhead_bytes()
                           + sys.getsizeof(pubsub.channels) + sys.getsizeof(pubsub.patterns)
                           + subscriptions * _SUBSCRIPTION
                           + len(instance.slowlog.entries) * _SLOWLOG_ENTRY)
        self._dataset_at_refresh = instance.keyspace_stats.used
        self.note_peak()

    def used(self) -> int:
        """used_memory as of the last measure (the dataset is always current)."""
        return self.instance.keyspace_stats.used + self.structures

    def note_peak(self) -> int:
        used = self.used()
        if used > self.peak:
            self.peak = used
        return used

    def for_eviction(self, maxmemory: int, db: Any = None) -> int:
        """used_memory as eviction counts it: the AOF buffer left out (Redis's
        freeMemoryGetNotCountedMemory). ``db``'s tables (the one the command at hand
        uses) are measured again, since a dict's table jumps when it resizes; the
        rest once the dataset moved by 1/32 of ``maxmemory`` (and by the cron)."""
        dataset = self.instance.keyspace_stats.used
        if abs(dataset - self._dataset_at_refresh) > maxmemory >> 5:
            self.refresh()
        elif db is not None:
            tables = _keyspace_tables(db)
            self.structures += tables - self._tables[db.index]
            self._tables[db.index] = tables
        return dataset + self.structures - self.aof_buffer

    def reset_peak(self) -> None:
        self.peak = self.used()


def _keyspace_tables(db: Any) -> int:
    """A database's dicts and heap tables (which keep their size when emptied by
    deletions), with the objects only they hold. The heap's entries are counted with
    the data (``sizes.EXPIRY_ENTRY``)."""
    size = (sys.getsizeof(db.data) + sys.getsizeof(db.sizes) + len(db.sizes) * _SIZE_ENTRY
            + sys.getsizeof(db.expires) + sys.getsizeof(db._expiry_heap))
    if db.access is not None:
        size += sys.getsizeof(db.access.meta)
    return size


def figures(instance: Any) -> dict[str, int]:
    """The numbers INFO memory and MEMORY STATS share, freshly measured."""
    accounting = instance.used_memory
    accounting.refresh()
    used = accounting.used()
    rss = memory.rss_bytes()
    startup = min(accounting.startup, used)
    dataset = instance.keyspace_stats.used
    return {"used": used, "rss": rss, "peak": accounting.peak, "startup": startup,
            "dataset": dataset, "overhead": used - dataset,
            "clients_normal": accounting.clients_normal,
            "baseline_rss": accounting.baseline_rss,
            "aof_buffer": accounting.aof_buffer}
