"""The single path every command takes.

lookup → arity → auth → MULTI queueing → handler → error reply → propagation.
This is the one place a ``ReplyError`` becomes an error reply, and the one place
writes are handed to propagation (AOF, replicas) when they changed the dataset.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar

from taipan.acl.check import OK as ACL_OK
from taipan.acl.check import check as acl_check
from taipan.acl.users import DENIED_CHANNEL, DENIED_CMD, DENIED_KEY
from taipan.commands.table import Command
from taipan.errors import (
    NOAUTH,
    OOM_MESSAGE,
    ReplyError,
    unknown_command,
    unknown_subcommand,
    wrong_arity,
)
from taipan.keyspace.blocking import Blocked
from taipan.keyspace.eviction import EVICT_FAIL
from taipan.messaging.monitor import feed_argv, feed_monitors, feed_script_start
from taipan.protocol.reply import QUEUED, Frames, Raw

if TYPE_CHECKING:
    from taipan.instance import Instance
    from taipan.net.client import Client

log = logging.getLogger("taipan")
_T = TypeVar("_T")

# (Final: compiled, a C static rather than a lookup in the module's dict per call)
perf_counter_ns: Final = time.perf_counter_ns
# Commands that run at once even inside MULTI instead of being queued.
_RUN_IN_MULTI: Final = frozenset({"exec", "discard", "multi", "watch", "quit", "reset"})
# What a RESP2 client may run while subscribed (Redis's CLIENT_PUBSUB context).
_ALLOWED_WHILE_SUBSCRIBED: Final = frozenset({
    "ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe",
    "punsubscribe", "quit", "reset"})
_NOAUTH_ERROR: Final = ReplyError(NOAUTH)
_NEVER: Final = 1 << 62  # slow_usec when neither the slow log nor the latency monitor is on
# An HTTP request sent to the server (a browser tricked into talking to it): the
# connection is dropped without a reply, as Redis does.
_CROSS_PROTOCOL: Final = frozenset({b"post", b"host:"})
_attack_logged_at = [0.0]
_NOT_IN_MULTI: Final = ReplyError("ERR Command not allowed inside a transaction")
_BUSY_EVAL: Final = ReplyError("BUSY Redis is busy running a script. You can only call SCRIPT KILL "
                        "or SHUTDOWN NOSAVE.")
_BUSY_FUNCTION: Final = ReplyError("BUSY Redis is busy running a script. You can only call "
                            "FUNCTION KILL or SHUTDOWN NOSAVE.")
_LOADING: Final = ReplyError("LOADING Redis is loading the dataset in memory")
_OOM: Final = ReplyError(OOM_MESSAGE)
# What a client inside MULTI may still send when memory is over the limit.
_MULTI_EXEMPT_FROM_OOM: Final = frozenset({"exec", "discard", "quit", "reset"})
_ACL_DENIALS: Final = {
    DENIED_KEY: ReplyError("NOPERM this user has no permissions to access one of the keys "
                           "used as arguments"),
    DENIED_CHANNEL: ReplyError("NOPERM this user has no permissions to access one of the "
                               "channels used as arguments"),
}
_SCRIPT_ACL_DENIALS: Final = {
    DENIED_CMD: ReplyError("ERR The user executing the script can't run this command or "
                           "subcommand"),
    DENIED_KEY: ReplyError("ERR The user executing the script can't access at least one of "
                           "the keys mentioned in the command arguments"),
    DENIED_CHANNEL: ReplyError("ERR The user executing the script can't publish to the "
                               "channel mentioned in the command"),
}
# EXEC's wording when a queued command is no longer allowed, by the NOPERM it got.
_EXEC_ACL_REASONS: Final = {
    _ACL_DENIALS[DENIED_KEY].message: "no permission to touch the specified keys",
    _ACL_DENIALS[DENIED_CHANNEL].message: "no permission to access one of the channels "
                                          "used as arguments",
}
_MONITOR_KEYSPACE: Final = ReplyError("ERR Replica can't interact with the keyspace")
_MISCONF: Final = ReplyError(
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to "
    "persist to disk. Commands that may modify the data set are disabled, because this "
    "instance is configured to report errors during writes if RDB snapshotting fails "
    "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about "
    "the RDB error.")


class Dispatcher:
    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        instance.dispatcher = self
        # Names as clients usually send them: lower and upper case (mixed case falls
        # back to a lower() in ``resolve``).
        self.commands = dict(instance.table.by_name)
        self.commands.update({name.upper(): c for name, c in instance.table.by_name.items()})
        self.keyspace_stats = instance.keyspace_stats
        self.stats = instance.stats
        # The AOF (and later replication) attach here.
        self.propagators = instance.propagators
        # True while some requests may be refused (loading, a failed save or AOF
        # write); only then does a request pay for ``_restriction``.
        self.restricted = False
        self.users_unrestricted = False  # AclUsers.all_unrestricted, mirrored
        # maxmemory (0: no limit), mirrored by the Instance; and whether memory was
        # over it, nothing left to evict, when the running command started (a
        # script's first denyoom redis.call is refused then: pre_command_oom_state).
        self.maxmemory = 0
        self.pre_command_oom = False
        # While EXEC runs: the writes to propagate, wrapped in MULTI/EXEC at its end.
        self._transaction: list[tuple[int, list[bytes]]] | None = None
        # Redis's prev_err_count: the error count when a command last started or
        # was charged with a failure or rejection. A command failed when errors were
        # replied since, so EXEC or EVAL isn't failed by the errors of the commands
        # it ran (each charged to its own command), only by errors after them.
        self._errors_seen = 0
        # Failures charged straight to the running command: error replies that skip
        # the error stats because a script's redis.call already counted them.
        self._charged = 0
        # Clients in MONITOR mode (shared list, usually empty) and client-side caching.
        self.monitors = instance.monitors
        self.tracking = instance.tracking
        # True while a monitor is attached or client-side caching must see each
        # command: one test per call covers both when neither is in use.
        self.observed = False
        # True while net/blocking.py re-runs a blocked command to serve it.
        self.serving_blocked = False
        # Per-call latency bookkeeping (taipan/observability): whether each call's
        # duration goes to its command's histogram (latency-tracking), and the
        # duration (µs) from which a call may go to the slow log or the latency
        # monitor. Kept current by ``refresh_latency_settings``.
        self.track_latency = False
        self.slow_usec = _NEVER
        self.slowlog = instance.slowlog
        self.latency = instance.latency
        self.refresh_latency_settings()
        for parent in instance.table:
            for command in (parent, *parent.subcommands.values()):
                command.runs_in_multi = command.name in _RUN_IN_MULTI
                command.denied_on_disk_error = command.is_write or command.name == "ping"
                command.allowed_while_subscribed = command.name in _ALLOWED_WHILE_SUBSCRIBED
                command.is_fast = "fast" in command.flags
                command.skips_slowlog = "skip_slowlog" in command.flags
        instance.refresh_restrictions()

    def refresh_observers(self) -> None:
        """A monitor came or went, or client-side caching (de)activated."""
        self.observed = bool(self.monitors) or self.tracking.active

    def refresh_latency_settings(self) -> None:
        """slowlog-log-slower-than, latency-monitor-threshold or latency-tracking
        changed: one integer test and one flag per call cover all three."""
        config = self.instance.config
        self.track_latency = bool(config.latency_tracking)
        slower_than = config.slowlog_log_slower_than
        threshold_ms = config.latency_monitor_threshold
        self.latency.threshold = threshold_ms
        candidates = [_NEVER]
        if slower_than >= 0:
            candidates.append(slower_than)
        if threshold_ms > 0:
            candidates.append(threshold_ms * 1000)
        self.slow_usec = min(candidates)

    def resolve(self, argv: list[bytes]) -> Command | ReplyError:
        """The command ``argv`` names (subcommand included) or the error to reply."""
        command = self.commands.get(argv[0])
        if command is None:
            command = self.commands.get(argv[0].lower())
            if command is None:
                return unknown_command(argv)
        if command.subcommands and (len(argv) >= 2 or command.handler is None):
            if len(argv) < 2:
                return wrong_arity(command.name)
            sub = command.subcommands.get(argv[1].lower())
            if sub is None:
                return unknown_subcommand(command.name, argv[1])
            command = sub
        arity = command.arity
        if (arity > 0 and len(argv) != arity) or len(argv) < -arity:
            return wrong_arity(command.name)
        return command

    def _refused_command(self, argv: list[bytes]) -> Command | None:
        """The command a refused request named, if any (error path only).

        Redis counts a refusal such as a wrong arity in that command's
        ``rejected_calls``; unknown commands and subcommands have no command.
        """
        command = self.commands.get(argv[0].lower())
        if command is not None and command.subcommands and len(argv) >= 2:
            return command.subcommands.get(argv[1].lower())
        return command

    def execute(self, client: Client, argv: list[bytes]) -> Any:
        """Run one request from ``client`` and return its reply value."""
        command = self.commands.get(argv[0])
        if command is None or command.subcommands:
            # Lower-case lookup, subcommands and every error go the long way.
            resolved = self.resolve(argv)
            if not isinstance(resolved, Command):
                if argv[0].lower() in _CROSS_PROTOCOL:
                    return _cross_protocol_attack(client)
                return self._rejected(client, resolved, self._refused_command(argv), argv)
            command = resolved
        else:
            arity = command.arity
            if (arity > 0 and len(argv) != arity) or len(argv) < -arity:
                return self._rejected(client, wrong_arity(command.name), command, argv)
        if not client.authenticated and not command.allowed_unauthenticated:
            return self._rejected(client, _NOAUTH_ERROR, command, argv)
        # (every user unrestricted: one compiled field read, not one on the user)
        if not self.users_unrestricted and not (user := client.user).unrestricted:
            # (the user's check for this command, built by acl_check on first use)
            checker = user.checkers.get(command)
            verdict = acl_check(user, command, argv) if checker is None else checker(argv)
            if verdict[0] != ACL_OK:
                return self._rejected(client, self.acl_refusal(client, command, argv, verdict),
                                      command, argv)
        if client.subscribed and client.resp == 2 and not command.allowed_while_subscribed:
            return self._rejected(client, ReplyError(
                f"ERR Can't execute '{command.fullname}': only (P|S)SUBSCRIBE / "
                "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"), command,
                argv)
        if self.restricted:
            refusal = self._restriction(client, command)
            if refusal is not None:
                return self._rejected(client, refusal, command, argv)
        if client.multi is not None and not command.runs_in_multi:
            if not command.allowed_in_multi:
                return self._rejected(client, _NOT_IN_MULTI, command, argv)
            client.multi.append((command, argv))
            return QUEUED
        reply = self.call(client, command, argv)
        if self.observed and self.tracking.active:
            reply = self.tracking.after_request(client, command, argv, reply)
        return reply

    def _restriction(self, client: Client, command: Command) -> ReplyError | None:
        """Why ``command`` is refused now, if it is; Redis checks in this order."""
        instance = self.instance
        busy = instance.busy_script
        if busy is not None and not command.allowed_while_busy:
            # A script past busy-reply-threshold: only SCRIPT/FUNCTION KILL,
            # SHUTDOWN NOSAVE and the allow_busy commands are served.
            return _BUSY_EVAL if busy.is_eval else _BUSY_FUNCTION
        if self.maxmemory and busy is None and client.kind != "aof":
            refusal = self._out_of_memory(client, command)
            if refusal is not None:
                return refusal
        if command.denied_on_disk_error:
            refusal = self.disk_error()
            if refusal is not None:
                return refusal
        if instance.loading and not command.loading_ok and client.kind != "aof":
            # (the AOF loader's own client replays the file meanwhile)
            return _LOADING
        if client.monitor and (command.is_readonly or command.is_write
                               or command.may_replicate):
            # A monitor is a replica to Redis: it may not touch the keyspace.
            return _MONITOR_KEYSPACE
        return None

    def _out_of_memory(self, client: Client, command: Command) -> ReplyError | None:
        """Evict down to maxmemory before the command (Redis's processCommand); -OOM
        for a command that may grow memory when nothing more could be evicted."""
        db = client.db
        if db.resized:
            db.refresh_sizes()
        oom = self.pre_command_oom = self.instance.evictor.perform(db) == EVICT_FAIL
        if not oom:
            return None
        if command.denyoom:
            return _OOM
        queued = client.multi
        if queued is not None:
            # Queueing may grow memory without limit: only these pass; EXEC fails
            # when a queued command is denyoom.
            if command.name == "exec":
                return _OOM if any(c.denyoom for c, _ in queued) else None
            if command.name not in _MULTI_EXEMPT_FROM_OOM:
                return _OOM
        return None

    def acl_denial(self, client: Client, command: Command, argv: list[bytes],
                   context: str | None = None) -> ReplyError | None:
        """The NOPERM error when ``client``'s user may not run this request (for a
        script's call, ``client`` is the script's caller), logged in the ACL LOG."""
        verdict = acl_check(client.user, command, argv)
        if verdict[0] == ACL_OK:
            return None
        return self.acl_refusal(client, command, argv, verdict, context)

    def acl_refusal(self, client: Client, command: Command, argv: list[bytes],
                    verdict: tuple[int, int], context: str | None = None) -> ReplyError:
        """Log a denial ``acl_check`` gave and return its NOPERM error."""
        result, position = verdict
        if context is None:
            context = "multi" if client.multi is not None else "toplevel"
            client.last_command = command.name  # (the log's client info shows it)
        obj = command.name.encode() if result == DENIED_CMD else argv[position]
        self.instance.acl.record(result, context, obj, client.user.name, client.info_line())
        if context == "lua":
            return _SCRIPT_ACL_DENIALS[result]
        if result == DENIED_CMD:
            return ReplyError(f"NOPERM this user has no permissions to run the "
                              f"'{command.name}' command")
        return _ACL_DENIALS[result]

    def disk_error(self) -> ReplyError | None:
        """MISCONF when writes must be refused because persisting failed."""
        instance = self.instance
        # stop-writes-on-bgsave-error: writes (and PING, as in Redis) are refused
        # after a failed background save while save points are configured...
        rdb = instance.rdb
        config = instance.config
        if (rdb is not None and not rdb.last_bgsave_ok
                and config.stop_writes_on_bgsave_error and config.save):
            return _MISCONF
        # ... and while the AOF can't be written.
        aof = instance.aof
        if aof is not None and not aof.write_ok:
            return ReplyError(f"MISCONF Errors writing to the AOF file: {aof.write_error}")
        return None

    def call(self, client: Client, command: Command, argv: list[bytes]) -> Any:
        """Invoke a resolved command: count it, turn errors into replies, propagate."""
        client.last_command = command.name
        keyspace_stats = self.keyspace_stats
        dirty_before = keyspace_stats.dirty
        stats = self.stats
        self._errors_seen = stats.error_replies
        observed = self.observed
        if observed and self.monitors:
            feed_script_start(self.monitors, client, command, argv)
        started = perf_counter_ns()
        try:
            reply = command.handler(client, argv)  # type: ignore[misc]  # (never a container)
        except ReplyError as error:
            reply = error
            self.count_reply_error(error)
        except Exception:  # a bug must cost one reply, never the server
            log.exception("internal error executing %r", argv[:1])
            reply = ReplyError("ERR internal error executing command")
            self._count_error(reply)
        # Charges are only made after a script's inner calls returned, so whatever
        # is charged when a call ends belongs to that call.
        failed = stats.error_replies > self._errors_seen
        if failed or self._charged:
            command.failed_calls += self._charged + failed
            self._charged = 0
        self._errors_seen = stats.error_replies
        usec = (perf_counter_ns() - started) // 1000
        command.usec += usec
        if not self.serving_blocked:
            # (a blocked command was counted when it blocked, as Redis counts it)
            command.calls += 1
            # (read again: CONFIG RESETSTAT replaced the object, and counts itself)
            self.stats.commands_processed += 1
        if self.track_latency and type(reply) is not Blocked:
            # (a blocked command is timed once, when it is served)
            if usec:
                command.latency_pending.append(usec)
            else:
                # Most calls take under a microsecond: counted, not listed (the
                # cron's fold of a list costs more than the append).
                command.latency_zeros += 1
        if usec >= self.slow_usec:
            self._slow_call(client, command, argv, usec, reply)
        if observed:
            if self.monitors:
                reply = feed_monitors(self.monitors, client, command, argv, reply)
            if self.tracking.active:
                self.tracking.after_call(client, command, argv)
        if client.propagate_argv is not None or (self.propagators and command.is_write
                                                 and keyspace_stats.dirty != dirty_before):
            self._propagate(client, argv, keyspace_stats.dirty != dirty_before
                            and command.is_write)
        return reply

    def _slow_call(self, client: Client, command: Command, argv: list[bytes], usec: int,
                   reply: Any) -> None:
        """A call long enough for the latency monitor or the slow log (Redis's
        order: the latency sample, then the slow log entry)."""
        kind = client.kind
        if kind == "aof" or (kind == "lua" and self.instance.loading):
            return  # replaying the AOF is not serving commands
        latency = self.latency
        threshold_ms = latency.threshold
        if threshold_ms and usec // 1000 >= threshold_ms:
            latency.add("fast-command" if command.is_fast else "command", usec // 1000)
        config = self.instance.config
        slower_than = config.slowlog_log_slower_than
        if (0 <= slower_than <= usec and not command.skips_slowlog
                and type(reply) is not Blocked):
            # (a blocked command is logged when it is served)
            self.slowlog.push(client, argv, usec, config.slowlog_max_len)
        elif slower_than >= 0:
            self.slowlog.trim(config.slowlog_max_len)

    def _propagate(self, client: Client, argv: list[bytes], changed: bool) -> None:
        """Hand a write that changed the dataset to AOF/replicas, in the form the
        handler chose (``propagate_argv``: absolute expiry times, effects of SPOP)."""
        rewritten = client.propagate_argv
        if rewritten is not None:
            client.propagate_argv = None
            argv = rewritten
        if changed and argv:  # (an empty list: the handler propagated its effects itself)
            self.propagate(client.db.index, argv)

    def propagate(self, db_index: int, argv: list[bytes]) -> None:
        """Send one write to every propagator (held back while EXEC runs)."""
        if self._transaction is not None:
            self._transaction.append((db_index, argv))
            return
        for propagator in self.propagators:
            propagator(db_index, argv)

    def run_transaction(self, client: Client, queued: list[tuple[Command, list[bytes]]]
                        ) -> list[Any]:
        """EXEC's body: run the queued commands as one atomic unit."""
        return self.run_atomically(lambda: self._run_queued(client, queued))

    def _run_queued(self, client: Client, queued: list[tuple[Command, list[bytes]]]
                    ) -> list[Any]:
        replies = []
        out = client.outbuf
        for command, argv in queued:
            mark = len(out)
            if not client.user.unrestricted:
                # ACLs may have changed since the command was queued.
                denial = self.acl_denial(client, command, argv, context="multi")
                if denial is not None:
                    replies.append(self._counted(ReplyError(
                        "NOPERM ACLs rules changed between the moment the transaction was "
                        "accumulated and the EXEC call. This command is no longer allowed "
                        "for the following reason: " + _EXEC_ACL_REASONS.get(
                            denial.message, "no permission to execute the command or "
                                            "subcommand"))))
                    continue
            reply = self.call(client, command, argv)
            if len(out) > mark:
                reply = self._inline_pushes(client, out, mark, reply)
            replies.append(reply)
        return replies

    def _inline_pushes(self, client: Client, out: list[bytes], mark: int, reply: Any) -> Any:
        """Messages a queued command delivered to its own client (a RESP3 client
        publishing to itself, keyspace events it subscribed to) go where Redis
        writes them: inside EXEC's array, before that command's reply. Its own
        invalidations are left for the tracking layer to place after EXEC."""
        pushed = [frame for frame in out[mark:] if not self.tracking.owes(client, frame)]
        if not pushed:
            return reply
        kept = [frame for frame in out[mark:] if not any(frame is p for p in pushed)]
        del out[mark:]
        out.extend(kept)
        return Frames([Raw(b"".join(pushed)), reply])

    @property
    def pending_writes(self) -> list[tuple[int, list[bytes]]] | None:
        """The writes an atomic unit (EXEC, a script) made so far, if one runs."""
        return self._transaction

    def run_atomically(self, body: Callable[[], _T]) -> _T:
        """Run ``body`` (EXEC's commands, a script) as one atomic unit: what it
        writes is propagated as one MULTI ... EXEC block (a lone write as itself),
        so an AOF replay or a replica applies all of it or, when the file is cut
        short, none of it. Nested units (EVAL inside EXEC) join the outer block."""
        outermost = self.begin_atomic()
        try:
            return body()
        finally:
            self.end_atomic(outermost)

    def begin_atomic(self) -> bool:
        """Start collecting writes; True when this is the outermost unit."""
        if self._transaction is not None:
            return False
        self._transaction = []
        return True

    def end_atomic(self, outermost: bool) -> None:
        """Propagate what the outermost unit collected, wrapped when it is several."""
        if not outermost:
            return
        writes = self._transaction or []
        self._transaction = None
        if len(writes) > 1:
            writes.insert(0, (writes[0][0], [b"MULTI"]))
            writes.append((writes[-1][0], [b"EXEC"]))
        for db_index, argv in writes:
            self.propagate(db_index, argv)

    def _rejected(self, client: Client, error: ReplyError,
                  command: Command | None = None, argv: list[bytes] | None = None) -> Any:
        """The reply to a command refused before running; flags an open MULTI."""
        if client.multi is not None:
            client.multi_failed = True
        aborted_exec = False
        if command is not None:
            command.rejected_calls += 1
            if command.name == "exec":
                # Redis answers a refused EXEC (arity, NOAUTH, ...) with EXECABORT
                # quoting the reason, and drops the transaction, even outside MULTI.
                error = _exec_abort(client, error)
                aborted_exec = True
        self._count_error(error)
        self._errors_seen = self.stats.error_replies
        if aborted_exec and self.monitors and argv is not None:
            # ... and shows monitors that EXEC, closing the MULTI they saw.
            return feed_argv(self.monitors, client, argv, error)
        return error

    def count_reply_error(self, error: ReplyError) -> None:
        """An error reply of the running command (a script's, nested ones too)."""
        if error.already_counted:
            # A script's failed redis.call was counted in the error stats: Redis
            # charges the script's command directly (ERR_REPLY_FLAG_NO_STATS_UPDATE).
            self._charged += 1
        else:
            self._count_error(error)

    def count_rejection(self, command: Command | None, error: ReplyError) -> None:
        """A command refused before it ran (from a script): Redis's rejected_calls."""
        if command is not None:
            command.rejected_calls += 1
        self._count_error(error)
        self._errors_seen = self.stats.error_replies

    def _counted(self, error: ReplyError) -> ReplyError:
        self._count_error(error)
        return error

    def _count_error(self, error: ReplyError) -> None:
        self.stats.error_replies += 1
        # Redis takes the code from the first 32 bytes of "-<message>" (newlines
        # already spaces); with no space there it counts the error as ERR.
        message = error.message[:31].replace("\r", " ").replace("\n", " ")
        space = message.find(" ")
        prefix = message[:space] if space >= 0 else "ERR"
        counts = self.stats.error_counts
        counts[prefix] = counts.get(prefix, 0) + 1


def _cross_protocol_attack(client: Client) -> Frames:
    """POST / Host: lines: log (at most once a minute) and close, replying nothing."""
    now = time.time()
    if abs(now - _attack_logged_at[0]) > 60:
        log.warning("Possible SECURITY ATTACK detected. It looks like somebody is sending "
                    "POST or Host: commands to Redis. This is likely due to an attacker "
                    "attempting to use Cross Protocol Scripting to compromise your Redis "
                    "instance. Connection aborted.")
        _attack_logged_at[0] = now
    client.close_requested = True
    client.outbuf.clear()  # Redis frees the client: earlier replies never leave
    return Frames()


def _exec_abort(client: Client, reason: ReplyError) -> ReplyError:
    client.multi = None
    client.multi_failed = False
    client.unwatch_all()
    message = reason.message
    # Redis quotes its own "ERR"-less text; other codes (NOAUTH ...) stay.
    if message.startswith("ERR "):
        message = message[4:]
    return ReplyError("EXECABORT Transaction discarded because of: " + message)
