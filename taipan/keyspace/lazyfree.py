"""Lazy freeing: big values and flushed databases released a slice at a time.

Redis hands large values (UNLINK, FLUSHALL ASYNC, the ``lazyfree-lazy-*`` options) to
a background thread. Under CPython's GIL a thread would still stall the event loop for
the whole deallocation, so Taipan dismantles them on the loop instead: a deleted value
is already gone from the keyspace, and its parts are popped and dropped a chunk at a
time, in slices of at most ``SLICE_S`` with the loop free to serve clients between
slices (``LazyFree.run_slice``, scheduled with ``call_soon`` and by the cron).

Which values go this way is Redis's rule (lazyfree.c): those whose free effort (about
the number of allocations) is above ``LAZYFREE_THRESHOLD``; smaller ones are freed at
once, since queueing them costs more than freeing them. A flushed database always goes
(emptyDbAsync). INFO's ``lazyfree_pending_objects`` counts what waits (one per value,
one per key of a flushed database) and ``lazyfreed_objects`` what has been freed.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

from taipan.types.hashes import RedisHash
from taipan.types.lists import RedisList
from taipan.types.sets import RedisSet
from taipan.types.stream import Stream
from taipan.types.zset import ZSet

LAZYFREE_THRESHOLD = 64  # free effort above which a value is freed lazily (Redis's)
SLICE_S = 0.002  # the longest a slice of freeing keeps the loop (seconds)
_CHUNK = 256  # items dropped between clock checks

# A job yields, after each chunk it dropped, how many counted objects it finished.
Job = Iterator[int]


def free_effort(value: Any) -> int:
    """About how many allocations freeing ``value`` releases (lazyfreeGetFreeEffort).

    Single-allocation encodings (strings, intsets, listpacks) count 1. Lists count
    their elements: each is its own Python object (Redis counts quicklist nodes).
    """
    kind = type(value)
    if kind is RedisSet:
        return 1 if value.members is None else len(value.members)
    if kind is RedisHash:
        return len(value) if value.hashtable else 1
    if kind is ZSet:
        return 1 if value.listpack else len(value._keys)
    if kind is RedisList:
        return len(value)
    if kind is Stream:
        effort = len(value._nodes)
        groups = value.groups
        if groups:
            first = groups.peekitem(0)[1]
            effort += len(groups) * (1 + len(first.pending))
        return effort
    return 1


class LazyFree:
    """The queue of values and databases waiting to be freed, and the counters."""

    def __init__(self) -> None:
        self.jobs: deque[Job] = deque()
        self.pending = 0  # INFO lazyfree_pending_objects
        self.freed = 0  # INFO lazyfreed_objects (CONFIG RESETSTAT clears it)
        self._scheduled = False  # a slice is already queued on the loop

    def free_value(self, value: Any) -> None:
        """Release a value just removed from the keyspace: lazily when it is big
        (freeObjAsync). A small one is simply dropped by the caller's return."""
        if free_effort(value) > LAZYFREE_THRESHOLD:
            self.pending += 1
            self._add(_value_job(value))

    def free_database(self, data: dict, expires: dict, extra: list[Any]) -> None:
        """Release a flushed database's dicts (emptyDbAsync): every key counts."""
        self.pending += len(data)
        self._add(_database_job(data, expires, extra))

    def _add(self, job: Job) -> None:
        self.jobs.append(job)
        if not self._scheduled:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no event loop (embedded use, tools): free now
                self.drain()
                return
            self._scheduled = True
            loop.call_soon(self._scheduled_slice)

    def _scheduled_slice(self) -> None:
        self._scheduled = False
        if self.run_slice():
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._scheduled_slice)

    def run_slice(self, budget_s: float = SLICE_S) -> bool:
        """Free for at most about ``budget_s``; True while work remains."""
        jobs = self.jobs
        deadline = time.perf_counter() + budget_s
        while jobs:
            job = jobs[0]
            for finished in job:
                if finished:
                    self.pending -= finished
                    self.freed += finished
                if time.perf_counter() > deadline:
                    return True
            else:
                jobs.popleft()
        return False

    def drain(self) -> None:
        """Free everything queued now (shutdown, no event loop)."""
        while self.run_slice(1.0):
            pass


def _value_job(value: Any) -> Job:
    yield from _dismantle(value)
    yield 1


def _database_job(data: dict, expires: dict, extra: list[Any]) -> Job:
    # The expires dict shares its keys with ``data``: dropping it first frees little.
    yield from _drop_dict(expires)
    popitem = data.popitem
    while data:
        done = 0
        for _ in range(min(_CHUNK, len(data))):
            value = popitem()[1]
            done += 1
            if type(value) is not bytes and free_effort(value) > LAZYFREE_THRESHOLD:
                yield done
                done = 0
                yield from _dismantle(value)
        yield done
    for item in extra:  # the expiry heap, the access tracker's tables
        yield from _dismantle(item)


def _dismantle(value: Any) -> Iterator[int]:
    """Drop ``value``'s contents a chunk at a time, yielding 0 after each chunk."""
    kind = type(value)
    if kind is RedisSet:
        value.sampler = None
        if value.members is not None:
            yield from _drop_set(value.members)
    elif kind is ZSet:
        yield from _drop_dict(value._keys)
        yield from _dismantle(value._order)
    elif kind is Stream:
        yield from _drop_list(value._nodes)
        for group in value.groups.values():
            yield from _drop_dict(group.pending)
            for consumer in group.consumers.values():
                yield from _drop_dict(consumer.pending)
    elif hasattr(value, "_lists") and not isinstance(value, dict):
        yield from _drop_sorted_list(value)
    elif isinstance(value, dict):
        if kind is RedisHash:
            value.sampler = None
        yield from _drop_dict(value)
    elif isinstance(value, (deque, list)):
        yield from _drop_list(value)
    elif isinstance(value, set):
        yield from _drop_set(value)
    else:
        for name in getattr(type(value), "__slots__", ()):  # e.g. the access tracker
            part = getattr(value, name, None)
            if isinstance(part, (dict, list, set, deque)) and len(part) > _CHUNK:
                yield from _dismantle(part)


def _drop_dict(table: dict) -> Iterator[int]:
    popitem = dict.popitem  # also for subclasses (SortedDict): the object is garbage
    while table:
        for _ in range(min(_CHUNK, len(table))):
            popitem(table)
        yield 0
    sorted_keys = getattr(table, "_list", None)  # a SortedDict's own key list
    if sorted_keys is not None:
        yield from _dismantle(sorted_keys)


def _drop_sorted_list(order: Any) -> Iterator[int]:
    sublists = order._lists  # a SortedList's or SortedKeys' lists of up to ~2000 items
    while sublists:
        del sublists[-4:]
        yield 0
    order.clear()  # (what is left is small: the maxes and the position index)


def _drop_set(members: set) -> Iterator[int]:
    pop = members.pop
    while members:
        for _ in range(min(_CHUNK, len(members))):
            pop()
        yield 0


def _drop_list(items: Any) -> Iterator[int]:
    pop = items.pop
    while items:
        for _ in range(min(_CHUNK, len(items))):
            pop()
        yield 0
