"""A first end-to-end check: redis-py against a real Taipan process."""

import redis


def test_set_get_roundtrip(r: redis.Redis) -> None:
    assert r.set("greeting", "hello")
    assert r.get("greeting") == b"hello"
    assert r.incr("counter") == 1
    assert r.mget("greeting", "nope", "counter") == [b"hello", None, b"1"]


def test_pipeline_transaction(r: redis.Redis) -> None:
    with r.pipeline() as pipe:
        pipe.set("a", 1).incr("a").get("a")
        assert pipe.execute() == [True, 2, b"2"]
