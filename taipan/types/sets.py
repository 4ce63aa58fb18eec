"""The set type: Redis 7.0's two encodings, and random members in O(1).

Redis keeps a set of integers as an *intset*: a sorted array of 64-bit integers
(O(log N) lookups, O(N) inserts and deletes, ascending iteration, which is why
SMEMBERS of an intset comes back sorted). A set turns into a *hashtable* for good
once it is given a member that is not an integer in canonical form (Redis's
string2ll: no sign but '-', no leading zero, within 64 bits) or once it holds more
than ``set-max-intset-entries`` members.

Here an intset is an ``array('q')`` kept sorted: 8 bytes a member and no integer
objects, bisection in C, the same memmove on insert as Redis. A hashtable is a
Python ``set`` of bytes.

Random members (SPOP, SRANDMEMBER) need random access. An intset indexes its array.
A Python set has none, so a hashtable set builds a ``MemberSampler`` (a list of its
members) on its first random pick and keeps it in step on every add and remove;
sets never sampled pay nothing for it. See ``MemberSampler`` for the bookkeeping.
"""

from __future__ import annotations

import random
import re
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from typing import Any

_CANONICAL_INT = re.compile(rb"(?:0|-?[1-9][0-9]{0,18})\Z")
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
# Redis caps set-max-intset-entries at 2**30 for intsets (the array's own limit).
_INTSET_HARD_LIMIT = 1 << 30
# SPOP with a count above 1/5 of the set: one O(N) pass beats one pick per member
# (Redis switches strategy at the same ratio, SPOP_MOVE_STRATEGY_MUL).
_POP_BULK_RATIO = 5
# SRANDMEMBER with a count above 1/3 of the set: sample a full list, as Redis's
# "CASE 3" copies the set; below, distinct picks rarely collide.
_SAMPLE_BULK_RATIO = 3
# Deleting more than this many positions from an intset rebuilds it in one pass
# instead of one memmove each.
_INTSET_REBUILD_DELETES = 32

_randrange = random.randrange


def intset_value(member: bytes) -> int | None:
    """The integer an intset would store for ``member``, or None if it can't."""
    if _CANONICAL_INT.match(member):
        value = int(member)
        if _INT64_MIN <= value <= _INT64_MAX:
            return value
    return None


def intset_limit(max_entries: int) -> int:
    """How many members an intset may hold under ``set-max-intset-entries``."""
    return min(max_entries, _INTSET_HARD_LIMIT)


def _position(ints: array[int], value: int) -> int:
    """Index of ``value`` in the sorted ``ints``, or -1."""
    i = bisect_left(ints, value)
    return i if i < len(ints) and ints[i] == value else -1


class MemberSampler:
    """Uniform random members of a hashtable set in O(1) expected time.

    ``slots`` lists every member present plus those removed since it was built
    (``gone``, tombstones: a removal does not know its member's slot). A pick
    retries a slot whose member is gone. A member added while gone just leaves
    ``gone``, so no member ever has two slots and picks stay uniform. A pop does know
    its slot and swap-removes it. When ``gone`` outgrows the live members the owner
    drops the sampler and builds a new one on its next pick: an O(N) rebuild paid
    for by N removals, and at most one retry per pick on average meanwhile.
    """

    __slots__ = ("slots", "gone")

    def __init__(self, members: Iterable[bytes]) -> None:
        self.slots: list[bytes] = list(members)
        self.gone: set[bytes] = set()

    def live(self) -> int:
        return len(self.slots) - len(self.gone)

    def pick(self) -> bytes:
        slots, gone = self.slots, self.gone
        if not gone:
            return slots[_randrange(len(slots))]
        while True:
            member = slots[_randrange(len(slots))]
            if member not in gone:
                return member

    def take(self) -> bytes:
        """Remove a random live member's slot and return the member (for pops)."""
        slots, gone = self.slots, self.gone
        while True:
            i = _randrange(len(slots))
            member = slots[i]
            last = slots.pop()
            if i < len(slots):
                slots[i] = last
            if member in gone:
                gone.discard(member)  # a tombstone cleared on the way
                continue
            return member

    def picks(self, count: int) -> list[bytes]:
        """``count`` independent picks."""
        picked = random.choices(self.slots, k=count)  # one C loop
        gone = self.gone
        if gone:
            # Redraw the tombstones hit: each redraw is again uniform over live members.
            for i, member in enumerate(picked):
                if member in gone:
                    picked[i] = self.pick()
        return picked


class RedisSet:
    """A Redis set: an intset (sorted ``array('q')``) or a hashtable (``set``)."""

    # ints: the intset's sorted values; None once the set is a hashtable.
    # members: the hashtable's members; None while the set is an intset.
    # sampler: random-access index of a hashtable, built on its first random pick.
    __slots__ = ("ints", "members", "sampler")
    TYPE_NAME = "set"

    def __init__(self) -> None:
        self.ints: array[int] | None = array("q")
        self.members: set[bytes] | None = None
        self.sampler: MemberSampler | None = None

    @classmethod
    def build(cls, members: Iterable[bytes], max_intset_entries: int) -> RedisSet:
        """A new set of distinct ``members``, encoded as Redis encodes a set it fills
        from empty (SINTERSTORE, SUNIONSTORE, RDB load): an intset while every member
        is an integer and they number at most ``set-max-intset-entries``.

        A ``set`` passed in becomes the hashtable itself (no copy): the caller hands
        it over.
        """
        result = cls()
        unique = members if isinstance(members, set) else set(members)
        if len(unique) <= intset_limit(max_intset_entries):
            values = []
            for member in unique:
                value = intset_value(member)
                if value is None:
                    break
                values.append(value)
            else:
                values.sort()
                result.ints = array("q", values)
                return result
        result.ints = None
        result.members = unique
        return result

    # -- what TYPE, OBJECT ENCODING and COPY see ------------------------------------

    @property
    def is_intset(self) -> bool:
        return self.ints is not None

    def encoding(self, config: Any) -> str:
        return "intset" if self.ints is not None else "hashtable"

    def copy(self) -> RedisSet:
        """COPY keeps the encoding, as Redis's setTypeDup does."""
        twin = RedisSet()
        if self.ints is not None:
            twin.ints = array("q", self.ints)
        else:
            twin.ints = None
            twin.members = set(self.members)  # type: ignore[arg-type]
        return twin

    # -- reads -----------------------------------------------------------------------

    def __len__(self) -> int:
        ints = self.ints
        return len(ints) if ints is not None else len(self.members)  # type: ignore[arg-type]

    def __contains__(self, member: bytes) -> bool:
        ints = self.ints
        if ints is None:
            return member in self.members  # type: ignore[operator]
        value = intset_value(member)
        return value is not None and _position(ints, value) >= 0

    def __iter__(self) -> Iterator[bytes]:
        """Members in Redis's iteration order for an intset (ascending); a hashtable's
        order is arbitrary, as in Redis."""
        ints = self.ints
        if ints is None:
            return iter(self.members)  # type: ignore[arg-type]
        return (b"%d" % value for value in ints)

    def listed(self) -> list[bytes]:
        """A snapshot of the members, in iteration order."""
        ints = self.ints
        if ints is None:
            return list(self.members)  # type: ignore[arg-type]
        return [b"%d" % value for value in ints]

    def all_integers(self) -> bool:
        """Every member is an integer an intset could hold (always so for an intset)."""
        if self.ints is not None:
            return True
        return all(intset_value(member) is not None for member in self.members)  # type: ignore[union-attr]

    # -- writes ------------------------------------------------------------------------

    def add(self, new: Iterable[bytes], max_intset_entries: int) -> int:
        """Add ``new`` members; returns how many were not there.

        Redis converts an intset when a non-integer arrives, or when an integer that
        was added leaves it above the limit (a lowered limit converts on the next real
        addition). The size only grows within one call, so deciding once, after the
        integers are known, gives the same encoding.
        """
        ints = self.ints
        if ints is not None:
            new = list(new)
            values = set()
            for member in new:
                value = intset_value(member)
                if value is None:
                    break
                if _position(ints, value) < 0:
                    values.add(value)
            else:
                if not values:
                    return 0
                if len(ints) + len(values) <= intset_limit(max_intset_entries):
                    self._merge(values)
                    return len(values)
            self.to_hashtable()
        return self._add_hashed(new)

    def _merge(self, values: set[int]) -> None:
        ints = self.ints
        assert ints is not None
        if len(values) == 1:
            value = next(iter(values))
            ints.insert(bisect_left(ints, value), value)
        else:
            # Two sorted runs: timsort merges them in linear time.
            ints.extend(sorted(values))
            self.ints = array("q", sorted(ints))

    def _add_hashed(self, new: Iterable[bytes]) -> int:
        members = self.members
        assert members is not None
        before = len(members)
        sampler = self.sampler
        if sampler is None:
            members.update(new)
            return len(members) - before
        gone, slots = sampler.gone, sampler.slots
        for member in new:
            if member not in members:
                members.add(member)
                if member in gone:
                    gone.discard(member)  # its old slot is live again
                else:
                    slots.append(member)
        return len(members) - before

    def remove(self, old: Iterable[bytes]) -> int:
        """Remove members; returns how many were there."""
        ints = self.ints
        removed = 0
        if ints is not None:
            for member in old:
                value = intset_value(member)
                if value is not None:
                    i = _position(ints, value)
                    if i >= 0:
                        del ints[i]
                        removed += 1
            return removed
        members = self.members
        assert members is not None
        sampler = self.sampler
        if sampler is None:
            before = len(members)
            members.difference_update(old)
            return before - len(members)
        gone = sampler.gone
        for member in old:
            if member in members:
                members.remove(member)
                gone.add(member)
                removed += 1
        if len(gone) > len(members) + 16:
            self.sampler = None  # mostly tombstones: rebuild on the next pick
        return removed

    def to_hashtable(self) -> None:
        ints = self.ints
        if ints is not None:
            self.members = {b"%d" % value for value in ints}
            self.ints = None

    # -- random members ------------------------------------------------------------------

    def _sampler(self) -> MemberSampler:
        sampler = self.sampler
        members = self.members
        assert members is not None
        # A change that bypassed add/remove shows up as a count mismatch: rebuild.
        if sampler is None or sampler.live() != len(members):
            sampler = self.sampler = MemberSampler(members)
        return sampler

    def random_member(self) -> bytes:
        """One uniformly random member (the set must not be empty)."""
        ints = self.ints
        if ints is not None:
            return b"%d" % ints[_randrange(len(ints))]
        return self._sampler().pick()

    def random_members(self, count: int) -> list[bytes]:
        """``count`` independent random members (repetitions allowed)."""
        ints = self.ints
        if ints is not None:
            return [b"%d" % value for value in random.choices(ints, k=count)]
        return self._sampler().picks(count)

    def distinct_random_members(self, count: int) -> list[bytes]:
        """``count`` (< len) distinct random members, in random order."""
        ints = self.ints
        if ints is not None:
            return [b"%d" % ints[i] for i in random.sample(range(len(ints)), count)]
        members = self.members
        assert members is not None
        if count * _SAMPLE_BULK_RATIO > len(members):
            return random.sample(list(members), count)
        chosen: dict[bytes, None] = {}
        pick = self._sampler().pick
        while len(chosen) < count:
            chosen[pick()] = None
        return list(chosen)

    def pop_random(self) -> bytes:
        """Remove and return one uniformly random member (the set must not be empty)."""
        ints = self.ints
        if ints is not None:
            i = _randrange(len(ints))
            value = ints[i]
            del ints[i]
            return b"%d" % value
        member = self._sampler().take()
        self.members.remove(member)  # type: ignore[union-attr]
        return member

    def pop_random_many(self, count: int) -> list[bytes]:
        """Remove and return ``count`` (< len) distinct random members."""
        ints = self.ints
        if ints is not None:
            chosen = random.sample(range(len(ints)), count)
            popped = [b"%d" % ints[i] for i in chosen]
            if count > _INTSET_REBUILD_DELETES:
                dropped = set(chosen)
                self.ints = array("q", [v for i, v in enumerate(ints) if i not in dropped])
            else:
                for i in sorted(chosen, reverse=True):
                    del ints[i]
            return popped
        members = self.members
        assert members is not None
        if count * _POP_BULK_RATIO > len(members):
            popped = random.sample(list(members), count)
            members.difference_update(popped)
            self.sampler = None  # rebuilt, smaller, on the next pick
            return popped
        pop = self.pop_random
        return [pop() for _ in range(count)]
