"""Pub/sub against a real redis-server: the exact frames subscribers and publishers get.

Each scenario drives several raw connections (subscribers, a publisher) through the
same steps on both servers and records every frame each connection receives, byte
for byte; the two transcripts must be identical. Channel names are unique per test
because the servers are shared by the session.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from support.raw import RawClient
from support.servers import ServerProcess

Transcript = list[tuple[str, bytes]]
Scenario = Callable[[Callable[[int], RawClient]], Transcript]


def _run(scenario: Scenario, port: int) -> Transcript:
    clients: list[RawClient] = []

    def connect(resp: int = 2) -> RawClient:
        client = RawClient(port, timeout=5)
        clients.append(client)
        if resp == 3:
            client.call("HELLO", "3")
        return client

    try:
        return scenario(connect)
    finally:
        for client in clients:
            client.close()


def _same(real_redis: ServerProcess, taipan: ServerProcess, scenario: Scenario) -> None:
    expected = _run(scenario, real_redis.port)
    actual = _run(scenario, taipan.port)
    for step, (want, got) in enumerate(zip(expected, actual, strict=True)):
        assert got == want, f"step {step}: {want[0]}\n  redis:  {want[1]!r}\n  taipan: {got[1]!r}"


def _replies(client: RawClient, count: int) -> bytes:
    return b"".join(client.read_reply() for _ in range(count))


def _unordered(client: RawClient, count: int) -> bytes:
    """Frames whose order Redis leaves to its dict's hash order (several patterns
    matching one message): compared as a sorted collection."""
    return b"".join(sorted(client.read_reply() for _ in range(count)))


# -- subscribing, confirmations, the RESP2 subscribed context ----------------------------

def _subscribe_confirmations(connect) -> Transcript:
    out: Transcript = []
    for resp in (2, 3):
        c = connect(resp)
        out.append(("subscribe two", c.call("SUBSCRIBE", "ps:a", "ps:b") + c.read_reply()))
        out.append(("subscribe again", c.call("SUBSCRIBE", "ps:a")))
        out.append(("psubscribe", c.call("PSUBSCRIBE", "ps:*") ))
        out.append(("ssubscribe", c.call("SSUBSCRIBE", "ps:s1", "ps:s2") + c.read_reply()))
        # (with several left, Redis leaves them in its dict's order, which varies)
        out.append(("sunsubscribe one", c.call("SUNSUBSCRIBE", "ps:s2")))
        out.append(("unsubscribe one", c.call("UNSUBSCRIBE", "ps:b")))
        out.append(("unsubscribe unknown", c.call("UNSUBSCRIBE", "ps:nope")))
        out.append(("punsubscribe all", c.call("PUNSUBSCRIBE")))
        out.append(("sunsubscribe all", c.call("SUNSUBSCRIBE")))
        out.append(("sunsubscribe none", c.call("SUNSUBSCRIBE")))
        out.append(("unsubscribe all", c.call("UNSUBSCRIBE")))
        out.append(("unsubscribe none", c.call("UNSUBSCRIBE")))
        out.append(("punsubscribe none", c.call("PUNSUBSCRIBE")))
        out.append(("left subscribed mode", c.call("GET", "ps:key")))
    return out


def _subscribed_context(connect) -> Transcript:
    out: Transcript = []
    c = connect(2)
    c.call("SUBSCRIBE", "ctx:a")
    for command in (("GET", "x"), ("SET", "x", "1"), ("HELLO", "3"), ("MULTI",),
                    ("CLIENT", "LIST"), ("PUBLISH", "ctx:a", "m"), ("SELECT", "1"),
                    ("AUTH", "x"), ("nosuchcommand",), ("GET",)):
        out.append((f"refused {command}", c.call(*command)))
    out.append(("ping", c.call("PING")))
    out.append(("ping message", c.call("PING", "hello")))
    out.append(("psubscribe allowed", c.call("PSUBSCRIBE", "ctx:*")))
    out.append(("reset", c.call("RESET")))
    out.append(("after reset", c.call("GET", "ctx:nokey")))
    out.append(("ping after reset", c.call("PING")))
    three = connect(3)
    three.call("SUBSCRIBE", "ctx:b")
    out.append(("resp3 allows get", three.call("GET", "ctx:nokey")))
    out.append(("resp3 ping", three.call("PING")))
    out.append(("resp3 set", three.call("SET", "ctx:k", "v")))
    out.append(("resp3 del", three.call("DEL", "ctx:k")))
    ssub = connect(2)
    ssub.call("SSUBSCRIBE", "ctx:s")
    out.append(("shard-only subscriber refused", ssub.call("GET", "x")))
    out.append(("unsubscribe keeps shard", ssub.call("UNSUBSCRIBE")))
    out.append(("still refused", ssub.call("GET", "x")))
    return out


def _quit_while_subscribed(connect) -> Transcript:
    c = connect(2)
    c.call("SUBSCRIBE", "quit:a")
    publisher = connect(2)
    out: Transcript = [("quit", c.call("QUIT"))]
    out.append(("closed", c.read_until_closed(2.0)))
    out.append(("no receivers", publisher.call("PUBLISH", "quit:a", "m")))
    out.append(("numsub", publisher.call("PUBSUB", "NUMSUB", "quit:a")))
    return out


# -- publishing ------------------------------------------------------------------------

def _messages(connect) -> Transcript:
    out: Transcript = []
    two, three, pub = connect(2), connect(3), connect(2)
    two.call("SUBSCRIBE", "msg:a")
    two.call("PSUBSCRIBE", "msg:*")
    three.call("PSUBSCRIBE", "msg:?", "m*")
    three.read_reply()
    three.call("SSUBSCRIBE", "msg:s")
    out.append(("publish count", pub.call("PUBLISH", "msg:a", "hello")))
    out.append(("resp2 subscriber", _replies(two, 2)))
    out.append(("resp3 subscriber", _unordered(three, 2)))
    out.append(("binary payload", pub.call("PUBLISH", "msg:b", b"\x00\r\n\xff")))
    out.append(("resp2 binary", two.read_reply()))
    out.append(("resp3 binary", _unordered(three, 2)))
    out.append(("spublish", pub.call("SPUBLISH", "msg:s", "shard")))
    out.append(("smessage", three.read_reply()))
    out.append(("spublish nobody", pub.call("SPUBLISH", "msg:a", "x")))
    out.append(("publish to shard name", pub.call("PUBLISH", "msg:s", "plain")))
    out.append(("pattern only", _replies(two, 1) + _unordered(three, 2)))
    out.append(("empty message", pub.call("PUBLISH", "msg:a", "")))
    out.append(("empty message frames", _replies(two, 2) + _unordered(three, 2)))
    return out


def _publish_to_self(connect) -> Transcript:
    """A RESP3 client publishing to itself gets the message before PUBLISH's reply."""
    c = connect(3)
    c.call("SUBSCRIBE", "self:a")
    out: Transcript = [("push then reply", c.call("PUBLISH", "self:a", "me") + c.read_reply())]
    c.send_raw(RawClient.encode("PING") + RawClient.encode("PUBLISH", "self:a", "x")
               + RawClient.encode("PING", "after"))
    out.append(("pipelined order", _replies(c, 4)))
    return out


def _ordering(connect) -> Transcript:
    sub, pub = connect(2), connect(2)
    sub.call("SUBSCRIBE", "order:a")
    pub.send_raw(b"".join(RawClient.encode("PUBLISH", "order:a", str(i)) for i in range(200)))
    out: Transcript = [("replies", _replies(pub, 200))]
    out.append(("messages in order", _replies(sub, 200)))
    return out


def _in_multi(connect) -> Transcript:
    out: Transcript = []
    for resp in (2, 3):
        c, sub = connect(resp), connect(2)
        sub.call("SUBSCRIBE", f"multi{resp}:a")
        out.append(("multi", c.call("MULTI")))
        out.append(("queued publish", c.call("PUBLISH", f"multi{resp}:a", "in-exec")))
        out.append(("queued subscribe", c.call("SUBSCRIBE", f"multi{resp}:x", f"multi{resp}:y")))
        out.append(("queued ssubscribe", c.call("SSUBSCRIBE", f"multi{resp}:s")))
        out.append(("exec", c.call("EXEC") + c.read_reply()))
        out.append(("message from exec", sub.read_reply()))
        out.append(("subscribed after exec", c.call("UNSUBSCRIBE", f"multi{resp}:x")))
    return out


def _self_pushes_inside_exec(connect) -> Transcript:
    """What a queued command sends its own RESP3 client lands inside EXEC's array,
    before that command's reply; its own invalidations come after EXEC."""
    c, admin = connect(3), connect(2)
    admin.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
    try:
        c.call("SUBSCRIBE", "selfx:ch")
        c.call("PSUBSCRIBE", "__keyevent@0__:set")
        c.call("CLIENT", "TRACKING", "on")
        c.call("GET", "selfx:k")
        c.call("MULTI")
        c.call("PUBLISH", "selfx:ch", "x")
        c.call("SET", "selfx:k", "v")
        c.call("PING")
        # (the raw client counts the pushes as array items: three more frames follow)
        out: Transcript = [("exec", c.call("EXEC") + _replies(c, 3))]
        out.append(("tracking off", c.call("CLIENT", "TRACKING", "off")))
        out.append(("clean up", c.call("DEL", "selfx:k")))
    finally:
        admin.call("CONFIG", "SET", "notify-keyspace-events", "")
    return out


def _eval_publish(connect) -> Transcript:
    sub, c = connect(2), connect(2)
    sub.call("SUBSCRIBE", "lua:a")
    out: Transcript = [("eval publish", c.call(
        "EVAL", "return redis.call('publish', KEYS[1], ARGV[1])", "1", "lua:a", "from-lua"))]
    out.append(("message", sub.read_reply()))
    out.append(("subscribe from script", c.call(
        "EVAL", "return redis.call('subscribe', 'lua:b')", "0")))
    return out


# -- PUBSUB introspection ---------------------------------------------------------------

def _introspection(connect) -> Transcript:
    a, b, q = connect(2), connect(2), connect(2)
    a.call("SUBSCRIBE", "intro:x")
    b.call("SUBSCRIBE", "intro:x")
    b.call("SUBSCRIBE", "intro:yy")
    a.call("PSUBSCRIBE", "intro:p*")
    b.call("PSUBSCRIBE", "intro:p*")
    a.call("SSUBSCRIBE", "intro:s")
    out: Transcript = []
    out.append(("numsub", q.call("PUBSUB", "NUMSUB", "intro:x", "intro:yy", "intro:none")))
    out.append(("numsub none", q.call("PUBSUB", "NUMSUB")))
    out.append(("channels ?", q.call("PUBSUB", "CHANNELS", "intro:y?")))
    out.append(("channels no match", q.call("PUBSUB", "CHANNELS", "zz*")))
    out.append(("shardchannels", q.call("PUBSUB", "SHARDCHANNELS", "intro:*")))
    out.append(("shardnumsub", q.call("PUBSUB", "SHARDNUMSUB", "intro:s", "intro:x")))
    out.append(("channels too many", q.call("PUBSUB", "CHANNELS", "a", "b")))
    out.append(("numpat arity", q.call("PUBSUB", "NUMPAT", "x")))
    out.append(("unknown", q.call("PUBSUB", "NOPE")))
    out.append(("bare", q.call("PUBSUB")))
    out.append(("help", q.call("PUBSUB", "HELP")))
    out.append(("publish arity", q.call("PUBLISH", "a")))
    out.append(("subscribe arity", q.call("SUBSCRIBE")))
    out.append(("client list type pubsub", b"sub=" in q.call("CLIENT", "LIST", "TYPE", "pubsub")
                and b"N" or b"none"))
    return out


@pytest.mark.parametrize("scenario", [
    _subscribe_confirmations, _subscribed_context, _quit_while_subscribed, _messages,
    _publish_to_self, _ordering, _in_multi, _self_pushes_inside_exec, _eval_publish,
    _introspection,
], ids=lambda s: s.__name__.strip("_"))
def test_pubsub_matches_redis(real_redis: ServerProcess, taipan: ServerProcess,
                              scenario: Scenario) -> None:
    _same(real_redis, taipan, scenario)


def test_numpat_and_info_fields(real_redis: ServerProcess, taipan: ServerProcess) -> None:
    """Counts relative to what the shared servers already hold."""
    def counts(port: int) -> list[int]:
        q = RawClient(port)
        info = q.call("INFO", "stats").decode()
        fields = dict(line.split(":", 1) for line in info.split("\r\n") if ":" in line)
        base = [int(fields[f]) for f in ("pubsub_channels", "pubsub_patterns",
                                         "pubsubshard_channels")]
        base.append(int(q.call("PUBSUB", "NUMPAT")[1:-2]))
        subs = [RawClient(port) for _ in range(2)]
        subs[0].call("SUBSCRIBE", "cnt:a")
        subs[1].call("SUBSCRIBE", "cnt:a")
        subs[0].call("PSUBSCRIBE", "cnt:*")
        subs[1].call("PSUBSCRIBE", "cnt:*")
        subs[1].call("SSUBSCRIBE", "cnt:s")
        info = q.call("INFO", "stats").decode()
        fields = dict(line.split(":", 1) for line in info.split("\r\n") if ":" in line)
        after = [int(fields[f]) for f in ("pubsub_channels", "pubsub_patterns",
                                          "pubsubshard_channels")]
        after.append(int(q.call("PUBSUB", "NUMPAT")[1:-2]))
        for client in (q, *subs):
            client.close()
        return [a - b for a, b in zip(after, base, strict=True)]

    assert counts(taipan.port) == counts(real_redis.port) == [1, 1, 1, 1]
