"""One numbered database: the key → value dict, the expiry dict, and key signals.

Values are ``bytes`` (strings; ``bytearray`` once modified in place, which Redis
calls the "raw" encoding) or one of the collection types in ``taipan.types``.
Small collections rest packed into one blob (``types/packed.py``): a lookup
(``get``, ``peek``, ``live``) opens one into its live type first, so command code
mostly never sees a packed value (``get_at_rest`` is for the few readers, and HSET,
that work on the blob itself; ``replace_packed`` stores what such a write made), and
the cron (or a connection after a burst) packs them again (``pack_loose``): an
opened value nobody wrote gets its old blob back, a written one is packed anew. A
key is in one of four states for the accounting:

- a string: counted exactly as stored;
- packed: counted as its blob (``packed_size``), no ``sizes`` entry;
- opened and not written since: still counted as its blob, kept in ``opened``;
- live (opened and written, or stored live): counted as ``sizes`` says once
  ``refresh_sizes`` measured it (until then it is in ``resized``, uncounted).

Every mutation goes through ``set``/``delete`` or calls ``signal`` itself, so WATCH,
the dirty counter, blocked clients and client-side caching see every write;
``notify`` is the hook for keyspace notifications (``keyspace/events.py``).
"""

from __future__ import annotations

import heapq
import os
import time
from collections.abc import Iterator
from typing import Any, Final, Protocol

from taipan.errors import WrongType
from taipan.keyspace import events as ev
from taipan.keyspace.access import AccessTracker
from taipan.keyspace.sizes import EXPIRY_ENTRY, STRING_KEY_OVERHEAD, measure, packed_size
from taipan.types.packed import PACKED_TYPES, pack, unpack


def now_ms() -> int:
    return int(time.time() * 1000)


class Watcher(Protocol):
    # (database, key, expired-when-watched) per WATCHed key; see ``touch_watchers``.
    watched: list[tuple[Database, bytes, bool]]

    def watched_key_modified(self) -> None: ...


class KeyspaceStats:
    """Counters shared by every database of one server."""

    __slots__ = ("dirty", "expired_keys", "keyspace_hits", "keyspace_misses",
                 "expired_stale_perc", "expire_cycle_cpu_ms", "script_time_ms", "used")

    def __init__(self) -> None:
        self.dirty = 0  # writes since the last save; also drives propagation
        # Bytes the keys and values of every database occupy (the sum of each
        # Database's ``used``): the dataset part of used_memory, kept incrementally.
        self.used = 0
        self.expired_keys = 0
        self.keyspace_hits = 0
        self.keyspace_misses = 0
        self.expired_stale_perc = 0.0
        self.expire_cycle_cpu_ms = 0
        # While a script runs, the time it started: keys expire by that time rather
        # than the clock, so none expires midway through a script (Redis's
        # scriptTimeSnapshot in keyIsExpired). None otherwise.
        self.script_time_ms: int | None = None


STRING_TYPES: Final = (bytes, bytearray)
# Opened small collections a connection lets pile up before packing them itself
# (``Database.pack_loose``) instead of waiting for the cron. TAIPAN_PACK_EAGERLY=1
# packs after every read from a connection: the test suite's shared server runs so,
# so that every command is tried on packed values.
LOOSE_LIMIT: Final = 0 if os.environ.get("TAIPAN_PACK_EAGERLY") == "1" else 512
# The key object of a non-string value, besides its payload (``sizes.py``).
_KEY_OBJECT: Final = STRING_KEY_OVERHEAD // 2
# An imported name used on every SET, bound Final: compiled, a Final module name is a
# C static, any other one (an imported one too) a lookup in the module's dict.
_STRING_COST: Final = STRING_KEY_OVERHEAD


class Database:
    __slots__ = ("index", "data", "expires", "stats", "watchers", "_expiry_heap",
                 "avg_ttl", "access", "blocked_keys", "blocking", "on_expired", "events",
                 "event_mask",
                 "tracking", "tracking_writes", "lazyfree", "lazy_server_del", "lazy_expire",
                 "used", "sizes", "resized", "opened", "loose")

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
        # Keys some client is blocked on (BLPOP ...); a write to one marks it ready in
        # ``blocking`` (the server's BlockingRegistry), set by the owning Instance.
        self.blocked_keys: set[bytes] = set()
        self.blocking: Any = None
        # Called with (db index, key) when a key expires, so the deletion is propagated
        # (AOF, replicas) as the DEL Redis writes; set by the owning Instance.
        self.on_expired: Any = None
        # Keyspace notifications (shared by every database of a server), and the
        # classes enabled, mirrored here so a write tests one attribute when off.
        self.events = ev.KeyspaceEvents()
        self.event_mask = 0
        # Client-side caching's table of tracked keys (shared, set by the Instance):
        # a write to a key some client read with tracking on invalidates it there.
        self.tracking: Any = None
        # ``tracking.wants_writes``, mirrored here by the table: tested on every write.
        self.tracking_writes = False
        # The server's LazyFree queue (``keyspace/lazyfree.py``), set by the Instance;
        # None frees everything at once. ``lazyfree-lazy-server-del`` and
        # ``lazyfree-lazy-expire`` mirrored here so a delete tests one attribute.
        self.lazyfree: Any = None
        self.lazy_server_del = False
        self.lazy_expire = False
        # Memory accounting (``keyspace/sizes.py``): the bytes this database's keys
        # and values occupy. A ``bytes`` value is counted exactly as it is stored or
        # removed; any other value is measured after it changes (its key is noted in
        # ``resized`` by ``set``/``signal``, measured by ``refresh_sizes``) and its
        # figure kept in ``sizes`` as ``keyspace/sizes.measure`` returns it.
        self.used = 0
        self.sizes: dict[bytes, tuple[int, int, int]] = {}
        self.resized: set[bytes] = set()
        # Packed values opened by a lookup: key -> the blob, which ``pack_loose``
        # puts back unless the key was written since (see the module's note).
        self.opened: dict[bytes, bytes] = {}
        # Keys of live collections stored or written since opened, which
        # ``pack_loose`` packs when they qualify.
        self.loose: set[bytes] = set()

    def notify(self, kind: int, event: bytes, key: bytes) -> None:
        """A keyspace event of class ``kind`` (``keyspace/events.py``) for ``key``."""
        if self.event_mask & kind:
            self.events.fire(kind, event, key, self.index)

    def expiry_now(self) -> int:
        """The time keys expire by: the clock, or a running script's start time."""
        frozen = self.stats.script_time_ms
        return now_ms() if frozen is None else frozen

    # -- reads -------------------------------------------------------------------

    def get(self, key: bytes) -> Any:
        """The live value of ``key`` or ``None``; deletes it first if it has expired."""
        value = self.get_at_rest(key)
        if value is not None and type(value) in PACKED_TYPES:
            value = self._open(key, value)
        return value

    def get_at_rest(self, key: bytes) -> Any:
        """``get`` that leaves a packed value packed, for a reader that reads the
        blob itself (a field of a small hash needs no dict built for it)."""
        value = self.data.get(key)
        if value is not None:
            if self.expires:
                deadline = self.expires.get(key)
                if deadline is not None and deadline <= self.expiry_now():
                    self.expire_now(key)
                    return None
            if self.access is not None:
                self.access.touch(key)
        return value

    def get_read(self, key: bytes, at_rest: bool = False) -> Any:
        """``get`` for read commands: also counts keyspace hits and misses.
        ``at_rest``: a packed value is returned packed (``get_at_rest``)."""
        value = self.get_at_rest(key) if at_rest else self.get(key)
        if value is None:
            self.stats.keyspace_misses += 1
            if self.event_mask & ev.KEY_MISS:
                self.events.fire(ev.KEY_MISS, b"keymiss", key, self.index)
        else:
            self.stats.keyspace_hits += 1
        return value

    def peek_read(self, key: bytes, notify_miss: bool = True) -> Any:
        """``peek`` for read commands that don't count as an access (TTL, TYPE, EXISTS)
        but do count keyspace hits and misses, as Redis's LOOKUP_NOTOUCH lookups.
        ``notify_miss`` False: no ``keymiss`` event (OBJECT, as LOOKUP_NONOTIFY)."""
        value = self.peek(key)
        if value is None:
            self.stats.keyspace_misses += 1
            if notify_miss and self.event_mask & ev.KEY_MISS:
                self.events.fire(ev.KEY_MISS, b"keymiss", key, self.index)
        else:
            self.stats.keyspace_hits += 1
        return value

    def peek(self, key: bytes) -> Any:
        """Like ``get`` but without counting as an access (OBJECT, DEBUG, SCAN)."""
        value = self.data.get(key)
        if value is not None:
            if self.expires:
                deadline = self.expires.get(key)
                if deadline is not None and deadline <= self.expiry_now():
                    self.expire_now(key)
                    return None
            if type(value) in PACKED_TYPES:
                value = self._open(key, value)
        return value

    def live(self, key: bytes) -> Any:
        """The value stored at ``key`` (None: no key), opened if packed; no expiry,
        access or statistics (the blocking machinery's look at a key)."""
        value = self.data.get(key)
        if type(value) in PACKED_TYPES:
            value = self._open(key, value)
        return value

    def _open(self, key: bytes, packed: Any) -> Any:
        """Replace ``key``'s packed value by its live form, keeping the blob for
        ``pack_loose``. Not a write; the accounting still counts the blob."""
        value = self.data[key] = unpack(packed)
        self.opened[key] = packed
        return value

    def pack_loose(self) -> int:
        """Pack the small collections opened or stored since the last call (the
        cron's work); returns how many went back to rest packed."""
        opened, loose = self.opened, self.loose
        if not opened and not loose:
            return 0
        self.opened, self.loose = {}, set()
        data, sizes, resized = self.data, self.sizes, self.resized
        packed_count = delta = 0
        for key, blob in opened.items():
            if key not in resized:
                data[key] = blob  # only read since opened: the blob is still right
                packed_count += 1
                continue
            # Written since opened and not measured yet, so still counted as the blob.
            resized.discard(key)
            delta -= packed_size(blob)
            packed = pack(data[key])
            if packed is None:  # grown out of packing: measured as a live value
                resized.add(key)
                delta -= _KEY_OBJECT + len(key)
                continue
            data[key] = packed
            delta += packed_size(packed)
            packed_count += 1
        for key in loose:
            value = data.get(key)
            if value is None or type(value) is bytes or type(value) in PACKED_TYPES:
                continue
            packed = pack(value)
            if packed is None:
                continue
            entry = sizes.pop(key, None)
            if entry is not None:
                delta -= entry[0]
            else:  # never measured: it isn't counted yet
                delta += _KEY_OBJECT + len(key)
            resized.discard(key)  # (a packed value's figure is read off its blob)
            data[key] = packed
            delta += packed_size(packed)
            packed_count += 1
        self.used += delta
        self.stats.used += delta
        return packed_count

    def track_access(self, lfu: bool = False, log_factor: int = 10,
                     decay_minutes: int = 1) -> AccessTracker:
        """The access tracker, started (or restarted in the other mode) if need be."""
        access = self.access
        if access is None or access.lfu != lfu:
            access = self.access = AccessTracker(lfu, log_factor, decay_minutes)
        else:
            access.log_factor = log_factor
            access.decay_minutes = decay_minutes
        return access

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
        expires = self.expires
        if expires:
            deadline = expires.get(key)
            if deadline is not None:
                if deadline <= self.expiry_now():
                    # Redis looks the key up first: an overwritten expired key still
                    # counts as expired (INFO expired_keys, WATCH).
                    self.expire_now(key)
                elif not keep_ttl:
                    del expires[key]
        data = self.data
        old = data.get(key)
        data[key] = value
        # Memory accounting inlined for strings, the hottest write (``sizes.py``):
        # ``_account_added`` without the call, and a string overwritten by a string.
        if old is None:
            if type(value) is bytes:
                cost = _STRING_COST + len(key) + len(value)
                self.used += cost
                self.stats.used += cost
            else:
                self._account_added(key, value)
            if self.event_mask & ev.NEW:
                self.events.fire(ev.NEW, b"new", key, self.index)
            if self.access is not None:
                self.access.created(key)
        else:
            if type(value) is bytes and type(old) is bytes:
                if len(value) != len(old):
                    cost = len(value) - len(old)
                    self.used += cost
                    self.stats.used += cost
            else:
                self._replace_accounted(key, old, value)
            if self.lazy_server_del and self.lazyfree is not None:
                # An overwritten value is freed as a deleted one (Redis's dbOverwrite).
                self.lazyfree.free_value(old)
            if self.access is not None:
                self.access.touch(key)
        # ``signal`` inlined: SET is the hottest write path.
        self.stats.dirty += 1
        if self.watchers or self.blocked_keys or self.tracking_writes:
            self.signal_listeners(key)

    def load(self, values: dict[bytes, Any], deadlines: dict[bytes, int]) -> None:
        """Add a loaded dataset (startup, DEBUG RELOAD); loaded keys replace existing
        ones. Into an empty, unwatched database this is a bulk update (loading 1M keys
        one ``set`` at a time costs a second) that adopts ``values`` as the keyspace
        itself: the caller hands it over. Loading isn't counted as changes."""
        if self.data or self.access is not None or self.watchers or self.blocked_keys:
            # Loading is no command: it fires no keyspace events (Redis adds loaded
            # keys with dbAddRDBLoad, which announces nothing).
            self.event_mask = 0
            try:
                for key, value in values.items():
                    self.set(key, value)
                    deadline = deadlines.get(key)
                    if deadline is not None:
                        self.set_expire(key, deadline)
            finally:
                self.event_mask = self.events.mask
            return
        self.data = values  # (empty before: nothing to merge, and no 1M-key copy)
        self._account_bulk(values)
        if deadlines:
            self.expires.update(deadlines)
            self._rebuild_expiry_heap()

    def delete(self, key: bytes, lazy: bool | None = None) -> bool:
        """Remove ``key``. ``lazy`` True frees a big value a slice at a time (UNLINK,
        Redis's dbAsyncDelete); None follows ``lazyfree-lazy-server-del`` (dbDelete)."""
        value = self.data.pop(key, None)
        if value is None:
            return False
        self._unaccount(key, value)
        if self.expires:
            self.expires.pop(key, None)
        if self.access is not None:
            self.access.forget(key)
        if (self.lazy_server_del if lazy is None else lazy) and self.lazyfree is not None:
            self.lazyfree.free_value(value)
        self.signal(key)
        return True

    def delete_with_event(self, key: bytes, lazy: bool | None = None) -> bool:
        """``delete`` that fires the ``del`` keyspace event when the key existed (DEL,
        an empty *STORE result, an EXPIRE into the past ...)."""
        if self.delete(key, lazy):
            self.notify(ev.GENERIC, b"del", key)
            return True
        return False

    def set_expire(self, key: bytes, deadline_ms: int) -> None:
        self.expires[key] = deadline_ms
        heapq.heappush(self._expiry_heap, (deadline_ms, key))
        self._account_heap(1)
        if len(self._expiry_heap) > 2 * len(self.expires) + 1024:
            self._rebuild_expiry_heap()
        self.signal(key)

    def persist(self, key: bytes) -> bool:
        if self.expires.pop(key, None) is None:
            return False
        self.signal(key)
        return True

    def replace_packed(self, key: bytes, old: bytes, new: bytes) -> None:
        """A write made on a packed value where it rests: ``new`` replaces ``old``
        (same kind). Counted exactly as blobs are, so unlike ``signal`` the key needs
        no measuring later (no ``resized``)."""
        self.data[key] = new
        delta = packed_size(new) - packed_size(old)
        self.used += delta
        self.stats.used += delta
        self.stats.dirty += 1
        if self.watchers or self.blocked_keys or self.tracking_writes:
            self.signal_listeners(key)

    def open_stored(self, key: bytes, value: Any) -> Any:
        """The live form of a value ``get_at_rest`` returned: a packed one is opened
        (as ``get`` would have), anything else is itself."""
        return self._open(key, value) if type(value) in PACKED_TYPES else value

    def signal(self, key: bytes) -> None:
        """A write to ``key``: count it, note its size may have changed, invalidate
        WATCHes and cached copies, wake blocked clients."""
        self.stats.dirty += 1
        self.resized.add(key)
        if self.watchers or self.blocked_keys or self.tracking_writes:
            self.signal_listeners(key)

    def signal_listeners(self, key: bytes) -> None:
        """Tell whoever waits on ``key`` (WATCH, blocked clients, client-side caches)
        that it changed."""
        if self.tracking_writes:
            self.tracking.invalidate_key(key)
        if self.watchers:
            watchers = self.watchers.get(key)
            if watchers:
                self.touch_watchers(key, watchers)
        if self.blocked_keys and key in self.blocked_keys:
            self.blocking.key_ready(self, key)

    def touch_watchers(self, key: bytes, watchers: list[Watcher]) -> None:
        for watcher in watchers:
            # A key already expired when WATCHed whose deletion is the only change is
            # logically unchanged (Redis: the "expired" watch flag is just cleared).
            if self._watched_as_expired(watcher, key) and key not in self.data:
                self._clear_expired_flag(watcher, key)
                continue
            watcher.watched_key_modified()

    def touch_all_watched(self, replaced_with: Database | None = None) -> None:
        """FLUSHDB/FLUSHALL (``replaced_with`` None) or SWAPDB, called before the change.

        As Redis, only WATCHed keys that exist here, or in the database swapped in,
        are touched: flushing an empty database breaks no transaction.
        """
        incoming = replaced_with.data if replaced_with is not None else {}
        for key, watchers in list(self.watchers.items()):
            exists_here = key in self.data
            if not exists_here and key not in incoming:
                continue
            for watcher in list(watchers):
                if self._watched_as_expired(watcher, key):
                    if key not in incoming:
                        self._clear_expired_flag(watcher, key)  # deleted: no change
                        continue
                    if replaced_with is not None and replaced_with.is_expired(key):
                        continue  # still logically absent
                elif not exists_here and replaced_with is not None and replaced_with.is_expired(key):
                    # Absent replaced by an expired key: still absent, but EXEC must not
                    # then see it as a key that expired after WATCH.
                    self._set_expired_flag(watcher, key)
                    continue
                watcher.watched_key_modified()

    def _watched_as_expired(self, watcher: Watcher, key: bytes) -> bool:
        for db, watched_key, expired in watcher.watched:
            if db is self and watched_key == key:
                return expired
        return False

    def _set_expired_flag(self, watcher: Watcher, key: bytes, expired: bool = True) -> None:
        watched = watcher.watched
        for i, (db, watched_key, _) in enumerate(watched):
            if db is self and watched_key == key:
                watched[i] = (db, watched_key, expired)
                return

    def _clear_expired_flag(self, watcher: Watcher, key: bytes) -> None:
        self._set_expired_flag(watcher, key, False)

    def clear(self, lazy: bool = False) -> int:
        """Empty the database (FLUSHDB/FLUSHALL); ``lazy``: the old dicts go to the
        LazyFree queue and are freed a slice at a time (Redis's emptyDbAsync)."""
        removed = len(self.data)
        if self.watchers:
            self.touch_all_watched()
        if self.blocked_keys:
            # A blocked XREADGROUP fails when its stream goes (the waiters' own
            # tests decide who is woken).
            for key in self.blocked_keys:
                if key in self.data:
                    self.blocking.key_ready(self, key)
        old = (self.data, self.expires, self._expiry_heap, self.access)
        self.data = {}
        self.expires = {}
        self._expiry_heap = []
        self.stats.used -= self.used
        self.used = 0
        self.sizes = {}
        self.resized = set()
        self.opened = {}
        self.loose = set()
        if self.access is not None:
            access = self.access
            self.access = AccessTracker(access.lfu, access.log_factor, access.decay_minutes)
        if lazy and self.lazyfree is not None:
            self.lazyfree.free_database(old[0], old[1], [old[2], old[3]])
        self.stats.dirty += removed
        return removed

    def swap_contents(self, other: Database) -> None:
        # WATCHes stay with their database number; touch them before the swap.
        if self.watchers:
            self.touch_all_watched(other)
        if other.watchers:
            other.touch_all_watched(self)
        self.data, other.data = other.data, self.data
        self.expires, other.expires = other.expires, self.expires
        self._expiry_heap, other._expiry_heap = other._expiry_heap, self._expiry_heap
        self.access, other.access = other.access, self.access
        self.used, other.used = other.used, self.used
        self.sizes, other.sizes = other.sizes, self.sizes
        self.resized, other.resized = other.resized, self.resized
        self.opened, other.opened = other.opened, self.opened
        self.loose, other.loose = other.loose, self.loose
        # Clients blocked on a key the swap brought in can be served now (and a
        # blocked XREADGROUP whose stream the swap took away fails).
        for db, before in ((self, other.data), (other, self.data)):
            for key in db.blocked_keys:
                if key in db.data or key in before:
                    db.blocking.key_ready(db, key)

    def unshare_string(self, key: bytes, value: bytes) -> bytearray:
        """``value`` (``key``'s string) replaced by a mutable copy, which later writes
        change in place (Redis's raw encoding, dbUnshareStringValue): no write by
        itself, the TTL stays."""
        mutable = bytearray(value)
        self.data[key] = mutable
        self._unaccount(key, value)
        self.resized.add(key)
        return mutable

    # -- memory accounting -------------------------------------------------------

    def _unaccount(self, key: bytes, value: Any) -> None:
        """``value`` left ``key``: its bytes leave the figures."""
        if type(value) is bytes:
            cost = _STRING_COST + len(key) + len(value)
        elif type(value) in PACKED_TYPES:
            cost = packed_size(value) + _KEY_OBJECT + len(key)
        elif self.opened and key in self.opened:
            cost = packed_size(self.opened.pop(key)) + _KEY_OBJECT + len(key)
        else:
            entry = self.sizes.pop(key, None)
            if entry is None:
                return  # not measured yet
            cost = entry[0] + _KEY_OBJECT + len(key)
        self.used -= cost
        self.stats.used -= cost

    def _replace_accounted(self, key: bytes, old: Any, value: Any) -> None:
        """``old`` replaced by ``value`` under ``key`` (not both strings)."""
        self._unaccount(key, old)
        self._account_added(key, value)

    def _account_added(self, key: bytes, value: Any) -> None:
        """``value`` stored under ``key``: a string counts now, others once measured."""
        if type(value) is bytes:
            cost = _STRING_COST + len(key) + len(value)
        elif type(value) in PACKED_TYPES:  # (RESTORE stores a small value packed)
            cost = packed_size(value) + _KEY_OBJECT + len(key)
        else:
            self.resized.add(key)
            self.loose.add(key)
            return
        self.used += cost
        self.stats.used += cost

    def refresh_sizes(self) -> None:
        """Measure the values changed since the last call (``resized``)."""
        resized = self.resized
        if not resized:
            return
        self.resized = set()
        data, sizes, opened = self.data, self.sizes, self.opened
        delta = 0
        for key in resized:
            value = data.get(key)
            if value is None or type(value) is bytes or type(value) in PACKED_TYPES:
                continue  # gone, or counted exactly when stored or packed
            if opened and key in opened:
                # Opened, then written: from its blob's figure to a measured one.
                delta -= packed_size(opened.pop(key)) + _KEY_OBJECT + len(key)
                self.loose.add(key)
            previous = sizes.get(key)
            entry = sizes[key] = measure(value, previous)
            if previous is None:
                delta += entry[0] + _KEY_OBJECT + len(key)
            else:
                delta += entry[0] - previous[0]
        self.used += delta
        self.stats.used += delta

    def _account_bulk(self, values: dict[bytes, Any]) -> None:
        """Values loaded in bulk (startup, DEBUG RELOAD): strings counted, small
        collections packed and counted, the others left for ``refresh_sizes``."""
        total = 0
        resized = self.resized
        data = self.data
        for key, value in values.items():
            if type(value) is bytes:
                total += len(key) + len(value)
                total += _STRING_COST
            elif type(value) in PACKED_TYPES:
                total += packed_size(value) + _KEY_OBJECT + len(key)
            else:
                packed = pack(value)
                if packed is None:
                    resized.add(key)
                else:
                    data[key] = packed  # (a key already there: no resize mid-iteration)
                    total += packed_size(packed) + _KEY_OBJECT + len(key)
        self.used += total
        self.stats.used += total

    # -- expiry ------------------------------------------------------------------

    def expire_now(self, key: bytes) -> None:
        """Remove a key whose deadline has passed (lazily or from the active cycle)."""
        value = self.data.pop(key, None)
        self.expires.pop(key, None)
        if value is not None:
            self._unaccount(key, value)
            if self.access is not None:
                self.access.forget(key)
        if self.lazy_expire and value is not None and self.lazyfree is not None:
            self.lazyfree.free_value(value)
        self.stats.expired_keys += 1
        self.notify(ev.EXPIRED, b"expired", key)
        self.signal(key)
        if self.on_expired is not None:
            self.on_expired(self.index, key)

    def is_expired(self, key: bytes) -> bool:
        deadline = self.expires.get(key)
        return deadline is not None and deadline <= self.expiry_now()

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
        self._account_heap(-looked)
        return expired, looked

    def _rebuild_expiry_heap(self) -> None:
        before = len(self._expiry_heap)
        self._expiry_heap = [(deadline, key) for key, deadline in self.expires.items()]
        heapq.heapify(self._expiry_heap)
        self._account_heap(len(self._expiry_heap) - before)

    def _account_heap(self, entries: int) -> None:
        """The expiry heap grew or shrank by ``entries``. Its entries count as data:
        one stays behind (stale) when its key is deleted, until the heap is rebuilt
        or the entry is popped, so eviction must see it go."""
        cost = entries * EXPIRY_ENTRY
        self.used += cost
        self.stats.used += cost
