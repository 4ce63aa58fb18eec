"""Parking, serving and timing out clients blocked on keys (BLPOP & co.).

The registry (taipan/keyspace/blocking.py) knows who waits on what; this module
does what needs the event loop: timers, resuming a connection, writing the reply.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from taipan.errors import ReplyError
from taipan.keyspace.blocking import Blocked, Waiter, serves
from taipan.keyspace.database import now_ms

if TYPE_CHECKING:
    from taipan.server import ServerRuntime

UNBLOCKED_ERROR = ReplyError("UNBLOCKED client unblocked via CLIENT UNBLOCK")


def park(runtime: ServerRuntime, client: Any, command: Any, argv: list[bytes],
         request: Blocked) -> None:
    """Stop serving ``client`` until one of its keys is ready or its deadline passes."""
    waiter = Waiter(client, command, argv, request, client.db)
    client.waiter = waiter
    runtime.instance.blocking.park(waiter)
    if request.timeout_ms:
        delay = max(request.timeout_ms - now_ms(), 0) / 1000.0
        waiter.timer = asyncio.get_running_loop().call_later(
            delay, finish, runtime, waiter, request.timeout_reply)


def finish(runtime: ServerRuntime, waiter: Waiter, reply: Any) -> None:
    """Unblock with ``reply`` (served, timed out or CLIENT UNBLOCK) and resume."""
    if waiter.done:
        return
    runtime.instance.blocking.remove(waiter)
    if waiter.timer is not None:
        waiter.timer.cancel()
    client = waiter.client
    client.waiter = None
    connection = client.connection
    if connection is not None:
        connection.resume_after_block(reply)


def discard(runtime: ServerRuntime, client: Any) -> None:
    """The client went away while blocked."""
    waiter = client.waiter
    if waiter is not None:
        runtime.instance.blocking.remove(waiter)
        if waiter.timer is not None:
            waiter.timer.cancel()
        client.waiter = None


def serve_ready(runtime: ServerRuntime) -> None:
    """Re-run the parked command of the oldest waiters on every key made ready."""
    registry = runtime.instance.blocking
    dispatcher = runtime.dispatcher
    while registry.ready:
        for db, key in registry.take_ready():
            for waiter in registry.candidates(db, key):
                if waiter.done or not serves(waiter, key, db.live(key)):
                    continue  # (drained or moved on by an earlier waiter)
                waiter.ready_key = key
                # Counted as a call when it blocked: not again (Redis's commandstats).
                dispatcher.serving_blocked = True
                try:
                    reply = dispatcher.call(waiter.client, waiter.command, waiter.argv)
                finally:
                    waiter.ready_key = None
                    dispatcher.serving_blocked = False
                if type(reply) is Blocked:
                    continue  # nothing it can take after all: keep its place
                finish(runtime, waiter, reply)


def unblock(runtime: ServerRuntime, client: Any, with_error: bool) -> bool:
    """CLIENT UNBLOCK: True when ``client`` was blocked."""
    waiter = client.waiter
    if waiter is None:
        return False
    finish(runtime, waiter, UNBLOCKED_ERROR if with_error else waiter.request.timeout_reply)
    return True
