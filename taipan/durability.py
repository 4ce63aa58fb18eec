"""Durability on a running server: loading the dataset at startup, the AOF's life
(CONFIG SET appendonly), and the persistence chores of the cron.

``ServerRuntime`` owns one ``Durability``; the file formats and the forked children
live in ``taipan.persistence``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from taipan.config import ConfigError
from taipan.instance import Instance
from taipan.net.client import Client
from taipan.persistence.aof import AofError, AppendOnlyFile
from taipan.persistence.aof_bgrewrite import AofRewriter
from taipan.persistence.forking import CAN_FORK
from taipan.persistence.snapshot import RdbSnapshots, SnapshotError

log = logging.getLogger("taipan")


class Durability:
    def __init__(self, instance: Instance, owns_process: bool, load_snapshot: bool,
                 close_in_child: Callable[[], None]) -> None:
        self.instance = instance
        # A failed load ends a process the server owns; an embedding host gets the error.
        self.owns_process = owns_process
        # Load ``dir/dbfilename`` at start (appendonly no): what redis-server does; an
        # embedded server does it only when told where its files live.
        self.load_snapshot = load_snapshot
        # Only a server that owns its process forks: an embedding host may run other
        # threads, which a forked child would not have.
        can_fork = CAN_FORK and owns_process
        self.rdb = RdbSnapshots(instance, can_fork=can_fork)
        self.rdb.close_in_child = close_in_child
        self.aof_rewriter = AofRewriter(instance, can_fork, close_in_child)
        instance.rdb = self.rdb
        instance.aof_rewriter = self.aof_rewriter
        instance.snapshot_saver = self.rdb.save_for_shutdown
        instance.config.appliers["appendonly"] = self.apply_appendonly

    def cron(self) -> None:
        """Reap children first, then start what waited for them (Redis's order);
        write what was propagated outside a request (expired keys)."""
        self.rdb.reap()
        self.aof_rewriter.reap()
        self.rdb.start_due()
        self.aof_rewriter.start_due()
        if self.instance.aof is not None:
            self.instance.aof.flush()

    def stop(self) -> None:
        """Shutdown: stop any child, write and close the AOF."""
        self.rdb.kill_child()
        self.aof_rewriter.kill_child()
        aof = self.instance.aof
        if aof is not None:
            aof.close()

    async def load_dataset(self, stopped: asyncio.Event) -> None:
        """Load the AOF or the RDB in a worker thread while the loop keeps answering
        clients: commands without the ``loading`` flag get -LOADING until it's done.

        The cron (active expiry, saves) starts only afterwards, so the loader is the
        only writer of the keyspace meanwhile. The thread is a daemon, so a SHUTDOWN
        during a long load doesn't wait for it.
        """
        instance = self.instance
        if not instance.config.appendonly and not self.load_snapshot:
            return
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def load() -> None:
            try:
                if instance.config.appendonly:
                    self._start_aof()
                else:
                    self._load_rdb()
            except BaseException as exc:  # SystemExit included: re-raised on the loop
                loop.call_soon_threadsafe(_settle, done, exc)
            else:
                loop.call_soon_threadsafe(_settle, done, None)

        instance.set_loading(True)
        try:
            threading.Thread(target=load, name="taipan-loading", daemon=True).start()
            shutdown = loop.create_task(stopped.wait())
            await asyncio.wait([done, shutdown], return_when=asyncio.FIRST_COMPLETED)
            shutdown.cancel()
            if not done.done():
                return  # SHUTDOWN while loading: leave without waiting for the loader
            done.result()
        finally:
            instance.set_loading(False)

    def _load_rdb(self) -> None:
        """appendonly no: load ``dir/dbfilename`` if it exists; a bad file stops the
        server with exit code 1 and is left as it is."""
        try:
            self.rdb.load_at_startup()
        except SnapshotError as exc:
            if not self.owns_process:
                raise  # an embedding host decides what a failed load means
            log.warning(str(exc))
            raise SystemExit(1) from None

    def _start_aof(self) -> None:
        """appendonly yes: replay the AOF (no propagation meanwhile), then append to it.
        A file that can't be loaded stops the server with exit code 1, as Redis."""
        instance = self.instance
        aof = AppendOnlyFile(instance)
        loader = Client(0, instance, kind="aof")  # Redis's fake AOF client: no socket
        loader.authenticated = True
        try:
            aof.load(loader)
            aof.open()
        except (AofError, OSError) as exc:
            if not self.owns_process:
                raise  # an embedding host decides what a failed load means
            log.warning(str(exc))
            raise SystemExit(1) from None
        instance.dirty_at_last_save = instance.keyspace_stats.dirty  # loading isn't a change
        instance.aof = aof
        instance.propagators.append(aof.propagate)

    def apply_appendonly(self, old: bool, new: bool) -> None:
        """CONFIG SET appendonly. ``yes``: the AOF waits for a background rewrite to
        write its base (writes meanwhile go to a temp incr file); ``no``: a running
        rewrite is stopped and the AOF closed."""
        instance = self.instance
        rewriter = self.aof_rewriter
        if new and instance.aof is None:
            if rewriter.child_pid:
                log.info("AOF was enabled but there is already an AOF rewriting in "
                         "background. Stopping background AOF and starting a rewrite now.")
                rewriter.kill_child()
            aof = AppendOnlyFile(instance)
            try:
                aof.open_waiting_for_rewrite()
            except (AofError, OSError) as exc:
                raise ConfigError(str(exc)) from None
            instance.aof = aof
            instance.propagators.append(aof.propagate)
            if instance.child_active():
                rewriter.scheduled = True
                log.info("AOF was enabled but there is already another background "
                         "operation. An AOF background was scheduled to start when "
                         "possible.")
                return
            try:
                rewriter.start()
            except AofError as exc:
                log.warning(f"Redis needs to enable the AOF but can't trigger a background "
                            f"AOF rewrite operation. Check the above logs for more info "
                            f"about the error. ({exc})")
                instance.propagators.remove(aof.propagate)
                instance.aof = None
                aof.close()
                raise ConfigError(str(exc)) from None
        elif not new and instance.aof is not None:
            if rewriter.child_pid:
                rewriter.kill_child()
            rewriter.scheduled = False
            aof, instance.aof = instance.aof, None
            instance.propagators.remove(aof.propagate)
            aof.close()
            instance.refresh_restrictions()


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
