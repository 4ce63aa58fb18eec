"""BGREWRITEAOF and automatic rewrites: a forked child writes the new base file.

The parent moves appending to a new incr file just before the fork
(``AppendOnlyFile.begin_rewrite``), the child writes the dataset it was born with
to ``temp-rewriteaof-bg-<pid>.aof`` and exits; the cron reaps it and the parent
makes that file the base of a new manifest (``finish_rewrite``). Where the server
can't fork (Windows, or embedded in a host process that may run other threads) the
same steps run synchronously. With ``appendonly no`` a rewrite still writes a base
and a manifest naming only it, as Redis does.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from taipan.persistence.aof import AofError, AppendOnlyFile
from taipan.persistence.aof_rewrite import write_base
from taipan.persistence.forking import fork_child, reap, remove_quietly, stop_child

if TYPE_CHECKING:
    from taipan.instance import Instance

log = logging.getLogger("taipan")

# After this many failures in a row, automatic and scheduled rewrites back off.
FAILURES_BEFORE_BACKOFF = 3


class AofRewriter:
    def __init__(self, instance: Instance, can_fork: bool,
                 close_in_child: Callable[[], None] | None = None) -> None:
        self.instance = instance
        self.can_fork = can_fork
        self.close_in_child = close_in_child
        self.child_pid = 0
        self.target: AppendOnlyFile | None = None  # the AOF the running rewrite is for
        self.started = 0.0  # monotonic
        self.scheduled = False  # start as soon as no child runs (aof_rewrite_scheduled)
        self.rewrites = 0
        self.consecutive_failures = 0
        self.retry_after = 0.0  # monotonic; backoff after repeated failures
        self.last_ok = True
        self.last_seconds = -1
        self.last_cow_bytes = 0
        fields = instance.extra_info.setdefault("persistence", {})
        fields.update({
            "aof_rewrite_in_progress": lambda: int(bool(self.child_pid)),
            "aof_rewrite_scheduled": lambda: int(self.scheduled),
            "aof_last_rewrite_time_sec": lambda: self.last_seconds,
            "aof_current_rewrite_time_sec": lambda: (
                int(time.monotonic() - self.started) if self.child_pid else -1),
            "aof_last_bgrewrite_status": lambda: "ok" if self.last_ok else "err",
            "aof_rewrites": lambda: self.rewrites,
            "aof_rewrites_consecutive_failures": lambda: self.consecutive_failures,
            "aof_last_cow_size": lambda: self.last_cow_bytes,
        })

    # -- starting ----------------------------------------------------------------

    def request(self, in_transaction: bool = False) -> str:
        """BGREWRITEAOF: "started", "scheduled" (another child runs, or inside
        EXEC), "in progress" (a rewrite runs already) or "failed"."""
        if self.child_pid:
            return "in progress"
        if in_transaction or self.instance.child_active():
            self.scheduled = True
            self.consecutive_failures = 0
            return "scheduled"
        try:
            self.start()
        except AofError:
            return "failed"
        return "started"

    def start(self) -> None:
        """Begin a rewrite now; ``AofError`` when it can't start (logged)."""
        instance = self.instance
        target = instance.aof or AppendOnlyFile.detached(instance)
        self.scheduled = False
        try:
            os.makedirs(target.directory, exist_ok=True)
            target.begin_rewrite()
        except OSError as exc:
            log.warning(f"Can't start the AOF rewrite: {exc}")
            raise AofError(str(exc)) from None
        self.rewrites += 1
        self.target = target
        self.started = time.monotonic()
        if not self.can_fork:
            self._rewrite_in_process(target)
            return
        try:
            forked_at = time.perf_counter_ns()
            pid = fork_child(lambda: write_base(self._temp_path(target, os.getpid()),
                                                instance), self.close_in_child,
                                "AOF rewrite")
            instance.latency.add_if_needed(
                "fork", (time.perf_counter_ns() - forked_at) // 1_000_000)
        except OSError as exc:
            log.warning(f"Can't rewrite append only file in background: fork: {exc.strerror}")
            self._failed(target)
            raise AofError(f"fork: {exc.strerror}") from None
        self.child_pid = pid
        log.info(f"Background append only file rewriting started by pid {pid}")

    def _rewrite_in_process(self, target: AppendOnlyFile) -> None:
        log.info("Background AOF rewrite is not supported here: rewriting synchronously")
        temp = self._temp_path(target, os.getpid())
        try:
            write_base(temp, self.instance)
        except (OSError, TypeError) as exc:
            log.warning(f"AOF rewrite failed: {exc}")
            self._failed(target)
            raise AofError(str(exc)) from None
        self._succeeded(target, temp)

    @staticmethod
    def _temp_path(target: AppendOnlyFile, pid: int) -> str:
        return os.path.join(target.directory, f"temp-rewriteaof-bg-{pid}.aof")

    # -- from the cron -------------------------------------------------------------

    def reap(self) -> None:
        """From the cron: notice a finished child."""
        if self.child_pid:
            self._reap()

    def start_due(self) -> None:
        """From the cron, after every child was reaped: a scheduled or automatic
        rewrite."""
        if self.instance.child_active() or time.monotonic() < self.retry_after:
            return
        if self.scheduled or self._growth_calls_for_rewrite():
            try:
                self.start()
            except AofError:
                pass

    def _growth_calls_for_rewrite(self) -> bool:
        """auto-aof-rewrite-percentage / -min-size, against the size after the last
        rewrite (or load)."""
        aof = self.instance.aof
        config = self.instance.config
        percentage = config.auto_aof_rewrite_percentage
        if aof is None or aof.state != "on" or not percentage:
            return False
        if aof.current_size <= config.auto_aof_rewrite_min_size:
            return False
        base = aof.base_size or 1
        growth = aof.current_size * 100 // base - 100
        if growth < percentage:
            return False
        log.info(f"Starting automatic rewriting of AOF on {growth}% growth")
        return True

    def _reap(self) -> None:
        pid = self.child_pid
        ended = reap(pid)
        if ended is None:
            return
        self.child_pid = 0
        target, self.target = self.target, None
        if target is None:
            return
        temp = self._temp_path(target, pid)
        if ended.ok:
            self.last_cow_bytes = ended.cow_bytes
            log.info("Background AOF rewrite terminated with success")
            self._succeeded(target, temp)
            return
        if ended.signal:
            log.warning(f"Background AOF rewrite terminated by signal {ended.signal}")
        else:
            log.warning("Background AOF rewrite terminated with error")
        remove_quietly(temp)
        self._failed(target, by_us=ended.signal == signal.SIGUSR1)

    def _succeeded(self, target: AppendOnlyFile, temp: str) -> None:
        try:
            target.finish_rewrite(temp)
        except OSError as exc:
            log.warning(f"Error trying to install the rewritten AOF: {exc}")
            remove_quietly(temp)
            self._failed(target)
            return
        self.last_ok = True
        self.consecutive_failures = 0
        self.retry_after = 0.0
        self.last_seconds = int(time.monotonic() - self.started)
        log.info("Background AOF rewrite finished successfully")

    def _failed(self, target: AppendOnlyFile, by_us: bool = False) -> None:
        self.last_seconds = int(time.monotonic() - self.started)
        if by_us:
            return  # killed on purpose (appendonly no, shutdown): not an error
        self.last_ok = False
        self.consecutive_failures += 1
        if self.consecutive_failures >= FAILURES_BEFORE_BACKOFF:
            delay = min(3600, 60 * 2 ** (self.consecutive_failures - FAILURES_BEFORE_BACKOFF))
            self.retry_after = time.monotonic() + delay
            log.warning(f"Background AOF rewrite has repeatedly failed and triggered the "
                        f"limit, will retry in {delay} seconds")
        if target.state == "wait_rewrite":
            self.scheduled = True  # the AOF is switched on only by a finished rewrite

    def kill_child(self) -> None:
        """appendonly no, appendonly yes over an 'off' rewrite, or shutdown."""
        pid, self.child_pid = self.child_pid, 0
        target, self.target = self.target, None
        if not pid:
            return
        log.info(f"Killing running AOF rewrite child: {pid}")
        stop_child(pid)
        if target is not None:
            remove_quietly(self._temp_path(target, pid))
        self.last_seconds = int(time.monotonic() - self.started)
