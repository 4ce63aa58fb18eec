"""Client-side caching (CLIENT TRACKING): the table of tracked keys and invalidation.

SKELETON: the interface the rest of the server calls; the behaviour is being built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from taipan.instance import Instance
    from taipan.net.client import Client


class Tracking:
    """The server's tracking state (``instance.tracking``)."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        # key -> ids of the clients that may hold it in their cache. Database.signal
        # calls ``invalidate_key`` for every written key while this is non-empty.
        self.keys: dict[bytes, Any] = {}
        # True while after_request must run (some client tracks, or invalidations
        # wait for the end of the running command).
        self.active = False

    def invalidate_key(self, key: bytes) -> None:
        """``key`` was modified (Database.signal)."""

    def after_call(self, client: Client, command: Any, argv: list[bytes]) -> None:
        """Dispatcher.call, after each command (scripts' too) while ``active``."""

    def after_request(self, client: Client, command: Any, argv: list[bytes]) -> None:
        """Dispatcher.execute, after each request while ``active``."""

    def on_flush(self) -> None:
        """FLUSHALL / FLUSHDB: every tracking client is told to drop everything."""

    def disable(self, client: Client) -> None:
        """CLIENT TRACKING OFF, RESET: the client stops tracking."""

    def client_closed(self, client: Client) -> None:
        """A client disconnected (or RESET): forget it."""

    # -- INFO ------------------------------------------------------------------------

    def client_count(self) -> int:
        return 0

    def total_keys(self) -> int:
        return 0

    def total_items(self) -> int:
        return 0

    def total_prefixes(self) -> int:
        return 0
