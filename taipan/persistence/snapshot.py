"""RDB snapshots of a running Instance: load at startup, SAVE, BGSAVE, save points.

``RdbSnapshots`` owns the state INFO persistence reports about RDB files. BGSAVE forks
where the platform can (the child serializes its copy-on-write image of the keyspace
and leaves with ``os._exit``; the parent reaps it from the cron), and saves
synchronously elsewhere, saying so in the log. Only one child runs at a time: a
BGSAVE asked for while an AOF rewrite child runs waits in ``bgsave_scheduled``.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from taipan import memory
from taipan.persistence.aof_manifest import fsync_dir
from taipan.persistence.forking import CAN_FORK, fork_child, reap, remove_quietly, stop_child
from taipan.persistence.functions_link import flush_libraries, library_codes, library_loader
from taipan.persistence.loading import install_keys
from taipan.persistence.rdb_file import read_rdb, write_snapshot
from taipan.persistence.rdb_format import RdbError

if TYPE_CHECKING:
    from taipan.instance import Instance

log = logging.getLogger("taipan")

__all__ = ["CAN_FORK", "RdbSnapshots", "SnapshotError"]

BGSAVE_RETRY_DELAY = 5  # seconds between save-point retries after a failure (Redis's)


class SnapshotError(Exception):
    """A snapshot could not be written or read; the text is for the log."""


class RdbSnapshots:
    def __init__(self, instance: Instance, can_fork: bool = CAN_FORK) -> None:
        self.instance = instance
        self.can_fork = can_fork
        # Closes the listening sockets in a forked child (set by the server).
        self.close_in_child: Callable[[], None] | None = None
        self.child_pid = 0
        self.child_started = 0.0  # monotonic
        self.dirty_at_fork = 0  # what a successful child's snapshot covers
        self.bgsave_scheduled = False
        self._last_bgsave_ok = True
        self.last_bgsave_try = 0.0  # wall clock, for the retry delay
        self.last_bgsave_seconds = -1
        self.saves = 0
        self.last_cow_bytes = 0
        self.keys_loaded = 0
        self.keys_expired = 0
        fields = instance.extra_info.setdefault("persistence", {})
        fields.update({
            "rdb_bgsave_in_progress": lambda: int(bool(self.child_pid)),
            "rdb_last_bgsave_status": lambda: "ok" if self.last_bgsave_ok else "err",
            "rdb_saves": lambda: self.saves,
            "rdb_last_cow_size": lambda: self.last_cow_bytes,
            "rdb_last_bgsave_time_sec": lambda: self.last_bgsave_seconds,
            "rdb_current_bgsave_time_sec": lambda: (
                int(time.monotonic() - self.child_started) if self.child_pid else -1),
            "rdb_last_load_keys_loaded": lambda: self.keys_loaded,
            "rdb_last_load_keys_expired": lambda: self.keys_expired,
        })

    @property
    def last_bgsave_ok(self) -> bool:
        return self._last_bgsave_ok

    @last_bgsave_ok.setter
    def last_bgsave_ok(self, ok: bool) -> None:
        # A failed save may refuse writes (stop-writes-on-bgsave-error): the
        # dispatcher checks that only while some restriction is flagged.
        self._last_bgsave_ok = ok
        self.instance.refresh_restrictions()

    @property
    def path(self) -> str:
        config = self.instance.config
        return os.path.abspath(os.path.join(config.dir or ".", config.dbfilename))

    # -- loading -----------------------------------------------------------------

    def load_at_startup(self) -> bool:
        """Load ``dir/dbfilename`` when it exists; ``SnapshotError`` when it is bad."""
        path = self.path
        if not os.path.exists(path):
            return False
        started = time.monotonic()
        self.load(path)
        log.info(f"DB loaded from disk: {time.monotonic() - started:.3f} seconds")
        return True

    def load(self, path: str, merge: bool = False) -> None:
        """Load the RDB file at ``path``: its function libraries as they are read, then
        its keys. ``merge`` (DEBUG RELOAD MERGE) replaces libraries of the same name
        instead of failing on them."""
        instance = self.instance
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise SnapshotError(f"Fatal error loading the DB from {path}: "
                                f"{exc.strerror}. Exiting.") from None
        progress = instance.loading_progress
        progress.begin(len(data))
        try:
            contents = read_rdb(data, instance.config, library_loader(instance, merge))
        except RdbError as exc:
            raise SnapshotError(f"Fatal error loading the DB from {path}: {exc}. "
                                f"Unrecoverable error, aborting now.") from None
        except Exception as exc:  # a corrupt object the value readers choke on
            raise SnapshotError(f"Fatal error loading the DB from {path}: corrupt RDB "
                                f"object ({type(exc).__name__}: {exc}). Unrecoverable "
                                f"error, aborting now.") from None
        progress.loaded_bytes = len(data)
        for index in contents.databases:
            if index >= len(instance.databases):
                raise SnapshotError(
                    f"Fatal error loading the DB from {path}: FATAL: Data file was created "
                    f"with a Redis server configured to handle more than "
                    f"{len(instance.databases)} databases. Exiting")
        version = contents.aux.get(b"redis-ver")
        if version:
            log.info(f"Loading RDB produced by version {version.decode(errors='replace')}")
        ctime = contents.aux.get(b"ctime")
        if ctime and ctime.isdigit():
            log.info(f"RDB age {max(0, int(time.time()) - int(ctime))} seconds")
        used = contents.aux.get(b"used-mem")
        if used and used.isdigit():
            progress.rdb_used_mem = int(used)
            log.info(f"RDB memory usage when created {int(used) / (1024 * 1024):.2f} Mb")
        loaded, expired = install_keys(instance, contents)
        self.keys_loaded, self.keys_expired = loaded, expired
        instance.dirty_at_last_save = instance.keyspace_stats.dirty  # loading isn't a change
        log.info(f"Done loading RDB, keys loaded: {loaded}, keys expired: {expired}.")

    # -- writing -----------------------------------------------------------------

    def _write(self, announce: bool = True) -> None:
        """Serialize the keyspace to ``temp-<pid>.rdb``, fsync, rename, fsync the dir."""
        instance = self.instance
        path = self.path
        directory = os.path.dirname(path) or "."
        temp = os.path.join(directory, f"temp-{os.getpid()}.rdb")
        aux = ((b"used-mem", b"%d" % memory.used_bytes()), (b"aof-base", b"0"))
        try:
            with open(temp, "wb") as handle:
                write_snapshot(handle, instance.databases, instance.config, aux,
                               library_codes(instance))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise SnapshotError(f"Failed opening the temp RDB file {temp} (in server root "
                                f"dir {os.path.abspath(directory)}) for saving: "
                                f"{exc.strerror}") from None
        try:
            os.replace(temp, path)
        except OSError as exc:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise SnapshotError(f"Error moving temp DB file {temp} on the final "
                                f"destination {path} (in server root dir "
                                f"{os.path.abspath(directory)}): {exc.strerror}") from None
        fsync_dir(directory)
        if announce:
            log.info("DB saved on disk")

    def save(self, announce: bool = True) -> None:
        """SAVE: synchronous; ``SnapshotError`` on failure (logged)."""
        instance = self.instance
        dirty = instance.keyspace_stats.dirty
        try:
            self._write(announce)
        except SnapshotError as exc:
            log.warning(str(exc))
            raise
        instance.dirty_at_last_save = dirty
        instance.last_save = int(time.time())
        self.last_bgsave_ok = True
        self.saves += 1

    def save_for_shutdown(self) -> None:
        """The snapshot SHUTDOWN / SIGTERM take: a running child is killed first."""
        if self.child_pid:
            log.warning("There is a child saving an .rdb. Killing it!")
            self.kill_child()
        self.save(announce=False)

    def kill_child(self) -> None:
        pid, self.child_pid = self.child_pid, 0
        if pid:
            stop_child(pid)
            remove_quietly(self._temp_path(pid))

    def _temp_path(self, pid: int) -> str:
        return os.path.join(os.path.dirname(self.path) or ".", f"temp-{pid}.rdb")

    # -- BGSAVE ------------------------------------------------------------------

    def bgsave(self) -> None:
        """Start a background save; ``SnapshotError`` when it can't start."""
        instance = self.instance
        self.last_bgsave_try = time.time()
        self.bgsave_scheduled = False
        if not self.can_fork:
            log.info("Background saving is not supported on this platform: "
                     "saving synchronously")
            started = time.monotonic()
            try:
                self.save()
            except SnapshotError:
                self.last_bgsave_ok = False
                raise
            self.last_bgsave_seconds = int(time.monotonic() - started)
            return
        if instance.child_active():
            raise SnapshotError("Another child process is active")
        self.dirty_at_fork = instance.keyspace_stats.dirty
        try:
            forked_at = time.perf_counter_ns()
            pid = fork_child(self._child_work, self.close_in_child)
            instance.latency.add_if_needed(
                "fork", (time.perf_counter_ns() - forked_at) // 1_000_000)
        except OSError as exc:
            self.last_bgsave_ok = False
            log.warning(f"Can't save in background: fork: {exc.strerror}")
            raise SnapshotError(f"fork: {exc.strerror}") from None
        self.child_pid = pid
        self.child_started = time.monotonic()
        log.info(f"Background saving started by pid {pid}")

    def _child_work(self) -> None:
        """In the forked child: write the snapshot (an exception fails the child)."""
        try:
            self._write(announce=False)
        except SnapshotError as exc:
            log.warning(str(exc), extra={"role": "C"})
            raise
        log.info("DB saved on disk", extra={"role": "C"})

    def reap(self) -> None:
        """From the cron: notice a finished child."""
        if self.child_pid:
            self._reap()

    def start_due(self) -> None:
        """From the cron, after every child was reaped: a scheduled BGSAVE or a save
        point that has come due."""
        if not self.instance.child_active():
            self._check_save_points()

    def _reap(self) -> None:
        pid = self.child_pid
        ended = reap(pid)
        if ended is None:
            return
        instance = self.instance
        self.child_pid = 0
        self.last_bgsave_seconds = int(time.monotonic() - self.child_started)
        if ended.signal:
            log.warning(f"Background saving terminated by signal {ended.signal}")
            remove_quietly(self._temp_path(pid))
            # SIGUSR1 is how Redis kills its own child: not an error.
            self.last_bgsave_ok = ended.signal == signal.SIGUSR1
        elif ended.ok:
            self.last_cow_bytes = ended.cow_bytes
            log.info("Background saving terminated with success")
            instance.dirty_at_last_save = self.dirty_at_fork
            instance.last_save = int(time.time())
            self.last_bgsave_ok = True
            self.saves += 1
        else:
            log.warning("Background saving error")
            self.last_bgsave_ok = False

    def _check_save_points(self) -> None:
        instance = self.instance
        if self.bgsave_scheduled:
            try:
                self.bgsave()
            except SnapshotError:
                pass
            return
        changes = instance.keyspace_stats.dirty - instance.dirty_at_last_save
        if not changes:
            return
        now = time.time()
        for seconds, needed in instance.config.save:
            if (changes >= needed and now - instance.last_save > seconds
                    and (self.last_bgsave_ok
                         or now - self.last_bgsave_try > BGSAVE_RETRY_DELAY)):
                log.info(f"{needed} changes in {seconds} seconds. Saving...")
                try:
                    self.bgsave()
                except SnapshotError:
                    pass
                return

    def reload(self, save: bool = True, flush: bool = True, merge: bool = False) -> None:
        """DEBUG RELOAD: save, empty every database and the function libraries, load
        the file back (loaded keys overwrite existing ones when not flushed; a library
        that exists already fails the load unless ``merge``, as in Redis)."""
        if save:
            self.save()
        if flush:
            for db in self.instance.databases:
                db.clear()
            flush_libraries(self.instance)
        try:
            self.load(self.path, merge)
        except SnapshotError as exc:
            log.warning(str(exc))
            raise
        log.info("DB reloaded by DEBUG RELOAD")
