"""Running a hypothesis state machine that sends every command to both servers."""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import HealthCheck, settings

from support.raw import RawClient

Command = tuple[str, ...]


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
