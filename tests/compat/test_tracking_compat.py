"""Client-side caching against a real redis-server: the exact bytes every connection gets.

A scenario drives named raw connections through steps on both servers; after each
step, everything each connection received is recorded byte for byte (replies and
invalidation frames alike), so both order and content are compared. Redis runs
first; on Taipan each connection is then read until it has as many bytes as Redis
sent it, then for a short quiet period to catch anything extra.

Client ids differ between the servers: steps name connections (``Id("c2")``) and
ids in replies are rewritten to those names. The servers are shared by the session:
every scenario flushes first, and CONFIG changes are restored.
"""

from __future__ import annotations

import re
import select
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from support.raw import RawClient
from support.servers import ServerProcess

Log = list[tuple[str, str, bytes]]


@dataclass(frozen=True)
class Id:
    """The client id of the connection called ``name``, on whichever server runs."""

    name: str


class Session:
    def __init__(self, port: int, expected: Log | None) -> None:
        self.port = port
        self.expected = expected
        self.clients: dict[str, RawClient] = {}
        self.ids: dict[str, int] = {}
        self.log: Log = []
        self.seen: dict[str, bytes] = {}

    # -- connections ------------------------------------------------------------------

    def open(self, name: str, resp: int = 2) -> None:
        client = RawClient(self.port, timeout=5)
        if resp == 3:
            client.call("HELLO", "3")
        self.ids[name] = int(client.call("CLIENT", "ID")[1:-2])
        self.clients[name] = client

    def close(self, name: str) -> None:
        self.clients.pop(name).close()
        time.sleep(0.05)  # let the server notice

    def close_all(self) -> None:
        for client in self.clients.values():
            client.close()

    # -- steps --------------------------------------------------------------------------

    def call(self, name: str, *args: object) -> None:
        """Send one command and record its reply alone: for single-connection steps
        (a frame too many would show as the next step's reply)."""
        client = self.clients[name]
        reply = client.call(*map(self._arg, args))
        label = f"#{len(self.log)} {name}: " + " ".join(map(str, args))
        self.log.append((label, name, self._normalize(reply, "GETREDIR" in label)))

    def do(self, name: str, *args: object) -> None:
        """Send one command from ``name`` and record what every connection gets."""
        self.pipeline(name, [args])

    def block(self, name: str, *args: object) -> None:
        """Send a command that blocks: no reply to wait for."""
        self.pipeline(name, [args], replies=False)

    def pipeline(self, name: str, commands: list[tuple[object, ...]],
                 replies: bool = True) -> None:
        """Send several commands in one write."""
        payload = b"".join(RawClient.encode(*map(self._arg, command)) for command in commands)
        self.clients[name].send_raw(payload)
        label = f"{name}: " + " | ".join(" ".join(map(str, c)) for c in commands)
        self._collect(label, name if replies else "")

    def _arg(self, arg: object) -> bytes | str | int:
        if isinstance(arg, Id):
            return self.ids[arg.name]
        return arg  # type: ignore[return-value]

    def _collect(self, label: str, sender: str) -> None:
        step = len({entry[0] for entry in self.log})
        label = f"#{step} {label}"
        got = {name: b"" for name in self.clients}
        id_reply = "GETREDIR" in label or "CLIENT ID" in label
        if self.expected is None:
            self._read_until_quiet(got, sender)
        else:
            self._read_expected(got, label, id_reply)
        for name, data in got.items():
            if data or name == sender:
                self.log.append((label, name, self._normalize(data, id_reply)))

    def _read_until_quiet(self, got: dict[str, bytes], sender: str) -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            replied = got[sender] if sender else True
            if self._read_some(got, 0.04 if replied else 1.0) == 0 and replied:
                return

    def _read_expected(self, got: dict[str, bytes], label: str, id_reply: bool) -> None:
        """Read until each connection has what Redis sent it (ids normalized, so
        their digits don't count), then a little longer for anything extra."""
        assert self.expected is not None
        want = {name: len(data) for step, name, data in self.expected if step == label}
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(
                len(self._normalize(got[name], id_reply)) < size
                for name, size in want.items() if name in got):
            self._read_some(got, 0.05)
        self._read_some(got, 0.02)

    def _read_some(self, got: dict[str, bytes], timeout: float) -> int:
        socks = {client.sock: name for name, client in self.clients.items()}
        ready, _, _ = select.select(list(socks), [], [], timeout)
        total = 0
        for sock in ready:
            data = sock.recv(65536)
            got[socks[sock]] += data
            total += len(data)
        return total

    def _normalize(self, data: bytes, id_reply: bool = False) -> bytes:
        names = {str(client_id).encode(): name.encode() for name, client_id in self.ids.items()}

        def named(match: re.Match[bytes]) -> bytes:
            value = match.group(2)
            return match.group(1) + b"<" + names.get(value, value) + b">"

        data = re.sub(rb"(redirect\r\n:)(-?\d+)", named, data)
        data = re.sub(rb"(\$2\r\nid\r\n:)(\d+)", named, data)  # HELLO
        data = re.sub(rb"(tracking-redir-broken\r\n:)(\d+)", named, data)
        if id_reply:
            data = re.sub(rb"^(:)(\d+)", named, data)
        return data

    def info(self, field: str) -> int:
        client = RawClient(self.port, timeout=5)
        try:
            text = client.call("INFO", "everything").decode()
        finally:
            client.close()
        return int(re.search(rf"^{field}:(\d+)", text, re.M).group(1))  # type: ignore[union-attr]


Scenario = Callable[[Session], None]


def _run(port: int, scenario: Scenario, expected: Log | None) -> Log:
    flusher = RawClient(port)
    flusher.call("FLUSHALL")
    flusher.close()
    session = Session(port, expected)
    try:
        scenario(session)
    finally:
        session.close_all()
    return session.log


def _same(real_redis: ServerProcess, taipan: ServerProcess, scenario: Scenario) -> None:
    expected = _run(real_redis.port, scenario, None)
    actual = _run(taipan.port, scenario, expected)
    for (label, name, want), (_, got_name, got) in zip(expected, actual, strict=False):
        assert (got_name, got) == (name, want), \
            f"{label} -> {name}\n  redis:  {want!r}\n  taipan: {got_name} {got!r}"
    assert len(actual) == len(expected)


# -- option errors and state replies -------------------------------------------------------

def _options(s: Session) -> None:
    for resp in (2, 3):
        c = f"c{resp}"
        s.open(c, resp)
        for args in (
            ("CLIENT", "TRACKING"),
            ("CLIENT", "TRACKING", "maybe"),
            ("CLIENT", "TRACKING", "on", "nosuchoption"),
            ("CLIENT", "TRACKING", "off", "nosuchoption"),
            ("CLIENT", "TRACKING", "on", "PREFIX"),
            ("CLIENT", "TRACKING", "on", "REDIRECT"),
            ("CLIENT", "TRACKING", "on", "REDIRECT", "notanumber"),
            ("CLIENT", "TRACKING", "on", "REDIRECT", "0"),
            ("CLIENT", "TRACKING", "on", "REDIRECT", "99999999"),
            ("CLIENT", "TRACKING", "on", "REDIRECT", Id(c), "REDIRECT", Id(c)),
            ("CLIENT", "TRACKING", "on", "PREFIX", "a"),
            ("CLIENT", "TRACKING", "on", "BCAST", "OPTIN"),
            ("CLIENT", "TRACKING", "on", "BCAST", "OPTOUT"),
            ("CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"),
            ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "ab"),
            ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "", "PREFIX", "x"),
            ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a\x00z", "PREFIX", "a"),
            ("CLIENT", "TRACKINGINFO"),
            ("CLIENT", "GETREDIR"),
            ("CLIENT", "CACHING", "yes"),
            ("CLIENT", "CACHING"),
            ("CLIENT", "CACHING", "yes", "extra"),
            ("CLIENT", "TRACKINGINFO", "extra"),
            ("CLIENT", "GETREDIR", "extra"),
            ("CLIENT", "TRACKING", "off", "BCAST"),
            ("CLIENT", "TRACKING", "OFF"),
            ("CLIENT", "TRACKING", "On", "optin", "NoLoop"),
            ("CLIENT", "TRACKINGINFO"),
            ("CLIENT", "GETREDIR"),
            ("CLIENT", "CACHING", "no"),
            ("CLIENT", "CACHING", "maybe"),
            ("CLIENT", "CACHING", "YES"),
            ("CLIENT", "TRACKINGINFO"),
            ("CLIENT", "TRACKING", "on", "OPTOUT"),
            ("CLIENT", "TRACKING", "on", "BCAST"),
            ("CLIENT", "TRACKING", "on"),
            ("CLIENT", "TRACKINGINFO"),
            ("CLIENT", "CACHING", "yes"),
            ("CLIENT", "TRACKING", "on", "REDIRECT", Id(c)),
            ("CLIENT", "TRACKINGINFO"),
            ("CLIENT", "GETREDIR"),
            ("CLIENT", "TRACKING", "off"),
            ("CLIENT", "TRACKING", "on", "OPTOUT"),
            ("CLIENT", "CACHING", "no"),
            ("CLIENT", "TRACKINGINFO"),
            ("CLIENT", "TRACKING", "off"),
            ("CLIENT", "TRACKINGINFO"),
            ("CLIENT", "GETREDIR"),
        ):
            s.call(c, *args)


def _bcast_prefixes(s: Session) -> None:
    s.open("c", 3)
    s.do("c", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b", "PREFIX", "a")
    s.do("c", "CLIENT", "TRACKINGINFO")
    s.do("c", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab")  # overlaps an existing
    s.do("c", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "c", "PREFIX", "b")
    s.do("c", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "d")
    s.do("c", "CLIENT", "TRACKING", "on")  # can't leave BCAST
    s.do("c", "CLIENT", "TRACKING", "on", "BCAST", "NOLOOP")  # no prefix: adds ""
    s.do("c", "CLIENT", "TRACKINGINFO")
    s.do("c", "CLIENT", "TRACKING", "off")
    s.do("c", "CLIENT", "TRACKINGINFO")
    # An overlap between given prefixes past the first: Redis replies the error,
    # enables tracking anyway and replies +OK too.
    s.do("c", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "x", "PREFIX", "y",
         "PREFIX", "yz")
    s.do("c", "CLIENT", "TRACKINGINFO")
    s.do("c", "CLIENT", "TRACKING", "off")


# -- invalidations -----------------------------------------------------------------------

def _default_mode_resp3(s: Session) -> None:
    s.open("c", 3)
    s.open("w")
    s.do("c", "CLIENT", "TRACKING", "on")
    s.do("c", "GET", "k1")
    s.do("c", "MGET", "k2", "k3")
    s.do("c", "STRLEN", "k4")
    s.do("w", "SET", "k1", "v")
    s.do("w", "SET", "k1", "v2")  # no longer tracked
    s.do("w", "MSET", "k2", "a", "k3", "b", "k4", "c")
    s.do("c", "GET", "k1")
    s.do("c", "LRANGE", "k1", "0", "-1")  # WRONGTYPE still tracks the key
    s.do("w", "DEL", "k1")
    s.do("c", "EXISTS", "k5", "k6")
    s.do("w", "EXPIRE", "k5", "100")  # no key: nothing changed
    s.do("w", "SET", "k5", "x", "EX", "100")
    s.do("w", "SET", "k6", "1")
    s.do("c", "SELECT", "1")
    s.do("c", "GET", "k7")
    s.do("w", "SET", "k7", "db0")  # the table ignores databases
    s.do("c", "SET", "k8", "x")  # writes don't track
    s.do("w", "SET", "k8", "y")
    s.do("c", "GET", "k9")
    s.do("c", "CLIENT", "TRACKING", "off")
    s.do("w", "SET", "k9", "y")  # stopped tracking: nothing sent


def _self_modification(s: Session) -> None:
    s.open("c", 3)
    s.do("c", "CLIENT", "TRACKING", "on")
    s.do("c", "GET", "a")
    s.do("c", "SET", "a", "1")  # the reply, then the invalidation
    s.do("c", "GET", "a")
    s.pipeline("c", [("INCR", "a"), ("GET", "a"), ("APPEND", "a", "x"), ("PING",)])
    s.do("c", "MGET", "a", "b")
    s.do("c", "MSET", "a", "1", "b", "2")
    s.do("c", "GET", "a")
    s.do("c", "DEL", "a")
    s.do("c", "CLIENT", "TRACKING", "on", "NOLOOP")  # own writes: nothing
    s.do("c", "GET", "a")
    s.do("c", "SET", "a", "1")
    s.open("w")
    s.do("c", "GET", "a")
    s.do("w", "SET", "a", "2")  # others' writes still invalidate


def _redirect_resp2(s: Session) -> None:
    s.open("sub")
    s.open("c")
    s.open("w")
    s.do("sub", "SUBSCRIBE", "__redis__:invalidate")
    s.do("c", "CLIENT", "TRACKING", "on", "REDIRECT", Id("sub"))
    s.do("c", "CLIENT", "GETREDIR")
    s.do("c", "GET", "r1")
    s.do("w", "SET", "r1", "v")
    s.do("c", "GET", "r1")
    s.do("c", "SET", "r1", "mine")
    s.do("c", "GET", "r2")
    s.do("w", "FLUSHDB")  # a null, in the tracking client's protocol
    s.do("c", "HELLO", "3")
    s.do("c", "FLUSHALL")
    s.do("sub", "UNSUBSCRIBE")
    s.do("c", "GET", "r3")
    s.do("w", "SET", "r3", "v")  # not subscribed any more: dropped
    s.do("sub", "SUBSCRIBE", "other")  # any subscription will do
    s.do("c", "GET", "r4")
    s.do("w", "SET", "r4", "v")


def _redirect_resp3_and_broken(s: Session) -> None:
    s.open("target", 3)
    s.open("c", 3)
    s.open("c2")
    s.open("w")
    s.do("c", "CLIENT", "TRACKING", "on", "REDIRECT", Id("target"))
    s.do("c2", "CLIENT", "TRACKING", "on", "REDIRECT", Id("target"))
    s.do("c", "GET", "x")
    s.do("c2", "GET", "x")
    s.do("w", "SET", "x", "1")
    s.do("c", "GET", "x")
    s.do("c2", "GET", "y")
    s.do("c", "CLIENT", "TRACKINGINFO")
    s.close("target")
    s.do("c", "CLIENT", "TRACKINGINFO")  # broken only once something is sent
    s.do("w", "SET", "x", "2")
    s.do("w", "SET", "y", "2")
    s.do("c", "CLIENT", "TRACKINGINFO")
    s.do("c2", "CLIENT", "TRACKINGINFO")
    s.do("c", "GET", "x")
    s.do("c", "SET", "x", "3")
    s.do("c", "CLIENT", "TRACKING", "on")  # re-enabling clears it
    s.do("c", "CLIENT", "TRACKINGINFO")


def _bcast(s: Session) -> None:
    s.open("b", 3)
    s.open("n", 3)
    s.open("w")
    s.do("b", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:", "PREFIX", "obj:")
    s.do("n", "CLIENT", "TRACKING", "on", "BCAST", "NOLOOP", "PREFIX", "user:")
    s.do("w", "SET", "user:1", "a")
    s.do("w", "SET", "other", "a")
    s.pipeline("w", [("SET", "user:3", "x"), ("SET", "obj:1", "y"), ("SET", "user:2", "z"),
                     ("SET", "user:3", "again"), ("DEL", "nothing")])
    s.do("w", "MSET", "obj:b", "1", "obj:a", "2", "user:0", "3")
    s.do("b", "GET", "user:1")  # reads aren't remembered in BCAST mode
    s.do("n", "SET", "user:9", "self")  # NOLOOP: not told about its own write
    s.pipeline("n", [("SET", "user:8", "self"), ("PING",)])
    s.do("b", "SET", "user:7", "self")  # without NOLOOP it is
    s.do("w", "FLUSHALL")
    s.do("b", "CLIENT", "TRACKING", "off")
    s.do("w", "SET", "obj:1", "y")
    s.do("w", "SET", "user:1", "y")


def _bcast_all_keys(s: Session) -> None:
    s.open("b", 3)
    s.open("w")
    s.do("b", "CLIENT", "TRACKING", "on", "BCAST")
    s.pipeline("w", [("SET", "zz", "1"), ("SET", "aa", "2"), ("LPUSH", "mm", "x")])
    s.do("w", "EVAL", "redis.call('set', 'k1', 'v') redis.call('del', 'k2', 'zz')", "0")


_KEYS = ("str", "lst", "st", "zs", "h", "hll", "geo", "bits")
_MISSING = ("st2", "zs2", "hll2", "nokey")
_CREATE = [("SET", "str", "value"), ("RPUSH", "lst", "b", "a"), ("SADD", "st", "a"),
           ("ZADD", "zs", "1", "a"), ("HSET", "h", "f", "v"), ("PFADD", "hll", "a"),
           ("GEOADD", "geo", "13", "38", "p"), ("SETBIT", "bits", "1", "1")]


def _read_commands(s: Session) -> None:
    """Which keys each kind of read-only command tracks (Redis finds some with
    code: numkeys, SORT_RO's key)."""
    s.open("c", 3)
    s.open("w")
    s.pipeline("w", _CREATE)
    s.do("c", "CLIENT", "TRACKING", "on")
    for read in (
        ("GETRANGE", "str", "0", "1"), ("STRLEN", "str"), ("SUBSTR", "str", "0", "1"),
        ("LRANGE", "lst", "0", "-1"), ("LPOS", "lst", "a"), ("LINDEX", "lst", "0"),
        ("SMEMBERS", "st"), ("SINTERCARD", "2", "st", "st2"), ("SMISMEMBER", "st", "a"),
        ("ZSCORE", "zs", "a"), ("ZUNION", "2", "zs", "zs2"), ("ZINTERCARD", "1", "zs"),
        ("HGET", "h", "f"), ("HSTRLEN", "h", "f"), ("PFCOUNT", "hll", "hll2"),
        ("GEORADIUS_RO", "geo", "13", "38", "100", "km"), ("GEOPOS", "geo", "p"),
        ("SORT_RO", "lst", "ALPHA"), ("BITCOUNT", "bits"),
        ("BITFIELD_RO", "bits", "GET", "u1", "0"), ("TYPE", "str"), ("TTL", "str"),
        ("EXISTS", "str", "nokey"), ("OBJECT", "ENCODING", "str"), ("DUMP", "str"),
        ("LCS", "str", "str"), ("TOUCH", "str"), ("DBSIZE",), ("KEYS", "nomatch*"),
    ):
        s.do("c", *read)
        # Every key changes: the invalidations name the keys the read tracked.
        s.pipeline("w", [("DEL", *_KEYS), ("MSET", *[p for k in _MISSING for p in (k, "1")]),
                         ("DEL", *_MISSING), *_CREATE])


def _optin_optout(s: Session) -> None:
    s.open("c", 3)
    s.open("w")
    s.do("c", "CLIENT", "TRACKING", "on", "OPTIN")
    s.do("c", "GET", "i1")
    s.do("c", "CLIENT", "CACHING", "yes")
    s.do("c", "CLIENT", "TRACKINGINFO")
    s.do("c", "GET", "i2")
    s.do("c", "GET", "i3")  # the CACHING was used up
    s.do("c", "CLIENT", "CACHING", "yes")
    s.do("c", "CLIENT", "ID")  # another CLIENT subcommand keeps it
    s.do("c", "GET", "i4")
    s.do("c", "CLIENT", "CACHING", "yes")
    s.do("c", "PING")  # any other command uses it up
    s.do("c", "GET", "i5")
    s.do("c", "CLIENT", "CACHING", "yes")
    s.do("c", "MULTI")
    s.do("c", "GET", "i6")
    s.do("c", "GET", "i7")
    s.do("c", "EXEC")  # the whole transaction is covered
    s.do("c", "GET", "i8")
    s.do("w", "MSET", "i1", "1", "i2", "1", "i3", "1", "i4", "1", "i5", "1", "i6", "1",
         "i7", "1", "i8", "1")
    s.do("c", "CLIENT", "TRACKING", "off")
    s.do("c", "CLIENT", "TRACKING", "on", "OPTOUT")
    s.do("c", "GET", "o1")
    s.do("c", "CLIENT", "CACHING", "no")
    s.do("c", "CLIENT", "TRACKINGINFO")
    s.do("c", "GET", "o2")
    s.do("c", "GET", "o3")
    s.do("w", "MSET", "o1", "1", "o2", "1", "o3", "1")


def _transactions(s: Session) -> None:
    s.open("c", 3)
    s.open("w")
    s.do("c", "CLIENT", "TRACKING", "on")
    s.do("c", "GET", "t1")
    s.do("c", "GET", "t2")
    s.do("c", "MULTI")
    s.do("c", "SET", "t1", "x")
    s.do("c", "GET", "t1")
    s.do("c", "SET", "t1", "y")
    s.do("c", "INCR", "t2")
    s.do("c", "EXEC")  # EXEC's reply first, then every invalidation
    s.do("c", "GET", "t3")
    s.do("w", "MULTI")
    s.do("w", "SET", "t3", "1")
    s.do("w", "PUBLISH", "chan", "m")
    s.do("w", "EXEC")
    s.do("c", "MULTI")
    s.do("c", "GET", "t4")
    s.do("c", "EXEC")
    s.do("w", "SET", "t4", "1")
    s.do("c", "GET", "t5")
    s.do("c", "MULTI")
    s.do("c", "SET", "t5", "1")
    s.do("c", "DISCARD")
    s.do("w", "SET", "t5", "2")
    s.do("c", "GET", "t6")
    s.do("c", "MULTI")
    s.do("c", "FLUSHDB")
    s.do("c", "SET", "t6", "1")
    s.do("c", "EXEC")


def _scripts(s: Session) -> None:
    s.open("c", 3)
    s.open("w")
    s.do("c", "CLIENT", "TRACKING", "on")
    # A script's read tracks the keys it was given, not the keys it read.
    s.do("c", "EVAL", "return redis.call('get', KEYS[1])", "2", "s1", "s2")
    s.do("c", "EVAL", "return redis.call('get', ARGV[1])", "0", "s3")
    s.do("c", "EVAL", "redis.call('set', KEYS[1], 'x') return 1", "1", "s4")
    s.do("c", "EVAL_RO", "return redis.call('get', KEYS[1])", "1", "s5")
    s.do("c", "EVAL", "return 1", "1", "s6")  # no read: nothing tracked
    s.do("w", "MSET", "s1", "1", "s2", "1", "s3", "1", "s4", "1", "s5", "1", "s6", "1")
    s.do("c", "GET", "s7")
    s.do("c", "EVAL", "redis.call('set', KEYS[1], 'x') return redis.call('get', KEYS[1])",
         "1", "s7")  # the reply, then the invalidation
    s.do("c", "GET", "s7")
    s.do("c", "MULTI")
    s.do("c", "EVAL", "return redis.call('set', KEYS[1], 'y')", "1", "s7")
    s.do("c", "EXEC")
    s.do("c", "FUNCTION", "LOAD", "REPLACE",
         "#!lua name=trklib\nredis.register_function{function_name='g', callback="
         "function(k, a) return redis.call('get', k[1]) end, flags={'no-writes'}}")
    s.do("c", "FCALL", "g", "1", "s8")
    s.do("c", "FCALL_RO", "g", "1", "s9")
    s.do("w", "MSET", "s8", "1", "s9", "1")
    s.do("c", "FUNCTION", "DELETE", "trklib")
    s.do("c", "CLIENT", "TRACKING", "on", "NOLOOP")
    s.do("c", "GET", "s10")
    s.do("c", "EVAL", "redis.call('set', KEYS[1], 'x')", "1", "s10")  # NOLOOP holds


def _pubsub_order(s: Session) -> None:
    s.open("c", 3)
    s.open("w")
    s.do("c", "CLIENT", "TRACKING", "on")
    s.do("c", "SUBSCRIBE", "trk:chan")
    s.do("c", "GET", "q1")
    s.do("w", "MULTI")
    s.do("w", "SET", "q1", "1")
    s.do("w", "PUBLISH", "trk:chan", "after the invalidation")
    s.do("w", "EXEC")
    s.do("c", "GET", "q2")
    # the message, the script's reply, then the invalidation
    s.do("c", "EVAL", "redis.call('set', KEYS[1], 'x') redis.call('publish', 'trk:chan', 'm')",
         "1", "q2")


def _keyspace_events(s: Session) -> None:
    s.open("c", 3)
    s.open("w")
    s.do("w", "CONFIG", "SET", "notify-keyspace-events", "KA")
    try:
        s.do("c", "CLIENT", "TRACKING", "on")
        s.do("c", "SUBSCRIBE", "__keyspace@0__:k")
        s.do("c", "GET", "k")
        s.do("w", "SET", "k", "1")  # the invalidation, then the event
        s.do("c", "GET", "k")
        s.do("c", "SET", "k", "2")  # the event, the reply, then the invalidation
    finally:
        s.do("w", "CONFIG", "SET", "notify-keyspace-events", "")


def _blocked_clients(s: Session) -> None:
    s.open("c", 3)
    s.open("w")
    s.do("c", "CLIENT", "TRACKING", "on")
    s.do("c", "LRANGE", "dst", "0", "-1")
    s.do("c", "LRANGE", "src", "0", "-1")
    s.block("c", "BLMOVE", "src", "dst", "LEFT", "LEFT", "0")
    s.do("w", "RPUSH", "src", "a")  # src for c now; dst (c's own move) after its reply
    s.do("c", "LRANGE", "dst", "0", "-1")
    s.block("c", "BLPOP", "dst2", "0")
    s.do("w", "LPUSH", "dst2", "b")


def _expiry(s: Session) -> None:
    s.open("c", 3)
    s.open("w")
    s.do("w", "DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        s.do("w", "SET", "e1", "v", "PX", "400")
        s.do("w", "SET", "e2", "v", "PX", "400")
        s.do("c", "CLIENT", "TRACKING", "on")
        s.do("c", "MGET", "e1", "e2")
        time.sleep(0.5)
        s.do("c", "GET", "e1")  # expired on its own read: after the reply
        s.do("w", "GET", "e2")  # expired on another client's read
        s.do("w", "SET", "e3", "v")
        s.do("c", "GET", "e3")
        s.do("w", "EXPIRE", "e3", "100")
        s.do("c", "GET", "e3")
        s.do("w", "PERSIST", "e3")
    finally:
        s.do("w", "DEBUG", "SET-ACTIVE-EXPIRE", "1")


def _flush(s: Session) -> None:
    s.open("c3", 3)
    s.open("c2")
    s.open("sub")
    s.open("w")
    s.do("sub", "SUBSCRIBE", "__redis__:invalidate")
    s.do("c3", "CLIENT", "TRACKING", "on")
    s.do("c2", "CLIENT", "TRACKING", "on", "REDIRECT", Id("sub"))
    s.do("c3", "GET", "f1")
    s.do("w", "FLUSHDB")  # every tracking client, tracked keys or not
    s.do("w", "FLUSHALL", "ASYNC")
    s.do("c3", "FLUSHALL")  # its own: after the reply
    s.do("c3", "CLIENT", "TRACKING", "on", "NOLOOP")
    s.do("c3", "FLUSHDB")  # NOLOOP doesn't skip flushes
    s.do("c3", "GET", "f1")
    s.do("w", "SET", "f1", "x")  # the flush emptied the table


@pytest.mark.parametrize("scenario", [
    _options, _bcast_prefixes, _default_mode_resp3, _self_modification, _redirect_resp2,
    _redirect_resp3_and_broken, _bcast, _bcast_all_keys, _read_commands, _optin_optout,
    _transactions,
    _scripts, _pubsub_order, _keyspace_events, _blocked_clients, _expiry, _flush,
], ids=lambda f: f.__name__.strip("_"))
def test_tracking_matches_redis(real_redis: ServerProcess, taipan: ServerProcess,
                                scenario: Scenario) -> None:
    _same(real_redis, taipan, scenario)


# -- INFO and CLIENT LIST --------------------------------------------------------------------

def _counters(port: int) -> tuple[list[tuple[str, int]], list[str]]:
    """INFO's tracking fields and CLIENT LIST's flags/redir along one scenario."""
    flusher = RawClient(port)
    flusher.call("FLUSHALL")
    s = Session(port, None)
    fields = ("tracking_clients", "tracking_total_keys", "tracking_total_items",
              "tracking_total_prefixes")
    counts: list[tuple[str, int]] = []
    lines: list[str] = []

    def snapshot(label: str) -> None:
        counts.extend((f"{label} {field}", s.info(field)) for field in fields)
        for name, client in s.clients.items():
            info = client.call("CLIENT", "INFO").decode()
            flags = re.search(r" flags=(\S+)", info).group(1)  # type: ignore[union-attr]
            redir = int(re.search(r" redir=(-?\d+)", info).group(1))  # type: ignore[union-attr]
            redir_name = next((n for n, i in s.ids.items() if i == redir), str(redir))
            lines.append(f"{label} {name} flags={flags} redir={redir_name}")

    try:
        s.open("a", 3)
        s.open("b")
        s.open("target")
        snapshot("start")
        s.clients["a"].call("CLIENT", "TRACKING", "on")
        s.clients["b"].call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p", "PREFIX", "q",
                            "REDIRECT", str(s.ids["target"]))
        snapshot("enabled")
        s.clients["a"].call("MGET", "k1", "k2", "k3")
        s.clients["b"].call("GET", "k1")
        snapshot("read")
        s.clients["a"].call("SET", "k1", "x")
        s.clients["a"].read_reply()
        snapshot("written")
        s.close("target")
        flusher.call("SET", "p1", "x")
        time.sleep(0.05)
        snapshot("broken")
        s.clients["a"].call("CLIENT", "TRACKING", "off")
        snapshot("a off")
        s.clients["b"].call("RESET")
        snapshot("b reset")
        flusher.call("FLUSHALL")
        snapshot("flushed")
    finally:
        s.close_all()
        flusher.close()
    return counts, lines


def test_info_and_client_list_match_redis(real_redis: ServerProcess,
                                          taipan: ServerProcess) -> None:
    expected = _counters(real_redis.port)
    actual = _counters(taipan.port)
    assert actual[1] == expected[1]
    assert actual[0] == expected[0]


# -- tracking-table-max-keys -------------------------------------------------------------------

def _eviction(port: int) -> tuple[bytes, list[int]]:
    """What a tracking client gets when the table shrinks under a small limit, with
    the evicted keys' names blanked (Redis picks them at random)."""
    admin = RawClient(port)
    admin.call("FLUSHALL")
    client = RawClient(port, timeout=5)
    client.call("HELLO", "3")
    stream = b""
    totals = []
    try:
        admin.call("CONFIG", "SET", "tracking-table-max-keys", "2")
        client.call("CLIENT", "TRACKING", "on")
        for key in ("e1", "e2", "e3", "e4"):
            stream += client.call("GET", key)
        stream += client.call("PING")
        totals.append(_info_field(admin, "tracking_total_keys"))
        admin.call("CONFIG", "SET", "tracking-table-max-keys", "1")
        time.sleep(0.3)  # Redis's cron enforces it when idle
        totals.append(_info_field(admin, "tracking_total_keys"))
        stream += client.call("PING")
        client.sock.settimeout(0.3)
        try:
            while True:
                stream += client.read_reply()
        except (TimeoutError, OSError):
            pass
    finally:
        admin.call("CONFIG", "SET", "tracking-table-max-keys", "1000000")
        client.close()
        admin.close()
    return re.sub(rb"\$2\r\ne\d\r\n", b"$2\r\ne?\r\n", stream), totals


def _info_field(client: RawClient, field: str) -> int:
    text = client.call("INFO", "stats").decode()
    return int(re.search(rf"^{field}:(\d+)", text, re.M).group(1))  # type: ignore[union-attr]


def test_table_limit_evicts_like_redis(real_redis: ServerProcess, taipan: ServerProcess) -> None:
    expected = _eviction(real_redis.port)
    actual = _eviction(taipan.port)
    # The same frames in the same order (which keys go is random in Redis).
    assert sorted(_frames(actual[0])) == sorted(_frames(expected[0]))
    assert actual[1] == expected[1] == [2, 1]


def _frames(stream: bytes) -> list[bytes]:
    return re.findall(rb">2\r\n\$10\r\ninvalidate\r\n\*1\r\n\$2\r\ne\?\r\n|\+PONG\r\n|_\r\n",
                      stream)
