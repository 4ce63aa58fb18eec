"""MULTI/EXEC/WATCH through redis-py against a running Taipan."""

from __future__ import annotations

import pytest
import redis


def other_client(r: redis.Redis, db: int = 0) -> redis.Redis:
    return redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=db)


def test_pipeline_transaction(r: redis.Redis) -> None:
    with r.pipeline() as pipe:
        pipe.set("a", 1).incr("a").get("a").incr("missing")
        assert pipe.execute() == [True, 2, b"2", 1]


def test_runtime_error_does_not_abort(r: redis.Redis) -> None:
    r.set("s", "text")
    with r.pipeline() as pipe:
        pipe.incr("s").set("after", "1")
        results = pipe.execute(raise_on_error=False)
    assert isinstance(results[0], redis.ResponseError)
    assert results[1] is True and r.get("after") == b"1"


def test_queue_error_aborts(r: redis.Redis) -> None:
    with r.pipeline() as pipe:
        pipe.set("a", "1")
        pipe.execute_command("SET", "only-key")
        with pytest.raises(redis.ResponseError):
            pipe.execute()
    assert r.get("a") is None


def test_watch_detects_other_client(r: redis.Redis) -> None:
    other = other_client(r)
    try:
        r.set("k", "1")
        with r.pipeline() as pipe:
            pipe.watch("k")
            other.set("k", "2")
            pipe.multi()
            pipe.set("k", "3")
            with pytest.raises(redis.WatchError):
                pipe.execute()
        assert r.get("k") == b"2"
    finally:
        other.close()


def test_watch_untouched_succeeds(r: redis.Redis) -> None:
    r.set("k", "1")
    with r.pipeline() as pipe:
        pipe.watch("k")
        value = int(pipe.get("k"))
        pipe.multi()
        pipe.set("k", value + 1)
        assert pipe.execute() == [True]
    assert r.get("k") == b"2"


def test_flushdb_only_breaks_watches_on_existing_keys(r: redis.Redis) -> None:
    other = other_client(r)
    try:
        with r.pipeline() as pipe:
            pipe.watch("absent")
            other.flushdb()
            pipe.multi()
            pipe.ping()
            assert pipe.execute() == [True]
        r.set("present", "1")
        with r.pipeline() as pipe:
            pipe.watch("present")
            other.flushdb()
            pipe.multi()
            pipe.ping()
            with pytest.raises(redis.WatchError):
                pipe.execute()
    finally:
        other.close()


def test_swapdb_breaks_watch_when_key_arrives(r: redis.Redis) -> None:
    other = other_client(r, db=1)
    try:
        other.set("k", "from-db1")
        with r.pipeline() as pipe:
            pipe.watch("k")
            other.swapdb(0, 1)
            pipe.multi()
            pipe.get("k")
            with pytest.raises(redis.WatchError):
                pipe.execute()
    finally:
        other.close()


def test_exec_errors(r: redis.Redis) -> None:
    with pytest.raises(redis.ResponseError, match="EXEC without MULTI"):
        r.execute_command("EXEC")
    with pytest.raises(redis.ResponseError, match="DISCARD without MULTI"):
        r.execute_command("DISCARD")
    with pytest.raises(redis.exceptions.ExecAbortError,
                       match="Transaction discarded because of: wrong number"):
        r.execute_command("EXEC", "extra")
