"""Keyspace notifications, differentially: the same commands against redis-server and
Taipan must publish the same keyspace/keyevent messages, byte for byte, in the same
order.

Each scenario runs on both servers with a subscriber (RESP2, or RESP3 after HELLO 3)
PSUBSCRIBEd to ``__key*__:*`` and to a sentinel channel. A second connection runs the
scenario's commands, then PUBLISHes to the sentinel; everything the subscriber got up
to the sentinel is the scenario's event stream. Replies are compared too, except for
commands whose reply is random (SPOP ...).

A step is a command tuple, or one of:

* ``("@block", *command)``: send the command on a third connection (a blocking pop
  that parks) and wait until the server reports it blocked;
* ``("@sleep", seconds)``;
* ``("@nodiff", *command)``: run it, but don't compare its reply (random replies);
* ``("@expired", count)``: wait until the active expiry cycle has removed ``count``
  keys, touching no key (INFO's expired_keys).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from support.raw import RawClient
from support.servers import ServerProcess

SENTINEL = b"nk-sentinel"
ALL = "KEA"
EVERYTHING = "KEAmn"

Step = tuple[Any, ...]

# -- scenarios ------------------------------------------------------------------------

STRINGS: list[Step] = [
    ("SET", "nk:s", "v"),
    ("SET", "nk:s", "w", "EX", "100"),
    ("SET", "nk:s", "x", "NX"),  # not set: no event
    ("SET", "nk:s2", "x", "XX"),  # not set: no event
    ("SET", "nk:s", "y", "XX", "KEEPTTL", "GET"),
    ("SET", "nk:s3", "z", "PXAT", "99999999999999"),
    ("SETNX", "nk:s4", "1"),
    ("SETNX", "nk:s4", "2"),
    ("SETEX", "nk:s5", "100", "v"),
    ("PSETEX", "nk:s6", "100000", "v"),
    ("MSET", "nk:m1", "a", "nk:m2", "b"),
    ("MSETNX", "nk:m3", "a", "nk:m4", "b"),
    ("MSETNX", "nk:m3", "a", "nk:m5", "b"),
    ("GETSET", "nk:s", "g"),
    ("GETSET", "nk:gs", "g"),
    ("GETDEL", "nk:s"),
    ("GETDEL", "nk:s"),
    ("GETEX", "nk:m1", "EX", "100"),
    ("GETEX", "nk:m1", "PERSIST"),
    ("GETEX", "nk:m1", "PERSIST"),  # no TTL left: no event
    ("GETEX", "nk:m1"),
    ("GETEX", "nk:m2", "PXAT", "1"),  # in the past: deleted
    ("GETEX", "nk:missing", "EX", "10"),
    ("APPEND", "nk:ap", "abc"),
    ("APPEND", "nk:ap", "def"),
    ("APPEND", "nk:ap", ""),
    ("SETRANGE", "nk:sr", "2", "xy"),
    ("SETRANGE", "nk:sr", "0", "a"),
    ("SETRANGE", "nk:sr", "0", ""),  # sets nothing: no event
    ("SETRANGE", "nk:sr2", "5", ""),
    ("INCR", "nk:n"),
    ("INCRBY", "nk:n", "5"),
    ("DECR", "nk:n"),
    ("DECRBY", "nk:n", "2"),
    ("INCRBYFLOAT", "nk:f", "1.5"),
    ("INCRBYFLOAT", "nk:f", "2"),
    ("INCR", "nk:ap"),  # not an integer: an error, no event
    ("GET", "nk:n"),
    ("GET", "nk:nothing"),
    ("MGET", "nk:n", "nk:nothing", "nk:f"),
    ("STRLEN", "nk:nothing"),
    ("GETRANGE", "nk:nothing", "0", "1"),
    ("SET", "nk:wrong", "x", "GET"),
    ("LPUSH", "nk:l", "a"),
    ("SET", "nk:l", "x", "GET"),  # WRONGTYPE: nothing fires
]

BITS: list[Step] = [
    ("SETBIT", "nk:b", "7", "1"),
    ("SETBIT", "nk:b", "7", "1"),  # unchanged: no event
    ("SETBIT", "nk:b", "7", "0"),
    ("SETBIT", "nk:b", "100", "0"),  # grows the string: fires
    ("GETBIT", "nk:nothing", "3"),
    ("BITCOUNT", "nk:nothing"),
    ("BITPOS", "nk:nothing", "1"),
    ("SET", "nk:b2", "abc"),
    ("BITOP", "AND", "nk:bd", "nk:b", "nk:b2"),
    ("BITOP", "NOT", "nk:bd", "nk:b2"),
    ("BITOP", "OR", "nk:bd", "nk:none1", "nk:none2"),  # empty: deletes the target
    ("BITOP", "OR", "nk:bd", "nk:none1", "nk:none2"),  # nothing to delete: no event
    ("BITFIELD", "nk:bf", "SET", "u8", "0", "255"),
    ("BITFIELD", "nk:bf", "SET", "u8", "0", "255"),  # unchanged: no event
    ("BITFIELD", "nk:bf", "INCRBY", "u8", "0", "1"),
    ("BITFIELD", "nk:bf", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300"),
    ("BITFIELD", "nk:bf", "GET", "u8", "0"),
    ("BITFIELD", "nk:bf2", "GET", "u8", "0"),
    ("BITFIELD", "nk:bf3", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "10"),  # created only
    ("BITFIELD", "nk:bf", "SET", "u8", "64", "0"),  # grows, value unchanged: fires
    ("BITFIELD_RO", "nk:nothing", "GET", "u8", "0"),
]

HYPERLOGLOG: list[Step] = [
    ("PFADD", "nk:h1", "a", "b", "c"),
    ("PFADD", "nk:h1", "a"),  # nothing new: no event
    ("PFADD", "nk:h2"),
    ("PFADD", "nk:h2"),
    ("PFCOUNT", "nk:h1"),
    ("PFCOUNT", "nk:nothing"),
    ("PFMERGE", "nk:h3", "nk:h1", "nk:h2"),
    ("PFMERGE", "nk:h3", "nk:nothing"),
]

LISTS: list[Step] = [
    ("LPUSH", "nk:l", "a", "b", "c"),
    ("RPUSH", "nk:l", "d"),
    ("LPUSHX", "nk:l", "e"),
    ("RPUSHX", "nk:l", "f"),
    ("LPUSHX", "nk:nolist", "e"),
    ("LSET", "nk:l", "0", "z"),
    ("LINSERT", "nk:l", "BEFORE", "z", "y"),
    ("LINSERT", "nk:l", "BEFORE", "nope", "y"),
    ("LREM", "nk:l", "0", "y"),
    ("LREM", "nk:l", "0", "nope"),
    ("LTRIM", "nk:l", "0", "-1"),  # trims nothing, still fires
    ("LTRIM", "nk:l", "1", "3"),
    ("LPOP", "nk:l"),
    ("RPOP", "nk:l", "1"),
    ("LPOP", "nk:l", "0"),  # count 0: no event
    ("LPOP", "nk:l", "5"),  # empties: lpop then del
    ("LPOP", "nk:l"),
    ("RPUSH", "nk:l", "a", "b", "c"),
    ("LTRIM", "nk:l", "5", "10"),  # out of range: ltrim then del
    ("RPUSH", "nk:l", "a", "b", "c"),
    ("LREM", "nk:l", "0", "b"),
    ("LREM", "nk:l", "0", "a"),
    ("LREM", "nk:l", "0", "c"),  # empties
    ("RPUSH", "nk:src", "1", "2"),
    ("LMOVE", "nk:src", "nk:dst", "LEFT", "RIGHT"),
    ("RPOPLPUSH", "nk:src", "nk:dst"),  # empties the source
    ("LMOVE", "nk:dst", "nk:dst", "LEFT", "RIGHT"),  # rotation within one list
    ("RPOPLPUSH", "nk:none", "nk:dst"),
    ("LMPOP", "2", "nk:none", "nk:dst", "LEFT", "COUNT", "1"),
    ("LMPOP", "1", "nk:dst", "RIGHT", "COUNT", "5"),
    ("LMPOP", "1", "nk:dst", "RIGHT"),
    ("RPUSH", "nk:bl", "x", "y"),
    ("BLPOP", "nk:bl", "0"),
    ("BRPOP", "nk:bl", "0"),
    ("RPUSH", "nk:bl", "x"),
    ("BLMOVE", "nk:bl", "nk:bl2", "RIGHT", "LEFT", "0"),
    ("BRPOPLPUSH", "nk:bl2", "nk:bl", "0"),
    ("BLMPOP", "0", "1", "nk:bl", "LEFT", "COUNT", "3"),
    ("LLEN", "nk:nothing"),
    ("LRANGE", "nk:nothing", "0", "-1"),
    ("LINDEX", "nk:nothing", "0"),
    ("LPOS", "nk:nothing", "a"),
]

LISTS_BLOCKED: list[Step] = [
    ("@block", "BLPOP", "nk:q1", "0"),
    ("RPUSH", "nk:q1", "a"),  # served at once: rpush, then lpop and del
    ("@block", "BRPOP", "nk:q2", "0"),
    ("RPUSH", "nk:q2", "a", "b"),
    ("@block", "BLMOVE", "nk:q3", "nk:q4", "LEFT", "LEFT", "0"),
    ("LPUSH", "nk:q3", "a"),
    ("@block", "BRPOPLPUSH", "nk:q5", "nk:q4", "0"),
    ("LPUSH", "nk:q5", "a", "b"),
    ("@block", "BLMPOP", "0", "1", "nk:q6", "RIGHT", "COUNT", "5"),
    ("RPUSH", "nk:q6", "a", "b", "c"),
    ("@block", "BZPOPMIN", "nk:z1", "0"),
    ("ZADD", "nk:z1", "1", "a"),
    ("@block", "BZPOPMAX", "nk:z2", "0"),
    ("ZADD", "nk:z2", "1", "a", "2", "b"),
    ("@block", "BZMPOP", "0", "1", "nk:z3", "MIN", "COUNT", "2"),
    ("ZADD", "nk:z3", "1", "a", "2", "b", "3", "c"),
]

HASHES: list[Step] = [
    ("HSET", "nk:h", "f1", "v1", "f2", "v2"),
    ("HSET", "nk:h", "f1", "v1"),  # no new field: still fires
    ("HMSET", "nk:h", "f3", "v3"),
    ("HSETNX", "nk:h", "f1", "x"),  # exists: no event
    ("HSETNX", "nk:h", "f4", "x"),
    ("HSETNX", "nk:h2", "f", "x"),
    ("HINCRBY", "nk:h", "n", "3"),
    ("HINCRBYFLOAT", "nk:h", "fl", "1.5"),
    ("HINCRBY", "nk:h", "f1", "1"),  # not an integer: error, nothing
    ("HDEL", "nk:h", "nope"),
    ("HDEL", "nk:h", "f1", "f2"),
    ("HDEL", "nk:h2", "f", "other"),  # empties: hdel then del
    ("HGET", "nk:nothing", "f"),
    ("HGETALL", "nk:nothing"),
    ("HLEN", "nk:nothing"),
    ("HEXISTS", "nk:nothing", "f"),
    ("HMGET", "nk:nothing", "f"),
    ("HKEYS", "nk:nothing"),
    ("HRANDFIELD", "nk:nothing"),
    ("HSCAN", "nk:nothing", "0"),
]

SETS: list[Step] = [
    ("SADD", "nk:s1", "a", "b", "c"),
    ("SADD", "nk:s1", "a"),  # nothing added: no event
    ("SREM", "nk:s1", "nope"),
    ("SREM", "nk:s1", "a"),
    ("SADD", "nk:s2", "b", "x"),
    ("SMOVE", "nk:s1", "nk:s2", "b"),  # already in the target: srem only
    ("SMOVE", "nk:s1", "nk:s3", "c"),  # empties the source, creates the target
    ("SMOVE", "nk:s2", "nk:s2", "b"),
    ("SMOVE", "nk:none", "nk:s2", "b"),
    ("SADD", "nk:one", "only"),
    ("SPOP", "nk:one"),  # empties: spop then del
    ("SADD", "nk:p", "1", "2", "3"),
    ("@nodiff", "SPOP", "nk:p", "1"),
    ("SPOP", "nk:p", "0"),
    ("@nodiff", "SPOP", "nk:p", "10"),  # takes all: spop then del
    ("SPOP", "nk:p"),
    ("SADD", "nk:a", "1", "2", "3"),
    ("SADD", "nk:b", "2", "3", "4"),
    ("SINTERSTORE", "nk:d", "nk:a", "nk:b"),
    ("SUNIONSTORE", "nk:d", "nk:a", "nk:b"),
    ("SDIFFSTORE", "nk:d", "nk:a", "nk:b"),
    ("SINTERSTORE", "nk:d", "nk:a", "nk:none"),  # empty: del
    ("SDIFFSTORE", "nk:d", "nk:a", "nk:a"),  # empty, nothing to delete
    ("SUNIONSTORE", "nk:d", "nk:none"),
    ("SISMEMBER", "nk:nothing", "a"),
    ("SMEMBERS", "nk:nothing"),
    ("SCARD", "nk:nothing"),
    ("SINTER", "nk:nothing", "nk:a"),
    ("SINTERCARD", "2", "nk:a", "nk:nothing"),
    ("SRANDMEMBER", "nk:nothing"),
]

ZSETS: list[Step] = [
    ("ZADD", "nk:z", "1", "a", "2", "b", "3", "c"),
    ("ZADD", "nk:z", "1", "a"),  # unchanged: no event
    ("ZADD", "nk:z", "NX", "5", "a"),
    ("ZADD", "nk:z", "XX", "5", "a"),
    ("ZADD", "nk:z", "CH", "GT", "1", "a"),
    ("ZADD", "nk:z", "INCR", "2", "a"),
    ("ZADD", "nk:zz", "XX", "1", "a"),
    ("ZINCRBY", "nk:z", "1", "b"),
    ("ZINCRBY", "nk:z2", "1", "b"),
    ("ZREM", "nk:z", "nope"),
    ("ZREM", "nk:z", "a"),
    ("ZREM", "nk:z2", "b", "x"),  # empties
    ("ZADD", "nk:r", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"),
    ("ZREMRANGEBYRANK", "nk:r", "0", "0"),
    ("ZREMRANGEBYSCORE", "nk:r", "2", "2"),
    ("ZREMRANGEBYLEX", "nk:r", "[d", "[d"),
    ("ZREMRANGEBYSCORE", "nk:r", "100", "200"),
    ("ZREMRANGEBYRANK", "nk:r", "0", "-1"),  # empties
    ("ZADD", "nk:p", "1", "a", "2", "b", "3", "c"),
    ("ZPOPMIN", "nk:p"),
    ("ZPOPMAX", "nk:p", "0"),
    ("ZPOPMAX", "nk:p", "5"),  # empties
    ("ZPOPMIN", "nk:p"),
    ("ZADD", "nk:p", "1", "a", "2", "b"),
    ("ZMPOP", "2", "nk:none", "nk:p", "MIN"),
    ("ZMPOP", "1", "nk:p", "MAX", "COUNT", "9"),
    ("ZADD", "nk:p", "1", "a"),
    ("BZPOPMIN", "nk:p", "0"),
    ("ZADD", "nk:p", "1", "a"),
    ("BZMPOP", "0", "1", "nk:p", "MAX"),
    ("ZADD", "nk:a", "1", "x", "2", "y"),
    ("ZADD", "nk:b", "3", "y", "4", "w"),
    ("ZUNIONSTORE", "nk:d", "2", "nk:a", "nk:b"),
    ("ZINTERSTORE", "nk:d", "2", "nk:a", "nk:b"),
    ("ZDIFFSTORE", "nk:d", "2", "nk:a", "nk:b"),
    ("ZINTERSTORE", "nk:d", "2", "nk:a", "nk:none"),  # empty: del
    ("ZDIFFSTORE", "nk:d", "1", "nk:none"),
    ("ZRANGESTORE", "nk:d", "nk:a", "0", "-1"),
    ("ZRANGESTORE", "nk:d", "nk:a", "5", "10"),  # empty: del
    ("ZRANGESTORE", "nk:d", "nk:none", "0", "-1"),
    ("ZSCORE", "nk:nothing", "a"),
    ("ZRANGE", "nk:nothing", "0", "-1"),
    ("ZCARD", "nk:nothing"),
    ("ZRANK", "nk:nothing", "a"),
    ("ZUNION", "2", "nk:nothing", "nk:a"),
    ("ZMSCORE", "nk:nothing", "a"),
    ("ZRANDMEMBER", "nk:nothing"),
]

GEO: list[Step] = [
    ("GEOADD", "nk:g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"),
    ("GEOADD", "nk:g", "NX", "13.361389", "38.115556", "Palermo"),  # nothing: no event
    ("GEOADD", "nk:g", "CH", "XX", "13.5", "38.1", "Palermo"),
    ("GEOSEARCHSTORE", "nk:gs", "nk:g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"),
    ("GEOSEARCHSTORE", "nk:gs", "nk:g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"),
    ("GEOSEARCHSTORE", "nk:gs", "nk:g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"),
    ("GEORADIUS", "nk:g", "15", "37", "200", "km", "STORE", "nk:gr"),
    ("GEORADIUS", "nk:g", "15", "37", "200", "km", "STOREDIST", "nk:gr"),
    ("GEORADIUSBYMEMBER", "nk:g", "Palermo", "1", "km", "STORE", "nk:gr"),
    ("GEORADIUS", "nk:g", "0", "0", "1", "km", "STORE", "nk:gr"),  # empty: del
    ("GEORADIUS", "nk:none", "0", "0", "1", "km", "STORE", "nk:gr2"),
    ("SET", "nk:gr2", "x"),
    ("GEOSEARCHSTORE", "nk:gr2", "nk:none", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"),
    ("GEOPOS", "nk:nothing", "a"),
    ("GEODIST", "nk:nothing", "a", "b"),
    ("GEOHASH", "nk:nothing", "a"),
    ("GEOSEARCH", "nk:nothing", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"),
]

GENERIC: list[Step] = [
    ("SET", "nk:k1", "v"),
    ("SET", "nk:k2", "v"),
    ("DEL", "nk:k1", "nk:k2", "nk:none"),
    ("SET", "nk:k1", "v"),
    ("UNLINK", "nk:k1"),
    ("SET", "nk:a", "v"),
    ("RENAME", "nk:a", "nk:b"),
    ("SET", "nk:c", "v"),
    ("RENAME", "nk:b", "nk:c"),  # overwrites: Redis re-adds the target
    ("RENAME", "nk:c", "nk:c"),
    ("RENAMENX", "nk:c", "nk:d"),
    ("SET", "nk:e", "v"),
    ("RENAMENX", "nk:d", "nk:e"),  # target exists: nothing
    ("RENAME", "nk:none", "nk:x"),
    ("EXPIRE", "nk:d", "100"),
    ("PEXPIRE", "nk:d", "100000"),
    ("EXPIREAT", "nk:d", "99999999999"),
    ("PEXPIREAT", "nk:d", "99999999999999"),
    ("EXPIRE", "nk:d", "100", "NX"),  # has a TTL: nothing
    ("EXPIRE", "nk:d", "200", "GT"),
    ("EXPIRE", "nk:none", "100"),
    ("PERSIST", "nk:d"),
    ("PERSIST", "nk:d"),
    ("EXPIRE", "nk:d", "-1"),  # in the past: del
    ("SET", "nk:d", "v"),
    ("PEXPIREAT", "nk:d", "1"),
    ("SET", "nk:m", "v", "EX", "100"),
    ("MOVE", "nk:m", "9"),
    ("MOVE", "nk:m", "9"),
    ("SET", "nk:m", "v"),
    ("MOVE", "nk:m", "9"),  # exists there: nothing
    ("COPY", "nk:m", "nk:m2"),
    ("COPY", "nk:m", "nk:m2"),  # exists: nothing
    ("COPY", "nk:m", "nk:m2", "REPLACE"),
    ("COPY", "nk:m", "nk:m3", "DB", "9"),
    ("COPY", "nk:none", "nk:m4"),
    ("SELECT", "9"),
    ("DEL", "nk:m", "nk:m3"),
    ("SELECT", "0"),
    ("EXISTS", "nk:none"),
    ("TYPE", "nk:none"),
    ("TTL", "nk:none"),
    ("PTTL", "nk:none"),
    ("EXPIRETIME", "nk:none"),
    ("OBJECT", "ENCODING", "nk:none"),  # no keymiss from OBJECT
    ("TOUCH", "nk:none", "nk:m"),
    ("DUMP", "nk:none"),
]

SORTS: list[Step] = [
    ("RPUSH", "nk:l", "3", "1", "2"),
    ("SORT", "nk:l", "STORE", "nk:out"),
    ("SORT", "nk:l", "LIMIT", "5", "5", "STORE", "nk:out"),  # empty: del
    ("SORT", "nk:l", "LIMIT", "5", "5", "STORE", "nk:out"),
    ("SORT", "nk:none", "STORE", "nk:out"),
    ("SORT", "nk:l", "BY", "nk:w_*", "GET", "nk:o_*", "STORE", "nk:out"),
    ("SORT", "nk:l", "BY", "nosort"),
    ("SORT_RO", "nk:none"),
]

# ``DUMPED`` stands for the payload the last DUMP returned (on that same server).
DUMPED = object()

RESTORES: list[Step] = [
    ("SET", "nk:r", "value"),
    ("DUMP", "nk:r"),
    ("RESTORE", "nk:r2", "0", DUMPED),
    ("RESTORE", "nk:r2", "0", DUMPED, "REPLACE"),
    ("RESTORE", "nk:r3", "100000", DUMPED),
    ("RESTORE", "nk:r2", "1", DUMPED, "REPLACE", "ABSTTL"),  # already expired: only a del
    ("RESTORE", "nk:r4", "1", DUMPED, "ABSTTL"),  # already expired, nothing replaced
    ("RESTORE", "nk:r3", "0", DUMPED),  # BUSYKEY: nothing
]

# Keys that expire while the active cycle is off can only expire lazily, on access.
NO_ACTIVE_EXPIRY: Step = ("DEBUG", "SET-ACTIVE-EXPIRE", "0")

EXPIRY_LAZY: list[Step] = [
    NO_ACTIVE_EXPIRY,
    ("SET", "nk:x", "v", "PX", "1"),
    ("RPUSH", "nk:xl", "a"),
    ("PEXPIRE", "nk:xl", "1"),
    ("@sleep", 0.02),
    ("GET", "nk:x"),  # expired, then keymiss
    ("LPUSH", "nk:xl", "b"),  # expired, then new and lpush
    ("SET", "nk:y", "v", "PX", "1"),
    ("@sleep", 0.02),
    ("SET", "nk:y", "w"),  # expired, new, set
    ("SET", "nk:z", "v", "PX", "1"),
    ("@sleep", 0.02),
    ("EXISTS", "nk:z"),
]

# One key at a time: the order in which one cycle removes several keys is Redis's
# hash-table order, which Taipan doesn't reproduce.
EXPIRY_ACTIVE: list[Step] = [
    ("SET", "nk:act1", "v", "PX", "1"),
    ("@expired", 1),  # the active cycle removes it; nothing touches it
    ("HSET", "nk:act2", "f", "v"),
    ("PEXPIRE", "nk:act2", "1"),
    ("@expired", 2),
    ("SELECT", "3"),
    ("RPUSH", "nk:act3", "a"),
    ("PEXPIRE", "nk:act3", "1"),
    ("@expired", 3),
]

SCRIPTS: list[Step] = [
    ("EVAL", "redis.call('set', KEYS[1], 'x'); redis.call('lpush', KEYS[2], 'a'); "
             "redis.call('get', KEYS[3]); return redis.call('del', KEYS[1])",
     "3", "nk:e1", "nk:e2", "nk:e3"),
    ("EVAL", "redis.call('expire', KEYS[1], 100); return redis.call('lpop', KEYS[1])",
     "1", "nk:e2"),
    ("EVAL", "return redis.pcall('incr', KEYS[1])", "1", "nk:e2"),
]

TRANSACTIONS: list[Step] = [
    ("MULTI",),
    ("SET", "nk:t1", "v"),
    ("INCR", "nk:t2"),
    ("RPUSH", "nk:t3", "a"),
    ("RPOP", "nk:t3"),
    ("GET", "nk:missing"),
    ("EXEC",),
    ("MULTI",),
    ("DEL", "nk:t1"),
    ("DISCARD",),
    ("SET", "nk:t1", "w"),
]

FILTERED: list[Step] = [
    NO_ACTIVE_EXPIRY,
    ("SET", "nk:f1", "v"),
    ("RPUSH", "nk:fl", "a", "b"),
    ("LPOP", "nk:fl", "2"),
    ("HSET", "nk:fh", "f", "v"),
    ("SADD", "nk:fs", "a"),
    ("ZADD", "nk:fz", "1", "a"),
    ("EXPIRE", "nk:f1", "100"),
    ("RENAME", "nk:f1", "nk:f2"),
    ("DEL", "nk:f2", "nk:fh", "nk:fs", "nk:fz"),
    ("GET", "nk:missing"),
    ("SET", "nk:fx", "v", "PX", "1"),
    ("@sleep", 0.02),
    ("GET", "nk:fx"),
]

NEW_AND_MISS: list[Step] = [
    ("SET", "nk:n1", "v"),
    ("SET", "nk:n1", "w"),  # exists: no new
    ("RPUSH", "nk:n2", "a"),
    ("SADD", "nk:n3", "a"),
    ("HSET", "nk:n4", "f", "v"),
    ("ZADD", "nk:n5", "1", "a"),
    ("PFADD", "nk:n6", "a"),
    ("SETBIT", "nk:n7", "1", "1"),
    ("APPEND", "nk:n8", "a"),
    ("INCR", "nk:n9"),
    ("GET", "nk:missing"),
    ("HGET", "nk:missing", "f"),
    ("LRANGE", "nk:missing", "0", "1"),
    ("GET", "nk:n1"),  # a hit: nothing
]

EDGES: list[Step] = [
    NO_ACTIVE_EXPIRY,
    ("SET", "nk:a", "v", "EX", "100"),
    ("RENAME", "nk:a", "nk:b"),  # the TTL moves silently
    ("SET", "nk:old", "v", "PX", "1"),
    ("@sleep", 0.02),
    ("RENAME", "nk:b", "nk:old"),  # the expired target expires first
    ("SET", "nk:gone", "v", "PX", "1"),
    ("@sleep", 0.02),
    ("DEL", "nk:gone"),  # expired, no del
    ("SET", "nk:ex", "v", "EX", "100", "GET"),
    ("GETEX", "nk:ex", "EXAT", "1"),
    ("MSET", "nk:dup", "1", "nk:dup", "2"),
    ("SET", "nk:str", "v"),
    ("SADD", "nk:sa", "1"),
    ("SUNIONSTORE", "nk:str", "nk:sa"),  # overwrites another type: no new
    ("ZADD", "nk:za", "1", "a"),
    ("ZUNIONSTORE", "nk:za", "1", "nk:za"),
    ("ZINTERSTORE", "nk:sa", "2", "nk:sa", "nk:za"),  # sets count as inputs too
    ("ZADD", "nk:za", "GT", "INCR", "-5", "a"),  # not applied: nil, no event
    ("ZADD", "nk:zb", "XX", "INCR", "1", "a"),
    ("HINCRBYFLOAT", "nk:hf", "f", "0.5"),
    ("LINSERT", "nk:nolist", "BEFORE", "a", "b"),
    ("RPUSH", "nk:l", "a"),
    ("LMOVE", "nk:l", "nk:str", "LEFT", "LEFT"),  # WRONGTYPE target: nothing
    ("LMOVE", "nk:nolist", "nk:l", "LEFT", "LEFT"),
    ("BLPOP", "nk:nolist", "0.01"),  # times out: nothing
    ("SORT", "nk:l", "STORE", "nk:str"),  # overwrites: no new
    ("PFCOUNT", "nk:none1", "nk:none2"),
    ("GEOADD", "nk:geo", "XX", "1", "1", "a"),
    ("SWAPDB", "0", "1"),
    ("SWAPDB", "0", "1"),
    ("FLUSHDB",),
    ("SELECT", "2"),
    ("SET", "nk:db2", "v"),
    ("EVAL", "return redis.call('blpop', KEYS[1], 0)", "1", "nk:nolist"),
    ("EVAL", "redis.call('rpush', KEYS[1], 'a'); return redis.call('blpop', KEYS[1], 0)",
     "1", "nk:db2l"),
    ("MULTI",),
    ("BLPOP", "nk:nolist", "0"),
    ("RPUSH", "nk:db2l", "b"),
    ("BLMOVE", "nk:db2l", "nk:db2m", "LEFT", "LEFT", "0"),
    ("EXEC",),
]

MORE_EDGES: list[Step] = [
    ("SET", "nk:t", "v", "EX", "100"),
    ("SET", "nk:t", "w", "KEEPTTL"),  # no expire event
    ("GETEX", "nk:t", "PX", "50000"),
    ("HMSET", "nk:hm", "a", "1"),
    ("PFADD", "nk:t", "x"),  # not a sketch: an error
    ("LPUSH", "nk:t", "x"),  # WRONGTYPE
    ("BITFIELD", "nk:bs", "SET", "i8", "0", "-1", "INCRBY", "i8", "0", "1", "GET", "i8", "0"),
    ("BITFIELD", "nk:bs", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-200"),
    ("BITFIELD", "nk:bs", "OVERFLOW", "WRAP", "SET", "u4", "0", "16"),
    ("SADD", "nk:sa", "1", "2"),
    ("SDIFFSTORE", "nk:sa", "nk:sa", "nk:nothing"),  # the destination is an input
    ("ZADD", "nk:z", "1", "a", "2", "b", "3", "c"),
    ("ZRANGESTORE", "nk:zd", "nk:z", "(1", "+inf", "BYSCORE", "LIMIT", "0", "1"),
    ("ZRANGESTORE", "nk:zd", "nk:z", "[b", "[c", "BYLEX", "REV"),
    ("GEOADD", "nk:g", "13.361389", "38.115556", "Palermo"),
    ("GEOSEARCHSTORE", "nk:gd", "nk:g", "FROMMEMBER", "Palermo", "BYBOX", "10", "10", "km",
     "STOREDIST"),
    ("RPUSH", "nk:sl", "2", "1"),
    ("SORT", "nk:sl", "BY", "nk:h_*->f", "GET", "nk:h_*->g", "GET", "#", "STORE", "nk:so"),
    ("HSET", "nk:h_1", "f", "5", "g", "x"),
    ("SORT", "nk:sl", "BY", "nk:h_*->f", "GET", "nk:h_*->g", "STORE", "nk:so"),
    ("MULTI",),
    ("SET", "nk:mx", "v", "PX", "100000"),
    ("EXPIRE", "nk:mx", "-1"),
    ("GET", "nk:mx"),
    ("EXEC",),
    ("FUNCTION", "LOAD", "REPLACE",
     "#!lua name=nklib\nredis.register_function('nkf', function(keys, args) "
     "redis.call('hset', keys[1], 'f', 'v'); return redis.call('hdel', keys[1], 'f') end)"),
    ("FCALL", "nkf", "1", "nk:fh"),
    ("FUNCTION", "DELETE", "nklib"),
]

# (name, notify-keyspace-events, steps)
SCENARIOS: list[tuple[str, str, list[Step]]] = [
    ("strings", EVERYTHING, STRINGS),
    ("bits", EVERYTHING, BITS),
    ("hyperloglog", EVERYTHING, HYPERLOGLOG),
    ("lists", EVERYTHING, LISTS),
    ("lists-blocked", EVERYTHING, LISTS_BLOCKED),
    ("hashes", EVERYTHING, HASHES),
    ("sets", EVERYTHING, SETS),
    ("zsets", EVERYTHING, ZSETS),
    ("geo", EVERYTHING, GEO),
    ("generic", EVERYTHING, GENERIC),
    ("sort", EVERYTHING, SORTS),
    ("restore", EVERYTHING, RESTORES),
    ("expiry-lazy", EVERYTHING, EXPIRY_LAZY),
    ("expiry-active", ALL, EXPIRY_ACTIVE),
    ("eval", EVERYTHING, SCRIPTS),
    ("multi-exec", EVERYTHING, TRANSACTIONS),
    ("edge-cases", EVERYTHING, EDGES),
    ("more-edge-cases", EVERYTHING, MORE_EDGES),
    ("new-only", "KEn", NEW_AND_MISS),
    ("keymiss-only", "Em", NEW_AND_MISS),
    ("keyspace-only", "KA", FILTERED),
    ("filter-list-generic", "Elg", FILTERED),
    ("filter-string-expired", "K$x", FILTERED),
    ("filter-hash-set-zset", "Ehsz", FILTERED),
    ("no-K-or-E", "A", FILTERED),
    ("off", "", FILTERED),
]


# -- the harness -------------------------------------------------------------------------

def _int_field(info: bytes, name: bytes) -> int:
    for line in info.split(b"\r\n"):
        if line.startswith(name + b":"):
            return int(line.split(b":", 1)[1])
    raise AssertionError(f"{name!r} not in INFO")


def _info(client: RawClient, section: str) -> bytes:
    return client.call("INFO", section)


def _wait(condition: Any, what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


class Run:
    """One server's side of a scenario: subscriber, writer, and blocked clients."""

    def __init__(self, port: int, resp: int, flags: str, log: Any = str) -> None:
        self.port = port
        self.log = log  # the server's log so far (a callable)
        self.writer = RawClient(port)
        self.writer.call("FLUSHALL")
        self.subscriber = RawClient(port)
        if resp == 3:
            self.subscriber.call("HELLO", "3")
        self.subscriber.send_raw(RawClient.encode("PSUBSCRIBE", "__key*__:*", SENTINEL))
        self.subscriber.read_reply()
        self.subscriber.read_reply()
        self.blocked: list[RawClient] = []
        self.replies: list[bytes] = []
        self.dumped = b""
        self.expired_base = _int_field(_info(self.writer, "stats"), b"expired_keys")
        assert self.writer.call("CONFIG", "SET", "notify-keyspace-events", flags) == b"+OK\r\n"

    def step(self, step: Step) -> None:
        head = step[0]
        if head == "@sleep":
            time.sleep(step[1])
        elif head == "@block":
            before = _int_field(_info(self.writer, "clients"), b"blocked_clients")
            client = RawClient(self.port)
            client.send_raw(RawClient.encode(*step[1:]))
            self.blocked.append(client)
            _wait(lambda: _int_field(_info(self.writer, "clients"), b"blocked_clients") > before,
                  "the client to block")
        elif head == "@expired":
            target = self.expired_base + step[1]
            try:
                _wait(lambda: _int_field(_info(self.writer, "stats"), b"expired_keys") >= target,
                      "the active expiry cycle")
            except AssertionError as error:
                # (what the server knew then, and its log, for a failure seen only in CI)
                config = [self.writer.call("CONFIG", "GET", name)
                          for name in ("hz", "maxmemory", "maxmemory-policy", "save")]
                raise AssertionError(
                    f"{error}: expired_keys target {target}; replies {self.replies!r}; "
                    f"{config!r}; {_info(self.writer, 'stats')!r} "
                    f"{_info(self.writer, 'keyspace')!r} "
                    f"{self.writer.call('CLIENT', 'LIST')!r}\n{self.log()[-4000:]}") from None
        elif head == "@nodiff":
            self.writer.call(*step[1:])
        else:
            args = [self.dumped if arg is DUMPED else arg for arg in step]
            reply = self.writer.call(*args)
            if head == "DUMP" and reply.startswith(b"$"):
                self.dumped = reply[reply.index(b"\r\n") + 2:-2]
            self.replies.append(reply)

    def finish(self) -> list[bytes]:
        """Unblocked clients' replies, then the event stream up to the sentinel."""
        for client in self.blocked:
            self.replies.append(client.read_reply())
        self.writer.call("PUBLISH", SENTINEL, "end")
        events = []
        while True:
            frame = self.subscriber.read_reply()
            if SENTINEL in frame and frame.endswith(b"$3\r\nend\r\n"):
                break
            events.append(frame)
        return events

    def close(self) -> None:
        self.writer.call("CONFIG", "SET", "notify-keyspace-events", "")
        self.writer.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        self.writer.call("FLUSHALL")
        for client in (self.writer, self.subscriber, *self.blocked):
            client.close()


@pytest.fixture
def pair(real_redis: ServerProcess, taipan: ServerProcess) -> Iterator[Any]:
    runs: list[Run] = []

    def start(resp: int, flags: str) -> tuple[Run, Run]:
        ref, ours = Run(real_redis.port, resp, flags), Run(taipan.port, resp, flags, taipan.output)
        runs.extend((ref, ours))
        return ref, ours

    yield start
    for run in runs:
        run.close()


def _describe(events: list[bytes]) -> list[str]:
    """A readable form of pmessage frames for failure messages."""
    out = []
    for frame in events:
        parts = [p for p in frame.split(b"\r\n") if p and p[:1] not in b"*>$"]
        out.append(" ".join(p.decode("utf-8", "replace") for p in parts[2:]))
    return out


@pytest.mark.parametrize("resp", [2, 3])
@pytest.mark.parametrize(("name", "flags", "steps"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_events_match_redis(pair: Any, resp: int, name: str, flags: str,
                            steps: list[Step]) -> None:
    ref, ours = pair(resp, flags)
    for step in steps:
        ref.step(step)
        ours.step(step)
    expected, actual = ref.finish(), ours.finish()
    if actual != expected:
        pytest.fail(f"{name}: event streams differ\n  redis:  {_describe(expected)}\n"
                    f"  taipan: {_describe(actual)}")
    assert ours.replies == ref.replies
    if "K" in flags or "E" in flags:
        assert expected, "the scenario should fire something"
    else:
        assert not expected


def test_subscriber_in_another_database_gets_db_index(pair: Any) -> None:
    """Channels name the database the key lives in, not the subscriber's."""
    ref, ours = pair(2, ALL)
    for run in (ref, ours):
        run.step(("SELECT", "5"))
        run.step(("SET", "nk:db5", "v"))
        run.step(("MOVE", "nk:db5", "6"))
    expected, actual = ref.finish(), ours.finish()
    assert actual == expected
    assert any(b"__keyevent@6__:move_to" in frame for frame in actual)


@pytest.mark.parametrize("value", ["KEn", "AKEn", "KEAmnd", "Kn", "g$lshzxetdKE", "mE", "n"])
def test_config_get_shows_classes_as_redis(differ: Any, value: str) -> None:
    """Redis shows 'n' first of K/E/m, and drops it beside 'A' (while keeping it on)."""
    try:
        differ.check("CONFIG", "SET", "notify-keyspace-events", value, resp=(2,))
        differ.check("CONFIG", "GET", "notify-keyspace-events")
    finally:
        differ.check("CONFIG", "SET", "notify-keyspace-events", "", resp=(2,))


def test_new_events_survive_all_classes(real_redis: ServerProcess,
                                        taipan: ServerProcess) -> None:
    """'AKEn' reads back as 'AKE', yet new-key events keep firing."""
    streams = []
    for server in (real_redis, taipan):
        client, sub = RawClient(server.port), RawClient(server.port)
        client.call("CONFIG", "SET", "notify-keyspace-events", "AKEn")
        try:
            sub.call("SUBSCRIBE", "__keyevent@0__:new")
            client.call("DEL", "nev:k")
            client.call("SET", "nev:k", "v")
            streams.append(sub.read_reply())
        finally:
            client.call("CONFIG", "SET", "notify-keyspace-events", "")
            client.call("DEL", "nev:k")
            client.close()
            sub.close()
    assert streams[0] == streams[1] == (
        b"*3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:new\r\n$5\r\nnev:k\r\n")
