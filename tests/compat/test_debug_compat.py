"""DEBUG against a real Redis 7.0: DIGEST and DIGEST-VALUE over every type and
encoding (and after RDB files cross between the servers), PROTOCOL's every type in
RESP2 and RESP3, HELP, and the other subcommands' replies and errors.

DIGEST covers every database, so each digest test starts from FLUSHALL on both.
"""

from __future__ import annotations

import os
import shutil

import pytest

pytestmark = pytest.mark.usefixtures("real_redis")

Script = list[tuple[object, ...]]

_BIG = "v" * 100  # past every listpack value limit (64 bytes)

DATASETS: dict[str, Script] = {
    "strings": [
        ("SET", "s:small", "hello"), ("SET", "s:int", "12345"), ("SET", "s:neg", "-7"),
        ("SET", "s:raw", "x" * 60), ("SET", "s:empty", ""), ("APPEND", "s:app", "ab"),
        ("APPEND", "s:app", "cd"), ("SETRANGE", "s:range", 3, "zz"), ("INCR", "s:ctr"),
        ("INCRBYFLOAT", "s:float", "1.5"), ("SETBIT", "s:bits", 77, 1),
        ("SET", "s:bin", b"\x00\xff\r\n"),
    ],
    "lists": [
        ("RPUSH", "l:small", "a", "b", "c", "1", "2"), ("LPUSH", "l:small", "z"),
        ("RPUSH", "l:big", *[f"e{i}" for i in range(300)]),
        ("RPUSH", "l:long", _BIG, "short", _BIG),
        ("LINSERT", "l:small", "BEFORE", "b", "ins"), ("LREM", "l:big", 0, "e7"),
        ("RPUSH", "l:rev", "c", "b", "a"),
    ],
    "sets": [
        ("SADD", "set:int", 3, 1, 2, -5, 1000000), ("SADD", "set:str", "a", "b", "c"),
        ("SADD", "set:big", *range(600)), ("SADD", "set:mixed", 1, 2, "x"),
        ("SADD", "set:long", _BIG, "b"), ("SREM", "set:big", 5),
    ],
    "sorted sets": [
        ("ZADD", "z:small", 1, "a", "2.5", "b", -3, "c", "inf", "d", "-inf", "e"),
        ("ZADD", "z:big", *[x for i in range(200) for x in (repr(i / 7), f"m{i}")]),
        ("ZADD", "z:long", 1, _BIG, 2, "short"), ("ZINCRBY", "z:small", "0.1", "a"),
        ("ZADD", "z:frac", "0.1", "x", "1e20", "y", "-0", "z", "123456789.123456789", "w"),
        ("ZADD", "z:int", 1, 100, 2, 200),
    ],
    "hashes": [
        ("HSET", "h:small", "f1", "v1", "f2", "2", "3", "x"),
        ("HSET", "h:big", *[x for i in range(300) for x in (f"f{i}", f"v{i}")]),
        ("HSET", "h:long", "f", _BIG), ("HINCRBY", "h:small", "ctr", 5),
        ("HINCRBYFLOAT", "h:small", "fl", "2.25"), ("HDEL", "h:big", "f3"),
    ],
    "streams": [
        ("XADD", "x:s", "1-1", "a", "1", "b", "2"), ("XADD", "x:s", "1-2", "a", "3", "b", "4"),
        ("XADD", "x:s", "2-0", "other", "fields"), ("XADD", "x:s", "3-0", "n", "12345"),
        ("XADD", "x:s", "3-1", "a", "-17", "b", _BIG),
        ("XDEL", "x:s", "1-2"), ("XGROUP", "CREATE", "x:s", "g", "0"),
        *[("XADD", "x:many", f"{i}-0", "f", i, "g", f"v{i}") for i in range(1, 260)],
        ("XTRIM", "x:many", "MAXLEN", 200), ("XADD", "x:empty", "5-5", "a", "b"),
        ("XDEL", "x:empty", "5-5"),
    ],
    "hyperloglog": [
        ("PFADD", "hll:sparse", "a", "b", "c"),
        ("PFADD", "hll:dense", *[f"e{i}" for i in range(3000)]),
        ("PFCOUNT", "hll:sparse"), ("PFMERGE", "hll:merged", "hll:sparse", "hll:dense"),
    ],
    "expiry": [
        ("SET", "e:str", "v", "EX", 1000), ("RPUSH", "e:list", "a"),
        ("PEXPIREAT", "e:list", 99999999999999), ("SET", "e:persist", "v", "EX", 100),
        ("PERSIST", "e:persist"), ("SADD", "e:set", "m"), ("EXPIRE", "e:set", 500),
    ],
}


def _build(differ, script: Script, db: int = 0) -> None:
    differ.check("SELECT", db, resp=(2,))
    differ.run(script)
    differ.check("SELECT", 0, resp=(2,))


def _keys(script: Script) -> list[str]:
    keys: list[str] = []
    for command in script:
        name = str(command[0]).upper()
        key = str(command[1]) if name not in ("XGROUP",) else str(command[2])
        if key not in keys:
            keys.append(key)
    return keys


@pytest.mark.parametrize("name", DATASETS)
def test_digest_of_each_type(differ, name) -> None:
    differ.flush()
    script = DATASETS[name]
    _build(differ, script)
    digest = differ.check("DEBUG", "DIGEST")
    assert digest != b"+" + b"0" * 40 + b"\r\n"
    differ.check("DEBUG", "DIGEST-VALUE", *_keys(script), "nosuchkey")


def test_digest_of_everything_in_several_databases(differ) -> None:
    differ.flush()
    differ.check("DEBUG", "DIGEST")  # the empty server: all zeros
    for index, script in enumerate(DATASETS.values()):
        _build(differ, script, db=index % 3)
    differ.check("DEBUG", "DIGEST")
    differ.check("SWAPDB", 0, 2, resp=(2,))  # the same keys in other databases differ
    differ.check("DEBUG", "DIGEST")


def test_digest_changes_follow_redis(differ) -> None:
    """Order matters for lists and streams, not for sets, hashes or keys; a TTL counts,
    its value doesn't."""
    differ.flush()
    steps: Script = [
        ("RPUSH", "o:l", "a", "b"), ("SADD", "o:s", "a", "b"), ("HSET", "o:h", "a", "1"),
        ("EXPIRE", "o:l", 100), ("EXPIRE", "o:l", 2000), ("LPUSH", "o:l", "c"),
        ("SREM", "o:s", "a"), ("SADD", "o:s", "a"), ("PERSIST", "o:l"),
        ("OBJECT", "ENCODING", "o:s"), ("SADD", "o:s", "x" * 100),
        ("OBJECT", "ENCODING", "o:s"), ("SREM", "o:s", "x" * 100),
        ("ZADD", "o:z", 1, "a"), ("ZADD", "o:z", "1.0000000000000002", "a"),
        ("DEL", "o:l", "o:s", "o:h", "o:z"),
    ]
    for step in steps:
        differ.check(*step, resp=(2,))
        differ.check("DEBUG", "DIGEST")


def test_digest_value_of_a_logically_expired_key(differ) -> None:
    differ.flush()
    differ.check("DEBUG", "SET-ACTIVE-EXPIRE", 0, resp=(2,))
    try:
        differ.check("SET", "gone", "v", "PX", 1, resp=(2,))
        ref, ours = differ.both("DEBUG", "DIGEST-VALUE", "gone")
        assert ref == ours
    finally:
        differ.check("DEBUG", "SET-ACTIVE-EXPIRE", 1, resp=(2,))


def _dir(differ, which: int) -> str:
    client = differ.pairs[2][which]
    reply = client.call("CONFIG", "GET", "dir")
    return reply.split(b"\r\n")[4].decode()


@pytest.mark.parametrize("source", [0, 1], ids=["redis-to-taipan", "taipan-to-redis"])
def test_digest_after_loading_the_other_servers_rdb(differ, source) -> None:
    differ.flush()
    for index, script in enumerate(DATASETS.values()):
        _build(differ, script, db=index % 2)
    expected = differ.check("DEBUG", "DIGEST")
    writer, reader = differ.pairs[2][source], differ.pairs[2][1 - source]
    assert writer.call("SAVE") == b"+OK\r\n"
    shutil.copy(os.path.join(_dir(differ, source), "dump.rdb"),
                os.path.join(_dir(differ, 1 - source), "dump.rdb"))
    assert reader.call("DEBUG", "RELOAD", "NOSAVE") == b"+OK\r\n"
    assert reader.call("DEBUG", "DIGEST") == expected
    differ.check("DEBUG", "DIGEST")


def test_digest_survives_debug_reload(differ) -> None:
    differ.flush()
    for script in DATASETS.values():
        _build(differ, script)
    before = differ.check("DEBUG", "DIGEST")
    differ.check("DEBUG", "RELOAD", resp=(2,))
    assert differ.check("DEBUG", "DIGEST") == before


PROTOCOL_TYPES = ["string", "integer", "double", "bignum", "null", "array", "set", "map",
                  "attrib", "push", "verbatim", "true", "false", "STRING", "nosuch", ""]


@pytest.mark.parametrize("kind", PROTOCOL_TYPES)
def test_debug_protocol(differ, kind) -> None:
    differ.check("DEBUG", "PROTOCOL", kind)


def test_debug_protocol_inside_multi(differ) -> None:
    for resp in (2, 3):
        differ.check("MULTI", resp=(resp,))
        for kind in ("attrib", "push", "map", "double"):
            differ.check("DEBUG", "PROTOCOL", kind, resp=(resp,))
        differ.check("EXEC", resp=(resp,))


def test_debug_help_is_redis_help(differ) -> None:
    differ.check("DEBUG", "HELP")


CASES = [
    ("DEBUG", "DIGEST", "extra"), ("DEBUG", "DIGEST-VALUE"), ("DEBUG", "PROTOCOL"),
    ("DEBUG", "PROTOCOL", "a", "b"),
    ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100"),
    ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1kb"),
    ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0"),
    ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "4gb"),
    ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "-1"),
    ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "abc"),
    ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1G"),
    ("DEBUG", "QUICKLIST-PACKED-THRESHOLD"),
    ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0"),
    ("DEBUG", "CHANGE-REPL-ID"), ("DEBUG", "CHANGE-REPL-ID", "x"),
    ("DEBUG", "STRINGMATCH-TEST"), ("DEBUG", "STRINGMATCH-LEN"),
    ("DEBUG", "ERROR", "MYERR something"), ("DEBUG", "ERROR", "line\r\nbreak"),
    ("DEBUG", "ERROR"), ("DEBUG", "STRUCTSIZE"),
    ("DEBUG", "SET-ACTIVE-EXPIRE", "x"), ("DEBUG", "SET-ACTIVE-EXPIRE", "1"),
    ("DEBUG", "RELOAD", "BOGUS"), ("DEBUG", "REPLICATE", "SET", "a", "b"),
    ("DEBUG", "REPLICATE"), ("DEBUG", "POPULATE"), ("DEBUG", "POPULATE", "-1"),
    ("DEBUG", "POPULATE", "x"), ("DEBUG", "POPULATE", "1", "p", "-1"),
    ("DEBUG", "POPULATE", "1", "p", "x", "y"),
]


@pytest.mark.parametrize("args", CASES, ids=lambda a: " ".join(a))
def test_debug_subcommand_replies(differ, args) -> None:
    differ.check(*args, resp=(2,))


def test_debug_populate(differ) -> None:
    differ.flush()
    differ.check("SET", "key:3", "mine", resp=(2,))
    differ.check("DEBUG", "POPULATE", 20, resp=(2,))
    differ.check("DEBUG", "POPULATE", 5, "pre", resp=(2,))
    differ.check("DEBUG", "POPULATE", 5, "sized", 3, resp=(2,))
    differ.check("DEBUG", "POPULATE", 5, "padded", 12, resp=(2,))
    differ.check("DBSIZE", resp=(2,))
    differ.check("GET", "key:3", resp=(2,))
    differ.check("GET", "padded:4", resp=(2,))
    differ.check("GET", "sized:4", resp=(2,))
    differ.check("DEBUG", "DIGEST")


def test_debug_loadaof_reloads_the_same_dataset() -> None:
    """Both servers with an AOF: LOADAOF replays it into the same digest, and writes
    after it still reach the file."""
    from support.raw import RawClient
    from support.servers import start_redis, start_taipan

    servers = [start_redis("--appendonly", "yes"), start_taipan("--appendonly", "yes")]
    try:
        clients = [RawClient(server.port) for server in servers]
        # (Without PFCOUNT: Redis writes the cardinality it caches to the AOF, Taipan
        # doesn't yet, so the replayed HLL's header would differ.)
        script = [command for dataset in DATASETS.values() for command in dataset
                  if command[0] != "PFCOUNT"]
        for command in script:
            replies = [client.call(*command) for client in clients]
            assert replies[0] == replies[1], command
        before = [client.call("DEBUG", "DIGEST") for client in clients]
        assert before[0] == before[1]
        after = [client.call("DEBUG", "LOADAOF") for client in clients]
        assert after == [b"+OK\r\n", b"+OK\r\n"]
        assert [client.call("DEBUG", "DIGEST") for client in clients] == before
        for client in clients:
            client.call("SET", "after-loadaof", "1")
            assert client.call("DEBUG", "LOADAOF") == b"+OK\r\n"
            assert client.call("GET", "after-loadaof") == b"$1\r\n1\r\n"
        digests = [client.call("DEBUG", "DIGEST") for client in clients]
        assert digests[0] == digests[1]
        for client in clients:
            client.close()
    finally:
        for server in servers:
            server.stop()
