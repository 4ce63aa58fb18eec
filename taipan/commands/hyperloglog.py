"""HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.

Sketches are strings in Redis's byte format (``taipan.types.hyperloglog``), edited in
place as bytearrays (Redis's "raw" encoding), so GET returns what Redis would store.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from taipan.commands.table import CommandGroup
from taipan.errors import ReplyError, WrongType
from taipan.keyspace import events as ev
from taipan.protocol.reply import OK, Status
from taipan.types import hyperloglog as hll
from taipan.types import hyperloglog_updates as updates

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("hyperloglog")

NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value."
CORRUPT = "INVALIDOBJ Corrupted HLL object detected"
_STRING_TYPES = (bytes, bytearray)


def _check(value: Any) -> bytes | bytearray:
    """isHLLObjectOrReply: WRONGTYPE for other types and for strings that aren't sketches."""
    if not isinstance(value, _STRING_TYPES):
        raise WrongType()
    if not hll.is_hll(value):
        raise ReplyError(NOT_HLL)
    return value


def _writable(db: Any, key: bytes, value: bytes | bytearray) -> bytearray:
    """The sketch as a bytearray owned by ``key`` (Redis: dbUnshareStringValue)."""
    if type(value) is bytearray:
        return value
    return db.unshare_string(key, value)  # same value, new representation


def _raw_registers(value: bytes | bytearray) -> int:
    try:
        return int.from_bytes(hll.registers(value), "little")
    except hll.CorruptHll:
        raise ReplyError(CORRUPT) from None


@commands.command("PFADD", arity=-2, flags="write denyoom fast", keys=(1, 1, 1),
                  key_specs=("RW insert",), since="2.8.9",
                  summary="Adds the specified elements to the specified HyperLogLog.",
                  complexity="O(1) to add every element.")
def pfadd(ctx: Client, argv: list[bytes]) -> int:
    """PFADD key [element [element ...]]"""
    db, key = ctx.db, argv[1]
    value = db.get(key)
    updated = 0
    if value is None:
        value = hll.new_sparse()
        db.set(key, value)
        updated = 1
    else:
        value = _writable(db, key, _check(value))
    if len(argv) > 2:
        try:
            updated += updates.add(value, argv[2:], ctx.server.config.hll_sparse_max_bytes)
        except hll.CorruptHll:
            raise ReplyError(CORRUPT) from None
    if not updated:
        return 0
    hll.invalidate(value)
    db.signal(key)
    db.notify(ev.STRING, b"pfadd", key)
    return 1


@commands.command("PFCOUNT", arity=-2, flags="readonly may_replicate", keys=(1, -1, 1),
                  key_specs=({"flags": "RW access", "notes": "RW because it may change the "
                              "internal representation of the key, and propagate to replicas"},),
                  since="2.8.9",
                  summary="Return the approximated cardinality of the set(s) observed by the "
                          "HyperLogLog at key(s).",
                  complexity="O(1) with a very small average constant time when called with a "
                             "single key. O(N) with N being the number of keys, and much bigger "
                             "constant times, when called with multiple keys.")
def pfcount(ctx: Client, argv: list[bytes]) -> int:
    """PFCOUNT key [key ...]"""
    db = ctx.db
    if len(argv) > 2:  # the cardinality of the union, computed afresh
        union = 0
        for key in argv[1:]:
            value = db.get_read(key)
            if value is not None:
                union = hll.raw_max(union, _raw_registers(_check(value)))
        return hll.count_raw(union)
    key = argv[1]
    value = db.get_read(key)
    if value is None:
        return 0
    value = _writable(db, key, _check(value))
    card = hll.cached_cardinality(value)
    if card is None:
        try:
            card = hll.count(value)
        except hll.CorruptHll:
            raise ReplyError(CORRUPT) from None
        hll.store_cardinality(value, card)  # a write, as in Redis: the bytes change
        db.signal(key)
    return card


@commands.command("PFMERGE", arity=-2, flags="write denyoom", keys=(1, -1, 1),
                  key_specs=("RW access insert", "RO access"), since="2.8.9",
                  summary="Merge N different HyperLogLogs into a single one.",
                  complexity="O(N) to merge N HyperLogLogs, but with high constant times.")
def pfmerge(ctx: Client, argv: list[bytes]) -> Any:
    """PFMERGE destkey [sourcekey [sourcekey ...]]"""
    db = ctx.db
    union, any_dense = 0, False
    for key in argv[1:]:  # the destination counts as a source too
        value = db.get_read(key)
        if value is None:
            continue
        if _check(value)[4] == hll.DENSE:
            any_dense = True  # Redis then writes the destination dense at once
        union = hll.raw_max(union, _raw_registers(value))
    dest = argv[1]
    value = db.get(dest)
    if value is None:
        value = hll.new_sparse()
        db.set(dest, value)
    else:
        value = _writable(db, dest, value)
    try:
        if any_dense and value[4] == hll.SPARSE:
            updates.promote(value)
        if union:
            updates.merge_into(value, union.to_bytes(hll.REGISTERS, "little"),
                               ctx.server.config.hll_sparse_max_bytes)
    except hll.CorruptHll:
        raise ReplyError(CORRUPT) from None
    hll.invalidate(value)
    db.signal(dest)
    # As Redis: a merge is announced as a (mass) ``pfadd``.
    db.notify(ev.STRING, b"pfadd", dest)
    return OK


@commands.command("PFDEBUG", arity=3, flags="write denyoom admin", keys=(2, 2, 1),
                  key_specs=("RW access",), since="2.8.9", doc_flags="syscmd",
                  summary="Internal commands for debugging HyperLogLog values",
                  complexity="N/A")
def pfdebug(ctx: Client, argv: list[bytes]) -> Any:
    """PFDEBUG subcommand key"""
    db, key = ctx.db, argv[2]
    value = db.get(key)
    if value is None:
        raise ReplyError("ERR The specified key does not exist")
    value = _writable(db, key, _check(value))
    sub = argv[1].lower()
    if sub in (b"getreg", b"todense"):
        converted = value[4] == hll.SPARSE
        if converted:
            try:
                updates.promote(value)
            except hll.CorruptHll:
                raise ReplyError(CORRUPT) from None
            db.stats.dirty += 1  # propagate the new encoding (Redis signals no key here)
        if sub == b"todense":
            return 1 if converted else 0
        return list(hll.registers(value))
    if sub == b"decode":
        if value[4] != hll.SPARSE:
            raise ReplyError("ERR HLL encoding is not sparse")
        return hll.decode(value).encode()
    if sub == b"encoding":
        return Status("sparse" if value[4] == hll.SPARSE else "dense")
    name = argv[1].split(b"\x00", 1)[0].decode("utf-8", "replace")
    raise ReplyError(f"ERR Unknown PFDEBUG subcommand '{name}'")


@commands.command("PFSELFTEST", arity=1, flags="admin", since="2.8.9", doc_flags="syscmd",
                  summary="An internal command for testing HyperLogLog values",
                  complexity="N/A")
def pfselftest(ctx: Client, argv: list[bytes]) -> Any:
    """PFSELFTEST"""
    rng = random.Random()
    # Dense registers: random values read back through both conversions.
    raw = bytes(rng.randrange(64) for _ in range(hll.REGISTERS))
    dense = bytearray(b"HYLL" + bytes(12)) + hll.raw_to_dense(raw)
    if hll.dense_to_raw(dense[hll.HEADER:]) != raw:
        raise ReplyError("TESTFAILED Register error")
    check = bytearray(len(dense))
    check[:hll.HEADER] = dense[:hll.HEADER]
    for register, count in enumerate(raw):
        if count:
            updates.dense_set(check, register, count)
    if check != dense:
        raise ReplyError("TESTFAILED Register error")
    # Sparse and dense sketches must agree, and stay within the expected error.
    sparse, dense = hll.new_sparse(), hll.new_sparse()
    updates.promote(dense)
    seed = rng.getrandbits(32)
    relative_error = 1.04 / hll.REGISTERS ** 0.5
    added = 0
    for checkpoint in (10, 100, 1000, 10000, 30000):
        elements = [b"%d:%d" % (seed, i) for i in range(added, checkpoint)]
        updates.add(dense, elements, 0)
        added = checkpoint
        estimate = hll.count(dense)
        if checkpoint <= 1000:  # the sparse form holds this many at any size limit
            updates.add(sparse, elements, 1 << 20)
            if hll.count(sparse) != estimate:
                raise ReplyError("TESTFAILED Sparse and dense sketches disagree")
        if abs(estimate - checkpoint) > checkpoint * relative_error * 5 + 1:
            raise ReplyError(f"TESTFAILED Too big error. card:{checkpoint} abserr:"
                             f"{abs(estimate - checkpoint)}")
    return OK
