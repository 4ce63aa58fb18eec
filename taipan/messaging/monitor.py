"""MONITOR: every command the server runs, as a line to each monitoring client.

SKELETON: the interface the dispatcher calls; the behaviour is being built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from taipan.net.client import Client


def feed_monitors(monitors: list[Client], client: Client, command: Any,
                  argv: list[bytes]) -> None:
    """Dispatcher.call, after ``command`` ran (``monitors`` is not empty)."""
