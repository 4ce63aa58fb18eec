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
    """How a reaped child ended: ``ok`` (exit code 0) or killed by ``signal``."""

    ok: bool
    signal: int = 0


def fork_child(work: Callable[[], None], close_in_child: Callable[[], None] | None) -> int:
    """Fork; the child runs ``work`` (an exception is a failed exit). Returns the pid.

    ``gc.freeze`` keeps the collector from writing to (and so copying) every shared
    page of the parent's heap while the child runs. ``OSError`` when fork fails.
    """
    gc.freeze()
    try:
        pid = os.fork()
    except OSError:
        gc.unfreeze()
        raise
    if pid == 0:
        _run_child(work, close_in_child)
    gc.unfreeze()
    return pid


def _run_child(work: Callable[[], None], close_in_child: Callable[[], None] | None) -> None:
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
        return ChildExit(False)
    if done == 0:
        return None
    if os.WIFSIGNALED(status):
        return ChildExit(False, os.WTERMSIG(status))
    return ChildExit(os.WEXITSTATUS(status) == 0)


def kill_child(pid: int) -> None:
    """Stop a child the way Redis does (SIGUSR1: not reported as an error) and wait."""
    try:
        os.kill(pid, signal.SIGUSR1)
        os.waitpid(pid, 0)
    except OSError:
        pass


def remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
