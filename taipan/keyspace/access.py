"""Per-key access metadata (OBJECT IDLETIME / OBJECT FREQ), kept only when asked for.

Tracking costs memory on every key, so a database starts without it (DESIGN.md §3:
metadata only where a policy needs it). It is switched on by an LRU/LFU
``maxmemory-policy`` or by the first OBJECT IDLETIME/FREQ on that database; keys not
touched since then report the time since tracking began (a true lower bound).
"""

from __future__ import annotations

import random
import time

LFU_INIT_VAL = 5


class AccessTracker:
    __slots__ = ("last_access", "counters", "started", "log_factor", "decay_minutes")

    def __init__(self, log_factor: int = 10, decay_minutes: int = 1) -> None:
        self.last_access: dict[bytes, float] = {}
        # LFU: key -> (logarithmic counter, minute of last decrement).
        self.counters: dict[bytes, tuple[int, int]] = {}
        self.started = time.monotonic()
        self.log_factor = log_factor
        self.decay_minutes = decay_minutes

    def touch(self, key: bytes) -> None:
        now = time.monotonic()
        self.last_access[key] = now
        counter = self._decayed(key, now)
        if counter < 255:
            # Redis's logarithmic counter: higher counts increment ever more rarely.
            base = max(counter - LFU_INIT_VAL, 0)
            if random.random() < 1.0 / (base * self.log_factor + 1):
                counter += 1
        self.counters[key] = (counter, int(now // 60))

    def forget(self, key: bytes) -> None:
        self.last_access.pop(key, None)
        self.counters.pop(key, None)

    def idle_seconds(self, key: bytes) -> int:
        last = self.last_access.get(key, self.started)
        return int(time.monotonic() - last)

    def frequency(self, key: bytes) -> int:
        return self._decayed(key, time.monotonic())

    def _decayed(self, key: bytes, now: float) -> int:
        entry = self.counters.get(key)
        if entry is None:
            return LFU_INIT_VAL
        counter, minute = entry
        if self.decay_minutes:
            periods = (int(now // 60) - minute) // self.decay_minutes
            counter = max(counter - periods, 0)
        return counter

