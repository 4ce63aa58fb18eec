"""Multi-connection scenarios run the same way against Redis and Taipan."""

from __future__ import annotations

from collections.abc import Callable

from support.raw import RawClient
from support.servers import ServerProcess

# A scenario opens connections with the function it is given and returns, in order,
# the bytes it wants compared.
Scenario = Callable[[Callable[[], RawClient]], list[bytes]]


def run_scenario(server: ServerProcess, scenario: Scenario) -> list[bytes]:
    """Run ``scenario`` on an emptied ``server``; its connections are closed after."""
    opened: list[RawClient] = []

    def connect() -> RawClient:
        client = RawClient(server.port)
        opened.append(client)
        return client

    try:
        connect().call("FLUSHALL")
        return scenario(connect)
    finally:
        for client in opened:
            client.close()
