"""Embedding: ``taipan.Server`` on a background thread, ``taipan.AsyncServer`` on a loop."""

from __future__ import annotations

import asyncio
import os
import socket

import pytest
import redis
import redis.asyncio as aioredis

import taipan
from taipan.config import ConfigError


def test_server_context_manager_with_redis_py() -> None:
    with taipan.Server(port=0) as server:
        assert server.port > 0
        assert server.url == f"redis://127.0.0.1:{server.port}/0"
        client = redis.Redis.from_url(server.url)
        assert client.set("greeting", "hello")
        assert client.get("greeting") == b"hello"
        assert client.config_get("port") == {"port": str(server.port)}
        assert client.config_get("save") == {"save": ""}  # embedded: no snapshots
        client.close()
        port = server.port
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1)


def test_options_are_validated_like_redis_conf() -> None:
    with taipan.Server(port=0, maxmemory="10mb", maxmemory_policy="allkeys-lru",
                       databases=2, appendfsync="no", notify_keyspace_events="KEA") as server:
        client = redis.Redis(port=server.port, decode_responses=True)
        assert client.config_get("maxmemory") == {"maxmemory": "10485760"}
        assert client.config_get("notify-keyspace-events") == {"notify-keyspace-events": "AKE"}
        with pytest.raises(redis.ResponseError, match="DB index is out of range"):
            client.select(2)
        client.close()
    with pytest.raises(ConfigError, match="argument must be between 1 and 4294967295"):
        taipan.Server(port=0, maxclients=0)
    with pytest.raises(ConfigError, match="Bad directive"):
        taipan.Server(port=0, no_such_option=1)


def test_two_servers_are_independent() -> None:
    with taipan.Server(port=0) as first, taipan.Server(port=0) as second:
        assert first.port != second.port
        a, b = redis.Redis(port=first.port), redis.Redis(port=second.port)
        a.set("k", "first")
        assert b.get("k") is None
        a.close()
        b.close()


def test_shutdown_command_stops_an_embedded_server() -> None:
    server = taipan.Server(port=0).start()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"SHUTDOWN NOSAVE\r\n")
        assert sock.recv(100) == b""  # closed without a reply, as Redis does
    server.stop()  # returns at once: the server already finished
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1)


def test_port_already_in_use_raises() -> None:
    with taipan.Server(port=0) as server:
        with pytest.raises(OSError, match="Could not create server TCP listening socket"):
            taipan.Server(port=server.port).start()


def test_async_server_with_redis_asyncio() -> None:
    async def scenario() -> list:
        async with taipan.AsyncServer(port=0) as server:
            client = aioredis.Redis(port=server.port)
            await client.set("n", 1)
            results = [await client.incr("n"), await client.get("n"), await client.ping()]
            # The server shares the caller's loop: concurrent clients interleave.
            others = [aioredis.Redis(port=server.port) for _ in range(5)]
            results.append(await asyncio.gather(*(o.incr("n") for o in others)))
            for other in others:
                await other.aclose()
            await client.aclose()
        return results

    incrs = asyncio.run(scenario())
    assert incrs[:3] == [2, b"2", True]
    assert sorted(incrs[3]) == [3, 4, 5, 6, 7]


def test_config_set_port_rebinds() -> None:
    with taipan.Server(port=0) as server:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            new_port = probe.getsockname()[1]
        client = redis.Redis(port=server.port)
        assert client.config_set("port", new_port)
        moved = redis.Redis(port=new_port)
        assert moved.ping()
        assert moved.config_get("port") == {"port": str(new_port)}
        assert client.ping()  # existing connections stay open
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            with pytest.raises(redis.ResponseError, match="Unable to listen on this port"):
                client.config_set("port", busy.getsockname()[1])
        assert moved.config_get("port") == {"port": str(new_port)}
        client.close()
        moved.close()


def test_embedded_server_persists_in_its_dir(tmp_path) -> None:
    """Given a ``dir``, an embedded server keeps its AOF there (not in the host's
    working directory) and a later one loads it back, RDB snapshots too."""
    cwd_before = sorted(os.listdir("."))
    with taipan.Server(dir=str(tmp_path), appendonly="yes") as srv:
        r = redis.Redis.from_url(srv.url)
        r.set("kept", "1")
        r.rpush("list", "a", "b")
        assert r.save()
    assert (tmp_path / "appendonlydir" / "appendonly.aof.manifest").exists()
    assert (tmp_path / "dump.rdb").exists()
    assert sorted(os.listdir(".")) == cwd_before
    with taipan.Server(dir=str(tmp_path), appendonly="yes") as srv:  # from the AOF
        r = redis.Redis.from_url(srv.url)
        assert r.get("kept") == b"1" and r.lrange("list", 0, -1) == [b"a", b"b"]
    with taipan.Server(dir=str(tmp_path)) as srv:  # from dump.rdb
        assert redis.Redis.from_url(srv.url).get("kept") == b"1"
    with taipan.Server() as srv:  # no dir: starts empty, whatever the cwd holds
        assert redis.Redis.from_url(srv.url).dbsize() == 0
