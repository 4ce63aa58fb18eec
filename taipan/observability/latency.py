"""The latency monitor: per-event series of latency spikes (LATENCY LATEST,
HISTORY, GRAPH, DOCTOR), fed by whatever measures itself against
``latency-monitor-threshold``.

Each event keeps its last 160 samples, at most one per second (the worst one), and
its all-time worst. Latencies are in milliseconds, times in Unix seconds.
"""

from __future__ import annotations

import time

SERIES_LEN = 160


class EventSeries:
    __slots__ = ("samples", "max")

    def __init__(self) -> None:
        self.samples: list[list[int]] = []  # [time, latency], oldest first
        self.max = 0  # all-time worst


class LatencyMonitor:
    def __init__(self) -> None:
        # Event name -> series, in the order the events first happened.
        self.events: dict[str, EventSeries] = {}
        # latency-monitor-threshold in ms (0: off); kept current by the instance.
        self.threshold = 0

    def add_if_needed(self, event: str, latency_ms: int) -> None:
        """Record ``latency_ms`` for ``event`` if it reaches the threshold."""
        threshold = self.threshold
        if threshold and latency_ms >= threshold:
            self.add(event, latency_ms)

    def add(self, event: str, latency_ms: int) -> None:
        series = self.events.get(event)
        if series is None:
            series = self.events[event] = EventSeries()
        if latency_ms > series.max:
            series.max = latency_ms
        now = int(time.time())
        samples = series.samples
        if samples and samples[-1][0] == now:
            # One sample per second: the worst of that second.
            if latency_ms > samples[-1][1]:
                samples[-1][1] = latency_ms
            return
        samples.append([now, latency_ms])
        if len(samples) > SERIES_LEN:
            del samples[0]

    def reset(self, names: list[str] | None = None) -> int:
        """Forget the named events (case-insensitively), or all; how many went."""
        if names is None:
            count = len(self.events)
            self.events.clear()
            return count
        count = 0
        for name in names:
            wanted = name.lower()
            for event in [e for e in self.events if e.lower() == wanted]:
                del self.events[event]
                count += 1
        return count
