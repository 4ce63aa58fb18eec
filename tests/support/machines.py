"""Running a hypothesis state machine that sends every command to both servers."""

from __future__ import annotations

import re
from collections.abc import Iterable

from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine

from support.raw import RawClient

Command = tuple[str, ...]

# HELLO's reply names the connection's id, which differs between the servers.
_HELLO_ID = re.compile(rb"(\$2\r\nid\r\n):\d+\r\n")


class PairedMachine(RuleBasedStateMachine):
    """A state machine whose steps go to both servers (``ref``, ``ours``, set by
    ``run_against_both``); ``send`` asserts the raw replies are the same."""

    ref: RawClient
    ours: RawClient

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[tuple[str, ...]] = []

    def send(self, *args: str) -> bytes:
        self.steps.append(args)
        expected, actual = self.ref.call(*args), self.ours.call(*args)
        if args[0] == "HELLO":
            expected, actual = _HELLO_ID.sub(rb"\1", expected), _HELLO_ID.sub(rb"\1", actual)
        assert self.same(args, expected, actual), (
            f"after {self.steps[:-1]!r}\n{args!r}\n  redis:  {expected!r}\n  taipan: {actual!r}"
        )
        return expected

    def same(self, args: tuple[str, ...], expected: bytes, actual: bytes) -> bool:
        """Whether two replies to ``args`` count as the same (byte for byte here)."""
        return actual == expected


def run_against_both(machine: type, redis_port: int, taipan_port: int, *, examples: int,
                     steps: int, setup: Iterable[Command] = (),
                     restore: Iterable[Command] = ()) -> None:
    """Run ``machine`` (which reads ``ref``/``ours`` raw clients) deterministically,
    then put both servers back: RESP2, ``restore`` commands, an empty keyspace."""
    ref, ours = RawClient(redis_port), RawClient(taipan_port)
    machine.ref, machine.ours = ref, ours
    try:
        for client in (ref, ours):
            for command in setup:
                client.call(*command)
        machine.TestCase.settings = settings(
            max_examples=examples, stateful_step_count=steps, deadline=None,
            derandomize=True, suppress_health_check=list(HealthCheck),
        )
        machine.TestCase().runTest()
    finally:
        for client in (ref, ours):
            for command in (("HELLO", "2"), *restore, ("FLUSHALL",)):
                client.call(*command)
            client.close()
