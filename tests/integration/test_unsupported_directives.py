"""Directives for features Taipan doesn't have yet: accepted, but said to be ignored."""

from __future__ import annotations

import redis
from support.servers import start_taipan


def test_replicaof_and_cluster_enabled_are_announced_as_ignored() -> None:
    server = start_taipan("--replicaof", "127.0.0.1 6399", "--cluster-enabled", "yes")
    try:
        client = redis.Redis(port=server.port)
        assert client.set("k", "v")  # a master, serving writes
        assert client.info("replication")["role"] == "master"
        log = server.output()
        assert "replicaof is set, but Taipan has no replication yet" in log
        assert "cluster-enabled is set, but Taipan has no cluster mode yet" in log
        client.close()
    finally:
        server.stop()


def test_no_warning_without_them() -> None:
    server = start_taipan()
    try:
        assert redis.Redis(port=server.port).ping()
        assert "is ignored" not in server.output()
    finally:
        server.stop()
