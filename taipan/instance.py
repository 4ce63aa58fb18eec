"""The state of one running server, shared by the network layer and the commands.

An ``Instance`` knows nothing about sockets or event loops: it holds the
configuration, the databases, the command table, the connected clients and the
counters INFO reports. ``taipan.server`` runs it on an event loop.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from taipan import __version__
from taipan.acl.check import user_channel_allowed
from taipan.acl.users import AclUsers
from taipan.commands.table import CommandTable, build_table
from taipan.config import Config
from taipan.keyspace.blocking import BlockingRegistry
from taipan.keyspace.database import Database, KeyspaceStats
from taipan.keyspace.events import KeyspaceEvents
from taipan.keyspace.eviction import Evictor
from taipan.keyspace.lazyfree import LazyFree
from taipan.keyspace.scan import ScanSnapshots
from taipan.messaging.pubsub import PubSub
from taipan.messaging.tracking import Tracking
from taipan.net.client_eviction import evict_clients
from taipan.observability import histograms
from taipan.observability.latency import LatencyMonitor
from taipan.observability.slowlog import Slowlog
from taipan.persistence.loading import LoadingProgress
from taipan.used_memory import UsedMemory

if TYPE_CHECKING:
    from taipan.net.client import Client

log = logging.getLogger("taipan")

REDIS_VERSION: Final = "7.0.15"  # the Redis version whose behaviour Taipan reproduces


class Stats:
    """Server-wide counters for INFO stats; plain ints on purpose (hot path)."""

    __slots__ = ("connections_received", "commands_processed", "rejected_connections",
                 "net_input_bytes", "net_output_bytes", "error_replies",
                 "unexpected_error_replies", "total_reads", "total_writes",
                 "error_counts")

    def __init__(self) -> None:
        self.connections_received = 0
        self.commands_processed = 0
        self.rejected_connections = 0
        self.net_input_bytes = 0
        self.net_output_bytes = 0
        self.error_replies = 0
        self.unexpected_error_replies = 0
        self.total_reads = 0
        self.total_writes = 0
        self.error_counts: dict[str, int] = {}  # errorstats: prefix -> count


class AclStartupError(Exception):
    """The configured ACL users can't be loaded: the server doesn't start."""


class Instance:
    def __init__(self, config: Config | None = None, table: CommandTable | None = None) -> None:
        self.config = config or Config()
        self.table = table or build_table()
        # ACL users (taipan/acl): rules refer to the table as it is before any
        # rename-command, as Redis's do.
        self.acl = AclUsers(self.table, self.config)
        self.acl.kill_clients_of = self._kill_clients_of_user
        self.acl.channels_changed = self._drop_unpermitted_subscribers
        self.acl.restrictions_changed = self.refresh_restrictions
        self.acl.set_default_password(self.config.requirepass)
        self.config.current_users = self.acl.config_lines
        self._rename_commands()
        self.keyspace_stats = KeyspaceStats()
        self.databases = [Database(i, self.keyspace_stats) for i in range(self.config.databases)]
        # Clients parked by blocking commands, and the keys writes made ready for them.
        self.blocking = BlockingRegistry()
        # CLIENT UNBLOCK: set by the network layer, which owns parked connections.
        self.unblock_client: Callable[[Any, bool], bool] | None = None
        # Messaging: pub/sub, keyspace notifications (one KeyspaceEvents shared by
        # every database), client-side caching, MONITOR.
        self.pubsub = PubSub()
        self.keyspace_events = KeyspaceEvents()
        self.keyspace_events.publish = self.pubsub.publish
        self.keyspace_events.configure(self.config.notify_keyspace_events)
        self.tracking = Tracking(self)
        self.monitors: list[Client] = []
        # Big deleted values and flushed databases, freed a slice at a time.
        self.lazyfree = LazyFree()
        for db in self.databases:
            db.blocking = self.blocking
            db.lazyfree = self.lazyfree
            db.on_expired = self._propagate_expired
            self.keyspace_events.attach(db)
            db.tracking = self.tracking
        self.apply_lazyfree_config()
        # Clients with output queued by others (messages, invalidations); the network
        # layer sets ``wake_output`` to write them all on the loop's next turn.
        self.output_queue: list[Client] = []
        self.wake_output: Callable[[], None] | None = None
        self.stats = Stats()
        # SLOWLOG and the LATENCY monitor's event series (taipan/observability).
        self.slowlog = Slowlog()
        self.latency = LatencyMonitor()
        self.latency.threshold = self.config.latency_monitor_threshold
        self.clients: dict[int, Client] = {}
        self.evicted_clients = 0  # closed by maxmemory-clients (INFO evicted_clients)
        self.next_client_id = 1
        self.start_time = time.time()
        self.run_id = secrets.token_hex(20)
        self.pid = os.getpid()
        self.last_save = int(self.start_time)
        self.tcp_port = self.config.port
        self.active_expire_enabled = True
        # CLIENT PAUSE: deadline (monotonic seconds) and whether only writes wait.
        self.pause_until = 0.0
        self.pause_writes_only = False
        # Set by the running server: SHUTDOWN calls it once the shutdown is prepared.
        self.shutdown_requested: Callable[[], None] | None = None
        # Set by the persistence layer: writes an RDB snapshot synchronously (SAVE).
        self.snapshot_saver: Callable[[], None] | None = None
        # The RdbSnapshots of a running server (SAVE, BGSAVE, DEBUG RELOAD); None when
        # embedded without one.
        self.rdb: Any = None
        # Called with (db index, argv) for each write that changed the dataset; AOF and
        # replication attach here.
        self.propagators: list[Callable[[int, list[bytes]], None]] = []
        # The AppendOnlyFile while appendonly is on (taipan.persistence.aof).
        self.aof: Any = None
        # The AofRewriter of a running server (BGREWRITEAOF, automatic rewrites).
        self.aof_rewriter: Any = None
        # Lua scripts and function libraries (taipan.scripting.engine.Scripting).
        from taipan.scripting.engine import Scripting

        self.scripting = Scripting(self)
        self.functions = self.scripting.functions
        # The ScriptRun past busy-reply-threshold: other clients get -BUSY meanwhile.
        self.busy_script: Any = None
        # Set by the network layer: runs when a busy script ends.
        self.on_busy_end: Callable[[], None] | None = None
        # True while the dataset loads at startup: most commands answer -LOADING.
        self.loading: bool = False
        # DEBUG QUICKLIST-PACKED-THRESHOLD: recorded only (lists aren't split into nodes).
        self.quicklist_packed_threshold = 1 << 30
        self.loading_progress = LoadingProgress()
        self.executable = ""
        self.dispatcher: Any = None  # set by the Dispatcher built for this instance
        self.scan_snapshots = ScanSnapshots()
        self.dirty_at_last_save = 0
        # maxmemory: used_memory's figures, and the eviction they drive.
        self.used_memory = UsedMemory(self)
        self.evictor: Evictor = Evictor(self)
        self.apply_memory_config()
        # Fields other subsystems add to INFO sections: {"persistence": {...}}.
        self.extra_info: dict[str, dict[str, Any]] = {}
        # (monotonic time, commands processed) samples for instantaneous_ops_per_sec.
        self._ops_samples: list[tuple[float, int, int, int]] = []

    def queue_output(self, client: Client) -> None:
        """``client`` has bytes to write that no request of its own will flush."""
        queue = self.output_queue
        queue.append(client)
        if len(queue) == 1 and self.wake_output is not None:
            self.wake_output()

    def child_active(self) -> bool:
        """A BGSAVE or AOF rewrite child runs (one at a time, as Redis)."""
        return bool((self.rdb is not None and self.rdb.child_pid)
                    or (self.aof_rewriter is not None and self.aof_rewriter.child_pid))

    def set_loading(self, loading: bool) -> None:
        self.loading = loading
        self.refresh_restrictions()

    def refresh_restrictions(self) -> None:
        """Tell the dispatcher whether any request may be refused right now."""
        if self.dispatcher is None:
            return
        self.dispatcher.refresh_observers()
        rdb, aof = self.rdb, self.aof
        self.dispatcher.maxmemory = self.config.maxmemory
        self.dispatcher.users_unrestricted = self.acl.all_unrestricted
        self.dispatcher.restricted = (self.loading or self.busy_script is not None
                                      or self.config.maxmemory > 0
                                      or bool(self.monitors)
                                      or (rdb is not None and not rdb.last_bgsave_ok)
                                      or (aof is not None and not aof.write_ok))

    def set_busy_script(self, run: Any) -> None:
        """A script went past busy-reply-threshold (``run``) or ended (None)."""
        self.busy_script = run
        self.refresh_restrictions()
        if run is None and self.on_busy_end is not None:
            self.on_busy_end()

    def _propagate_expired(self, db_index: int, key: bytes) -> None:
        """An expired key's deletion reaches the AOF and replicas as a DEL (an UNLINK
        with ``lazyfree-lazy-expire``), as Redis."""
        if self.propagators and self.dispatcher is not None:
            verb = b"UNLINK" if self.config.lazyfree_lazy_expire else b"DEL"
            self.dispatcher.propagate(db_index, [verb, key])

    def load_acl_at_start(self) -> None:
        """``user`` directives or the ``aclfile``: the users to start with (Redis
        refuses both at once). AclStartupError when they can't be loaded."""
        config = self.config
        if config.user_lines and config.aclfile:
            raise AclStartupError(
                "Configuring Redis with users defined in redis.conf and at the same "
                "setting an ACL file path is invalid. This setup is very likely to lead "
                "to configuration errors and security holes, please define either an ACL "
                "file or declare users directly in your redis.conf, but not both.")
        if config.user_lines:
            lines = [line.encode("utf-8", "surrogateescape") for line in config.user_lines]
            for note in self.acl.load_config_users(lines):
                disabled = note.startswith("The user '")  # (a notice; others are fatal)
                log.log(logging.INFO if disabled else logging.WARNING, note)
                if not disabled:
                    raise AclStartupError("Critical error while loading ACLs. Exiting.")
            return
        if config.aclfile:
            error = self.acl.load_file(config.aclfile)
        else:
            return
        if error is not None:
            raise AclStartupError(f"Aborting Redis startup because of ACL errors: {error}")

    def _kill_clients_of_user(self, user: Any) -> None:
        """A deleted (or reloaded away) user's connections are closed."""
        for client in list(self.clients.values()):
            if client.user is user:
                client.close_requested = True
                if client.transport is not None:
                    client.transport.close()

    def _drop_unpermitted_subscribers(self, user: Any) -> None:
        """A user lost channel permissions: its clients subscribed to a channel or
        pattern it may no longer use are disconnected (Redis's
        ACLKillPubsubClientsIfNeeded)."""
        for client in list(self.clients.values()):
            if client.user is not user or not client.subscribed:
                continue
            allowed = all(user_channel_allowed(user, channel, False)
                          for channel in (*client.channels, *client.shard_channels))
            allowed = allowed and all(user_channel_allowed(user, pattern, True)
                                      for pattern in client.patterns)
            if not allowed:
                client.close_requested = True
                if client.transport is not None:
                    client.transport.close()

    def apply_memory_config(self, policy_changed: bool = False) -> None:
        """maxmemory and its policy: whether each command checks memory, and the
        access metadata LRU/LFU policies need on every database."""
        config = self.config
        policy = config.maxmemory_policy
        if "lru" in policy or "lfu" in policy:
            for db in self.databases:
                self.access_tracker(db)
        else:
            for db in self.databases:
                if db.access is not None:
                    db.access.log_factor = config.lfu_log_factor
                    db.access.decay_minutes = config.lfu_decay_time
        if policy_changed:
            self.evictor.forget_pool()
        self.refresh_restrictions()

    def default_user_changed(self) -> None:
        """Once the default user needs no password, its waiting clients are in."""
        if not self.acl.auth_required():
            for client in self.clients.values():
                if not client.authenticated and client.user is self.acl.default:
                    client.set_authenticated(True)

    def memory_cron(self) -> None:
        """The cron's memory work: the LRU/LFU clocks, packing small collections,
        used_memory's structures, and maxmemory-clients."""
        for db in self.databases:
            if db.access is not None:
                db.access.tick()
            db.pack_loose()  # small collections the last tick's commands opened
        self.used_memory.refresh()
        if self.config.maxmemory_clients:
            evict_clients(self)

    def access_tracker(self, db: Database) -> Any:
        """``db``'s access metadata in the current policy's kind (LFU or LRU)."""
        config = self.config
        return db.track_access("lfu" in config.maxmemory_policy, config.lfu_log_factor,
                               config.lfu_decay_time)

    def apply_lazyfree_config(self) -> None:
        """Mirror the lazyfree options the keyspace tests per delete into each db."""
        for db in self.databases:
            db.lazy_server_del = self.config.lazyfree_lazy_server_del
            db.lazy_expire = self.config.lazyfree_lazy_expire

    def _rename_commands(self) -> None:
        """``rename-command old new`` (``new`` empty: the command is removed)."""
        by_name = self.table.by_name
        for old, new in self.config.renamed_commands:
            command = by_name.pop(old.lower().encode(), None)
            if command is not None and new:
                by_name[new.lower().encode()] = command

    def sample_ops(self) -> None:
        """Called by the cron: remember throughput samples (last ~16)."""
        stats = self.stats
        self._ops_samples.append((time.monotonic(), stats.commands_processed,
                                  stats.net_input_bytes, stats.net_output_bytes))
        del self._ops_samples[:-16]

    def instantaneous_rates(self) -> tuple[int, float, float]:
        """(commands/s, input KB/s, output KB/s) over the recent samples."""
        samples = self._ops_samples
        if len(samples) < 2 or samples[-1][0] <= samples[0][0]:
            return 0, 0.0, 0.0
        (t0, c0, i0, o0), (t1, c1, i1, o1) = samples[0], samples[-1]
        elapsed = t1 - t0
        return (int(max(c1 - c0, 0) / elapsed), max(i1 - i0, 0) / elapsed / 1024,
                max(o1 - o0, 0) / elapsed / 1024)

    def ops_per_sec(self) -> int:
        return self.instantaneous_rates()[0]

    def reset_stats(self) -> None:
        """CONFIG RESETSTAT."""
        self.stats = Stats()
        self._ops_samples.clear()
        self.used_memory.reset_peak()
        self.evictor.evicted_keys = 0
        self.evictor.exceeded_total_ms = 0
        if self.dispatcher is not None:
            self.dispatcher.stats = self.stats
        keyspace = self.keyspace_stats
        keyspace.expired_keys = keyspace.keyspace_hits = keyspace.keyspace_misses = 0
        self.lazyfree.freed = 0
        self.acl.reset_denied()
        for command in self.table:
            for item in [command, *command.subcommands.values()]:
                item.calls = item.usec = item.failed_calls = item.rejected_calls = 0
                histograms.reset(item)

    def config_changed(self, names: list[str]) -> None:
        """Apply CONFIG SET changes that live outside the config object."""
        config = self.config
        if ("slowlog-log-slower-than" in names or "latency-monitor-threshold" in names
                or "latency-tracking" in names) and self.dispatcher is not None:
            self.dispatcher.refresh_latency_settings()
        if "slowlog-max-len" in names and config.slowlog_log_slower_than >= 0:
            self.slowlog.trim(config.slowlog_max_len)
        if "notify-keyspace-events" in names:
            self.keyspace_events.configure(config.notify_keyspace_events)
        if "lazyfree-lazy-server-del" in names or "lazyfree-lazy-expire" in names:
            self.apply_lazyfree_config()
        if "proto-max-bulk-len" in names:
            for client in self.clients.values():
                if client.connection is not None:
                    client.connection.reader.max_bulk_len = config.proto_max_bulk_len
        if any(name.startswith(("maxmemory", "lfu-")) for name in names):
            self.apply_memory_config("maxmemory-policy" in names)
        if "requirepass" in names:
            self.acl.set_default_password(config.requirepass)
            self.default_user_changed()

    def prepare_shutdown(self, save: bool | None, force: bool = False) -> bool:
        """SHUTDOWN / SIGTERM: save if asked (or if save points exist); False on failure.

        ``save``: True (SAVE), False (NOSAVE) or None (save only with save points);
        ``force`` (SHUTDOWN FORCE): go on despite errors.
        """
        log.warning("User requested shutdown...")
        if self.aof is not None and self.aof.state == "wait_rewrite":
            # appendonly yes whose first base isn't written: the files on disk don't
            # hold the dataset yet, so stopping now could lose it on restart.
            if not force:
                log.warning("Writing initial AOF, can't exit.")
                return False
            log.warning("Writing initial AOF. Exit anyway.")
        explicit = save is True
        if self.loading:
            save = False  # a half-loaded dataset must never overwrite the files
        elif save is None:
            save = bool(self.config.save)
        if explicit and self.snapshot_saver is None:
            log.warning("No persistence layer is loaded: the dataset was not saved.")
        if save and self.snapshot_saver is not None:
            log.info("Saving the final RDB snapshot before exiting.")
            try:
                self.snapshot_saver()
            except Exception as exc:
                if force:
                    log.warning(f"Error trying to save the DB. Exit anyway. ({exc})")
                    return True
                log.warning(f"Error trying to save the DB, can't exit. ({exc})")
                log.warning("Errors trying to shut down the server. Check the logs for "
                            "more information.")
                return False
            log.info("DB saved on disk")
        return True

    @property
    def version(self) -> str:
        return __version__

    def new_client_id(self) -> int:
        client_id = self.next_client_id
        self.next_client_id += 1
        return client_id

    def is_paused_for(self, is_write: bool) -> bool:
        if not self.pause_until:
            return False
        if time.monotonic() >= self.pause_until:
            self.pause_until = 0.0
            return False
        return is_write or not self.pause_writes_only

    def uptime(self) -> int:
        return int(time.time() - self.start_time)
