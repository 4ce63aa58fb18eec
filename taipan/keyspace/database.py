"""One numbered database: the key → value dict, the expiry dict, and key signals.

Values are ``bytes`` (strings; ``bytearray`` once modified in place, which Redis
calls the "raw" encoding) or one of the collection types in ``taipan.types``.
Every mutation goes through ``set``/``delete`` or calls ``signal`` itself, so WATCH,
the dirty counter and (later) keyspace notifications see every write.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterator
from typing import Any, Protocol

from taipan.errors import WrongType
from taipan.keyspace.access import AccessTracker


def now_ms() -> int:
    return int(time.time() * 1000)


class Watcher(Protocol):
    def watched_key_modified(self) -> None: ...


class KeyspaceStats:
    """Counters shared by every database of one server."""

    __slots__ = ("dirty", "expired_keys", "keyspace_hits", "keyspace_misses",
                 "expired_stale_perc", "expire_cycle_cpu_ms")

    def __init__(self) -> None:
        self.dirty = 0  # writes since the last save; also drives propagation
        self.expired_keys = 0
        self.keyspace_hits = 0
        self.keyspace_misses = 0
        self.expired_stale_perc = 0.0
        self.expire_cycle_cpu_ms = 0


STRING_TYPES = (bytes, bytearray)


class Database:
    __slots__ = ("index", "data", "expires", "stats", "watchers", "_expiry_heap",
                 "avg_ttl", "access")

    def __init__(self, index: int, stats: KeyspaceStats) -> None:
        self.index = index
        self.data: dict[bytes, Any] = {}
        self.expires: dict[bytes, int] = {}  # key -> absolute unix time in ms
        self.stats = stats
        # key -> clients that WATCH it; empty for most servers, so checks are cheap.
        self.watchers: dict[bytes, list[Watcher]] = {}
        # (deadline, key) for the active expiry cycle; entries whose deadline no longer
        # matches ``expires`` are stale and dropped when popped.
        self._expiry_heap: list[tuple[int, bytes]] = []
        self.avg_ttl = 0
        # OBJECT IDLETIME/FREQ metadata; None (no per-key cost) until something needs it.
        self.access: AccessTracker | None = None

    # -- reads -------------------------------------------------------------------

    def get(self, key: bytes) -> Any:
        """The live value of ``key`` or ``None``; deletes it first if it has expired."""
        value = self.data.get(key)
        if value is not None:
            if self.expires:
                deadline = self.expires.get(key)
                if deadline is not None and deadline <= now_ms():
                    self.expire_now(key)
                    return None
            if self.access is not None:
                self.access.touch(key)
        return value

    def get_read(self, key: bytes) -> Any:
        """``get`` for read commands: also counts keyspace hits and misses."""
        value = self.get(key)
        if value is None:
            self.stats.keyspace_misses += 1
        else:
            self.stats.keyspace_hits += 1
        return value

    def peek(self, key: bytes) -> Any:
        """Like ``get`` but without counting as an access (OBJECT, DEBUG, SCAN)."""
        value = self.data.get(key)
        if value is not None and self.expires:
            deadline = self.expires.get(key)
            if deadline is not None and deadline <= now_ms():
                self.expire_now(key)
                return None
        return value

    def track_access(self, log_factor: int = 10, decay_minutes: int = 1) -> AccessTracker:
        if self.access is None:
            self.access = AccessTracker(log_factor, decay_minutes)
        return self.access

    def get_string(self, key: bytes, read: bool = False) -> bytes | bytearray | None:
        """The string at ``key`` (``read``: count a keyspace hit/miss), or WRONGTYPE."""
        value = self.get_read(key) if read else self.get(key)
        if value is not None and not isinstance(value, STRING_TYPES):
            raise WrongType()
        return value

    def get_typed(self, key: bytes, kind: type) -> Any:
        value = self.get(key)
        if value is not None and type(value) is not kind:
            raise WrongType()
        return value

    def __contains__(self, key: bytes) -> bool:
        return self.get(key) is not None

    def __len__(self) -> int:
        return len(self.data)

    def keys(self) -> Iterator[bytes]:
        return iter(self.data)

    def ttl_ms(self, key: bytes) -> int | None:
        """Remaining milliseconds, or ``None`` when the key has no expiry."""
        deadline = self.expires.get(key)
        return None if deadline is None else deadline - now_ms()

    # -- writes ------------------------------------------------------------------

    def set(self, key: bytes, value: Any, keep_ttl: bool = False) -> None:
        """Store ``value`` under ``key``; an existing TTL is dropped unless kept."""
        self.data[key] = value
        if not keep_ttl and self.expires:
            self.expires.pop(key, None)
        if self.access is not None:
            self.access.touch(key)
        self.signal(key)

    def delete(self, key: bytes) -> bool:
        if self.data.pop(key, None) is None:
            return False
        if self.expires:
            self.expires.pop(key, None)
        if self.access is not None:
            self.access.forget(key)
        self.signal(key)
        return True

    def set_expire(self, key: bytes, deadline_ms: int) -> None:
        self.expires[key] = deadline_ms
        heapq.heappush(self._expiry_heap, (deadline_ms, key))
        if len(self._expiry_heap) > 2 * len(self.expires) + 1024:
            self._rebuild_expiry_heap()
        self.signal(key)

    def persist(self, key: bytes) -> bool:
        if self.expires.pop(key, None) is None:
            return False
        self.signal(key)
        return True

    def signal(self, key: bytes) -> None:
        """A write to ``key``: count it and invalidate WATCHes on it."""
        self.stats.dirty += 1
        if self.watchers:
            for watcher in self.watchers.get(key, ()):
                watcher.watched_key_modified()

    def signal_all(self) -> None:
        """Every key changed (FLUSHDB, SWAPDB): invalidate every WATCH on this db."""
        for watchers in self.watchers.values():
            for watcher in watchers:
                watcher.watched_key_modified()

    def clear(self) -> int:
        removed = len(self.data)
        self.signal_all()
        self.data = {}
        self.expires = {}
        self._expiry_heap = []
        if self.access is not None:
            self.access = AccessTracker(self.access.log_factor, self.access.decay_minutes)
        self.stats.dirty += removed
        return removed

    def swap_contents(self, other: Database) -> None:
        self.data, other.data = other.data, self.data
        self.expires, other.expires = other.expires, self.expires
        self._expiry_heap, other._expiry_heap = other._expiry_heap, self._expiry_heap
        self.access, other.access = other.access, self.access
        self.signal_all()
        other.signal_all()

    # -- expiry ------------------------------------------------------------------

    def expire_now(self, key: bytes) -> None:
        """Remove a key whose deadline has passed (lazily or from the active cycle)."""
        self.data.pop(key, None)
        self.expires.pop(key, None)
        self.stats.expired_keys += 1
        self.signal(key)

    def is_expired(self, key: bytes) -> bool:
        deadline = self.expires.get(key)
        return deadline is not None and deadline <= now_ms()

    def expire_due(self, now: int, budget_keys: int) -> tuple[int, int]:
        """Pop up to ``budget_keys`` heap entries that are due; return (expired, looked)."""
        heap = self._expiry_heap
        expires = self.expires
        expired = looked = 0
        while heap and looked < budget_keys and heap[0][0] <= now:
            deadline, key = heapq.heappop(heap)
            looked += 1
            if expires.get(key) == deadline:
                self.expire_now(key)
                expired += 1
        return expired, looked

    def _rebuild_expiry_heap(self) -> None:
        self._expiry_heap = [(deadline, key) for key, deadline in self.expires.items()]
        heapq.heapify(self._expiry_heap)
