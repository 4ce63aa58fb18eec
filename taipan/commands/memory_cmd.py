"""MEMORY USAGE / STATS / DOCTOR / MALLOC-STATS / PURGE / HELP (Redis's object.c).

The figures are Taipan's own: used_memory's (``taipan/used_memory.py``) and per-value
estimates from ``taipan/keyspace/sizes.py``, so they follow Redis's structure, not
its numbers (Redis counts jemalloc allocations).
"""

from __future__ import annotations

import gc
import sys
from typing import TYPE_CHECKING, Any

from taipan import used_memory
from taipan.commands.args import try_int
from taipan.commands.table import CommandGroup
from taipan.errors import NotInteger, SyntaxErr
from taipan.keyspace.sizes import DICT_ENTRY, key_size, value_size
from taipan.protocol.reply import OK, Status, Verbatim
from taipan.types.packed import pack

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("server")
commands.container("MEMORY", summary="A container for memory diagnostics commands",
                   since="4.0.0")

_DEFAULT_SAMPLES = 5  # Redis's OBJ_COMPUTE_SIZE_DEF_SAMPLES
_NONDETERMINISTIC = "nondeterministic_output request_policy:all_shards response_policy:special"


# -- MEMORY USAGE ---------------------------------------------------------------------

@commands.command("MEMORY USAGE", arity=-3, flags="readonly", keys=(2, 2, 1), key_specs=("RO",),
                  summary="Estimate the memory usage of a key", since="4.0.0",
                  complexity="O(N) where N is the number of samples.")
def memory_usage(ctx: Client, argv: list[bytes]) -> int | None:
    """MEMORY USAGE key [SAMPLES count]"""
    samples = _DEFAULT_SAMPLES
    j = 3
    while j < len(argv):
        if argv[j].lower() == b"samples" and j + 1 < len(argv):
            count = try_int(argv[j + 1])
            if count is None:
                raise NotInteger()
            if count < 0:
                raise SyntaxErr()
            samples = count if count else sys.maxsize
            j += 2
        else:
            raise SyntaxErr()
    key = argv[2]
    # As Redis's dictFind: no expiry check, no keyspace hit or miss counted.
    value = ctx.db.data.get(key)
    if value is None:
        return None
    # A small collection a command just opened is packed again at the next cron
    # tick: report what it occupies at rest, so the figure doesn't depend on timing.
    packed = pack(value)
    if packed is not None:
        value = packed
    return value_size(value, samples) + key_size(key) + DICT_ENTRY


# -- MEMORY STATS ---------------------------------------------------------------------

class _Overhead:
    """Redis's redisMemOverhead, from Taipan's figures."""

    def __init__(self, server: Any) -> None:
        mem = used_memory.figures(server)
        used = self.total = mem["used"]
        rss = self.rss = mem["rss"]
        self.peak = mem["peak"]
        self.startup = mem["startup"]
        clients = list(server.clients.values())
        self.client_count = len(clients)
        self.clients_normal = mem["clients_normal"]
        self.aof_buffer = mem["aof_buffer"]
        scripting = server.scripting
        self.lua_caches = scripting.scripts_memory
        self.script_count = len(scripting.scripts)
        self.functions_caches = scripting.functions.overhead_bytes()
        overhead = mem["overhead"]
        self.dbs: list[tuple[int, int, int]] = []
        self.total_keys = 0
        for db in server.databases:
            if not db.data:
                continue
            self.total_keys += len(db.data)
            main = sys.getsizeof(db.data)
            expires = sys.getsizeof(db.expires) if db.expires else 0
            self.dbs.append((db.index, main, expires))
        self.overhead_total = overhead
        self.dataset = mem["dataset"]
        net = used - self.startup if used > self.startup else 1
        self.dataset_perc = self.dataset * 100 / net
        self.peak_perc = used * 100 / self.peak if self.peak else 0.0
        self.bytes_per_key = net // self.total_keys if self.total_keys else 0
        # Taipan's allocator figures are INFO memory's: allocated = active = used.
        self.total_frag = rss / used if used else 0.0
        self.total_frag_bytes = rss - used
        # The doctor leaves out the interpreter (RSS before the server allocated
        # anything), which Redis's binary doesn't weigh: else every dataset under
        # ~100 MB would be reported as fragmented.
        heap_rss = rss - mem["baseline_rss"] + self.startup
        self.heap_frag = heap_rss / used if used else 0.0
        self.heap_frag_bytes = heap_rss - used


@commands.command("MEMORY STATS", arity=2, tips=_NONDETERMINISTIC,
                  summary="Show memory usage details", since="4.0.0", complexity="O(1)")
def memory_stats(ctx: Client, argv: list[bytes]) -> dict[bytes, Any]:
    """MEMORY STATS"""
    mh = _Overhead(ctx.server)
    reply: dict[bytes, Any] = {
        b"peak.allocated": mh.peak,
        b"total.allocated": mh.total,
        b"startup.allocated": mh.startup,
        b"replication.backlog": 0,
        b"clients.slaves": 0,
        b"clients.normal": mh.clients_normal,
        b"cluster.links": 0,
        b"aof.buffer": mh.aof_buffer,
        b"lua.caches": mh.lua_caches,
        b"functions.caches": mh.functions_caches,
    }
    for index, main, expires in mh.dbs:
        reply[b"db.%d" % index] = {
            b"overhead.hashtable.main": main,
            b"overhead.hashtable.expires": expires,
            b"overhead.hashtable.slot-to-keys": 0,
        }
    reply.update({
        b"overhead.total": mh.overhead_total,
        b"keys.count": mh.total_keys,
        b"keys.bytes-per-key": mh.bytes_per_key,
        b"dataset.bytes": mh.dataset,
        b"dataset.percentage": float(mh.dataset_perc),
        b"peak.percentage": float(mh.peak_perc),
        b"allocator.allocated": mh.total,
        b"allocator.active": mh.total,
        b"allocator.resident": mh.rss,
        b"allocator-fragmentation.ratio": 1.0,
        b"allocator-fragmentation.bytes": 0,
        b"allocator-rss.ratio": float(mh.total_frag),
        b"allocator-rss.bytes": mh.total_frag_bytes,
        b"rss-overhead.ratio": 1.0,
        b"rss-overhead.bytes": 0,
        b"fragmentation": float(mh.total_frag),
        b"fragmentation.bytes": mh.total_frag_bytes,
    })
    return reply


# -- MEMORY DOCTOR --------------------------------------------------------------------

_NO_ISSUES = ("Hi Sam, I can't find any memory issue in your instance. "
              "I can only account for what occurs on this base.\n")
_EMPTY = ("Hi Sam, this instance is empty or is using very little memory, "
          "my issues detector can't be used in these conditions. "
          "Please, leave for your mission on Earth and fill it with some data. "
          "The new Sam and I will be back to our programming as soon as I "
          "finished rebooting.\n")
_BIG_PEAK = (" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n")  # noqa: E501
_HIGH_FRAG = (" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"pymalloc\".\n\n")  # noqa: E501
_BIG_CLIENT_BUF = (" * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n")  # noqa: E501
_MANY_SCRIPTS = (" * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up consuming most of your memory.\n\n")  # noqa: E501


def doctor_report(server: Any) -> str:
    """Redis's getMemoryDoctorReport over Taipan's figures (no replicas, one
    allocator figure, so the allocator and replica checks never fire)."""
    mh = _Overhead(server)
    if mh.total < 5 * 1024 * 1024:
        return _EMPTY
    issues = []
    if mh.peak / mh.total > 1.5:
        issues.append(_BIG_PEAK)
    if mh.heap_frag > 1.4 and mh.heap_frag_bytes > 10 << 20:
        issues.append(_HIGH_FRAG)
    if mh.client_count and mh.clients_normal // mh.client_count > 1024 * 200:
        issues.append(_BIG_CLIENT_BUF)
    if mh.script_count > 1000:
        issues.append(_MANY_SCRIPTS)
    if not issues:
        return _NO_ISSUES
    return ("Sam, I detected a few issues in this Redis instance memory implants:\n\n"
            + "".join(issues) + "I'm here to keep you safe, Sam. I want to help you.\n")


@commands.command("MEMORY DOCTOR", arity=2, tips=_NONDETERMINISTIC,
                  summary="Outputs memory problems report", since="4.0.0", complexity="O(1)")
def memory_doctor(ctx: Client, argv: list[bytes]) -> Verbatim:
    """MEMORY DOCTOR"""
    return Verbatim(doctor_report(ctx.server).encode())


# -- MALLOC-STATS, PURGE, HELP --------------------------------------------------------

@commands.command("MEMORY MALLOC-STATS", arity=2, tips=_NONDETERMINISTIC,
                  summary="Show allocator internal stats", since="4.0.0",
                  complexity="Depends on how much memory is allocated, could be slow")
def memory_malloc_stats(ctx: Client, argv: list[bytes]) -> bytes:
    """MEMORY MALLOC-STATS"""
    # What Redis built without jemalloc answers; pymalloc has no such report.
    return b"Stats not supported for the current allocator"


@commands.command("MEMORY PURGE", arity=2,
                  tips="request_policy:all_shards response_policy:all_succeeded",
                  summary="Ask the allocator to release memory", since="4.0.0",
                  complexity="Depends on how much memory is allocated, could be slow")
def memory_purge(ctx: Client, argv: list[bytes]) -> Status:
    """MEMORY PURGE"""
    gc.collect()
    return OK


_HELP = (
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
)


@commands.command("MEMORY HELP", arity=2, flags="loading stale",
                  summary="Show helpful text about the different subcommands", since="4.0.0",
                  complexity="O(1)")
def memory_help(ctx: Client, argv: list[bytes]) -> list[Status]:
    """MEMORY HELP"""
    return [Status(line) for line in _HELP]
