"""Generic key commands: DEL, EXISTS, TYPE, KEYS, SCAN, RENAME, COPY, OBJECT ..."""

from __future__ import annotations

import random
from itertools import islice
from typing import TYPE_CHECKING, Any, Final

from taipan.commands.args import to_int
from taipan.commands.scanning import parse_cursor, parse_scan_options
from taipan.commands.table import CommandGroup
from taipan.errors import NoSuchKey, ReplyError, SyntaxErr, err
from taipan.glob import glob_match
from taipan.keyspace import events as ev
from taipan.protocol.reply import OK, Status
from taipan.types import copy_value, encoding_name, type_name

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("generic")

_SAME_OBJECT: Final = ReplyError("ERR source and destination objects are the same")


@commands.command("DEL", arity=-2, flags="write", keys=(1, -1, 1), key_specs=("RM delete",),
                  tips="request_policy:multi_shard response_policy:agg_sum", summary="Delete a key",
                  since="1.0.0",
                  complexity="O(N) where N is the number of keys that will be removed. When a key "
                             "to remove holds a value other than a string, the individual "
                             "complexity for this key is O(M) where M is the number of elements "
                             "in the list, set, sorted set or hash. Removing a single key that "
                             "holds a string value is O(1).")
def del_(ctx: Client, argv: list[bytes]) -> int:
    """DEL key [key ...]"""
    return _delete_keys(ctx.db, argv, ctx.server.config.lazyfree_lazy_user_del)


def _delete_keys(db: Any, argv: list[bytes], lazy: bool) -> int:
    deleted = 0
    for key in argv[1:]:
        if db.get(key) is not None and db.delete(key, lazy):
            db.notify(ev.GENERIC, b"del", key)
            deleted += 1
    return deleted


@commands.command("UNLINK", arity=-2, flags="write fast", keys=(1, -1, 1), key_specs=("RM delete",),
                  tips="request_policy:multi_shard response_policy:agg_sum",
                  summary="Delete a key asynchronously in another thread. Otherwise it is just as "
                          "DEL, but non blocking.", since="4.0.0",
                  complexity="O(1) for each key removed regardless of its size. Then the command "
                             "does O(N) work in a different thread in order to reclaim memory, "
                             "where N is the number of allocations the deleted objects where "
                             "composed of.")
def unlink(ctx: Client, argv: list[bytes]) -> int:
    """UNLINK key [key ...]"""
    return _delete_keys(ctx.db, argv, True)


@commands.command("EXISTS", arity=-2, flags="readonly fast", keys=(1, -1, 1), key_specs=("RO",),
                  tips="request_policy:multi_shard response_policy:agg_sum",
                  summary="Determine if a key exists", since="1.0.0",
                  complexity="O(N) where N is the number of keys to check.",
                  history=(("3.0.3", "Accepts multiple `key` arguments."),))
def exists(ctx: Client, argv: list[bytes]) -> int:
    """EXISTS key [key ...]"""
    # A read that counts hits/misses but, as Redis, doesn't count as an access.
    lookup = ctx.db.peek_read
    return sum(1 for key in argv[1:] if lookup(key) is not None)


@commands.command("TOUCH", arity=-2, flags="readonly fast", keys=(1, -1, 1), key_specs=("RO",),
                  tips="request_policy:multi_shard response_policy:agg_sum",
                  summary="Alters the last access time of a key(s). Returns the number of "
                          "existing keys specified.", since="3.2.1",
                  complexity="O(N) where N is the number of keys that will be touched.")
def touch(ctx: Client, argv: list[bytes]) -> int:
    """TOUCH key [key ...]"""
    lookup = ctx.db.get_read
    return sum(1 for key in argv[1:] if lookup(key) is not None)


@commands.command("TYPE", arity=2, flags="readonly fast", keys=(1, 1, 1), key_specs=("RO",),
                  summary="Determine the type stored at key", since="1.0.0", complexity="O(1)")
def type_(ctx: Client, argv: list[bytes]) -> Status:
    """TYPE key"""
    value = ctx.db.peek_read(argv[1])
    return Status("none" if value is None else type_name(value))


@commands.command("KEYS", arity=2, flags="readonly", acl="dangerous",
                  tips="request_policy:all_shards nondeterministic_output_order",
                  summary="Find all keys matching the given pattern", since="1.0.0",
                  complexity="O(N) with N being the number of keys in the database, under the "
                             "assumption that the key names in the database and the given pattern "
                             "have limited length.")
def keys(ctx: Client, argv: list[bytes]) -> list[bytes]:
    """KEYS pattern"""
    db = ctx.db
    pattern = argv[1]
    expires = db.expires
    now = db.expiry_now()
    everything = pattern == b"*"
    found = []
    for key in db.data:
        if expires and expires.get(key, now + 1) <= now:
            continue
        if everything or glob_match(pattern, key):
            found.append(key)
    return found


@commands.command("SCAN", arity=-2, flags="readonly",
                  tips="nondeterministic_output request_policy:special",
                  summary="Incrementally iterate the keys space", since="2.8.0",
                  complexity="O(1) for every call. O(N) for a complete iteration, including "
                             "enough command calls for the cursor to return back to 0. N is the "
                             "number of elements inside the collection.",
                  history=(("6.0.0", "Added the `TYPE` subcommand."),))
def scan(ctx: Client, argv: list[bytes]) -> list[Any]:
    """SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]"""
    cursor = parse_cursor(argv[1])
    pattern, count, kind = parse_scan_options(argv, 2, allow_type=True)
    db = ctx.db
    next_cursor, candidates = ctx.server.scan_snapshots.page(db.data, len(db.data), cursor, count)
    found = []
    wanted_type = kind.decode("utf-8", "replace").lower() if kind is not None else None
    data = db.data
    for key in candidates:
        if key not in data:  # deleted since the snapshot was taken
            continue
        # Redis's order: pattern, then type (a lookup that counts a keyspace hit),
        # then expiry; a key filtered out earlier is not expired by the scan.
        if pattern is not None and not glob_match(pattern, key):
            continue
        if wanted_type is not None:
            value = db.peek_read(key)
            if value is None or type_name(value) != wanted_type:
                continue
        elif db.peek(key) is None:
            continue
        found.append(key)
    return [b"%d" % next_cursor, found]


@commands.command("RANDOMKEY", arity=1, flags="readonly",
                  tips="request_policy:all_shards nondeterministic_output",
                  summary="Return a random key from the keyspace", since="1.0.0", complexity="O(1)")
def randomkey(ctx: Client, argv: list[bytes]) -> bytes | None:
    """RANDOMKEY"""
    db = ctx.db
    # As Redis on a primary: an expired pick is deleted and another drawn, so the
    # loop ends with a live key or an empty database.
    while db.data:
        # O(N) in CPython (no random access into a dict), done in C.
        key: bytes = next(islice(iter(db.data), random.randrange(len(db.data)), None))
        if db.peek(key) is not None:
            return key
    return None


def _rename(ctx: Client, argv: list[bytes], only_if_new: bool) -> Any:
    db = ctx.db
    source, target = argv[1], argv[2]
    value = db.get(source)
    if value is None:
        raise NoSuchKey()
    if source == target:
        return 0 if only_if_new else OK
    replaced = db.get(target) is not None
    if only_if_new and replaced:
        return 0
    deadline = db.expires.get(source)
    access = _access_word(db, source)
    db.delete(source)
    db.set(target, value)
    _restore_access_word(db, target, access)
    if replaced:
        # Redis deletes an existing target and adds the key anew: ``new`` fires.
        db.notify(ev.NEW, b"new", target)
    if deadline is not None:
        db.set_expire(target, deadline)
    db.notify(ev.GENERIC, b"rename_from", source)
    db.notify(ev.GENERIC, b"rename_to", target)
    return 1 if only_if_new else OK


@commands.command("RENAME", arity=3, flags="write", keys=(1, 2, 1),
                  key_specs=("RW access delete", "OW update"), summary="Rename a key",
                  since="1.0.0", complexity="O(1)")
def rename(ctx: Client, argv: list[bytes]) -> Any:
    """RENAME key newkey"""
    return _rename(ctx, argv, only_if_new=False)


@commands.command("RENAMENX", arity=3, flags="write fast", keys=(1, 2, 1),
                  key_specs=("RW access delete", "OW insert"),
                  summary="Rename a key, only if the new key does not exist", since="1.0.0",
                  complexity="O(1)",
                  history=(("3.2.0",
                            "The command no longer returns an error when source and "
                            "destination names are the same."),))
def renamenx(ctx: Client, argv: list[bytes]) -> Any:
    """RENAMENX key newkey"""
    return _rename(ctx, argv, only_if_new=True)


def _access_word(db: Any, key: bytes) -> int | None:
    """``key``'s LRU/LFU word, which RENAME and MOVE keep (the object moves as is)."""
    return db.access.meta.get(key) if db.access is not None else None


def _restore_access_word(db: Any, key: bytes, word: int | None) -> None:
    if word is not None and db.access is not None:
        db.access.meta[key] = word


def database_at(ctx: Client, arg: bytes) -> Any:
    index = to_int(arg)
    databases = ctx.server.databases
    if not 0 <= index < len(databases):
        raise ReplyError("ERR DB index is out of range")
    return databases[index]


@commands.command("COPY", arity=-3, flags="write denyoom", keys=(1, 2, 1),
                  key_specs=("RO access", "OW update"), summary="Copy a key", since="6.2.0",
                  complexity="O(N) worst case for collections, where N is the number of nested "
                             "items. O(1) for string values.")
def copy(ctx: Client, argv: list[bytes]) -> int:
    """COPY source destination [DB destination-db] [REPLACE]"""
    source_db = target_db = ctx.db
    replace = False
    i = 3
    while i < len(argv):
        option = argv[i].upper()
        if option == b"REPLACE":
            replace = True
        elif option == b"DB" and i + 1 < len(argv):
            target_db = database_at(ctx, argv[i + 1])
            i += 1
        else:
            raise SyntaxErr()
        i += 1
    source, target = argv[1], argv[2]
    if source_db is target_db and source == target:
        raise _SAME_OBJECT
    value = source_db.get_read(source)
    if value is None:
        return 0
    if target_db.get(target) is not None:
        if not replace:
            return 0
        target_db.delete(target)
    target_db.set(target, copy_value(value))
    deadline = source_db.expires.get(source)
    if deadline is not None:
        target_db.set_expire(target, deadline)
    target_db.notify(ev.GENERIC, b"copy_to", target)
    return 1


@commands.command("MOVE", arity=3, flags="write fast", keys=(1, 1, 1),
                  summary="Move a key to another database", since="1.0.0", complexity="O(1)")
def move(ctx: Client, argv: list[bytes]) -> int:
    """MOVE key db"""
    source_db = ctx.db
    target_db = database_at(ctx, argv[2])
    if target_db is source_db:
        raise _SAME_OBJECT
    key = argv[1]
    value = source_db.get(key)
    if value is None or target_db.get(key) is not None:
        return 0
    deadline = source_db.expires.get(key)
    access = _access_word(source_db, key)
    source_db.delete(key)
    target_db.set(key, value)
    _restore_access_word(target_db, key, access)
    if deadline is not None:
        target_db.set_expire(key, deadline)
    source_db.notify(ev.GENERIC, b"move_from", key)
    target_db.notify(ev.GENERIC, b"move_to", key)
    return 1


object_cmd = commands.container("OBJECT", summary="A container for object introspection commands",
                                since="2.2.3")

_OBJECT_HELP: Final = [
    b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"ENCODING <key>",
    b"    Return the kind of internal representation used in order to store the value",
    b"    associated with a <key>.",
    b"FREQ <key>",
    b"    Return the access frequency index of the <key>. The returned integer is",
    b"    proportional to the logarithm of the recent access frequency of the key.",
    b"IDLETIME <key>",
    b"    Return the idle time of the <key>, that is the approximated number of",
    b"    seconds elapsed since the last access to the key.",
    b"REFCOUNT <key>",
    b"    Return the number of references of the value associated with the specified",
    b"    <key>.",
    b"HELP",
    b"    Prints this help.",
]


@commands.command("OBJECT HELP", arity=2, flags="loading stale",
                  summary="Show helpful text about the different subcommands", since="6.2.0",
                  complexity="O(1)")
def object_help(ctx: Client, argv: list[bytes]) -> list[Status]:
    """OBJECT HELP"""
    return [Status(line.decode()) for line in _OBJECT_HELP]


def _object_value(ctx: Client, key: bytes) -> Any:
    # Counted as a hit or miss, but a miss fires no ``keymiss`` (as Redis's OBJECT).
    return ctx.db.peek_read(key, notify_miss=False)


def _tracker(ctx: Client) -> Any:
    return ctx.server.access_tracker(ctx.db)


@commands.command("OBJECT ENCODING", arity=3, flags="readonly", keys=(2, 2, 1), key_specs=("RO",),
                  tips="nondeterministic_output",
                  summary="Inspect the internal encoding of a Redis object", since="2.2.3",
                  complexity="O(1)")
def object_encoding(ctx: Client, argv: list[bytes]) -> bytes | None:
    """OBJECT ENCODING key"""
    value = _object_value(ctx, argv[2])
    return None if value is None else encoding_name(value, ctx.server.config).encode()


@commands.command("OBJECT REFCOUNT", arity=3, flags="readonly", keys=(2, 2, 1), key_specs=("RO",),
                  tips="nondeterministic_output",
                  summary="Get the number of references to the value of the key", since="2.2.3",
                  complexity="O(1)")
def object_refcount(ctx: Client, argv: list[bytes]) -> int | None:
    """OBJECT REFCOUNT key"""
    value = _object_value(ctx, argv[2])
    if value is None:
        return None
    # Redis shares integer objects 0..9999 and reports them with INT_MAX references.
    if encoding_name(value, ctx.server.config) == "int" and 0 <= int(value) < 10000:
        return 2147483647
    return 1


@commands.command("OBJECT IDLETIME", arity=3, flags="readonly", keys=(2, 2, 1), key_specs=("RO",),
                  tips="nondeterministic_output",
                  summary="Get the time since a Redis object was last accessed", since="2.2.3",
                  complexity="O(1)")
def object_idletime(ctx: Client, argv: list[bytes]) -> int | None:
    """OBJECT IDLETIME key"""
    if _object_value(ctx, argv[2]) is None:
        return None  # (Redis looks the key up before the policy)
    if "lfu" in ctx.server.config.maxmemory_policy:
        raise err("An LFU maxmemory policy is selected, idle time not tracked. Please note "
                  "that when switching between policies at runtime LRU and LFU data will "
                  "take some time to adjust.")
    seconds: int = _tracker(ctx).idle_seconds(argv[2])
    return seconds


@commands.command("OBJECT FREQ", arity=3, flags="readonly", keys=(2, 2, 1), key_specs=("RO",),
                  tips="nondeterministic_output",
                  summary="Get the logarithmic access frequency counter of a Redis object",
                  since="4.0.0", complexity="O(1)")
def object_freq(ctx: Client, argv: list[bytes]) -> int | None:
    """OBJECT FREQ key"""
    if _object_value(ctx, argv[2]) is None:
        return None  # (Redis looks the key up before the policy)
    if "lfu" not in ctx.server.config.maxmemory_policy:
        raise err("An LFU maxmemory policy is not selected, access frequency not tracked. "
                  "Please note that when switching between policies at runtime LRU and "
                  "LFU data will take some time to adjust.")
    counter: int = _tracker(ctx).frequency(argv[2])
    return counter
