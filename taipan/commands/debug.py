"""DEBUG and its subcommands: the introspection and test hooks Redis's own test suite
and client libraries rely on (DIGEST, PROTOCOL, RELOAD, LOADAOF, OBJECT, ...).

Declared in the ``server`` group (``server_cmds.commands``).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from taipan.commands.args import try_int
from taipan.commands.config_cmd import is_local_client
from taipan.commands.server_cmds import _snapshots, commands
from taipan.config_values import memtoull
from taipan.errors import ReplyError, err
from taipan.keyspace.digest import dataset_digest, key_value_digest
from taipan.protocol.reply import (
    OK,
    Attribute,
    BigNumber,
    Frames,
    Push,
    Raw,
    SetReply,
    Status,
    Verbatim,
)
from taipan.types import encoding_name

if TYPE_CHECKING:
    from taipan.net.client import Client

log = logging.getLogger("taipan")

# Redis 7.0.15's help text, line for line (a build with jemalloc, as Debian's).
_DEBUG_HELP = (
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "ASSERT",
    "    Crash by assertion failed.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "CRASH-AND-RECOVER [<milliseconds>]",
    "    Hard crash and restart after a <milliseconds> delay (default 0).",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LEAK <string>",
    "    Create a memory leak of the input string.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "HTSTATS <dbid>",
    "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key>",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "REPLICATE <string>",
    "    Replicates the provided string to replicas, allowing data divergence.",
    "MALLCTL <key> [<val>]",
    "    Get or set a malloc tuning integer.",
    "MALLCTL-STR <key> [<val>]",
    "    Get or set a malloc tuning string.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "OOM",
    "    Crash the server simulating an out-of-memory error.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "RESTART [<milliseconds>]",
    "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
    "SDSLEN <key>",
    "    Show low level SDS string info representing `key` and value.",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "STRUCTSIZE",
    "    Return the size of different Redis core C structures.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "CLIENT-EVICTION",
    "    Show low level client eviction pools info (maxmemory-clients).",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "CLUSTERLINK KILL <to|from|all> <node-id>",
    "    Kills the link based on the direction to/from (both) with the provided node.",
    "HELP",
    "    Prints this help.",
)


def _debug_allowed(ctx: Client) -> None:
    setting = ctx.server.config.enable_debug_command
    if setting == "yes":
        return
    if setting == "local" and is_local_client(ctx):
        return
    raise err("DEBUG command not allowed. If the enable-debug-command option is set to "
              "\"local\", you can run it from a local connection, otherwise you need to set "
              "this option in the configuration file, and then restart the server.")


@commands.command("DEBUG", arity=-2, flags="admin noscript loading stale",
                  summary="A container for debugging commands", since="1.0.0",
                  complexity="Depends on subcommand.", doc_flags="syscmd")
def debug(ctx: Client, argv: list[bytes]) -> Any:
    """DEBUG subcommand [argument ...]"""
    _debug_allowed(ctx)
    sub = argv[1].lower()
    handler = _DEBUG_SUBCOMMANDS.get(sub)
    if handler is None or not handler[0](len(argv)):
        text = argv[1].decode("utf-8", "replace")[:128]
        raise err(f"unknown subcommand or wrong number of arguments for '{text}'. "
                  "Try DEBUG HELP.")
    return handler[1](ctx, argv)


def _c_number(text: bytes) -> float:
    """C's ``strtod``/``atoi`` leniency: the longest numeric prefix, else 0."""
    match = _NUMBER_PREFIX.match(text.strip())
    return float(match.group(0)) if match else 0.0


def _atoi(text: bytes) -> int:
    match = _INT_PREFIX.match(text.lstrip())
    return int(match.group(0)) if match else 0


_NUMBER_PREFIX = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INT_PREFIX = re.compile(rb"[+-]?[0-9]+")


def _hex(digest: bytes) -> Status:
    return Status(digest.hex())


# -- subcommands ------------------------------------------------------------------


def _debug_help(ctx: Client, argv: list[bytes]) -> list[Status]:
    return [Status(line) for line in _DEBUG_HELP]


def _debug_sleep(ctx: Client, argv: list[bytes]) -> Any:
    seconds = _c_number(argv[2])
    if seconds > 0:
        time.sleep(seconds)  # stalls the whole server, as Redis's does
    return OK


def _debug_set_active_expire(ctx: Client, argv: list[bytes]) -> Any:
    ctx.server.active_expire_enabled = bool(_atoi(argv[2]))
    return OK


def _debug_log(ctx: Client, argv: list[bytes]) -> Any:
    log.warning("DEBUG LOG: %s", argv[2].decode("utf-8", "replace"))
    return OK


def _debug_reload(ctx: Client, argv: list[bytes]) -> Any:
    options = {arg.upper() for arg in argv[2:]}
    if not options <= {b"MERGE", b"NOFLUSH", b"NOSAVE"}:
        raise err("DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
    rdb = _snapshots(ctx)
    if rdb.child_pid:
        raise err("Background save already in progress")
    try:
        rdb.reload(save=b"NOSAVE" not in options, flush=b"NOFLUSH" not in options,
                   merge=b"MERGE" in options)
    except Exception:
        raise err("Error trying to load the RDB dump, check server logs.") from None
    return OK


@contextmanager
def _not_propagated(instance: Any) -> Iterator[None]:
    """Replayed writes go nowhere: they come from the AOF they would be written to."""
    dispatcher = instance.dispatcher
    propagators = instance.propagators
    saved, propagators[:] = propagators[:], []
    transaction, dispatcher._transaction = dispatcher._transaction, None
    try:
        yield
    finally:
        propagators[:] = saved
        dispatcher._transaction = transaction


def _debug_loadaof(ctx: Client, argv: list[bytes]) -> Any:
    from taipan.net.client import Client as LoaderClient  # (net sits above commands)
    from taipan.persistence.aof import AofError, AppendOnlyFile
    from taipan.persistence.functions_link import flush_libraries

    instance = ctx.server
    aof = instance.aof
    if aof is not None:
        aof.flush()
    files = AppendOnlyFile.detached(instance)
    if not files.manifest.base and not files.manifest.incrs:
        # Redis exits here (nothing to load); refusing keeps the dataset instead.
        raise err("No AOF to load: the AOF manifest names no files.")
    for db in instance.databases:
        db.clear()
    flush_libraries(instance)
    loader = LoaderClient(0, instance, kind="aof")
    loader.authenticated = True
    try:
        with _not_propagated(instance):
            files.load(loader)
    except (AofError, OSError) as exc:
        log.warning(str(exc))
        raise err("Error trying to load the AOF, check server logs.") from None
    instance.dirty_at_last_save = instance.keyspace_stats.dirty  # loading isn't a change
    log.warning("Append Only File loaded by DEBUG LOADAOF")
    return OK


def _rdb_length(value: Any) -> int:
    """Bytes a string takes in an RDB file (without LZF compression)."""
    if type(value) is bytes and len(value) <= 11 and _RDB_INT.match(value):
        number = int(value)
        if -(2**7) <= number < 2**7:
            return 2
        if -(2**15) <= number < 2**15:
            return 3
        if -(2**31) <= number < 2**31:
            return 5
    size = len(value)
    prefix = 1 if size < 64 else 2 if size < 16384 else 5 if size < 2**32 else 9
    return prefix + size


_RDB_INT = re.compile(rb"(?:0|-?[1-9][0-9]*)\Z")


def _debug_object(ctx: Client, argv: list[bytes]) -> Status:
    value = ctx.db.peek(argv[2])
    if value is None:
        raise ReplyError("ERR no such key")
    encoding = encoding_name(value, ctx.server.config)
    shared = encoding == "int" and 0 <= int(value) < 10000
    length = _rdb_length(value) if isinstance(value, (bytes, bytearray)) else 0
    lru_clock = int(time.time()) & ((1 << 24) - 1)
    return Status(
        f"Value at:0x{id(value):x} refcount:{2147483647 if shared else 1} "
        f"encoding:{encoding} serializedlength:{length} lru:{lru_clock} lru_seconds_idle:0"
    )


def _debug_digest(ctx: Client, argv: list[bytes]) -> Status:
    return _hex(dataset_digest(ctx.server.databases))


def _debug_digest_value(ctx: Client, argv: list[bytes]) -> list[Status]:
    db = ctx.db
    return [_hex(key_value_digest(db, key)) for key in argv[2:]]


_PROTOCOL_TYPES = ("string|integer|double|bignum|null|array|set|map|attrib|push|"
                   "verbatim|true|false")


def _debug_protocol(ctx: Client, argv: list[bytes]) -> Any:
    name = argv[2].lower()
    if name == b"string":
        return b"Hello World"
    if name == b"integer":
        return 12345
    if name == b"double":
        return 3.141
    if name == b"bignum":
        return BigNumber(b"1234567999999999999999999999999999999")
    if name == b"null":
        return None
    if name == b"array":
        return [0, 1, 2]
    if name == b"set":
        return SetReply([0, 1, 2])
    if name == b"map":
        return {0: False, 1: True, 2: False}
    if name == b"attrib":
        real = b"Some real reply following the attribute"
        if ctx.resp < 3:
            return real
        return Frames([Attribute({b"key-popularity": [b"key:123", 90]}), real])
    if name == b"push":
        if ctx.resp < 3:
            raise err("RESP2 is not supported by this command")
        return Frames([Push([b"server-cpu-usage", 42]),
                       b"Some real reply following the push reply"])
    if name == b"verbatim":
        return Verbatim(b"This is a verbatim\nstring")
    if name == b"true":
        return True
    if name == b"false":
        return False
    raise err(f"Wrong protocol type name. Please use one of the following: "
              f"{_PROTOCOL_TYPES}")


def _debug_quicklist_packed_threshold(ctx: Client, argv: list[bytes]) -> Any:
    size = memtoull(argv[2].decode("latin-1"))
    # Redis refuses sizes from 4GB - 1MB up; 0 restores the 1GB default.
    if size is None or size > (1 << 32) - (1 << 20):
        raise err("argument must be a memory value bigger than 1 and smaller than 4gb")
    # Lists here aren't split into listpack nodes, so the threshold only is recorded.
    ctx.server.quicklist_packed_threshold = size or (1 << 30)
    return OK


def _debug_change_repl_id(ctx: Client, argv: list[bytes]) -> Any:
    log.warning("Changing replication IDs after receiving DEBUG change-repl-id")
    return OK  # no replication yet: there is no ID to change


def _debug_stringmatch_test(ctx: Client, argv: list[bytes]) -> Status:
    return Status("Apparently Redis did not crash: test passed")


def _debug_error(ctx: Client, argv: list[bytes]) -> Raw:
    # Sent as given (no ERR prefix), and, as in Redis, not counted in the error stats.
    text = argv[2].replace(b"\r", b" ").replace(b"\n", b" ")
    return Raw(b"-" + text + b"\r\n")


def _debug_structsize(ctx: Client, argv: list[bytes]) -> bytes:
    # The sizes of a 64-bit Redis build, which clients' tests read.
    return (b"bits:64 robj:16 dictentry:24 sdshdr5:1 sdshdr8:3 sdshdr16:5 sdshdr32:9 "
            b"sdshdr64:17 ")


def _debug_populate(ctx: Client, argv: list[bytes]) -> Any:
    count = _positive(argv[2])
    size = _positive(argv[4]) if len(argv) == 5 else 0
    prefix = argv[3] if len(argv) >= 4 else b"key"
    db = ctx.db
    stats = db.stats
    dirty = stats.dirty
    for number in range(count):
        key = b"%s:%d" % (prefix, number)
        if db.get(key) is not None:
            continue
        value = b"value:%d" % number
        if size:
            value = value[:size].ljust(size, b"\0")
        db.set(key, value)
    stats.dirty = dirty  # Redis's populate doesn't count as changes
    return OK


def _positive(arg: bytes) -> int:
    value = try_int(arg)
    if value is None or value < 0:  # one message for both, as Redis's
        raise err("value is out of range, must be positive")
    return value


def _debug_replicate(ctx: Client, argv: list[bytes]) -> Any:
    return OK  # no replicas to feed yet


def _argc(*counts: int) -> Any:
    return counts.__contains__


# subcommand -> (accepts this argument count?, handler)
_DEBUG_SUBCOMMANDS: dict[bytes, tuple[Any, Any]] = {
    b"help": (_argc(2), _debug_help),
    b"sleep": (_argc(3), _debug_sleep),
    b"set-active-expire": (_argc(3), _debug_set_active_expire),
    b"object": (_argc(3), _debug_object),
    b"log": (_argc(3), _debug_log),
    b"reload": ((2).__le__, _debug_reload),
    b"loadaof": ((2).__le__, _debug_loadaof),
    b"digest": (_argc(2), _debug_digest),
    b"digest-value": ((2).__le__, _debug_digest_value),
    b"protocol": (_argc(3), _debug_protocol),
    b"quicklist-packed-threshold": (_argc(3), _debug_quicklist_packed_threshold),
    b"change-repl-id": (_argc(2), _debug_change_repl_id),
    b"stringmatch-test": (_argc(2), _debug_stringmatch_test),
    b"error": (_argc(3), _debug_error),
    b"structsize": (_argc(2), _debug_structsize),
    b"populate": (_argc(3, 4, 5), _debug_populate),
    b"replicate": ((3).__le__, _debug_replicate),
}
