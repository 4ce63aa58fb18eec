"""Redis 7 multi-part append-only file: writing, fsync policy, rewrite, startup load.

Layout inside ``dir``: ``appenddirname``/ holds a manifest
(``appendonly.aof.manifest``), one base file and the incr files written after it.
Every write the dispatcher propagates is appended to the current incr file as RESP,
with a SELECT whenever the database changes, exactly as Redis writes it.

Durability (``appendfsync``): ``always`` writes and fsyncs inside the propagator, so
before the reply leaves; ``everysec`` writes at once and a background thread fsyncs
once per second (never the event loop); ``no`` leaves flushing to the OS.

Not done yet: the base is AOF text (``aof-use-rdb-preamble`` is treated as ``no``),
BGREWRITEAOF walks the dataset synchronously on the loop instead of in a forked
child, and MULTI/EXEC blocks are propagated command by command (no MULTI/EXEC
wrapper in the file).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any

from taipan.persistence.aof_load import load_manifest_files
from taipan.persistence.aof_manifest import (
    AofError,
    AofFile,
    Manifest,
    fsync_dir,
    read_manifest,
    write_atomically,
)
from taipan.persistence.aof_rewrite import encode_command, write_dataset

if TYPE_CHECKING:
    from taipan.instance import Instance

log = logging.getLogger("taipan")

__all__ = ["AofError", "AppendOnlyFile"]

_fdatasync = getattr(os, "fdatasync", os.fsync)


class AppendOnlyFile:
    """The AOF of one instance while ``appendonly`` is on."""

    def __init__(self, instance: Instance) -> None:
        config = instance.config
        self.instance = instance
        self.directory = config.appenddirname
        self.filename = config.appendfilename
        self.manifest_path = os.path.join(self.directory, self.filename + ".manifest")
        self.manifest = Manifest()
        self.fd = -1
        self.selected_db = -1  # the database the incr file's last SELECT chose
        self.last_timestamp = 0  # aof-timestamp-enabled: second of the last #TS line
        # Bytes written since the last fsync (everysec); read by the fsync thread.
        self.unsynced = False
        self.lock = threading.Lock()  # fsync thread vs. switching files in a rewrite
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rewrites = 0
        self.last_rewrite_seconds = -1
        self.last_rewrite_ok = True
        self.write_ok = True

    # -- startup ---------------------------------------------------------------------

    def load(self, client: Any) -> bool:
        """Replay the files the manifest names; False when there is no manifest."""
        manifest = read_manifest(self.manifest_path)
        if manifest is None:
            manifest = self._migrate_old_style()
        if manifest is None:
            return False
        if manifest.base is None and not manifest.incrs:
            raise AofError(f"Found an empty AOF manifest {self.manifest_path}")
        self.manifest = manifest
        load_manifest_files(self.instance, client, self.directory, manifest)
        return True

    def _migrate_old_style(self) -> Manifest | None:
        """An ``appendonly.aof`` from Redis < 7 in ``dir`` becomes the base of a
        manifest inside the AOF directory, as Redis 7 upgrades it."""
        if not os.path.isfile(self.filename):
            return None
        with open(self.filename, "rb") as handle:
            if handle.read(5) == b"REDIS":
                raise AofError(f"The old-style AOF {self.filename} starts with an RDB "
                               f"preamble, which Taipan can't load yet.")
        os.makedirs(self.directory, exist_ok=True)
        manifest = Manifest(AofFile(self.filename, 1, "b"))
        os.replace(self.filename, os.path.join(self.directory, self.filename))
        write_atomically(self.manifest_path, manifest.render())
        log.info("Successfully migrated an old-style AOF into the AOF directory")
        return manifest

    def open(self) -> None:
        """Start appending: to the manifest's last incr file, or to a fresh set."""
        os.makedirs(self.directory, exist_ok=True)
        if self.manifest.base is None and not self.manifest.incrs:
            manifest = read_manifest(self.manifest_path)
            if manifest is not None:
                self.manifest = manifest
        if self.manifest.base is None and not self.manifest.incrs:
            self._write_new_generation("on server start")
        else:
            if not self.manifest.incrs:
                self.manifest.incrs.append(AofFile(self._incr_name(1), 1, "i"))
                write_atomically(self.manifest_path, self.manifest.render())
            name = self.manifest.incrs[-1].name
            log.info(f"Opening AOF incr file {name} on server start")
            self._open_incr(name)
        self._thread = threading.Thread(target=self._fsync_loop, name="aof-fsync",
                                        daemon=True)
        self._thread.start()

    def _open_incr(self, name: str) -> None:
        path = os.path.join(self.directory, name)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        with self.lock:
            old, self.fd = self.fd, fd
            self.selected_db = -1
            self.unsynced = False
        if old >= 0:
            try:
                os.fsync(old)
            except OSError:
                pass
            os.close(old)

    def _base_name(self, seq: int) -> str:
        return f"{self.filename}.{seq}.base.aof"

    def _incr_name(self, seq: int) -> str:
        return f"{self.filename}.{seq}.incr.aof"

    # -- appending -------------------------------------------------------------------

    def propagate(self, db_index: int, argv: list[bytes]) -> None:
        """Append one propagated write (dispatcher propagator)."""
        if self.fd < 0:
            return
        data = encode_command(argv)
        if db_index != self.selected_db:
            data = encode_command([b"SELECT", b"%d" % db_index]) + data
            self.selected_db = db_index
        config = self.instance.config
        if config.aof_timestamp_enabled:
            now = int(time.time())
            if now > self.last_timestamp:
                self.last_timestamp = now
                data = b"#TS:%d\r\n" % now + data
        try:
            while data:
                written = os.write(self.fd, data)
                data = data[written:]
            if config.appendfsync == "always":
                _fdatasync(self.fd)
            else:
                self.unsynced = True
            if not self.write_ok:
                log.warning("AOF write error looks solved, Redis can write again.")
                self.write_ok = True
                self._publish_info()
        except OSError as exc:
            if self.write_ok:
                log.warning(f"Error writing to the AOF file: {exc.strerror}")
                self.write_ok = False
                self._publish_info()

    def _fsync_loop(self) -> None:
        """everysec: one fsync a second, off the event loop."""
        while not self._stop.wait(1.0):
            if not self.unsynced or self.instance.config.appendfsync != "everysec":
                continue
            with self.lock:
                self.unsynced = False
                if self.fd >= 0:
                    try:
                        _fdatasync(self.fd)
                    except OSError as exc:
                        log.warning(f"Error fsyncing the AOF file: {exc.strerror}")

    def close(self) -> None:
        """Shutdown: fsync and close the incr file."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
        with self.lock:
            if self.fd >= 0:
                log.info("Calling fsync() on the AOF file.")
                try:
                    os.fsync(self.fd)
                except OSError:
                    pass
                os.close(self.fd)
                self.fd = -1

    # -- rewrite ---------------------------------------------------------------------

    @classmethod
    def rewrite_while_off(cls, instance: Instance) -> None:
        """BGREWRITEAOF with appendonly off: a new base and a manifest naming only it,
        which a later ``appendonly yes`` start loads and appends to."""
        aof = cls(instance)
        os.makedirs(aof.directory, exist_ok=True)
        aof.manifest = read_manifest(aof.manifest_path) or Manifest()
        aof.rewrite(with_incr=False)

    def rewrite(self, with_incr: bool = True) -> None:
        """BGREWRITEAOF: a new base from the dataset, a new incr file, a new manifest.

        Runs synchronously on the loop (no fork yet), so no write can slip in between
        the snapshot and the switch to the new incr file.
        """
        started = time.monotonic()
        log.info("Background append only file rewriting started")
        try:
            self._write_new_generation(None, with_incr)
        except (OSError, TypeError, AofError) as exc:
            self.last_rewrite_ok = False
            self._publish_info()
            log.warning(f"Background AOF rewrite failed: {exc}")
            raise AofError(f"Background AOF rewrite failed: {exc}") from exc
        self.rewrites += 1
        self.last_rewrite_ok = True
        self.last_rewrite_seconds = int(time.monotonic() - started)
        self._publish_info()
        log.info(f"Background AOF rewrite finished successfully "
                 f"({time.monotonic() - started:.3f} seconds)")

    def _write_new_generation(self, reason: str | None, with_incr: bool = True) -> None:
        old = self.manifest
        base_seq = (old.base.seq + 1) if old.base else 1
        incr_seq = old.next_incr_seq
        base_name, incr_name = self._base_name(base_seq), self._incr_name(incr_seq)
        if reason:
            log.info(f"Creating AOF base file {base_name} {reason}")
        temp = os.path.join(self.directory, f"temp-rewriteaof-{os.getpid()}.aof")
        try:
            with open(temp, "wb", buffering=1 << 20) as out:
                write_dataset(self.instance.databases, out)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise
        os.replace(temp, os.path.join(self.directory, base_name))
        new = Manifest(AofFile(base_name, base_seq, "b"))
        if with_incr:
            if reason:
                log.info(f"Creating AOF incr file {incr_name} {reason}")
            open(os.path.join(self.directory, incr_name), "ab").close()
            new.incrs.append(AofFile(incr_name, incr_seq, "i"))
        write_atomically(self.manifest_path, new.render())
        self.manifest = new
        if with_incr:
            self._open_incr(incr_name)
        # The old generation is history now: delete it (aof-disable-auto-gc no).
        stale = ([old.base] if old.base else []) + old.incrs + old.history
        for item in stale:
            if item.name in (base_name, incr_name):
                continue
            try:
                os.unlink(os.path.join(self.directory, item.name))
                log.info(f"Removing the history file {item.name} in the background")
            except OSError:
                pass
        fsync_dir(self.directory)

    def _publish_info(self) -> None:
        """INFO persistence fields (updated on change, never on the write path)."""
        fields = self.instance.extra_info.setdefault("persistence", {})
        fields.update({"aof_rewrites": self.rewrites,
                       "aof_last_rewrite_time_sec": self.last_rewrite_seconds,
                       "aof_last_bgrewrite_status": "ok" if self.last_rewrite_ok else "err",
                       "aof_last_write_status": "ok" if self.write_ok else "err"})
