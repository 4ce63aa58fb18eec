"""INFO: Redis's sections and field names, filled with Taipan's real figures."""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

from taipan import memory
from taipan.commands.table import CommandGroup
from taipan.instance import REDIS_VERSION
from taipan.protocol.reply import Verbatim

commands = CommandGroup("server")

_peak_memory = 0


def _server(server: Any) -> dict[str, Any]:
    uptime = server.uptime()
    return {
        "redis_version": REDIS_VERSION,
        "redis_git_sha1": "00000000",
        "redis_git_dirty": 0,
        "redis_build_id": "0",
        "redis_mode": "standalone",
        "taipan_version": server.version,
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "arch_bits": 64 if sys.maxsize > 2**32 else 32,
        "monotonic_clock": "POSIX clock_gettime",
        "multiplexing_api": "asyncio",
        "atomicvar_api": "c11-builtin",
        "gcc_version": "0.0.0",
        "python_version": platform.python_version(),
        "process_id": server.pid,
        "process_supervised": "no",
        "run_id": server.run_id,
        "tcp_port": server.tcp_port,
        "server_time_usec": int(time.time() * 1_000_000),
        "uptime_in_seconds": uptime,
        "uptime_in_days": uptime // 86400,
        "hz": server.config.hz,
        "configured_hz": server.config.hz,
        "lru_clock": int(time.time()) & ((1 << 24) - 1),
        "executable": server.executable or sys.argv[0],
        "config_file": server.config.config_file or "",
        "io_threads_active": 0,
    }


def _clients(server: Any) -> dict[str, Any]:
    return {
        "connected_clients": len(server.clients),
        "cluster_connections": 0,
        "maxclients": server.config.maxclients,
        "client_recent_max_input_buffer": 0,
        "client_recent_max_output_buffer": 0,
        "blocked_clients": 0,
        "tracking_clients": 0,
        "clients_in_timeout_table": 0,
    }


def _memory(server: Any) -> dict[str, Any]:
    global _peak_memory
    used = memory.used_bytes()
    rss = memory.rss_bytes()
    _peak_memory = max(_peak_memory, used)
    total = memory.total_system_memory()
    maxmemory = server.config.maxmemory
    return {
        "used_memory": used,
        "used_memory_human": memory.bytes_to_human(used),
        "used_memory_rss": rss,
        "used_memory_rss_human": memory.bytes_to_human(rss),
        "used_memory_peak": _peak_memory,
        "used_memory_peak_human": memory.bytes_to_human(_peak_memory),
        "used_memory_peak_perc": f"{100.0 * used / _peak_memory:.2f}%" if _peak_memory else "0.00%",
        "used_memory_startup": server.startup_memory,
        "used_memory_dataset": max(used - server.startup_memory, 0),
        "total_system_memory": total,
        "total_system_memory_human": memory.bytes_to_human(total),
        "used_memory_lua": 31744,
        "used_memory_scripts": 0,
        "maxmemory": maxmemory,
        "maxmemory_human": memory.bytes_to_human(maxmemory),
        "maxmemory_policy": server.config.maxmemory_policy,
        "mem_fragmentation_ratio": f"{rss / used:.2f}" if used else "0.00",
        "mem_allocator": "pymalloc",
        "lazyfree_pending_objects": 0,
        "lazyfreed_objects": 0,
    }


def _persistence(server: Any) -> dict[str, Any]:
    fields = {
        "loading": 0,
        "async_loading": 0,
        "current_cow_peak": 0,
        "current_cow_size": 0,
        "current_fork_perc": "0.00",
        "current_save_keys_processed": 0,
        "current_save_keys_total": 0,
        "rdb_changes_since_last_save": server.keyspace_stats.dirty - server.dirty_at_last_save,
        "rdb_bgsave_in_progress": 0,
        "rdb_last_save_time": server.last_save,
        "rdb_last_bgsave_status": "ok",
        "rdb_last_bgsave_time_sec": -1,
        "rdb_current_bgsave_time_sec": -1,
        "rdb_saves": 0,
        "rdb_last_cow_size": 0,
        "rdb_last_load_keys_expired": 0,
        "rdb_last_load_keys_loaded": 0,
        "aof_enabled": int(server.config.appendonly),
        "aof_rewrite_in_progress": 0,
        "aof_rewrite_scheduled": 0,
        "aof_last_rewrite_time_sec": -1,
        "aof_current_rewrite_time_sec": -1,
        "aof_last_bgrewrite_status": "ok",
        "aof_rewrites": 0,
        "aof_rewrites_consecutive_failures": 0,
        "aof_last_write_status": "ok",
        "aof_last_cow_size": 0,
        "module_fork_in_progress": 0,
        "module_fork_last_cow_size": 0,
    }
    fields.update(server.extra_info.get("persistence", {}))
    return fields


def _stats(server: Any) -> dict[str, Any]:
    stats, keyspace = server.stats, server.keyspace_stats
    return {
        "total_connections_received": stats.connections_received,
        "total_commands_processed": stats.commands_processed,
        "instantaneous_ops_per_sec": server.ops_per_sec(),
        "total_net_input_bytes": stats.net_input_bytes,
        "total_net_output_bytes": stats.net_output_bytes,
        "total_net_repl_input_bytes": 0,
        "total_net_repl_output_bytes": 0,
        "instantaneous_input_kbps": "0.00",
        "instantaneous_output_kbps": "0.00",
        "instantaneous_input_repl_kbps": "0.00",
        "instantaneous_output_repl_kbps": "0.00",
        "rejected_connections": stats.rejected_connections,
        "sync_full": 0,
        "sync_partial_ok": 0,
        "sync_partial_err": 0,
        "expired_keys": keyspace.expired_keys,
        "expired_stale_perc": "0.00",
        "expired_time_cap_reached_count": 0,
        "expire_cycle_cpu_milliseconds": keyspace.expire_cycle_cpu_ms,
        "evicted_keys": 0,
        "evicted_clients": 0,
        "total_eviction_exceeded_time": 0,
        "current_eviction_exceeded_time": 0,
        "keyspace_hits": keyspace.keyspace_hits,
        "keyspace_misses": keyspace.keyspace_misses,
        "pubsub_channels": 0,
        "pubsub_patterns": 0,
        "pubsubshard_channels": 0,
        "latest_fork_usec": 0,
        "total_forks": 0,
        "migrate_cached_sockets": 0,
        "slave_expires_tracked_keys": 0,
        "active_defrag_hits": 0,
        "active_defrag_misses": 0,
        "active_defrag_key_hits": 0,
        "active_defrag_key_misses": 0,
        "total_active_defrag_time": 0,
        "current_active_defrag_time": 0,
        "tracking_total_keys": 0,
        "tracking_total_items": 0,
        "tracking_total_prefixes": 0,
        "unexpected_error_replies": stats.unexpected_error_replies,
        "total_error_replies": stats.error_replies,
        "dump_payload_sanitizations": 0,
        "total_reads_processed": stats.total_reads,
        "total_writes_processed": stats.total_writes,
        "io_threaded_reads_processed": 0,
        "io_threaded_writes_processed": 0,
        "reply_buffer_shrinks": 0,
        "reply_buffer_expands": 0,
    }


def _replication(server: Any) -> dict[str, Any]:
    return {
        "role": "master",
        "connected_slaves": 0,
        "master_failover_state": "no-failover",
        "master_replid": server.run_id,
        "master_replid2": "0" * 40,
        "master_repl_offset": 0,
        "second_repl_offset": -1,
        "repl_backlog_active": 0,
        "repl_backlog_size": 1048576,
        "repl_backlog_first_byte_offset": 0,
        "repl_backlog_histlen": 0,
    }


def _cpu(server: Any) -> dict[str, Any]:
    times = os.times()
    return {
        "used_cpu_sys": f"{times.system:.6f}",
        "used_cpu_user": f"{times.user:.6f}",
        "used_cpu_sys_children": f"{times.children_system:.6f}",
        "used_cpu_user_children": f"{times.children_user:.6f}",
        "used_cpu_sys_main_thread": f"{times.system:.6f}",
        "used_cpu_user_main_thread": f"{times.user:.6f}",
    }


def _errorstats(server: Any) -> dict[str, Any]:
    return {f"errorstat_{prefix}": f"count={count}"
            for prefix, count in sorted(server.stats.error_counts.items())}


def _commandstats(server: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for command in server.table:
        for item in [command, *command.subcommands.values()]:
            if item.calls or item.rejected_calls or item.failed_calls:
                per_call = item.usec / item.calls if item.calls else 0.0
                fields[f"cmdstat_{item.name}"] = (
                    f"calls={item.calls},usec={item.usec},usec_per_call={per_call:.2f},"
                    f"rejected_calls={item.rejected_calls},failed_calls={item.failed_calls}"
                )
    return fields


def _keyspace(server: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for db in server.databases:
        if db.data:
            fields[f"db{db.index}"] = f"keys={len(db.data)},expires={len(db.expires)},avg_ttl={db.avg_ttl}"
    return fields


SECTIONS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "server": _server,
    "clients": _clients,
    "memory": _memory,
    "persistence": _persistence,
    "stats": _stats,
    "replication": _replication,
    "cpu": _cpu,
    "modules": lambda server: {},
    "errorstats": _errorstats,
    "cluster": lambda server: {"cluster_enabled": 0},
    "keyspace": _keyspace,
    "commandstats": _commandstats,
}
DEFAULT_SECTIONS = ("server", "clients", "memory", "persistence", "stats", "replication",
                    "cpu", "modules", "errorstats", "cluster", "keyspace")


def render_info(server: Any, requested: list[str]) -> str:
    wanted: list[str] = []
    for name in requested or ["default"]:
        name = name.lower()
        if name == "default":
            wanted.extend(DEFAULT_SECTIONS)
        elif name in ("all", "everything"):
            wanted.extend(SECTIONS)
        elif name in SECTIONS:
            wanted.append(name)
    blocks = []
    for name in dict.fromkeys(wanted):
        title = "CPU" if name == "cpu" else name.capitalize()
        if name == "errorstats":
            title = "Errorstats"
        lines = [f"# {title}"]
        lines += [f"{key}:{value}" for key, value in SECTIONS[name](server).items()]
        blocks.append("\r\n".join(lines))
    return "\r\n\r\n".join(blocks) + ("\r\n" if blocks else "")


@commands.command("INFO", arity=-1, flags="loading stale", tips="nondeterministic_output",
                  acl="dangerous")
def info(ctx: Any, argv: list[bytes]) -> Verbatim:
    """INFO [section [section ...]]"""
    sections = [arg.decode("utf-8", "replace") for arg in argv[1:]]
    return Verbatim(render_info(ctx.server, sections).encode())
