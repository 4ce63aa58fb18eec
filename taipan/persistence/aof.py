"""Redis 7 multi-part append-only file: writing, fsync policy, rewrite, startup load.

Layout inside ``dir``: ``appenddirname``/ holds a manifest
(``appendonly.aof.manifest``), one base file and the incr files written after it.
Every write the dispatcher propagates is appended to the current incr file as RESP,
with a SELECT whenever the database changes, exactly as Redis writes it.

Writes collect in ``buffer`` and reach the file in one ``write(2)`` per batch of
requests, before their replies leave (``flush``, called by the connection and the
cron), as Redis's beforeSleep does. Durability (``appendfsync``): ``always`` fsyncs
in that flush, so before the replies; ``everysec`` leaves the fsync to a background
thread once a second (never the event loop); ``no`` leaves flushing to the OS.

A rewrite (``taipan.persistence.aof_bgrewrite``) works with Redis 7's file
rotation: at its start appending moves to a new incr file; when the child has
written the new base, the manifest names that base and the new incr only, and the
older files are deleted. Nothing written after the fork is ever lost or rewritten.
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
from taipan.persistence.aof_rewrite import encode_command, write_base

if TYPE_CHECKING:
    from taipan.instance import Instance

log = logging.getLogger("taipan")

__all__ = ["AofError", "AppendOnlyFile"]

_fdatasync = getattr(os, "fdatasync", os.fsync)
TEMP_INCR = "temp-appendonly.aof.incr"  # the incr file of an AOF still being enabled


class AppendOnlyFile:
    """The AOF of one instance while ``appendonly`` is on."""

    def __init__(self, instance: Instance) -> None:
        config = instance.config
        self.instance = instance
        # Inside ``dir``; spelled out because an embedded server never chdirs there.
        self.home = config.dir or "."
        self.directory = os.path.join(self.home, config.appenddirname)
        self.filename = config.appendfilename
        self.manifest_path = os.path.join(self.directory, self.filename + ".manifest")
        self.manifest = Manifest()
        self.fd = -1
        # "on", or "wait_rewrite" while CONFIG SET appendonly yes waits for its first
        # base: writes then go to TEMP_INCR, which the manifest doesn't name yet.
        self.state = "on"
        self.buffer = bytearray()  # propagated writes not yet written (see flush)
        self.current_size = 0  # INFO aof_current_size: base + incr files
        self.base_size = 0  # aof_base_size: the size after the last rewrite
        self.rewrite_incr_seq = 0  # the incr file opened when the running rewrite began
        self.selected_db = -1  # the database the incr file's last SELECT chose
        self.last_timestamp = 0  # aof-timestamp-enabled: second of the last #TS line
        # Bytes written since the last fsync (everysec); read by the fsync thread.
        self.unsynced = False
        self.lock = threading.Lock()  # fsync thread vs. switching files in a rewrite
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.write_ok = True
        self.write_error = ""  # strerror of the last failed write (MISCONF text)

    @classmethod
    def detached(cls, instance: Instance) -> AppendOnlyFile:
        """The AOF files while ``appendonly`` is off: what BGREWRITEAOF rewrites then
        (a new base and a manifest naming only it)."""
        aof = cls(instance)
        aof.state = "off"
        aof.manifest = read_manifest(aof.manifest_path) or Manifest()
        return aof

    def _publish_info(self) -> None:
        """INFO persistence fields Redis shows while the AOF is enabled."""
        instance = self.instance
        fields = instance.extra_info.setdefault("persistence", {})
        fields.update({"aof_last_write_status": lambda: "ok" if self.write_ok else "err",
                       "aof_current_size": lambda: self.current_size,
                       "aof_base_size": lambda: self.base_size,
                       "aof_pending_rewrite": lambda: int(instance.aof_rewriter.scheduled),
                       "aof_buffer_length": lambda: len(self.buffer),
                       "aof_pending_bio_fsync": 0,
                       "aof_delayed_fsync": 0})

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
        old_path = os.path.join(self.home, self.filename)
        if not os.path.isfile(old_path):
            return None
        os.makedirs(self.directory, exist_ok=True)
        manifest = Manifest(AofFile(self.filename, 1, "b"))
        os.replace(old_path, os.path.join(self.directory, self.filename))
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
            self._first_generation()
        else:
            if not self.manifest.incrs:
                self.manifest.incrs.append(AofFile(self._incr_name(1), 1, "i"))
                write_atomically(self.manifest_path, self.manifest.render())
            name = self.manifest.incrs[-1].name
            log.info(f"Opening AOF incr file {name} on server start")
            self._open_incr(name)
        self.current_size = self.base_size = self._files_size()
        self._start_fsync_thread()

    def open_waiting_for_rewrite(self) -> None:
        """CONFIG SET appendonly yes: the AOF exists once a rewrite has written its
        base; until then the files on disk are left as they are."""
        os.makedirs(self.directory, exist_ok=True)
        self.manifest = read_manifest(self.manifest_path) or Manifest()
        self.state = "wait_rewrite"
        self._start_fsync_thread()

    def _start_fsync_thread(self) -> None:
        self._publish_info()
        self._thread = threading.Thread(target=self._fsync_loop, name="aof-fsync",
                                        daemon=True)
        self._thread.start()

    def _files_size(self) -> int:
        manifest = self.manifest
        total = 0
        for item in ([manifest.base] if manifest.base else []) + manifest.incrs:
            try:
                total += os.path.getsize(os.path.join(self.directory, item.name))
            except OSError:
                pass
        return total

    def _open_incr(self, name: str, truncate: bool = False) -> None:
        path = os.path.join(self.directory, name)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | (os.O_TRUNC if truncate else 0)
        fd = os.open(path, flags, 0o644)
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
        kind = "rdb" if self.instance.config.aof_use_rdb_preamble else "aof"
        return f"{self.filename}.{seq}.base.{kind}"

    def _incr_name(self, seq: int) -> str:
        return f"{self.filename}.{seq}.incr.aof"

    # -- appending -------------------------------------------------------------------

    def propagate(self, db_index: int, argv: list[bytes]) -> None:
        """Queue one propagated write (dispatcher propagator); ``flush`` writes it."""
        buffer = self.buffer
        if db_index != self.selected_db:
            buffer += encode_command([b"SELECT", b"%d" % db_index])
            self.selected_db = db_index
        if self.instance.config.aof_timestamp_enabled:
            now = int(time.time())
            if now > self.last_timestamp:
                self.last_timestamp = now
                buffer += b"#TS:%d\r\n" % now
        buffer += b"*%d\r\n" % len(argv)
        for arg in argv:
            buffer += b"$%d\r\n" % len(arg)
            buffer += arg
            buffer += b"\r\n"

    def flush(self) -> None:
        """Write the queued writes (one write(2)); fsync too with ``always``.

        Called before replies leave, so an acknowledged write is at least in the
        OS's page cache (and on disk with ``always``). A failed write keeps what was
        not written queued and retried, as Redis does, while writes are refused
        with MISCONF; with ``always`` the server exits instead, as Redis does, since
        the replies waiting for this write can't honestly be sent.
        """
        data = self.buffer
        if self.fd < 0:
            # Only while an AOF being enabled waits for its rewrite to fork: those
            # writes are in the dataset the rewrite's child will write.
            data.clear()
            return
        if not data:
            return
        written = 0
        error: OSError | None = None
        always = self.instance.config.appendfsync == "always"
        latency = self.instance.latency
        try:
            started = time.perf_counter_ns() if latency.threshold else 0
            with memoryview(data) as view:
                while written < len(view):
                    written += os.write(self.fd, view[written:])
            if started:
                write_ms = (time.perf_counter_ns() - started) // 1_000_000
                latency.add_if_needed("aof-write-active-child" if self.instance.child_active()
                                      else "aof-write-alone", write_ms)
                latency.add_if_needed("aof-write", write_ms)
            if always:
                started = time.perf_counter_ns() if latency.threshold else 0
                _fdatasync(self.fd)
                if started:
                    latency.add_if_needed("aof-fsync-always",
                                          (time.perf_counter_ns() - started) // 1_000_000)
            else:
                self.unsynced = True
        except OSError as exc:
            error = exc
        if written:
            del data[:written]
            self.current_size += written
        if error is None:
            if not self.write_ok:
                log.warning("AOF write error looks solved, Redis can write again.")
                self.set_write_status(True)
            return
        if always:
            log.warning(f"Can't persist AOF for fsync error when the AOF fsync policy is "
                        f"'always': {error.strerror}. Exiting...")
            for handler in log.handlers:
                handler.flush()
            os._exit(1)
        if self.write_ok:
            log.warning(f"Error writing to the AOF file: {error.strerror}")
        self.write_error = error.strerror or str(error)
        self.set_write_status(False)

    def set_write_status(self, ok: bool) -> None:
        self.write_ok = ok
        self.instance.refresh_restrictions()

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
        """Shutdown or appendonly no: write what is queued, fsync, close."""
        self.flush()
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
        if self.state == "wait_rewrite":
            # Never named by a manifest: without its base it is worth nothing.
            try:
                os.unlink(os.path.join(self.directory, TEMP_INCR))
            except OSError:
                pass
        fields = self.instance.extra_info.get("persistence", {})
        for name in ("aof_last_write_status", "aof_current_size", "aof_base_size", "aof_pending_rewrite",
                     "aof_buffer_length", "aof_pending_bio_fsync", "aof_delayed_fsync"):
            fields.pop(name, None)

    # -- rewrite (driven by taipan.persistence.aof_bgrewrite) ---------------------------

    def begin_rewrite(self) -> None:
        """In the parent, just before the fork: move appending to a new incr file
        (the temp incr while waiting to be enabled), so everything written from now
        on is kept beside the base the child writes."""
        if self.state == "off":
            return
        self.flush()
        if self.state == "wait_rewrite":
            self.buffer.clear()  # in the snapshot the child takes
            self._open_incr(TEMP_INCR, truncate=True)
            self.rewrite_incr_seq = self.manifest.next_incr_seq
            return
        seq = self.manifest.next_incr_seq
        name = self._incr_name(seq)
        log.info(f"Creating AOF incr file {name} on background rewrite")
        self._open_incr(name)
        self.manifest.incrs.append(AofFile(name, seq, "i"))
        write_atomically(self.manifest_path, self.manifest.render())
        self.rewrite_incr_seq = seq

    def finish_rewrite(self, temp_base: str) -> None:
        """The child wrote ``temp_base``: make it the base of a new manifest."""
        old = self.manifest
        base_seq = (old.base.seq + 1) if old.base else 1
        base_name = self._base_name(base_seq)
        os.replace(temp_base, os.path.join(self.directory, base_name))
        log.info(f"Successfully renamed the temporary AOF base file "
                 f"{os.path.basename(temp_base)} into "
                 f"{base_name}")
        new = Manifest(AofFile(base_name, base_seq, "b"))
        incr_size = 0
        if self.fd >= 0:
            self.flush()
            if self.state == "wait_rewrite":
                name = self._incr_name(self.rewrite_incr_seq)
                os.replace(os.path.join(self.directory, TEMP_INCR),
                           os.path.join(self.directory, name))
                log.info(f"Successfully renamed the temporary AOF incr file {TEMP_INCR} "
                         f"into {name}")
                new.incrs.append(AofFile(name, self.rewrite_incr_seq, "i"))
                self.state = "on"
            else:
                new.incrs = [item for item in old.incrs if item.seq >= self.rewrite_incr_seq]
            for item in new.incrs:
                incr_size += os.path.getsize(os.path.join(self.directory, item.name))
        write_atomically(self.manifest_path, new.render())
        self.manifest = new
        self._delete_stale(old, new)
        base_size = os.path.getsize(os.path.join(self.directory, base_name))
        self.current_size = self.base_size = base_size + incr_size

    def _first_generation(self) -> None:
        """Startup with no AOF yet: a base from the dataset (written here, before any
        client is served) and an empty incr file."""
        base_name, incr_name = self._base_name(1), self._incr_name(1)
        log.info(f"Creating AOF base file {base_name} on server start")
        temp = os.path.join(self.directory, f"temp-rewriteaof-{os.getpid()}.aof")
        write_base(temp, self.instance)
        os.replace(temp, os.path.join(self.directory, base_name))
        log.info(f"Creating AOF incr file {incr_name} on server start")
        open(os.path.join(self.directory, incr_name), "ab").close()
        new = Manifest(AofFile(base_name, 1, "b"), [AofFile(incr_name, 1, "i")])
        write_atomically(self.manifest_path, new.render())
        self.manifest = new
        self._open_incr(incr_name)
        fsync_dir(self.directory)

    def _delete_stale(self, old: Manifest, new: Manifest) -> None:
        """The old generation is history now: delete it (aof-disable-auto-gc no)."""
        keep = {item.name for item in ([new.base] if new.base else []) + new.incrs}
        stale = ([old.base] if old.base else []) + old.incrs + old.history
        for item in stale:
            if item.name in keep:
                continue
            try:
                os.unlink(os.path.join(self.directory, item.name))
                log.info(f"Removing the history file {item.name} in the background")
            except OSError:
                pass
        fsync_dir(self.directory)
