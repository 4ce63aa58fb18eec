"""Forked children for background persistence (BGSAVE, BGREWRITEAOF).

The child writes its file from the copy-on-write image of the keyspace it was born
with and leaves with ``os._exit`` (never running the parent's cleanup); the parent
reaps it from the cron with ``reap``. One child at a time, as Redis: callers check
``Instance.child_active`` before forking.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("taipan")

CAN_FORK = hasattr(os, "fork") and sys.platform != "win32"


@dataclass(frozen=True)
class ChildExit:
    """How a reaped child ended: ``ok`` (exit code 0) or killed by ``signal``, and
    how many bytes it had to copy on write (what Redis reports as *_last_cow_size)."""

    ok: bool
    signal: int = 0
    cow_bytes: int = 0


# pid -> read end of the pipe a child reports its copy-on-write size through.
_reports: dict[int, int] = {}


def fork_child(work: Callable[[], None], close_in_child: Callable[[], None] | None,
               label: str = "RDB") -> int:
    """Fork; the child runs ``work`` (an exception is a failed exit). Returns the pid.

    ``gc.freeze`` keeps the collector from writing to (and so copying) every shared
    page of the parent's heap while the child runs. ``OSError`` when fork fails.
    """
    read_end, write_end = os.pipe()
    gc.freeze()
    try:
        pid = os.fork()
    except OSError:
        gc.unfreeze()
        os.close(read_end)
        os.close(write_end)
        raise
    if pid == 0:
        os.close(read_end)
        _run_child(work, close_in_child, write_end, label)
    gc.unfreeze()
    os.close(write_end)
    os.set_blocking(read_end, False)
    _reports[pid] = read_end
    return pid


def _private_dirty_bytes() -> int:
    """This process's private dirty memory: in a fresh child, what it copied."""
    try:
        with open("/proc/self/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Private_Dirty:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _run_child(work: Callable[[], None], close_in_child: Callable[[], None] | None,
               report_fd: int, label: str) -> None:
    code = 1
    try:
        gc.disable()
        signal.signal(signal.SIGUSR1, signal.SIG_DFL)  # how the parent stops us
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if close_in_child is not None:
            try:
                close_in_child()
            except Exception:
                pass
        work()
        code = 0
        cow = _private_dirty_bytes()
        megabytes = cow // (1024 * 1024)
        log.info(f"Fork CoW for {label}: current {megabytes} MB, peak {megabytes} MB, "
                 f"average {megabytes} MB", extra={"role": "C"})
        os.write(report_fd, b"%d" % cow)
    except BaseException as exc:
        try:
            log.warning(f"Child failed: {exc}", extra={"role": "C"})
        except BaseException:
            pass
    finally:
        try:
            for handler in log.handlers:
                handler.flush()
        finally:
            os._exit(code)


def reap(pid: int) -> ChildExit | None:
    """The exit of child ``pid`` if it has ended, else None (never blocks)."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        done, status = pid, 1 << 8
    if done == 0:
        return None
    cow = _read_report(pid)
    if os.WIFSIGNALED(status):
        return ChildExit(False, os.WTERMSIG(status))
    return ChildExit(os.WEXITSTATUS(status) == 0, 0, cow)


def _read_report(pid: int) -> int:
    fd = _reports.pop(pid, None)
    if fd is None:
        return 0
    try:
        return int(os.read(fd, 64) or b"0")
    except (OSError, ValueError):
        return 0
    finally:
        os.close(fd)


def stop_child(pid: int) -> None:
    """Stop a child the way Redis does (SIGUSR1: not reported as an error) and wait."""
    try:
        os.kill(pid, signal.SIGUSR1)
        os.waitpid(pid, 0)
    except OSError:
        pass
    _read_report(pid)


def remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
