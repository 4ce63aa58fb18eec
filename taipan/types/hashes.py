"""The hash type: a dict of field -> value (both bytes), plus Redis's encoding rule.

Redis 7.0 keeps a small hash as a *listpack* (fields in insertion order) and turns
it into a *hashtable* for good once it holds more than ``hash-max-listpack-entries``
fields or is ever written a field or value longer than ``hash-max-listpack-value``
bytes. A Python dict already iterates in insertion order (an update keeps its place,
a field deleted and set again moves to the end, as in a listpack), so one flag is
all the listpack needs: ``OBJECT ENCODING``, HGETALL order and whole-hash HSCAN
replies follow from it.

Random fields (HRANDFIELD) need random access, which a dict lacks. A listpack is
small (512 fields by default), so it is walked, as Redis walks its listpack. A
hashtable-encoded hash builds a ``FieldSampler`` (a list of its fields) on its first
random pick and keeps it up to date through ``store``/``discard``: O(1) per pick
and per change. Hashes never sampled pay one empty slot.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from itertools import islice
from typing import Any

_randrange = random.randrange


class FieldSampler:
    """Uniform random fields in O(1) expected time, maintained in O(1) per change.

    ``slots`` lists every field present plus those deleted since it was built
    (``gone``); a pick retries a slot whose field is gone. A field set again while
    gone just leaves ``gone``, so no field ever has two slots and picks stay fair.
    When ``gone`` outgrows the live fields the sampler is dropped and rebuilt on the
    next pick: an O(N) rebuild paid for by N/2 deletions.
    """

    __slots__ = ("slots", "gone")

    def __init__(self, fields: Iterable[bytes]) -> None:
        self.slots: list[bytes] = list(fields)
        self.gone: set[bytes] = set()

    def pick(self) -> bytes:
        slots, gone = self.slots, self.gone
        while True:
            field = slots[_randrange(len(slots))]
            if field not in gone:
                return field

    def live(self) -> int:
        return len(self.slots) - len(self.gone)


class RedisHash(dict):
    """A Redis hash: ``dict[bytes, bytes]`` with its encoding flag and sampler."""

    # hashtable: True once Redis would have converted the listpack (never undone).
    # sampler: random-access index for HRANDFIELD, built lazily (hashtable only).
    # Both default at class level and there is no __init__: a hash is built by dict's
    # own constructor, and opening a packed small hash (``types/packed.py``) is on
    # the path of every command on one. An instance gets a __dict__ of its own only
    # once it converts or is sampled, which only big hashes do.
    hashtable = False
    sampler: FieldSampler | None = None
    TYPE_NAME = "hash"

    def encoding(self, config: Any) -> str:
        return "hashtable" if self.hashtable else "listpack"

    def copy(self) -> RedisHash:
        """COPY keeps the encoding, as Redis's hashTypeDup does."""
        twin = RedisHash(self)
        twin.hashtable = self.hashtable
        return twin

    @classmethod
    def loaded(cls, pairs: Iterable[tuple[bytes, bytes]], config: Any) -> RedisHash:
        """A hash built whole (RESTORE, RDB load): encoded by size, as Redis loads it."""
        value = cls(pairs)
        value.fit(value.keys(), config.hash_max_listpack_value)
        value.fit(value.values(), config.hash_max_listpack_value)
        value.check_size(config.hash_max_listpack_entries)
        return value

    # -- encoding rule -----------------------------------------------------------

    def fit(self, args: Iterable[bytes], max_value: int) -> None:
        """Convert before a write whose fields or values are too long for a listpack."""
        if not self.hashtable:
            for arg in args:
                if len(arg) > max_value:
                    self.hashtable = True
                    return

    def check_size(self, max_entries: int) -> None:
        """Convert after a write that left more fields than a listpack may hold.

        Redis checks after every set, updates included (a lowered limit converts on
        the next write); the field count only grows during one command, so checking
        once at its end gives the same answer.
        """
        if not self.hashtable and len(self) > max_entries:
            self.hashtable = True

    # -- changes that keep the sampler right ----------------------------------------

    def store(self, field: bytes, value: bytes) -> bool:
        """Set one field; True when it is new."""
        is_new = field not in self
        self[field] = value
        if is_new and self.sampler is not None:
            self._sampled_add(field)
        return is_new

    def store_pairs(self, args: list[bytes], start: int) -> int:
        """Set ``args[start:]`` as field, value pairs; returns how many were new."""
        before = len(self)
        sampler = self.sampler
        if sampler is None:
            for i in range(start, len(args), 2):
                self[args[i]] = args[i + 1]
        else:
            for i in range(start, len(args), 2):
                self.store(args[i], args[i + 1])
        return len(self) - before

    def discard(self, field: bytes) -> bool:
        """Delete one field; True when it was there."""
        if self.pop(field, None) is None:
            return False
        sampler = self.sampler
        if sampler is not None:
            sampler.gone.add(field)
            if len(sampler.gone) > len(self) + 16:
                self.sampler = None  # mostly tombstones: rebuild on the next pick
        return True

    def _sampled_add(self, field: bytes) -> None:
        sampler = self.sampler
        assert sampler is not None
        if field in sampler.gone:
            sampler.gone.discard(field)  # its old slot is live again
        else:
            sampler.slots.append(field)

    # -- random fields --------------------------------------------------------------

    def random_field(self) -> bytes:
        """One uniformly random field (the hash must not be empty)."""
        if not self.hashtable:
            # A listpack is small: skip ahead at C speed rather than keep a sampler
            # alive on every small hash ever sampled (Redis walks its listpack too).
            return next(islice(self, _randrange(len(self)), None))
        sampler = self.sampler
        # A write that bypassed store/discard shows up as a count mismatch: rebuild.
        if sampler is None or sampler.live() != len(self):
            sampler = self.sampler = FieldSampler(self)
        return sampler.pick()

    def random_fields(self, count: int) -> list[bytes]:
        """``count`` random fields, repetitions allowed, in random order."""
        if not self.hashtable:
            # A listpack is small: index a fresh list (Redis walks its listpack too).
            fields = list(self)
            size = len(fields)
            return [fields[_randrange(size)] for _ in range(count)]
        pick = self.random_field
        return [pick() for _ in range(count)]

    def distinct_random_fields(self, count: int) -> list[bytes]:
        """``count`` (< len) distinct random fields.

        A listpack answers in its own order, as Redis's lpRandomPairsUnique. A
        hashtable answers in no particular order: when ``count`` is a large share
        of the hash, sampling all fields (O(N), as Redis copies its dict then); else
        repeated picks into a set, O(count) expected, as Redis's CASE 4.
        """
        size = len(self)
        if not self.hashtable:
            fields = list(self)
            return [fields[i] for i in sorted(random.sample(range(size), count))]
        if count * 3 > size:
            return random.sample(list(self), count)
        chosen: dict[bytes, None] = {}
        pick = self.random_field
        while len(chosen) < count:
            chosen[pick()] = None
        return list(chosen)
