"""maxmemory-clients: closing the biggest clients when all clients together use more
than the limit (Redis 7.0's client eviction).

Redis keeps each client's memory current and sorts clients into buckets; here the
cron measures them (``used_memory.client_memory``) ten times a second, so a client
may go over the limit for up to one cron period before it is closed. Clients with
CLIENT NO-EVICT on are never closed.
"""

from __future__ import annotations

import logging
from typing import Any

from taipan.used_memory import client_memory

log = logging.getLogger("taipan")
_MINIMUM = 128 * 1024  # Redis never lets the limit go below this


def eviction_limit(maxmemory_clients: int, maxmemory: int) -> int:
    """The configured limit in bytes (a percentage is stored negated), 0: none."""
    if maxmemory_clients < 0 and maxmemory > 0:
        limit = int(maxmemory * -maxmemory_clients / 100)
    elif maxmemory_clients > 0:
        limit = maxmemory_clients
    else:
        return 0
    return max(limit, _MINIMUM)


def evict_clients(instance: Any) -> int:
    """Close the biggest evictable clients until the rest fit; how many closed."""
    config = instance.config
    limit = eviction_limit(config.maxmemory_clients, config.maxmemory)
    if not limit:
        return 0
    sized = [(client_memory(client), client) for client in instance.clients.values()
             if client.transport is not None]
    total = sum(size for size, _ in sized)
    closed = 0
    for size, client in sorted(sized, key=lambda pair: pair[0], reverse=True):
        if total < limit:
            break
        if client.no_evict:
            continue
        log.info("Evicting client: %s", client.info_line())
        client.close_requested = True
        client.transport.abort()  # (close() would wait for the output it holds)
        total -= size
        closed += 1
    if total >= limit and closed < len(sized):
        log.warning("Over client maxmemory after evicting all evictable clients")
    instance.evicted_clients += closed
    return closed
