"""The INFO sections: Redis 7.0's field names in Redis's order, with Taipan's figures.

Other subsystems add or override fields through ``Instance.extra_info``
(``{"persistence": {"rdb_saves": 3}}``); a callable value is called at render time.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

from taipan import hot_path, memory, used_memory
from taipan.instance import REDIS_VERSION
from taipan.observability import histograms


def _server(server: Any) -> dict[str, Any]:
    uptime = server.uptime()
    return {
        "redis_version": REDIS_VERSION,
        "redis_git_sha1": "00000000",
        "redis_git_dirty": 0,
        "redis_build_id": "0",
        "redis_mode": "standalone",
        "taipan_version": server.version,
        "taipan_build": hot_path.build_kind(),  # mypyc or pure-python
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
        "server_time_usec": time.time_ns() // 1000,
        "uptime_in_seconds": uptime,
        "uptime_in_days": uptime // 86400,
        "hz": max(1, min(server.config.hz, 500)),
        "configured_hz": server.config.hz,
        "lru_clock": int(time.time()) & ((1 << 24) - 1),
        "executable": server.executable or os.path.abspath(sys.argv[0]),
        "config_file": server.config.config_file or "",
        "io_threads_active": 0,
    }


def _clients(server: Any) -> dict[str, Any]:
    clients = list(server.clients.values())
    return {
        "connected_clients": len(clients),
        "cluster_connections": 0,
        "maxclients": server.config.maxclients,
        "client_recent_max_input_buffer": max((c.query_buffer_size() for c in clients), default=0),
        "client_recent_max_output_buffer": max((c.output_memory() for c in clients),
                                               default=0),
        "blocked_clients": sum(1 for c in clients if c.is_blocked()),
        "tracking_clients": server.tracking.client_count(),
        "clients_in_timeout_table": 0,
    }


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "0.00"


def _scripting_memory(server: Any) -> dict[str, Any]:
    """The Lua states' heaps and the script/function caches, Redis's fields."""
    scripting = server.scripting
    human = memory.bytes_to_human
    # A Lua state not created yet is shown at a fresh Redis VM's size.
    vm_eval = scripting.memory_used() or 31744
    vm_functions = scripting.functions.memory_used() or 32768
    scripts_eval = scripting.scripts_memory
    functions = scripting.functions.overhead_bytes()
    return {
        "used_memory_lua": vm_eval,
        "used_memory_vm_eval": vm_eval,
        "used_memory_lua_human": human(vm_eval),
        "used_memory_scripts_eval": scripts_eval,
        "number_of_cached_scripts": len(scripting.scripts),
        "number_of_functions": scripting.functions.function_count(),
        "number_of_libraries": len(scripting.functions.libraries),
        "used_memory_vm_functions": vm_functions,
        "used_memory_vm_total": vm_eval + vm_functions,
        "used_memory_vm_total_human": human(vm_eval + vm_functions),
        "used_memory_functions": functions,
        "used_memory_scripts": scripts_eval + functions,
        "used_memory_scripts_human": human(scripts_eval + functions),
    }


def _memory(server: Any) -> dict[str, Any]:
    mem = used_memory.figures(server)
    used, rss, peak, startup = mem["used"], mem["rss"], mem["peak"], mem["startup"]
    total = memory.total_system_memory()
    maxmemory = server.config.maxmemory
    dataset = mem["dataset"]
    net = used - startup
    human = memory.bytes_to_human
    return {
        "used_memory": used,
        "used_memory_human": human(used),
        "used_memory_rss": rss,
        "used_memory_rss_human": human(rss),
        "used_memory_peak": peak,
        "used_memory_peak_human": human(peak),
        "used_memory_peak_perc": f"{100.0 * used / peak if peak else 0:.2f}%",
        "used_memory_overhead": mem["overhead"],
        "used_memory_startup": startup,
        "used_memory_dataset": dataset,
        "used_memory_dataset_perc": f"{100.0 * dataset / net if net > 0 else 0:.2f}%",
        "allocator_allocated": used,
        "allocator_active": used,
        "allocator_resident": rss,
        "total_system_memory": total,
        "total_system_memory_human": human(total),
        **_scripting_memory(server),
        "maxmemory": maxmemory,
        "maxmemory_human": human(maxmemory),
        "maxmemory_policy": server.config.maxmemory_policy,
        "allocator_frag_ratio": "1.00",
        "allocator_frag_bytes": 0,
        "allocator_rss_ratio": _ratio(rss, used),
        "allocator_rss_bytes": rss - used,
        "rss_overhead_ratio": "1.00",
        "rss_overhead_bytes": 0,
        "mem_fragmentation_ratio": _ratio(rss, used),
        "mem_fragmentation_bytes": rss - used,
        "mem_not_counted_for_evict": mem["aof_buffer"],
        "mem_replication_backlog": 0,
        "mem_total_replication_buffers": 0,
        "mem_clients_slaves": 0,
        "mem_clients_normal": mem["clients_normal"],
        "mem_cluster_links": 0,
        "mem_aof_buffer": mem["aof_buffer"],
        "mem_allocator": "pymalloc",
        "active_defrag_running": 0,
        "lazyfree_pending_objects": server.lazyfree.pending,
        "lazyfreed_objects": server.lazyfree.freed,
    }


def _persistence(server: Any) -> dict[str, Any]:
    fields = {
        "loading": int(server.loading),
        "async_loading": 0,
        "current_cow_peak": 0,
        "current_cow_size": 0,
        "current_cow_size_age": 0,
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
    if server.loading:
        # Redis lists these after the AOF fields; extra_info's AOF fields are appended
        # later, so the order differs from Redis only while loading.
        fields.update(server.loading_progress.info_fields())
    return fields


def _stats(server: Any) -> dict[str, Any]:
    stats, keyspace = server.stats, server.keyspace_stats
    ops, input_kbps, output_kbps = server.instantaneous_rates()
    exceeded_total, exceeded_now = server.evictor.exceeded_ms()
    return {
        "total_connections_received": stats.connections_received,
        "total_commands_processed": stats.commands_processed,
        "instantaneous_ops_per_sec": ops,
        "total_net_input_bytes": stats.net_input_bytes,
        "total_net_output_bytes": stats.net_output_bytes,
        "total_net_repl_input_bytes": 0,
        "total_net_repl_output_bytes": 0,
        "instantaneous_input_kbps": f"{input_kbps:.2f}",
        "instantaneous_output_kbps": f"{output_kbps:.2f}",
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
        "evicted_keys": server.evictor.evicted_keys,
        "evicted_clients": server.evicted_clients,
        "total_eviction_exceeded_time": exceeded_total,
        "current_eviction_exceeded_time": exceeded_now,
        "keyspace_hits": keyspace.keyspace_hits,
        "keyspace_misses": keyspace.keyspace_misses,
        "pubsub_channels": len(server.pubsub.channels),
        "pubsub_patterns": len(server.pubsub.patterns),
        "pubsubshard_channels": len(server.pubsub.shard_channels),
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
        "tracking_total_keys": server.tracking.total_keys(),
        "tracking_total_items": server.tracking.total_items(),
        "tracking_total_prefixes": server.tracking.total_prefixes(),
        "unexpected_error_replies": stats.unexpected_error_replies,
        "total_error_replies": stats.error_replies,
        "dump_payload_sanitizations": 0,
        "total_reads_processed": stats.total_reads,
        "total_writes_processed": stats.total_writes,
        "io_threaded_reads_processed": 0,
        "io_threaded_writes_processed": 0,
        "reply_buffer_shrinks": 0,
        "reply_buffer_expands": 0,
        # Redis 7.2's ACL denial counters (7.0 lacks them; extra fields harm no client).
        **server.acl.denied_stats(),
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
        "repl_backlog_size": server.config.repl_backlog_size,
        "repl_backlog_first_byte_offset": 0,
        "repl_backlog_histlen": 0,
    }


def _cpu(server: Any) -> dict[str, Any]:
    times = os.times()
    thread_sys, thread_user = times.system, times.user
    try:
        import resource

        usage = resource.getrusage(resource.RUSAGE_THREAD)  # type: ignore[attr-defined]
        thread_sys, thread_user = usage.ru_stime, usage.ru_utime
    except (ImportError, AttributeError, OSError):
        pass
    return {
        "used_cpu_sys": f"{times.system:.6f}",
        "used_cpu_user": f"{times.user:.6f}",
        "used_cpu_sys_children": f"{times.children_system:.6f}",
        "used_cpu_user_children": f"{times.children_user:.6f}",
        "used_cpu_sys_main_thread": f"{thread_sys:.6f}",
        "used_cpu_user_main_thread": f"{thread_user:.6f}",
    }


def _all_commands(server: Any) -> list[Any]:
    return [item for command in server.table
            for item in (command, *command.subcommands.values())]


def _commandstats(server: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for item in _all_commands(server):
        if item.calls or item.rejected_calls or item.failed_calls:
            per_call = item.usec / item.calls if item.calls else 0.0
            fields[f"cmdstat_{item.name}"] = (
                f"calls={item.calls},usec={item.usec},usec_per_call={per_call:.2f},"
                f"rejected_calls={item.rejected_calls},failed_calls={item.failed_calls}")
    return fields


def _errorstats(server: Any) -> dict[str, Any]:
    return {f"errorstat_{prefix}": f"count={count}"
            for prefix, count in sorted(server.stats.error_counts.items())}


def _latencystats(server: Any) -> dict[str, Any]:
    """Per-command latency percentiles from the latency-tracking histograms."""
    config = server.config
    if not config.latency_tracking:
        return {}
    percentiles = config.latency_tracking_info_percentiles
    labels = [f"p{p:.6f}".rstrip("0").rstrip(".") for p in percentiles]
    fields: dict[str, Any] = {}
    for item in _all_commands(server):
        if histograms.has_data(item):
            counts = histograms.fold(item)
            fields[f"latency_percentiles_usec_{item.name}"] = ",".join(
                f"{label}={histograms.percentile_usec(counts, p):.3f}"
                for label, p in zip(labels, percentiles, strict=True))
    return fields


def _keyspace(server: Any) -> dict[str, Any]:
    return {f"db{db.index}": f"keys={len(db.data)},expires={len(db.expires)},"
                             f"avg_ttl={db.avg_ttl}"
            for db in server.databases if db.data}


# Every section in the order Redis prints them, with the title it prints.
SECTIONS: dict[str, tuple[str, Callable[[Any], dict[str, Any]]]] = {
    "server": ("Server", _server),
    "clients": ("Clients", _clients),
    "memory": ("Memory", _memory),
    "persistence": ("Persistence", _persistence),
    "stats": ("Stats", _stats),
    "replication": ("Replication", _replication),
    "cpu": ("CPU", _cpu),
    "modules": ("Modules", lambda server: {}),
    "commandstats": ("Commandstats", _commandstats),
    "errorstats": ("Errorstats", _errorstats),
    "latencystats": ("Latencystats", _latencystats),
    "cluster": ("Cluster", lambda server: {"cluster_enabled": int(server.config.cluster_enabled)}),
    "keyspace": ("Keyspace", _keyspace),
}
DEFAULT_SECTIONS = frozenset(SECTIONS) - {"commandstats", "latencystats"}


def section_fields(server: Any, name: str) -> dict[str, Any]:
    fields = SECTIONS[name][1](server)
    for key, value in server.extra_info.get(name, {}).items():
        fields[key] = value() if callable(value) else value
    return fields
