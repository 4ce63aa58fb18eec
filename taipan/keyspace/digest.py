"""DEBUG DIGEST and DIGEST-VALUE: Redis's SHA1 signatures of values and datasets.

Two folds build every signature. ``_xor`` adds a SHA1 where order must not matter
(set members, hash fields, the keys of a database); ``_mix`` chains one where it
must (list elements, stream entries, the parts of a key's record). A value is
digested from its logical contents, so a signature doesn't depend on encodings and
equals the one Redis computes for the same data.
"""

from __future__ import annotations

from collections.abc import Iterable
from hashlib import sha1
from typing import Any

from taipan.types.hashes import RedisHash
from taipan.types.lists import RedisList
from taipan.types.packed import PACKED_TYPES, unpack
from taipan.types.sets import RedisSet
from taipan.types.stream import MAX_ID, MIN_ID, Stream
from taipan.types.zset import ZSet

_ZERO = bytes(20)
_EXPIRE_MARK = sha1(b"!!expire!!").digest()

# Redis's object type numbers, which each value record starts with (big endian).
_TYPE_TAGS = {bytes: b"\0\0\0\0", bytearray: b"\0\0\0\0", RedisList: b"\0\0\0\1",
              RedisSet: b"\0\0\0\2", ZSet: b"\0\0\0\3", RedisHash: b"\0\0\0\4",
              Stream: b"\0\0\0\6"}


def _xor(digest: bytes, data: bytes) -> bytes:
    """``digest`` xor SHA1(data): the order such additions come in doesn't matter."""
    other = sha1(data).digest()
    return (int.from_bytes(digest, "big") ^ int.from_bytes(other, "big")).to_bytes(20, "big")


def _xor_raw(digest: bytes, other: bytes) -> bytes:
    return (int.from_bytes(digest, "big") ^ int.from_bytes(other, "big")).to_bytes(20, "big")


def _mix(digest: bytes, data: bytes) -> bytes:
    """SHA1(digest xor SHA1(data)): each addition depends on the ones before it."""
    return sha1(_xor(digest, data)).digest()


def _mix_all(digest: bytes, parts: Iterable[bytes]) -> bytes:
    for part in parts:
        digest = sha1(_xor(digest, part)).digest()
    return digest


def _pair(first: bytes, second: bytes) -> bytes:
    """The digest of an unordered collection's element that has two parts (what is
    xored in is the SHA1 of this, as for every key's record)."""
    return _mix(_mix(_ZERO, first), second)


def _score_text(score: float) -> bytes:
    # C's "%.17g", which Python's %-formatting shares (inf and -inf included).
    return b"%.17g" % score


def value_digest(digest: bytes, value: Any, has_expire: bool) -> bytes:
    """Fold one value (its type, contents and whether it expires) into ``digest``."""
    if type(value) in PACKED_TYPES:
        value = unpack(value)
    kind = type(value)
    tag = _TYPE_TAGS.get(kind)
    if tag is None:
        tag = next(t for cls, t in _TYPE_TAGS.items() if isinstance(value, cls))
    digest = _mix(digest, tag)
    if isinstance(value, (bytes, bytearray)):
        digest = _mix(digest, bytes(value))
    elif isinstance(value, RedisList):
        digest = _mix_all(digest, value)
    elif isinstance(value, RedisSet):
        acc = int.from_bytes(digest, "big")
        for member in value:
            acc ^= int.from_bytes(sha1(member).digest(), "big")
        digest = acc.to_bytes(20, "big")
    elif isinstance(value, ZSet):
        for member, score in value:
            digest = _xor(digest, _pair(member, _score_text(score)))
    elif isinstance(value, RedisHash):
        for field, item in value.items():
            digest = _xor(digest, _pair(field, item))
    elif isinstance(value, Stream):
        for (ms, seq), fields in value.range(MIN_ID, MAX_ID):
            digest = _mix(digest, b"%d.%d" % (ms, seq))
            digest = _mix_all(digest, fields)
    else:  # pragma: no cover - every value type is listed above
        raise TypeError(f"no digest for {kind.__name__}")
    if has_expire:
        digest = _xor_raw(digest, _EXPIRE_MARK)
    return digest


def key_value_digest(db: Any, key: bytes) -> bytes:
    """DEBUG DIGEST-VALUE: one key's value, even a logically expired one; zeros
    for a missing key."""
    value = db.data.get(key)
    if value is None:
        return _ZERO
    return value_digest(_ZERO, value, key in db.expires)


def dataset_digest(databases: Iterable[Any]) -> bytes:
    """DEBUG DIGEST: every key of every database; all zeros for an empty server."""
    final = _ZERO
    for db in databases:
        data = db.data
        if not data:
            continue
        final = _mix(final, db.index.to_bytes(4, "big"))
        expires = db.expires
        acc = int.from_bytes(final, "big")
        for key, value in data.items():
            record = value_digest(_mix(_ZERO, key), value, key in expires)
            acc ^= int.from_bytes(sha1(record).digest(), "big")
        final = acc.to_bytes(20, "big")
    return final
