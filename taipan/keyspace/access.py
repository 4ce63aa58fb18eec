"""Per-key access metadata for LRU/LFU eviction and OBJECT IDLETIME / FREQ.

Redis keeps 24 bits in every object: an LRU clock (seconds) or, under an LFU policy,
16 bits of minutes plus an 8-bit logarithmic counter. Here the same word lives in one
dict per database, and only while something needs it (DESIGN.md §3: metadata only
where a policy needs it): an LRU/LFU ``maxmemory-policy``, or the first OBJECT
IDLETIME on that database. Keys not touched since tracking began report the time
since then (a true lower bound).

Stored words are shared int objects (the current clock; a table of the 256 LFU words
of the current minute), so a touch allocates nothing and costs the dict entry only.
"""

from __future__ import annotations

import random
import time
from typing import Final

LFU_INIT_VAL: Final = 5
LRU_CLOCK_MAX: Final = (1 << 24) - 1  # Redis's 24-bit LRU clock, in seconds


def lru_clock() -> int:
    return int(time.time()) & LRU_CLOCK_MAX


def lfu_minutes() -> int:
    return (int(time.time()) // 60) & 0xFFFF


class AccessTracker:
    __slots__ = ("meta", "lfu", "log_factor", "decay_minutes", "clock", "started",
                 "_minute", "_words")

    def __init__(self, lfu: bool = False, log_factor: int = 10, decay_minutes: int = 1) -> None:
        # key -> LRU clock (seconds), or (minutes << 8 | counter) under LFU.
        self.meta: dict[bytes, int] = {}
        self.lfu = lfu
        self.log_factor = log_factor
        self.decay_minutes = decay_minutes
        self.clock = lru_clock()
        self.started = self.clock
        self._minute = -1
        self._words: list[int] = []
        self.tick()
        self.started = self.clock if not lfu else self._words[LFU_INIT_VAL]

    def tick(self) -> None:
        """Refresh the cached clock (the server cron, as Redis's serverCron)."""
        self.clock = lru_clock()
        minute = lfu_minutes()
        if minute != self._minute:
            self._minute = minute
            self._words = [(minute << 8) | counter for counter in range(256)]

    def created(self, key: bytes) -> None:
        """A new key: now as its access time, or LFU_INIT_VAL as its counter."""
        self.meta[key] = self._words[LFU_INIT_VAL] if self.lfu else self.clock

    def touch(self, key: bytes) -> None:
        """An access: the LRU clock, or the LFU counter decayed then incremented."""
        if not self.lfu:
            self.meta[key] = self.clock
            return
        counter = self.frequency(key)
        if counter < 255:
            # Redis's logarithmic counter: higher counts increment ever more rarely.
            base = counter - LFU_INIT_VAL
            if base < 0 or random.random() < 1.0 / (base * self.log_factor + 1):
                counter += 1
        self.meta[key] = self._words[counter]

    def forget(self, key: bytes) -> None:
        self.meta.pop(key, None)

    def idle_ms(self, key: bytes) -> int:
        """Milliseconds since the last access, at the clock's one-second resolution.
        Measured on the cached clock accesses are stamped with, as Redis's
        estimateObjectIdleTime, so a key just written reads 0."""
        stamp = self.meta.get(key, self.started)
        now = self.clock
        elapsed = now - stamp if now >= stamp else now + (LRU_CLOCK_MAX - stamp)
        return elapsed * 1000

    def idle_seconds(self, key: bytes) -> int:
        return self.idle_ms(key) // 1000

    def frequency(self, key: bytes) -> int:
        """The LFU counter, decayed by the minutes since its last decrement."""
        word = self.meta.get(key, self.started)
        counter = word & 255
        if self.decay_minutes:
            stamp = word >> 8
            now = self._minute
            elapsed = now - stamp if now >= stamp else 65535 - stamp + now
            periods = elapsed // self.decay_minutes
            if periods:
                counter = counter - periods if periods < counter else 0
        return counter

    def set_idle(self, key: bytes, seconds: int) -> None:
        """RESTORE ... IDLETIME: the access time ``seconds`` ago."""
        self.meta[key] = (self.clock - seconds) & LRU_CLOCK_MAX

    def set_frequency(self, key: bytes, counter: int) -> None:
        """RESTORE ... FREQ: the counter as of now."""
        self.meta[key] = self._words[min(max(counter, 0), 255)]
