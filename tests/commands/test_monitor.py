"""MONITOR through redis-py's ``Monitor``: what a monitoring client reads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from support.raw import RawClient
from support.servers import ServerProcess


@pytest.fixture
def watcher(taipan: ServerProcess) -> Iterator[redis.Redis]:
    """A second client whose connection the monitor uses (``r`` keeps its own)."""
    client = redis.Redis(port=taipan.port)
    yield client
    client.close()


def test_commands_arrive_in_order_with_db_and_address(r: redis.Redis,
                                                      watcher: redis.Redis) -> None:
    r.ping()  # r's connection exists before MONITOR: no handshake lines
    with watcher.monitor() as m:
        r.set("mk", "v")
        r.get("mk")
        r.execute_command("SELECT", "2")
        r.execute_command("ECHO", 'say "hi"\n')
        r.execute_command("SELECT", "0")
        seen = [m.next_command() for _ in range(5)]
    assert [c["command"] for c in seen] == [
        "SET mk v", "GET mk", "SELECT 2", 'ECHO say "hi"\\n', "SELECT 0"]
    assert [c["db"] for c in seen] == [0, 0, 2, 2, 0]
    assert {c["client_type"] for c in seen} == {"tcp"}
    assert {c["client_address"] for c in seen} == {"127.0.0.1"}
    assert all(c["time"] > 1e9 for c in seen)


def test_scripts_show_their_calls_after_them_as_lua(r: redis.Redis,
                                                    watcher: redis.Redis) -> None:
    r.ping()
    with watcher.monitor() as m:
        assert r.eval("redis.call('set', KEYS[1], ARGV[1]) return redis.call('get', KEYS[1])",
                      1, "sk", "sv") == b"sv"
        seen = [m.next_command() for _ in range(3)]
    assert seen[0]["command"].startswith("EVAL redis.call('set'")
    assert seen[0]["client_type"] == "tcp"
    assert [(c["client_type"], c["command"]) for c in seen[1:]] == [
        ("lua", "set sk sv"), ("lua", "get sk")]


def test_transactions_show_queued_commands_when_exec_runs(r: redis.Redis,
                                                           watcher: redis.Redis) -> None:
    r.ping()
    with watcher.monitor() as m:
        pipe = r.pipeline(transaction=True)
        pipe.set("tk", "1").incr("tk").config_get("port")
        assert pipe.execute()[:2] == [True, 2]
        seen = [m.next_command()["command"] for _ in range(4)]
    # CONFIG (an admin command) is never shown.
    assert seen == ["MULTI", "SET tk 1", "INCRBY tk 1", "EXEC"]


def test_credentials_are_redacted_and_admin_commands_hidden(
        r: redis.Redis, watcher: redis.Redis, taipan: ServerProcess) -> None:
    with RawClient(taipan.port) as raw:
        raw.call("PING")
        with watcher.monitor() as m:
            assert raw.call("AUTH", "hunter2").startswith(b"-ERR AUTH <password> called")
            assert raw.call("HELLO", "2", "AUTH", "default", "hunter2").startswith(b"*14")
            raw.call("CONFIG", "GET", "maxmemory")
            raw.call("CLIENT", "LIST")
            raw.call("PING")
            seen = [m.next_command()["command"] for _ in range(3)]
    assert seen == ["AUTH (redacted)", "HELLO 2 AUTH (redacted) (redacted)", "PING"]


def test_refused_commands_are_not_shown(r: redis.Redis, watcher: redis.Redis) -> None:
    r.ping()
    with watcher.monitor() as m:
        with pytest.raises(redis.ResponseError):
            r.execute_command("NOSUCHCOMMAND")
        with pytest.raises(redis.ResponseError):
            r.execute_command("GET")
        with pytest.raises(redis.ResponseError):
            r.execute_command("INCR", "x", "y")
        r.execute_command("ECHO", "after")
        assert m.next_command()["command"] == "ECHO after"


def test_monitor_client_state(r: redis.Redis, taipan: ServerProcess) -> None:
    """CLIENT LIST flag O; no keyspace access; RESET leaves monitor mode."""
    client = redis.Redis(port=taipan.port, single_connection_client=True)
    try:
        assert client.execute_command("MONITOR") == b"OK"
        flags = {c["cmd"]: c["flags"] for c in r.client_list()}
        assert flags["monitor"] == "O"
        with pytest.raises(redis.ResponseError, match="Replica can't interact with the keyspace"):
            client.get("x")
        assert client.execute_command("RESET") in ("RESET", b"RESET")
        assert client.get("x") is None
        flags = {c["cmd"]: c["flags"] for c in r.client_list()}
        assert flags["get"] == "N"
    finally:
        client.close()


def test_monitor_inside_multi_is_refused(r: redis.Redis) -> None:
    pipe = r.pipeline(transaction=True)
    pipe.execute_command("MONITOR")
    with pytest.raises(redis.ResponseError, match="MONITOR isn't allowed for DENY BLOCKING"):
        pipe.execute()
