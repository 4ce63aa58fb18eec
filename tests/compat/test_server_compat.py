"""Server administration commands against a real Redis 7.0: CONFIG, INFO, CLIENT, DEBUG.

Replies are compared byte for byte where they are deterministic; where they hold
run-time figures (INFO, CLIENT LIST) the field names and their order are compared.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import redis
from support.raw import RawClient
from support.servers import ServerProcess, start_redis, start_taipan

# -- servers started with defaults (no enable-debug-command), never reconfigured ------


@pytest.fixture(scope="module")
def plain(real_redis: ServerProcess) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    ref = start_redis("--enable-debug-command", "no")
    ours = start_taipan("--enable-debug-command", "no")
    yield ref, ours
    ref.stop()
    ours.stop()


def _config(port: int) -> dict[str, str]:
    client = redis.Redis(port=port, decode_responses=True)
    try:
        return client.config_get("*")
    finally:
        client.close()


def test_config_get_all_names_and_defaults(plain) -> None:
    ref, ours = (_config(server.port) for server in plain)
    assert sorted(ours) == sorted(ref)
    differing = {name: (ref[name], ours[name]) for name in ref
                 if ref[name] != ours[name] and name not in ("port", "dir")}
    assert differing == {}


def test_debug_refused_by_default(plain) -> None:
    ref, ours = (RawClient(server.port) for server in plain)
    for args in [("DEBUG", "SLEEP", "0"), ("DEBUG", "HELP"), ("DEBUG", "nosuch")]:
        expected = ref.call(*args)
        assert expected.startswith(b"-ERR DEBUG command not allowed.")
        assert ours.call(*args) == expected


def _info_fields(port: int, *sections: str) -> dict[str, list[str]]:
    with RawClient(port) as client:
        client.call("SET", "info-key", "1")
        client.call("GET", "info-key")
        client.call("NOSUCHCOMMAND")
        raw = client.call("INFO", *sections)
        client.call("DEL", "info-key")
    body = raw.split(b"\r\n", 1)[1].decode()
    found: dict[str, list[str]] = {}
    current = ""
    for line in body.split("\r\n"):
        if line.startswith("# "):
            current = line[2:]
            found[current] = []
        elif line:
            found[current].append(line.split(":", 1)[0])
    return found


@pytest.mark.parametrize("sections", [(), ("default",), ("all",), ("everything",),
                                      ("keyspace", "SERVER"), ("clients", "server"),
                                      ("default", "commandstats"), ("errorstats", "cpu")])
def test_info_sections_and_fields(plain, sections) -> None:
    ref, ours = (_info_fields(server.port, *sections) for server in plain)
    assert list(ours) == list(ref)
    for section, fields in ref.items():
        if section in ("Commandstats", "Latencystats"):
            continue  # which commands ran differs (redis-py, harness)
        mine = ours[section]
        assert [f for f in fields if f not in mine] == [], section
        assert [f for f in mine if f in fields] == fields, f"order of {section}"


def test_info_stat_lines(plain) -> None:
    for server in plain:
        with RawClient(server.port) as client:
            client.call("SET", "k1", "v")
            client.call("SET", "k2", "v", "EX", "100")
            client.call("NOSUCH")
            client.call("GET", "k1", "extra")
            info = client.call("INFO", "keyspace", "errorstats", "commandstats").decode()
            client.call("DEL", "k1", "k2")
        assert re.search(r"\r\ndb0:keys=2,expires=1,avg_ttl=\d+\r\n", info)
        assert re.search(r"\r\nerrorstat_ERR:count=\d+\r\n", info)
        assert re.search(r"\r\ncmdstat_set:calls=\d+,usec=\d+,usec_per_call=\d+\.\d\d,"
                         r"rejected_calls=0,failed_calls=0\r\n", info)
        assert re.search(r"\r\ncmdstat_get:calls=\d+,usec=\d+,usec_per_call=\d+\.\d\d,"
                         r"rejected_calls=\d+,failed_calls=0\r\n", info)


def test_info_unknown_section_is_empty(differ) -> None:
    differ.check("INFO", "nosuchsection")


# -- CONFIG -----------------------------------------------------------------------------

CONFIG_ERRORS = [
    ("CONFIG",), ("CONFIG", "nosuch"), ("CONFIG", "GET"), ("CONFIG", "SET", "maxclients"),
    ("CONFIG", "SET", "maxclients", "100", "maxclients"), ("CONFIG", "RESETSTAT", "x"),
    ("CONFIG", "SET", "nosuch", "1"), ("CONFIG", "SET", "NoSuch", "1"),
    # integers: syntax, bounds, strictness
    ("CONFIG", "SET", "maxclients", "abc"), ("CONFIG", "SET", "maxclients", "0"),
    ("CONFIG", "SET", "maxclients", "99999999999999999999"),
    ("CONFIG", "SET", "maxclients", " 5"), ("CONFIG", "SET", "maxclients", "+5"),
    ("CONFIG", "SET", "maxclients", "05"), ("CONFIG", "SET", "hz", "-1"),
    ("CONFIG", "SET", "active-expire-effort", "11"), ("CONFIG", "SET", "port", "70000"),
    ("CONFIG", "SET", "list-max-listpack-size", "-99999999999"),
    # memory values
    ("CONFIG", "SET", "maxmemory", "-1"), ("CONFIG", "SET", "maxmemory", "10xb"),
    ("CONFIG", "SET", "maxmemory", "1.5gb"), ("CONFIG", "SET", "proto-max-bulk-len", "10"),
    ("CONFIG", "SET", "client-query-buffer-limit", "1k"),
    ("CONFIG", "SET", "maxmemory-clients", "101%"), ("CONFIG", "SET", "maxmemory-clients", "x"),
    # booleans and enums
    ("CONFIG", "SET", "appendonly", "maybe"), ("CONFIG", "SET", "slave-read-only", "1"),
    ("CONFIG", "SET", "maxmemory-policy", "foo"), ("CONFIG", "SET", "loglevel", "nothing"),
    ("CONFIG", "SET", "appendfsync", "sometimes"),
    # immutable, protected, duplicate: checked for every name before any value
    ("CONFIG", "SET", "daemonize", "yes"), ("CONFIG", "SET", "Databases", "5"),
    ("CONFIG", "SET", "dir", "/tmp"), ("CONFIG", "SET", "dbfilename", "x.rdb"),
    ("CONFIG", "SET", "maxclients", "0", "dir", "/tmp"),
    ("CONFIG", "SET", "hz", "abc", "maxclients", "0"),
    ("CONFIG", "SET", "daemonize", "yes", "nosuch", "1"),
    ("CONFIG", "SET", "maxclients", "5", "MAXCLIENTS", "6"),
    ("CONFIG", "SET", "maxclients", "5", "maxclients", "6", "nosuch", "1"),
    ("CONFIG", "SET", "MAXCLIENTS", "abc"), ("CONFIG", "SET", "hash-max-ziplist-entries", "x"),
    # parameters with their own syntax
    ("CONFIG", "SET", "save", "100"), ("CONFIG", "SET", "save", "100 10 x"),
    ("CONFIG", "SET", "save", "0 0"), ("CONFIG", "SET", "save", " 5 1"),
    ("CONFIG", "SET", "notify-keyspace-events", "Z"),
    ("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0"),
    ("CONFIG", "SET", "client-output-buffer-limit", "master 0 0 0"),
    ("CONFIG", "SET", "client-output-buffer-limit", "normal 1k x 3"),
    ("CONFIG", "SET", "oom-score-adj-values", "1 2"),
    ("CONFIG", "SET", "oom-score-adj-values", "1 2 3000"),
    ("CONFIG", "SET", "latency-tracking-info-percentiles", "50 abc"),
    ("CONFIG", "SET", "latency-tracking-info-percentiles", "101"),
    ("CONFIG", "SET", "cluster-announce-hostname", "a b"),
    ("CONFIG", "SET", "proc-title-template", "{nosuch}"),
    ("CONFIG", "SET", "unixsocketperm", "700"), ("CONFIG", "SET", "replicaof", "x"),
    ("CONFIG", "SET", "activedefrag", "yes"), ("CONFIG", "SET", "tls-port", "1"),
]


@pytest.mark.parametrize("args", CONFIG_ERRORS, ids=lambda a: " ".join(a[1:]) or "CONFIG")
def test_config_errors(differ, args) -> None:
    assert differ.check(*args).startswith(b"-")


CONFIG_GETS = [
    ("CONFIG", "GET", "maxmemory"), ("CONFIG", "GET", "HZ"), ("CONFIG", "GET", "hz", "hz"),
    ("CONFIG", "GET", "maxclients", "MAXCLIENTS"), ("CONFIG", "GET", "MAXCLIENTS", "maxclients"),
    ("CONFIG", "GET", "nosuch"), ("CONFIG", "GET", "maxc*", "maxclients"),
    ("CONFIG", "GET", "hash-max-ziplist-entries"), ("CONFIG", "GET", "save"),
    ("CONFIG", "GET", "client-output-buffer-limit"), ("CONFIG", "GET", "notify-keyspace-events"),
    ("CONFIG", "GET", "oom-score-adj-values"), ("CONFIG", "GET", "latency-tracking-info-percentiles"),
    ("CONFIG", "GET", "maxmemory-clients"), ("CONFIG", "GET", "unixsocketperm"),
    ("CONFIG", "HELP"),
]


@pytest.mark.parametrize("args", CONFIG_GETS, ids=lambda a: " ".join(a[1:]))
def test_config_get(differ, args) -> None:
    differ.check(*args)


def _as_map(reply: bytes) -> set[bytes]:
    return set(reply.split(b"\r\n")[1:])


@pytest.mark.parametrize("patterns", [("*max*entries*",), ("maxmemory*", "hz", "port"),
                                      ("*", "*"), ("slave-*",), ("?z",), ("[hz]z",)])
def test_config_get_globs(differ, patterns) -> None:
    # Redis answers from a hash table: the order is arbitrary, the pairs are not.
    ref, ours = differ.both("CONFIG", "GET", *patterns)
    ref_lines, our_lines = ref.split(b"\r\n"), ours.split(b"\r\n")
    assert our_lines[0] == ref_lines[0]
    pairs = {(ref_lines[i], ref_lines[i + 2]) for i in range(2, len(ref_lines) - 2, 4)}
    mine = {(our_lines[i], our_lines[i + 2]) for i in range(2, len(our_lines) - 2, 4)}
    ignore = {b"port", b"dir"}
    assert {p for p in mine if p[0] not in ignore} == {p for p in pairs if p[0] not in ignore}


CONFIG_ROUNDTRIPS = [
    # (CONFIG SET arguments, parameters to read back, values to restore)
    (("hz", "1000"), ("hz",), ("hz", "10")),
    (("hz", "0"), ("hz",), ("hz", "10")),
    (("maxmemory", "1gb", "maxmemory-policy", "ALLKEYS-LRU"), ("maxmemory", "maxmemory-policy"),
     ("maxmemory", "0", "maxmemory-policy", "noeviction")),
    (("save", "+5 01 10 2"), ("save",), ("save", "")),
    (("notify-keyspace-events", "KEA"), ("notify-keyspace-events",), ("notify-keyspace-events", "")),
    (("notify-keyspace-events", "Ex"), ("notify-keyspace-events",), ("notify-keyspace-events", "")),
    (("client-output-buffer-limit", "replica 1mb 2mb 3 normal 1k 2k 0"),
     ("client-output-buffer-limit",),
     ("client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60")),
    (("maxmemory-clients", "10%"), ("maxmemory-clients",), ("maxmemory-clients", "0")),
    (("maxmemory-clients", "18446744073709551615"), ("maxmemory-clients",),
     ("maxmemory-clients", "0")),
    (("repl-backlog-size", "1k"), ("repl-backlog-size",), ("repl-backlog-size", "1mb")),
    (("lua-time-limit", "100"), ("busy-reply-threshold", "lua-time-limit"),
     ("busy-reply-threshold", "5000")),
    (("hash-max-ziplist-entries", "5", "hash-max-listpack-entries", "6"),
     ("hash-max-ziplist-entries",), ("hash-max-listpack-entries", "512")),
    (("latency-tracking-info-percentiles", "50 99.9 0x10"),
     ("latency-tracking-info-percentiles",),
     ("latency-tracking-info-percentiles", "50 99 99.9")),
    (("oom-score-adj-values", "+1 2 -3"), ("oom-score-adj-values",),
     ("oom-score-adj-values", "0 200 800")),
]


@pytest.mark.parametrize("change,read,restore", CONFIG_ROUNDTRIPS,
                         ids=lambda v: " ".join(v) if isinstance(v, tuple) else v)
def test_config_set_then_get(differ, change, read, restore) -> None:
    try:
        differ.check("CONFIG", "SET", *change, resp=(2,))
        for name in read:  # one at a time: Redis orders several names by hash
            differ.check("CONFIG", "GET", name, resp=(2,))
    finally:
        differ.check("CONFIG", "SET", *restore, resp=(2,))


def test_config_set_is_atomic(differ) -> None:
    differ.check("CONFIG", "SET", "maxmemory", "10mb", "maxclients", "0", resp=(2,))
    differ.check("CONFIG", "GET", "maxmemory", resp=(2,))
    differ.check("CONFIG", "SET", "timeout", "5", "maxmemory-policy", "foo", resp=(2,))
    differ.check("CONFIG", "GET", "timeout", resp=(2,))


# -- CLIENT -----------------------------------------------------------------------------

CLIENT_CASES = [
    ("CLIENT",), ("CLIENT", "nosuch"), ("CLIENT", "HELP"), ("CLIENT", "ID", "x"),
    ("CLIENT", "SETNAME", "a b"), ("CLIENT", "SETNAME", "a\nb"), ("CLIENT", "SETNAME", "ok"),
    ("CLIENT", "GETNAME"), ("CLIENT", "SETNAME", ""), ("CLIENT", "GETNAME"),
    ("CLIENT", "SETNAME", "a", "b"), ("CLIENT", "KILL"), ("CLIENT", "KILL", "1.2.3.4:5"),
    ("CLIENT", "KILL", "foo"), ("CLIENT", "KILL", "id"), ("CLIENT", "KILL", "id", "abc"),
    ("CLIENT", "KILL", "id", "0"), ("CLIENT", "KILL", "id", "-1"),
    ("CLIENT", "KILL", "id", "999999"), ("CLIENT", "KILL", "type", "foo"),
    ("CLIENT", "KILL", "type", "normal", "skipme", "maybe"), ("CLIENT", "KILL", "skipme", "yes"),
    ("CLIENT", "KILL", "addr", "1.2.3.4:5"), ("CLIENT", "KILL", "laddr", "1.2.3.4:5"),
    ("CLIENT", "KILL", "user", "nosuch"), ("CLIENT", "KILL", "maxage", "5"),
    ("CLIENT", "KILL", "foo", "bar"), ("CLIENT", "KILL", "id", "1", "id"),
    ("CLIENT", "KILL", "type", "master"), ("CLIENT", "KILL", "type", "pubsub"),
    ("CLIENT", "LIST", "type", "foo"), ("CLIENT", "LIST", "type"), ("CLIENT", "LIST", "id", "abc"),
    ("CLIENT", "LIST", "id", "0"), ("CLIENT", "LIST", "id", "99999"), ("CLIENT", "LIST", "foo"),
    ("CLIENT", "LIST", "type", "master"), ("CLIENT", "LIST", "type", "replica"),
    ("CLIENT", "PAUSE"), ("CLIENT", "PAUSE", "abc"), ("CLIENT", "PAUSE", "-1"),
    ("CLIENT", "PAUSE", "10", "foo"), ("CLIENT", "PAUSE", "10", "write", "all"),
    ("CLIENT", "PAUSE", "0"), ("CLIENT", "PAUSE", "0", "WRITE"), ("CLIENT", "UNPAUSE", "x"),
    ("CLIENT", "UNPAUSE"), ("CLIENT", "REPLY", "foo"), ("CLIENT", "REPLY"),
    ("CLIENT", "NO-EVICT", "foo"), ("CLIENT", "NO-EVICT", "on"), ("CLIENT", "NO-EVICT", "off"),
    ("CLIENT", "NO-EVICT"), ("CLIENT", "INFO", "x"),
]


@pytest.mark.parametrize("args", CLIENT_CASES, ids=lambda a: " ".join(a[1:]) or "CLIENT")
def test_client_commands(differ, args) -> None:
    differ.check(*args, resp=(2,))


_CLIENT_FIELDS = re.compile(rb"(\w[\w-]*)=")


def test_client_list_and_info_fields(differ) -> None:
    for args in [("CLIENT", "LIST"), ("CLIENT", "INFO"), ("CLIENT", "LIST", "TYPE", "normal")]:
        for resp in (2, 3):
            ref, ours = differ.both(*args, resp=resp)
            first_ref = ref.split(b"\n")[1] if resp == 2 else ref.split(b"\n")[1]
            first_ours = ours.split(b"\n")[1]
            assert _CLIENT_FIELDS.findall(first_ours) == _CLIENT_FIELDS.findall(first_ref)
            assert ours[:1] == ref[:1]


def test_client_reply_modes(real_redis: ServerProcess, taipan: ServerProcess) -> None:
    script = b"".join(RawClient.encode(*args) for args in [
        ("CLIENT", "REPLY", "OFF"), ("PING", "a"), ("SET", "reply-k", "1"), ("NOSUCH",),
        ("CLIENT", "REPLY", "ON"), ("PING", "b"), ("CLIENT", "REPLY", "SKIP"), ("PING", "c"),
        ("PING", "d"), ("CLIENT", "REPLY", "SKIP"), ("CLIENT", "REPLY", "SKIP"), ("PING", "e"),
        ("CLIENT", "REPLY", "OFF"), ("CLIENT", "REPLY", "SKIP"), ("PING", "f"),
        ("CLIENT", "REPLY", "ON"), ("GET", "reply-k"), ("DEL", "reply-k"), ("PING", "end"),
    ])
    streams = []
    for server in (real_redis, taipan):
        with RawClient(server.port) as client:
            client.send_raw(script)
            replies = []
            while not replies or replies[-1] != b"$3\r\nend\r\n":
                replies.append(client.read_reply())
            streams.append(replies)
    assert streams[1] == streams[0]


# -- DEBUG, TIME, LASTSAVE, SHUTDOWN argument errors --------------------------------------

DEBUG_CASES = [
    ("DEBUG",), ("DEBUG", "foo"), ("DEBUG", "sleep"), ("DEBUG", "SLEEP", "abc"),
    ("DEBUG", "sleep", "0"), ("DEBUG", "sleep", "-1"), ("DEBUG", "sleep", "0.01"),
    ("DEBUG", "set-active-expire"), ("DEBUG", "set-active-expire", "1"),
    ("DEBUG", "object"), ("DEBUG", "object", "nokey"), ("DEBUG", "object", "k", "x"),
    ("DEBUG", "jmap"), ("DEBUG", "log", "hello from the tests"),
    ("TIME", "x"), ("LASTSAVE", "x"), ("SHUTDOWN", "foo"), ("SHUTDOWN", "abort"),
    ("SHUTDOWN", "nosave", "save"), ("SHUTDOWN", "nosave", "abort"),
    ("SHUTDOWN", "now", "abort"), ("SHUTDOWN", "abort", "abort"),
]


@pytest.mark.parametrize("args", DEBUG_CASES, ids=lambda a: " ".join(a))
def test_debug_and_server_commands(differ, args) -> None:
    differ.check(*args, resp=(2,))


_DEBUG_OBJECT = re.compile(rb"\+Value at:0x[0-9a-f]+ refcount:(\d+) encoding:(\w+) "
                           rb"serializedlength:(\d+) lru:\d+ lru_seconds_idle:\d+\r\n")


@pytest.mark.parametrize("value", [b"123", b"hello", b"-129", b"70000", b"x" * 10])
def test_debug_object_fields(differ, value) -> None:
    differ.check("SET", "dbg", value, resp=(2,))
    ref, ours = differ.both("DEBUG", "OBJECT", "dbg")
    assert _DEBUG_OBJECT.fullmatch(ref) and _DEBUG_OBJECT.fullmatch(ours), (ref, ours)
    assert _DEBUG_OBJECT.fullmatch(ours).groups() == _DEBUG_OBJECT.fullmatch(ref).groups()


def test_debug_help_lines_are_redis_lines(differ) -> None:
    ref, ours = differ.both("DEBUG", "HELP")
    ref_lines = ref.split(b"\r\n")
    assert ours.split(b"\r\n")[1] == ref_lines[1]
    # Every subcommand Taipan documents is documented in the same words by Redis.
    assert set(ours.split(b"\r\n")[1:-1]) <= set(ref_lines)
