"""LATENCY DOCTOR's report and LATENCY GRAPH's sparkline, in Redis's words."""

from __future__ import annotations

import time
from typing import Any

from taipan.observability.latency import EventSeries, LatencyMonitor

_DISABLED = (
    "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis "
    "instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in "
    "order to enable it. If we weren't in a deep space mission I'd suggest to take a "
    "look at https://redis.io/topics/latency-monitor.\n")
_NO_SPIKES = (
    "Dave, no latency spike was observed during the lifetime of this Redis instance, "
    "not in the slightest bit. I honestly think you ought to sit down calmly, take a "
    "stress pill, and think things over.\n")
_NO_ADVICE = (
    "\nWhile there are latency events logged, I'm not able to suggest any easy fix. "
    "Please use the Redis community to get some help, providing this report in your "
    "help request.\n")

# Advice texts, in the order the report lists them.
_ADVICE: dict[str, str] = {
    "slowlog_enabled": (
        "- There are latency issues with potentially slow commands you are using. Try to "
        "enable the Slow Log Redis feature using the command 'CONFIG SET "
        "slowlog-log-slower-than {usec}'. If the Slow log is disabled Redis is not able "
        "to log slow commands execution for you.\n"),
    "slowlog_tuning": (
        "- Your current Slow Log configuration only logs events that are slower than your "
        "configured latency monitor threshold. Please use 'CONFIG SET "
        "slowlog-log-slower-than {usec}'.\n"),
    "slowlog_inspect": (
        "- Check your Slow Log to understand what are the commands you are running which "
        "are too slow to execute. Please check https://redis.io/commands/slowlog for more "
        "information.\n"),
    "scheduler": (
        "- The system is slow to execute Redis code paths not containing system calls. "
        "This usually means the system does not provide Redis CPU time to run for long "
        "periods. You should try to:\n"
        "  1) Lower the system load.\n"
        "  2) Use a computer / VM just for Redis if you are running other software in the "
        "same system.\n"
        "  3) Check if you have a \"noisy neighbour\" problem.\n"
        "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency "
        "in your system.\n"
        "  5) Check if the problem is allocator-related by recompiling Redis with "
        "MALLOC=libc, if you are using Jemalloc. However this may create fragmentation "
        "problems.\n"),
    "local_disk": (
        "- It is strongly advised to use local disks for persistence, especially if you "
        "are using AOF. Remote disks provided by platform-as-a-service providers are known "
        "to be slow.\n"),
    "ssd": (
        "- SSD disks are able to reduce fsync latency, and total time needed for "
        "snapshotting and AOF log rewriting (resulting in smaller memory usage). With "
        "extremely high write load SSD disks can be a good option. However Redis should "
        "perform reasonably with high load using normal disks. Use this advice as a last "
        "resort.\n"),
    "data_writeback": (
        "- Mounting ext3/4 filesystems with data=writeback can provide a performance boost "
        "compared to data=ordered, however this mode of operation provides less guarantees, "
        "and sometimes it can happen that after a hard crash the AOF file will have a "
        "half-written command at the end and will require to be repaired before Redis "
        "restarts.\n"),
    "disk_contention": (
        "- Try to lower the disk contention. This is often caused by other disk intensive "
        "processes running in the same computer (including other Redis instances).\n"),
    "no_appendfsync": (
        "- Assuming from the point of view of data safety this is viable in your "
        "environment, you could try to enable the 'no-appendfsync-on-rewrite' option, so "
        "that fsync will not be performed while there is a child rewriting the AOF file or "
        "producing an RDB file (the moment where there is high disk contention).\n"),
    "relax_fsync_policy": (
        "- Your fsync policy is set to 'always'. It is very hard to get good performances "
        "with such a setup, if possible try to relax the fsync policy to 'onesec'.\n"),
    "write_load_info": (
        "- Latency during the AOF atomic rename operation or when the final difference is "
        "flushed to the AOF file at the end of the rewrite, sometimes is caused by very "
        "high write load, causing the AOF buffer to get very large. If possible try to send "
        "less commands to accomplish the same work, or use Lua scripts to group multiple "
        "operations into a single EVALSHA call.\n"),
    "hz": (
        "- In order to make the Redis keys expiring process more incremental, try to set "
        "the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n"),
    "large_objects": (
        "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a "
        "blocking operation. If you have very large objects that are often deleted, "
        "expired, or evicted, try to fragment those objects into multiple smaller "
        "objects.\n"),
    "mass_eviction": (
        "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of "
        "large objects via sets or sorted sets intersections, STORE option of SORT, Redis "
        "Cluster large keys migrations (RESTORE command), may create sudden memory pressure "
        "forcing the server to block trying to evict keys. \n"),
    "disable_thp": (
        "- I detected a non zero amount of anonymous huge pages used by your process. This "
        "creates very serious latency events in different conditions, especially when Redis "
        "is persisting on disk. To disable THP support use the command 'echo never > "
        "/sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into "
        "/etc/rc.local so that the command will be executed again after a reboot. Note "
        "that even if you have already disabled THP, you still need to restart the Redis "
        "process to get rid of the huge pages already created.\n"),
}

# What each event suggests (and how many advices Redis counts for it).
_EVENT_ADVICE: dict[str, tuple[str, ...]] = {
    "fast-command": ("scheduler",),
    "aof-write-pending-fsync": ("local_disk", "disk_contention", "ssd", "data_writeback"),
    "aof-write-active-child": ("no_appendfsync", "data_writeback", "ssd"),
    "aof-write-alone": ("local_disk", "data_writeback", "ssd"),
    "aof-fsync-always": ("relax_fsync_policy",),
    "aof-fstat": ("disk_contention", "local_disk"),
    "rdb-unlink-temp-file": ("disk_contention", "local_disk"),
    "aof-rewrite-diff-write": ("write_load_info", "data_writeback", "ssd", "local_disk"),
    "aof-rename": ("write_load_info", "data_writeback", "ssd", "local_disk"),
    "expire-cycle": ("hz", "large_objects"),
    "eviction-del": ("large_objects",),
    "eviction-cycle": ("mass_eviction",),
}


def _anon_huge_pages() -> int:
    try:
        with open("/proc/self/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"AnonHugePages:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _stats(series: EventSeries, now: int) -> tuple[int, int, int, int]:
    """(samples, average, mean absolute deviation, period in seconds)."""
    samples = series.samples
    if not samples:
        return 0, 0, 0, 0
    average = sum(latency for _, latency in samples) // len(samples)
    deviation = sum(abs(average - latency) for _, latency in samples) // len(samples)
    period = now - min(when for when, _ in samples) or 1
    return len(samples), average, deviation, period


def doctor(monitor: LatencyMonitor, config: Any) -> str:
    """LATENCY DOCTOR's text."""
    if not monitor.events and not monitor.threshold:
        return _DISABLED
    report = []
    advice: set[str] = set()
    advices = 0
    now = int(time.time())
    for number, (event, series) in enumerate(monitor.events.items(), 1):
        if number == 1:
            report.append("Dave, I have observed latency spikes in this Redis instance. "
                          "You don't mind talking about it, do you Dave?\n\n")
        count, average, deviation, period = _stats(series, now)
        report.append(
            f"{number}. {event}: {count} latency spikes (average {average}ms, mean "
            f"deviation {deviation}ms, period {period / count if count else 0:.2f} sec). "
            f"Worst all time event {series.max}ms.")
        name = event.lower()
        if name == "fork":
            # Taipan measures no fork rate: Redis's "terrible" band.
            report.append(" Fork rate is 0.00 GB/sec (terrible).")
            advice.add("better_vm")
            advices += 1
        if name == "command":
            slower_than = config.slowlog_log_slower_than
            if slower_than < 0:
                advice.add("slowlog_enabled")
                advices += 1
            elif slower_than // 1000 > monitor.threshold:
                advice.add("slowlog_tuning")
                advices += 1
            advice.update(("slowlog_inspect", "large_objects"))
            advices += 2
        for item in _EVENT_ADVICE.get(name, ()):
            advice.add(item)
            advices += 1
        report.append("\n")
    if _anon_huge_pages() > 0:
        advice.add("disable_thp")
        advices += 1
    events = len(monitor.events)
    if events == 0 and advices == 0:
        report.append(_NO_SPIKES)
    elif events > 0 and advices == 0:
        report.append(_NO_ADVICE)
    else:
        report.append("\nI have a few advices for you:\n\n")
        if "better_vm" in advice:
            report.append(
                "- If you are using a virtual machine, consider upgrading it with a faster "
                "one using a hypervisior that provides less latency during fork() calls. Xen "
                "is known to have poor fork() performance. Even in the context of the same "
                "VM provider, certain kinds of instances can execute fork faster than "
                "others.\n")
        usec = monitor.threshold * 1000
        for name, text in _ADVICE.items():
            if name not in advice:
                continue
            if name == "relax_fsync_policy" and config.appendfsync != "always":
                continue
            if name == "hz" and config.hz >= 100:
                continue
            report.append(text.format(usec=usec) if "{usec}" in text else text)
    return "".join(report)


_GRAPH_COLUMNS = 80
_ROWS = 4
_FILL = "_o#"


def _age_label(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def graph(event: str, series: EventSeries) -> str:
    """LATENCY GRAPH's text: a header, then a filled sparkline labelled with ages."""
    now = int(time.time())
    values = [latency for _, latency in series.samples]
    labels = [_age_label(now - when) for when, _ in series.samples]
    low, high = (min(values), max(values)) if values else (0, 0)
    out = [f"{event} - high {high} ms, low {low} ms (all time high {series.max} ms)\n",
           "-" * _GRAPH_COLUMNS + "\n"]
    for start in range(0, len(values), _GRAPH_COLUMNS):
        if start:
            out.append("\n")
        out.append(_sparkline(values[start:start + _GRAPH_COLUMNS],
                              labels[start:start + _GRAPH_COLUMNS], low, high))
    return "".join(out)


def _sparkline(values: list[int], labels: list[str], low: int, high: int) -> str:
    steps = len(_FILL) * _ROWS
    span = (high - low) or 1
    levels = []
    for value in values:
        step = int(int((value - low) * steps) / span)
        levels.append(min(max(step, 0), steps - 1))
    lines = []
    for row in range(_ROWS):
        chars = []
        for step in levels:
            index = step - (_ROWS - row - 1) * len(_FILL)
            if 0 <= index < len(_FILL):
                chars.append(_FILL[index])
            elif index >= len(_FILL):
                chars.append("|")
            else:
                chars.append(" ")
        lines.append("".join(chars) + "\n")
    lines.append(" " * len(values) + "\n")  # the margin above the labels
    row = 0
    while True:
        chars = [label[row] if len(label) > row else " " for label in labels]
        if all(len(label) <= row for label in labels):
            break
        lines.append("".join(chars) + "\n")
        row += 1
    return "".join(lines)
