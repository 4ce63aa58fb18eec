"""Differential testing: the same commands against a real redis-server and Taipan.

``differ.check(*args)`` sends one command to both servers, in RESP2 and in RESP3
(separate connections), and asserts the raw reply bytes are identical.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.raw import RawClient
from support.servers import ServerProcess

Arg = bytes | str | int


class Differ:
    def __init__(self, redis_port: int, taipan_port: int) -> None:
        self.pairs: dict[int, tuple[RawClient, RawClient]] = {}
        for resp in (2, 3):
            ref, ours = RawClient(redis_port), RawClient(taipan_port)
            if resp == 3:
                ref.call("HELLO", "3")
                ours.call("HELLO", "3")
            self.pairs[resp] = (ref, ours)

    def close(self) -> None:
        for ref, ours in self.pairs.values():
            ref.close()
            ours.close()

    def both(self, *args: Arg, resp: int = 2) -> tuple[bytes, bytes]:
        """Raw replies (redis, taipan) to one command on the RESP ``resp`` connections."""
        ref, ours = self.pairs[resp]
        return ref.call(*args), ours.call(*args)

    def check(self, *args: Arg, resp: tuple[int, ...] = (2, 3)) -> bytes:
        """Assert identical raw replies; returns Redis's RESP2 reply.

        Each protocol version runs the command on its own connection pair, so a
        write runs once per version: make scripts idempotent or pass ``resp=(2,)``.
        """
        first = b""
        for version in resp:
            expected, actual = self.both(*args, resp=version)
            assert actual == expected, (
                f"RESP{version} {args!r}\n  redis:  {expected!r}\n  taipan: {actual!r}"
            )
            if not first:
                first = expected
        return first

    def run(self, script: list[tuple[Arg, ...]], resp: tuple[int, ...] = (2,)) -> None:
        """Check each command of a script in order (RESP2 by default: writes run once)."""
        for command in script:
            self.check(*command, resp=resp)

    def flush(self) -> None:
        ref, ours = self.pairs[2]
        ref.call("FLUSHALL")
        ours.call("FLUSHALL")


@pytest.fixture
def differ(real_redis: ServerProcess, taipan: ServerProcess) -> Iterator[Differ]:
    d = Differ(real_redis.port, taipan.port)
    d.flush()
    yield d
    d.flush()
    d.close()
