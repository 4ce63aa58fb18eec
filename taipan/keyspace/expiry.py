"""The active expiry cycle: deletes keys whose deadline passed, within a time budget.

Each database keeps a min-heap of deadlines, so a cycle touches only keys that are
due (no sampling needed), and stops after its time budget (25% of a cron tick, as
Redis) so a million keys expiring at once never stall the loop.
"""

from __future__ import annotations

import time
from typing import Final

from taipan.keyspace.database import Database, now_ms

_BATCH: Final = 200  # keys between clock checks


def active_expire_cycle(databases: list[Database], tick_ms: float) -> int:
    budget_s = tick_ms * 0.25 / 1000.0
    started = time.perf_counter()
    expired_total = 0
    now = now_ms()
    for db in databases:
        if not db.expires:
            continue
        while True:
            expired, looked = db.expire_due(now, _BATCH)
            expired_total += expired
            if looked < _BATCH or time.perf_counter() - started > budget_s:
                break
        if time.perf_counter() - started > budget_s:
            break
    return expired_total
