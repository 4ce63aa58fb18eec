"""Process memory figures for INFO memory: allocator bytes in use, RSS, system total."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
        "uordblks", "fordblks", "keepcost")]


def _load_mallinfo2():  # glibc >= 2.33
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        function = libc.mallinfo2
    except (OSError, AttributeError):
        return None
    function.restype = _MallInfo2
    return function


_mallinfo2 = _load_mallinfo2()


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        pass
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024
    except (ImportError, OSError):
        return 0


def used_bytes() -> int:
    """The closest analogue of Redis's ``used_memory`` that CPython allows.

    CPython's small-object allocator takes its arenas straight from mmap and does
    not report how much of them is in use, so allocator statistics (mallinfo2)
    miss most objects. The resident set size is the honest upper figure; the
    malloc heap in use is added when it is larger (memory swapped out).
    """
    rss = rss_bytes()
    if _mallinfo2 is not None:
        info = _mallinfo2()
        return max(rss, int(info.uordblks + info.hblkhd))
    return rss


def total_system_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def bytes_to_human(n: int) -> str:
    """Redis's bytesToHuman: ``1.05M``, ``867.94K``, ``512B``."""
    value = float(n)
    for unit, scale in (("P", 1024**5), ("T", 1024**4), ("G", 1024**3), ("M", 1024**2), ("K", 1024)):
        if value >= scale:
            return f"{value / scale:.2f}{unit}"
    return f"{n}B"
