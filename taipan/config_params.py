"""Every configuration parameter Redis 7.0 reports, with its type, default and limits.

The table mirrors ``CONFIG GET *`` of a real redis-server 7.0: names, aliases,
defaults, bounds, and which parameters are immutable or protected. Parameters that
Taipan does not act on yet are still declared, so configuration files and
``CONFIG SET`` behave exactly as with Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from taipan import config_values as cv
from taipan.config_values import INT_MAX, INT_MIN, LONG_MAX, UINT_MAX, ULONG_MAX, ConfigError

# Kinds that take several words in redis.conf (and a space-separated CONFIG SET value).
_MULTI_ARG = frozenset({"save", "bind", "obuf", "oom", "percentiles", "replicaof"})


@dataclass(slots=True)
class Param:
    name: str
    kind: str  # int memory percent-memory octal bool enum string + special kinds
    default: Any
    low: int = 0
    high: int = LONG_MAX
    choices: tuple[str, ...] = ()
    mutable: bool = True
    protected: bool = False  # CONFIG SET needs enable-protected-configs
    aliases: tuple[str, ...] = ()
    sensitive: bool = False
    # Debugging knobs Redis leaves out of CONFIG GET * (asked for by name only).
    hidden: bool = False
    # Applied after parsing, as Redis's apply functions do (hz is kept in 1..500).
    normalize: Callable[[Any], Any] | None = None
    # Redis's VOLATILE_CONFIG: applied again even when set to its current value (a
    # certificate file rewritten in place is reloaded by setting the same path).
    volatile: bool = False

    @property
    def attr(self) -> str:
        return self.name.replace("-", "_")

    @property
    def multi_arg(self) -> bool:
        return self.kind in _MULTI_ARG

    def parse(self, words: list[str], current: Any = None) -> Any:
        """Words of a directive → typed value; ConfigError with Redis's reason."""
        kind = self.kind
        if kind == "replicaof":
            if len(words) != 2:
                raise ConfigError("wrong number of arguments")
            return " ".join(words)
        if not self.multi_arg:
            if len(words) != 1:
                raise ConfigError("wrong number of arguments")
            text = words[0]
        value: Any
        if kind == "int":
            value = cv.parse_int(text, self.low, self.high)
        elif kind == "memory":
            value = cv.parse_memory(text, self.low, self.high)
        elif kind == "percent-memory":
            value = cv.parse_percent_memory(text, self.low, self.high)
        elif kind == "octal":
            value = cv.parse_octal(text, self.low, self.high)
        elif kind == "bool":
            value = cv.parse_bool(text)
        elif kind == "enum":
            value = cv.parse_enum(text, self.choices)
        elif kind == "save":
            value = cv.parse_save(words)
        elif kind == "bind":
            if len(words) > 16:
                raise ConfigError("Too many bind addresses specified.")
            value = " ".join(words)
        elif kind == "obuf":
            value = cv.parse_obuf_limits(words, current if current is not None else self.default)
        elif kind == "oom":
            value = cv.parse_oom_values(words)
        elif kind == "percentiles":
            value = cv.parse_percentiles(words)
        elif kind == "keyspace-events":
            value = cv.parse_keyspace_events([text])
        elif kind == "hostname":
            value = cv.parse_hostname(text)
        elif kind == "proc-title":
            value = cv.parse_proc_title(text)
        else:  # string, dir
            value = text
        if self.normalize is not None:
            value = self.normalize(value)
        return value

    def render(self, value: Any) -> str:
        """The value as CONFIG GET shows it."""
        kind = self.kind
        if kind == "bool":
            return "yes" if value else "no"
        if kind == "save":
            return cv.render_save(value)
        if kind == "obuf":
            return cv.render_obuf_limits(value)
        if kind == "oom":
            return " ".join(str(v) for v in value)
        if kind == "percentiles":
            return cv.render_percentiles(value)
        if kind == "percent-memory":
            return cv.render_percent_memory(value)
        if kind == "octal":
            return f"{value:o}"
        if kind == "keyspace-events":
            return cv.render_keyspace_events(value)
        return str(value)


def _int(name: str, default: int, low: int, high: int, **kw: Any) -> Param:
    return Param(name, "int", default, low, high, **kw)


def _mem(name: str, default: int, low: int = 0, high: int = LONG_MAX, **kw: Any) -> Param:
    return Param(name, "memory", default, low, high, **kw)


def _bool(name: str, default: bool, **kw: Any) -> Param:
    return Param(name, "bool", default, **kw)


def _enum(name: str, default: str, choices: str, **kw: Any) -> Param:
    return Param(name, "enum", default, choices=tuple(choices.split()), **kw)


def _str(name: str, default: str = "", kind: str = "string", **kw: Any) -> Param:
    return Param(name, kind, default, **kw)


_FIXED = {"mutable": False}
_DEBUG_ENUM = "no yes local"

PARAMS: tuple[Param, ...] = (
    # Network and process.
    _int("port", 6379, 0, 65535),
    _str("bind", "* -::*", kind="bind"),
    _str("bind-source-addr"),
    _str("unixsocket", **_FIXED),
    Param("unixsocketperm", "octal", 0, 0, 0o777, mutable=False),
    _int("tcp-backlog", 511, 0, INT_MAX, **_FIXED),
    _int("tcp-keepalive", 300, 0, INT_MAX),
    _int("timeout", 0, 0, INT_MAX),
    _bool("protected-mode", True),
    _int("maxclients", 10000, 1, UINT_MAX),
    _int("socket-mark-id", 0, 0, UINT_MAX, **_FIXED),
    _bool("daemonize", False, **_FIXED),
    _enum("supervised", "no", "upstart systemd auto no", **_FIXED),
    _str("pidfile", **_FIXED),
    _enum("loglevel", "notice", "debug verbose notice warning"),
    _str("logfile", **_FIXED),
    _bool("syslog-enabled", False, **_FIXED),
    _str("syslog-ident", "redis", **_FIXED),
    _enum("syslog-facility", "local0",
          "user local0 local1 local2 local3 local4 local5 local6 local7", **_FIXED),
    _bool("crash-log-enabled", True),
    _bool("crash-memcheck-enabled", True),
    _bool("always-show-logo", False, **_FIXED),
    _bool("set-proc-title", True, **_FIXED),
    _str("proc-title-template", "{title} {listen-addr} {server-mode}", kind="proc-title"),
    _str("ignore-warnings"),
    _int("databases", 16, 1, INT_MAX, **_FIXED),
    _int("io-threads", 1, 1, 128, **_FIXED),
    _bool("io-threads-do-reads", False, **_FIXED),
    _str("server_cpulist", **_FIXED),
    _str("bio_cpulist", **_FIXED),
    _str("aof_rewrite_cpulist", **_FIXED),
    _str("bgsave_cpulist", **_FIXED),
    _bool("disable-thp", True, **_FIXED),
    _bool("jemalloc-bg-thread", True),
    _enum("oom-score-adj", "no", "no yes relative absolute"),
    _str("oom-score-adj-values", (0, 200, 800), kind="oom"),  # type: ignore[arg-type]
    _enum("enable-protected-configs", "no", _DEBUG_ENUM, **_FIXED),
    _enum("enable-debug-command", "no", _DEBUG_ENUM, **_FIXED),
    _enum("enable-module-command", "no", _DEBUG_ENUM, **_FIXED),
    _int("hz", 10, 0, INT_MAX, normalize=lambda v: max(1, min(v, 500))),
    _bool("dynamic-hz", True),
    _bool("activerehashing", True),
    _int("active-expire-effort", 1, 1, 10),
    _enum("shutdown-on-sigint", "default", "default save nosave now force"),
    _enum("shutdown-on-sigterm", "default", "default save nosave now force"),
    _int("shutdown-timeout", 10, 0, INT_MAX),
    # Security and ACL.
    _str("requirepass", sensitive=True),
    _str("aclfile", **_FIXED),
    _int("acllog-max-len", 128, 0, LONG_MAX),
    _enum("acl-pubsub-default", "resetchannels", "allchannels resetchannels"),
    # Limits and memory.
    _mem("proto-max-bulk-len", 512 * 1024 * 1024, 1024 * 1024),
    _mem("client-query-buffer-limit", 1024**3, 1024 * 1024),
    _str("client-output-buffer-limit", dict(cv.OBUF_DEFAULT), kind="obuf"),  # type: ignore[arg-type]
    _mem("maxmemory", 0),
    Param("maxmemory-clients", "percent-memory", 0, 0, LONG_MAX),
    _enum("maxmemory-policy", "noeviction", "volatile-lru volatile-lfu volatile-random "
          "volatile-ttl allkeys-lru allkeys-lfu allkeys-random noeviction"),
    _int("maxmemory-samples", 5, 1, INT_MAX),
    _int("maxmemory-eviction-tenacity", 10, 0, 100),
    _int("lfu-log-factor", 10, 0, INT_MAX),
    _int("lfu-decay-time", 1, 0, INT_MAX),
    _bool("lazyfree-lazy-eviction", False),
    _bool("lazyfree-lazy-expire", False),
    _bool("lazyfree-lazy-server-del", False),
    _bool("lazyfree-lazy-user-del", False),
    _bool("lazyfree-lazy-user-flush", False),
    _bool("activedefrag", False),
    _int("active-defrag-cycle-min", 1, 1, 99),
    _int("active-defrag-cycle-max", 25, 1, 99),
    _mem("active-defrag-ignore-bytes", 100 * 1024 * 1024, 1),
    _int("active-defrag-max-scan-fields", 1000, 1, LONG_MAX),
    _int("active-defrag-threshold-lower", 10, 0, 1000),
    _int("active-defrag-threshold-upper", 100, 0, 1000),
    # Data structure encodings.
    _int("hash-max-listpack-entries", 512, 0, LONG_MAX, aliases=("hash-max-ziplist-entries",)),
    _mem("hash-max-listpack-value", 64, aliases=("hash-max-ziplist-value",)),
    _int("zset-max-listpack-entries", 128, 0, LONG_MAX, aliases=("zset-max-ziplist-entries",)),
    _mem("zset-max-listpack-value", 64, aliases=("zset-max-ziplist-value",)),
    _int("list-max-listpack-size", -2, INT_MIN, INT_MAX, aliases=("list-max-ziplist-size",)),
    _int("list-compress-depth", 0, 0, INT_MAX),
    _int("set-max-intset-entries", 512, 0, LONG_MAX),
    _mem("hll-sparse-max-bytes", 3000),
    _mem("stream-node-max-bytes", 4096),
    _int("stream-node-max-entries", 100, 0, LONG_MAX),
    # Persistence.
    _str("dir", kind="dir", protected=True),
    _str("dbfilename", "dump.rdb", protected=True),
    _str("save", [(3600, 1), (300, 100), (60, 10000)], kind="save"),  # type: ignore[arg-type]
    _bool("stop-writes-on-bgsave-error", True),
    _bool("rdbcompression", True),
    _bool("rdbchecksum", True, **_FIXED),
    _bool("rdb-del-sync-files", False),
    _bool("rdb-save-incremental-fsync", True),
    _enum("sanitize-dump-payload", "no", "no yes clients"),
    _bool("appendonly", False),
    _str("appendfilename", "appendonly.aof", **_FIXED),
    _str("appenddirname", "appendonlydir", **_FIXED),
    _enum("appendfsync", "everysec", "everysec always no"),
    _bool("no-appendfsync-on-rewrite", False),
    _int("auto-aof-rewrite-percentage", 100, 0, INT_MAX),
    _mem("auto-aof-rewrite-min-size", 64 * 1024 * 1024),
    _bool("aof-load-truncated", True),
    _bool("aof-use-rdb-preamble", True),
    _bool("aof-timestamp-enabled", False),
    _bool("aof-rewrite-incremental-fsync", True),
    _bool("aof-disable-auto-gc", False),
    # Scripting, slow log, latency, tracking, notifications.
    _int("busy-reply-threshold", 5000, 0, LONG_MAX, aliases=("lua-time-limit",)),
    # Microseconds to sleep per key loaded / saved: lets tests watch a load or a
    # save in progress (negative: 1 µs every -N keys), as Redis's.
    _int("key-load-delay", 0, INT_MIN, INT_MAX, hidden=True),
    _int("rdb-key-save-delay", 0, INT_MIN, INT_MAX, hidden=True),
    _int("slowlog-log-slower-than", 10000, -1, LONG_MAX),
    _int("slowlog-max-len", 128, 0, LONG_MAX),
    _int("latency-monitor-threshold", 0, 0, LONG_MAX),
    _bool("latency-tracking", True),
    _str("latency-tracking-info-percentiles", (50.0, 99.0, 99.9), kind="percentiles"),  # type: ignore[arg-type]
    _int("tracking-table-max-keys", 1000000, 0, LONG_MAX),
    _str("notify-keyspace-events", kind="keyspace-events"),
    # Replication.
    _str("replicaof", kind="replicaof", aliases=("slaveof",), **_FIXED),
    _str("masterauth", sensitive=True),
    _str("masteruser"),
    _bool("replica-read-only", True, aliases=("slave-read-only",)),
    _bool("replica-serve-stale-data", True, aliases=("slave-serve-stale-data",)),
    _bool("replica-ignore-maxmemory", True, aliases=("slave-ignore-maxmemory",)),
    _bool("replica-lazy-flush", False, aliases=("slave-lazy-flush",)),
    _int("replica-priority", 100, 0, INT_MAX, aliases=("slave-priority",)),
    _str("replica-announce-ip", aliases=("slave-announce-ip",)),
    _int("replica-announce-port", 0, 0, 65535, aliases=("slave-announce-port",)),
    _bool("replica-announced", True),
    _bool("replica-ignore-disk-write-errors", False),
    _int("repl-ping-replica-period", 10, 1, INT_MAX, aliases=("repl-ping-slave-period",)),
    _int("repl-timeout", 60, 1, INT_MAX),
    _mem("repl-backlog-size", 1024 * 1024, 1, normalize=lambda v: max(v, 16384)),
    _int("repl-backlog-ttl", 3600, 0, LONG_MAX),
    _bool("repl-disable-tcp-nodelay", False),
    _bool("repl-diskless-sync", True),
    _int("repl-diskless-sync-delay", 5, 0, INT_MAX),
    _int("repl-diskless-sync-max-replicas", 0, 0, INT_MAX),
    _enum("repl-diskless-load", "disabled", "disabled on-empty-db swapdb"),
    _int("min-replicas-to-write", 0, 0, INT_MAX, aliases=("min-slaves-to-write",)),
    _int("min-replicas-max-lag", 10, 0, INT_MAX, aliases=("min-slaves-max-lag",)),
    _enum("propagation-error-behavior", "ignore", "ignore panic panic-on-replicas"),
    # Cluster.
    _bool("cluster-enabled", False, **_FIXED),
    _str("cluster-config-file", "nodes.conf", **_FIXED),
    _int("cluster-port", 0, 0, 65535, **_FIXED),
    _int("cluster-node-timeout", 15000, 0, LONG_MAX),
    _int("cluster-migration-barrier", 1, 0, INT_MAX),
    _int("cluster-replica-validity-factor", 10, 0, INT_MAX,
         aliases=("cluster-slave-validity-factor",)),
    _bool("cluster-replica-no-failover", False, aliases=("cluster-slave-no-failover",)),
    _bool("cluster-require-full-coverage", True),
    _bool("cluster-allow-reads-when-down", False),
    _bool("cluster-allow-pubsubshard-when-down", True),
    _bool("cluster-allow-replica-migration", True),
    _str("cluster-announce-ip"),
    _str("cluster-announce-hostname", kind="hostname"),
    _int("cluster-announce-port", 0, 0, 65535),
    _int("cluster-announce-bus-port", 0, 0, 65535),
    _int("cluster-announce-tls-port", 0, 0, 65535),
    _enum("cluster-preferred-endpoint-type", "ip", "ip hostname unknown-endpoint"),
    _mem("cluster-link-sendbuf-limit", 0, 0, ULONG_MAX),
    # TLS (declared for compatibility; Taipan speaks plain TCP).
    _int("tls-port", 0, 0, 65535),
    _str("tls-cert-file", volatile=True),
    _str("tls-key-file", volatile=True),
    _str("tls-key-file-pass"),
    _str("tls-client-cert-file", volatile=True),
    _str("tls-client-key-file", volatile=True),
    _str("tls-client-key-file-pass"),
    _str("tls-dh-params-file", volatile=True),
    _str("tls-ca-cert-file", volatile=True),
    _str("tls-ca-cert-dir", volatile=True),
    _str("tls-protocols"),
    _str("tls-ciphers"),
    _str("tls-ciphersuites"),
    _enum("tls-auth-clients", "yes", "no yes optional"),
    _bool("tls-replication", False),
    _bool("tls-cluster", False),
    _bool("tls-prefer-server-ciphers", False),
    _bool("tls-session-caching", True),
    _int("tls-session-cache-size", 20 * 1024, 0, INT_MAX),
    _int("tls-session-cache-timeout", 300, 0, INT_MAX),
)
