"""Client-side caching (CLIENT TRACKING & co.) with redis-py against Taipan."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import redis
from redis.cache import CacheConfig
from redis.connection import CacheProxyConnection
from support.servers import ServerProcess


@pytest.fixture
def writer(taipan: ServerProcess) -> Iterator[redis.Redis]:
    client = redis.Redis(port=taipan.port)
    client.flushall()
    yield client
    client.close()


def _tracker(taipan: ServerProcess, pushes: list) -> redis.Redis:
    """A RESP3 client on one connection whose invalidation pushes land in ``pushes``."""
    client = redis.Redis(port=taipan.port, protocol=3, single_connection_client=True)
    client.connection._parser.set_invalidation_push_handler(pushes.append)
    return client


def _eventually(condition: Callable[[], object], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _info(client: redis.Redis) -> dict:
    return client.info("everything")


# -- redis-py's client-side cache -------------------------------------------------------------

def test_redis_py_client_side_cache(taipan: ServerProcess, writer: redis.Redis,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # redis-py enables its cache only for servers reporting 7.4+; Taipan speaks 7.0's
    # protocol, which is all the cache uses (HELLO 3, CLIENT TRACKING, pushes).
    monkeypatch.setattr(CacheProxyConnection, "MIN_ALLOWED_VERSION", "7.0.0")
    cached = redis.Redis(port=taipan.port, protocol=3, cache_config=CacheConfig())
    try:
        writer.set("csc:a", "v1")
        writer.rpush("csc:list", "x", "y")
        assert cached.get("csc:a") == b"v1"
        assert cached.lrange("csc:list", 0, -1) == [b"x", b"y"]
        cache = cached.get_cache()
        assert cache.size == 2
        calls = _info(writer)["cmdstat_get"]["calls"]
        assert cached.get("csc:a") == b"v1"  # served from the cache
        assert _info(writer)["cmdstat_get"]["calls"] == calls
        writer.set("csc:a", "v2")
        writer.rpush("csc:list", "z")
        _eventually(lambda: cached.get("csc:a") == b"v2")
        assert cached.lrange("csc:list", 0, -1) == [b"x", b"y", b"z"]
        writer.flushall()
        _eventually(lambda: cached.get("csc:a") is None)
    finally:
        cached.close()


# -- RESP3 pushes and RESP2 redirection ----------------------------------------------------------

def test_resp3_invalidation_push(taipan: ServerProcess, writer: redis.Redis) -> None:
    pushes: list = []
    client = _tracker(taipan, pushes)
    try:
        assert client.client_tracking_on() == b"OK"
        client.get("p:1")
        client.mget("p:2", "p:3")
        writer.set("p:1", "x")
        writer.mset({"p:2": 1, "p:3": 1})
        writer.delete("p:nothing")  # nothing changed: nothing sent
        _eventually(lambda: client.ping() and len(pushes) == 3)
        assert pushes == [[b"invalidate", [b"p:1"]], [b"invalidate", [b"p:2"]],
                          [b"invalidate", [b"p:3"]]]
        writer.set("p:1", "again")  # no longer tracked
        client.set("p:4", "own")  # writes don't track
        writer.set("p:4", "x")
        client.ping()
        assert len(pushes) == 3
        writer.flushdb()
        _eventually(lambda: client.ping() and len(pushes) == 4)
        assert pushes[3] == [b"invalidate", None]
    finally:
        client.close()


def test_resp2_redirect_to_pubsub(taipan: ServerProcess, writer: redis.Redis) -> None:
    # RESP2 has no pushes: invalidations come as messages on a pub/sub channel.
    listener = redis.Redis(port=taipan.port, protocol=2, client_name="listener")
    pubsub = listener.pubsub()
    pubsub.subscribe("__redis__:invalidate")
    assert pubsub.get_message(timeout=1)["type"] == "subscribe"
    listener_id = next(int(c["id"]) for c in listener.client_list()
                       if c["cmd"] == "subscribe" and c["name"] == "listener")
    tracker = redis.Redis(port=taipan.port, protocol=2, single_connection_client=True)
    try:
        tracker.client_tracking_on(clientid=listener_id)
        assert tracker.client_getredir() == listener_id
        tracker.get("r:1")
        writer.set("r:1", "x")
        message = pubsub.get_message(timeout=2)
        assert message["channel"] == b"__redis__:invalidate"
        assert message["data"] == [b"r:1"]
        writer.flushall()
        message = pubsub.get_message(timeout=2)
        assert message["data"] is None
    finally:
        tracker.close()
        pubsub.close()
        listener.close()


def test_broken_redirect(taipan: ServerProcess, writer: redis.Redis) -> None:
    target = redis.Redis(port=taipan.port, single_connection_client=True)
    target_id = target.client_id()
    pushes: list = []
    client = _tracker(taipan, pushes)
    client.connection._parser.set_pubsub_push_handler(pushes.append)
    try:
        client.client_tracking_on(clientid=target_id)
        client.get("b:1")
        target.close()
        _eventually(lambda: target_id not in [int(c["id"]) for c in writer.client_list()])
        writer.set("b:1", "x")
        _eventually(lambda: client.ping() and pushes)
        assert pushes == [[b"tracking-redir-broken", target_id]]
        info = client.client_trackinginfo()
        assert b"broken_redirect" in info[b"flags"]
        assert "R" in client.client_info()["flags"]
    finally:
        client.close()


# -- modes ------------------------------------------------------------------------------------

def test_bcast_prefixes(taipan: ServerProcess, writer: redis.Redis) -> None:
    pushes: list = []
    client = _tracker(taipan, pushes)
    try:
        client.client_tracking_on(bcast=True, prefix=["user:", "obj:"])
        assert sorted(client.client_trackinginfo()[b"prefixes"]) == [b"obj:", b"user:"]
        assert _info(writer)["tracking_total_prefixes"] == 2
        pipe = writer.pipeline(transaction=False)
        pipe.set("user:2", 1).set("other", 1).set("user:1", 1).set("obj:1", 1)
        pipe.execute()
        _eventually(lambda: client.ping() and sum(len(p[1]) for p in pushes) == 3)
        assert sorted(key for push in pushes for key in push[1]) == [b"obj:1", b"user:1",
                                                                     b"user:2"]
        assert "B" in client.client_info()["flags"]
    finally:
        client.close()


def test_optin_and_optout(taipan: ServerProcess, writer: redis.Redis) -> None:
    pushes: list = []
    client = _tracker(taipan, pushes)
    try:
        client.client_tracking_on(optin=True)
        client.get("o:1")
        assert client.execute_command("CLIENT", "CACHING", "YES") == b"OK"
        client.get("o:2")
        client.get("o:3")
        writer.mset({"o:1": 1, "o:2": 1, "o:3": 1})
        _eventually(lambda: client.ping() and pushes)
        client.ping()
        assert pushes == [[b"invalidate", [b"o:2"]]]
        with pytest.raises(redis.ResponseError, match="OPTOUT mode"):
            client.execute_command("CLIENT", "CACHING", "NO")
        client.client_tracking_off()
        client.client_tracking_on(optout=True)
        client.execute_command("CLIENT", "CACHING", "NO")
        client.get("o:4")
        client.get("o:5")
        writer.mset({"o:4": 1, "o:5": 1})
        _eventually(lambda: client.ping() and len(pushes) == 2)
        assert pushes[1] == [b"invalidate", [b"o:5"]]
    finally:
        client.close()


def test_noloop_and_own_writes(taipan: ServerProcess, writer: redis.Redis) -> None:
    pushes: list = []
    client = _tracker(taipan, pushes)
    try:
        client.client_tracking_on()
        client.get("n:1")
        assert client.set("n:1", "x") is True  # the reply comes before the push
        client.ping()
        assert pushes == [[b"invalidate", [b"n:1"]]]
        client.client_tracking_on(noloop=True)
        client.get("n:1")
        client.set("n:1", "y")
        client.get("n:1")
        client.ping()
        assert len(pushes) == 1
        writer.set("n:1", "z")
        _eventually(lambda: client.ping() and len(pushes) == 2)
    finally:
        client.close()


def test_transaction_and_script_reads(taipan: ServerProcess, writer: redis.Redis) -> None:
    pushes: list = []
    client = _tracker(taipan, pushes)
    try:
        client.client_tracking_on()
        # (redis-py's pipelines take another connection from the pool)
        client.execute_command("MULTI")
        client.get("t:1")
        client.set("t:2", "x")
        client.get("t:2")
        assert client.execute_command("EXEC") == [None, b"OK", b"x"]
        assert client.eval("return redis.call('get', KEYS[1])", 1, "t:3") is None
        writer.mset({"t:1": 1, "t:2": 1, "t:3": 1})
        _eventually(lambda: client.ping() and len(pushes) == 3)
        assert sorted(p[1][0] for p in pushes) == [b"t:1", b"t:2", b"t:3"]
    finally:
        client.close()


# -- state, INFO, CLIENT LIST, limits ----------------------------------------------------------------

def test_trackinginfo_getredir_and_errors(taipan: ServerProcess, writer: redis.Redis) -> None:
    client = redis.Redis(port=taipan.port, protocol=2, single_connection_client=True)
    try:
        assert client.client_trackinginfo() == ["flags", [b"off"], "redirect", -1,
                                                "prefixes", []]
        assert client.client_getredir() == -1
        client.client_tracking_on(optin=True, noloop=True)
        assert client.client_trackinginfo()[1] == [b"on", b"optin", b"noloop"]
        assert client.client_getredir() == 0
        with pytest.raises(redis.ResponseError, match="switch OPTIN/OPTOUT"):
            client.client_tracking_on(optout=True)
        with pytest.raises(redis.ResponseError, match="PREFIX option requires BCAST"):
            client.execute_command("CLIENT", "TRACKING", "on", "PREFIX", "a")
        with pytest.raises(redis.ResponseError, match="does not exist"):
            client.client_tracking_on(clientid=10 ** 9)
        client.client_tracking_off()
        with pytest.raises(redis.ResponseError, match="can be called only when"):
            client.execute_command("CLIENT", "CACHING", "YES")
        with pytest.raises(redis.ResponseError, match="overlaps with another"):
            client.client_tracking_on(bcast=True, prefix=["ab", "a"])
    finally:
        client.close()


def test_info_client_list_and_reset(taipan: ServerProcess, writer: redis.Redis) -> None:
    base = _info(writer)["tracking_clients"]
    one = redis.Redis(port=taipan.port, single_connection_client=True)
    two = redis.Redis(port=taipan.port, single_connection_client=True)
    try:
        one.client_tracking_on()
        two.client_tracking_on(bcast=True, prefix=["x"])
        one.mget("i:1", "i:2")
        two.get("i:1")  # BCAST: not remembered
        info = _info(writer)
        assert info["tracking_clients"] == base + 2
        assert info["tracking_total_keys"] == 2
        assert info["tracking_total_items"] == 2
        assert info["tracking_total_prefixes"] == 1
        flags = {c["id"]: (c["flags"], c["redir"]) for c in writer.client_list()}
        assert flags[str(one.client_id())] == ("t", "0")
        assert flags[str(two.client_id())] == ("tB", "0")
        two.execute_command("RESET")
        assert _info(writer)["tracking_total_prefixes"] == 0
        one.close()
        _eventually(lambda: _info(writer)["tracking_clients"] == base)
        # The ids stay in the table until their keys change or are flushed.
        assert _info(writer)["tracking_total_keys"] == 2
        writer.set("i:1", "x")
        assert _info(writer)["tracking_total_keys"] == 1
        writer.flushall()
        assert _info(writer)["tracking_total_items"] == 0
    finally:
        one.close()
        two.close()


def test_table_limit_evicts(taipan: ServerProcess, writer: redis.Redis) -> None:
    pushes: list = []
    client = _tracker(taipan, pushes)
    writer.config_set("tracking-table-max-keys", 3)
    try:
        client.client_tracking_on()
        for i in range(10):
            client.get(f"l:{i}")
        client.ping()
        assert _info(writer)["tracking_total_keys"] <= 3
        assert len(pushes) == 7
        evicted = [p[1][0] for p in pushes]
        assert evicted == [f"l:{i}".encode() for i in range(7)]  # oldest first
        writer.config_set("tracking-table-max-keys", 1)
        _eventually(lambda: client.ping() and len(pushes) == 9)
        assert _info(writer)["tracking_total_keys"] == 1
    finally:
        writer.config_set("tracking-table-max-keys", 1000000)
        client.close()
