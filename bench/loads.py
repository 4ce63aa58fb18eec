"""The memory test's data sets as pipelined RESP commands (pure: no sockets here).

* strings: ``count`` keys ``key:000000000`` … → ``abc``, MSET batches
* hash:    one key with ``count`` fields ``field:N`` → ``N``, HSET batches
* zset:    one key with ``count`` members ``member:N`` with score ``N``, ZADD batches
* small-hash, small-set, small-zset, small-list: ``count`` keys of ``SMALL_SIZE``
  elements each (the compact encodings: listpack hashes and sorted sets, short lists,
  small sets), one command a key, pipelined

Each batch is ``(commands, expected reply lines)``.
"""

from __future__ import annotations

from collections.abc import Iterator

SMALL_KINDS = ("small-hash", "small-set", "small-zset", "small-list")
KINDS = ("strings", "hash", "zset", *SMALL_KINDS)
SMALL_SIZE = 10
VALUE = b"abc"  # 3 bytes and not an integer, so Redis keeps it as a plain (embstr) string
HASH_KEY = "bench:hash"
ZSET_KEY = "bench:zset"
KEY_OF = {"strings": None, "hash": HASH_KEY, "zset": ZSET_KEY,
          **{kind: f"{kind}:{0:09d}" for kind in SMALL_KINDS}}
DESCRIPTIONS = {
    "strings": "keys key:NNNNNNNNN -> 3-byte value 'abc', pipelined MSET",
    "hash": f"fields field:N -> 'N' in one hash '{HASH_KEY}', pipelined HSET",
    "zset": f"members member:N with score N in one sorted set '{ZSET_KEY}', pipelined ZADD",
    "small-hash": f"keys of {SMALL_SIZE} fields field:I -> 'value-I', one HSET a key",
    "small-set": f"keys of {SMALL_SIZE} members member:I, one SADD a key",
    "small-zset": f"keys of {SMALL_SIZE} members member:I with score I, one ZADD a key",
    "small-list": f"keys of {SMALL_SIZE} items item:I, one RPUSH a key",
}
_SMALL_COMMANDS = {
    "small-hash": (b"HSET", lambda i: (b"field:%d" % i, b"value-%d" % i)),
    "small-set": (b"SADD", lambda i: (b"member:%d" % i,)),
    "small-zset": (b"ZADD", lambda i: (b"%d" % i, b"member:%d" % i)),
    "small-list": (b"RPUSH", lambda i: (b"item:%d" % i,)),
}


def kinds(spec: str) -> list[str]:
    """``--memory-kind`` → kinds in a fixed order; ``all`` means every kind."""
    wanted = {part.strip().lower() for part in spec.split(",") if part.strip()}
    if "all" in wanted:
        return list(KINDS)
    unknown = wanted - set(KINDS)
    if unknown or not wanted:
        raise ValueError(f"unknown memory kind {', '.join(sorted(unknown)) or spec!r}; "
                         f"choose from {', '.join(KINDS)}, all")
    return [kind for kind in KINDS if kind in wanted]


def encode(*args: bytes) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


def batches(kind: str, count: int, batch: int) -> Iterator[tuple[bytes, list[bytes]]]:
    """``(commands, expected reply lines)`` pairs that together load ``count`` elements
    (keys, for the small kinds)."""
    for start in range(0, count, batch):
        stop = min(start + batch, count)
        if kind == "strings":
            args = [b"MSET"]
            for i in range(start, stop):
                args += (b"key:%09d" % i, VALUE)
            yield encode(*args), [b"+OK"]
        elif kind == "hash":
            args = [b"HSET", HASH_KEY.encode()]
            for i in range(start, stop):
                args += (b"field:%d" % i, b"%d" % i)
            yield encode(*args), [b":%d" % (stop - start)]
        elif kind == "zset":
            args = [b"ZADD", ZSET_KEY.encode()]
            for i in range(start, stop):
                args += (b"%d" % i, b"member:%d" % i)
            yield encode(*args), [b":%d" % (stop - start)]
        elif kind in _SMALL_COMMANDS:
            name, element = _SMALL_COMMANDS[kind]
            tail = [part for i in range(SMALL_SIZE) for part in element(i)]
            payload = b"".join(encode(name, b"%s:%09d" % (kind.encode(), i), *tail)
                               for i in range(start, stop))
            yield payload, [b":%d" % SMALL_SIZE] * (stop - start)
        else:
            raise ValueError(f"unknown memory kind {kind!r}")
