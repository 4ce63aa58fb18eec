"""COMMAND and its subcommands, generated from the declarative table."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from taipan.commands.keyspecs import KEY_SPEC_FLAGS, KeyRefs
from taipan.commands.sort import sort_keys, sort_ro_keys
from taipan.commands.table import ACL_CATEGORIES, Command, CommandGroup
from taipan.errors import SyntaxErr, err
from taipan.glob import glob_match
from taipan.protocol.reply import SetReply, Status

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("server")


_EMPTY_SET = SetReply()


def _spec_reply(spec: dict) -> dict:
    reply: dict[bytes, Any] = {}
    for name, value in spec.items():
        if name == "flags":
            reply[b"flags"] = SetReply(Status(flag) for flag in value)
        elif isinstance(value, dict):
            reply[name.encode()] = _spec_reply(value)
        elif isinstance(value, str):
            reply[name.encode()] = value.encode()
        else:
            reply[name.encode()] = value
    return reply


@cache  # declarations never change once built: build each reply once
def command_info(command: Command) -> list:
    """One COMMAND INFO entry, laid out and typed as Redis 7.0 sends it."""
    subcommands: Any = _EMPTY_SET
    if command.subcommands:  # Redis sends an array here, but an empty set when none
        subcommands = [command_info(sub) for sub in command.subcommands.values()]
    return [
        command.name.encode(),
        command.arity,
        SetReply(Status(flag) for flag in command.reported_flags),
        command.first_key,
        command.last_key,
        command.key_step,
        SetReply(Status("@" + category) for category in command.acl_categories),
        SetReply(tip.encode() for tip in command.tips),
        SetReply(_spec_reply(spec) for spec in command.key_specs),
        subcommands,
    ]


@cache
def command_docs(command: Command) -> dict:
    """One COMMAND DOCS entry: the fields Redis sends, in its order, when set."""
    doc: dict[bytes, Any] = {}
    if command.summary:
        doc[b"summary"] = command.summary.encode()
    if command.since:
        doc[b"since"] = command.since.encode()
    doc[b"group"] = command.group.encode()
    if command.complexity:
        doc[b"complexity"] = command.complexity.encode()
    if command.doc_flags:
        doc[b"doc_flags"] = SetReply(Status(flag) for flag in command.doc_flags)
    if command.deprecated_since:
        doc[b"deprecated_since"] = command.deprecated_since.encode()
    if command.replaced_by:
        doc[b"replaced_by"] = command.replaced_by.encode()
    if command.history:
        doc[b"history"] = SetReply((version.encode(), text.encode())
                                   for version, text in command.history)
    if command.arguments:
        doc[b"arguments"] = list(command.arguments)
    if command.subcommands:
        doc[b"subcommands"] = {sub.name.encode(): command_docs(sub)
                               for sub in command.subcommands.values()}
    return doc


def _lookup_full(table: Any, name: bytes) -> Command | None:
    """A command by name, or a subcommand as ``parent|sub``."""
    parent, _, sub = name.lower().partition(b"|")
    command = table.by_name.get(parent)
    if command is None or not sub:
        return command
    return command.subcommands.get(sub)


def _all(table: Any) -> list[Command]:
    return list(table)


def command_(ctx: Client, argv: list[bytes]) -> list:
    """COMMAND"""
    return [command_info(c) for c in _all(ctx.server.table)]


commands.container("COMMAND", handler=command_, arity=-1, flags="loading stale", acl="connection",
                   tips="nondeterministic_output_order",
                   summary="Get array of Redis command details", since="2.8.13",
                   complexity="O(N) where N is the total number of Redis commands")


@commands.command("COMMAND COUNT", arity=2, flags="loading stale", acl="connection",
                  summary="Get total number of Redis commands", since="2.8.13", complexity="O(1)")
def command_count(ctx: Client, argv: list[bytes]) -> int:
    """COMMAND COUNT"""
    return len(ctx.server.table)


@commands.command("COMMAND INFO", arity=-2, flags="loading stale", acl="connection",
                  tips="nondeterministic_output_order",
                  summary="Get array of specific Redis command details, or all when no argument "
                          "is given.", since="2.8.13",
                  complexity="O(N) where N is the number of commands to look up",
                  history=(("7.0.0",
                            "Allowed to be called with no argument to get info on all commands."),))
def command_info_cmd(ctx: Client, argv: list[bytes]) -> list:
    """COMMAND INFO [command-name [command-name ...]]"""
    table = ctx.server.table
    if len(argv) == 2:
        return [command_info(c) for c in _all(table)]
    replies: list = []
    for name in argv[2:]:
        command = _lookup_full(table, name)
        replies.append(None if command is None else command_info(command))
    return replies


@commands.command("COMMAND DOCS", arity=-2, flags="loading stale", acl="connection",
                  tips="nondeterministic_output_order",
                  summary="Get array of specific Redis command documentation", since="7.0.0",
                  complexity="O(N) where N is the number of commands to look up")
def command_docs_cmd(ctx: Client, argv: list[bytes]) -> dict:
    """COMMAND DOCS [command-name [command-name ...]]"""
    table = ctx.server.table
    names = argv[2:] or [c.name.encode() for c in _all(table)]
    docs: dict[bytes, Any] = {}
    for name in names:
        command = _lookup_full(table, name)
        if command is not None:
            docs[command.name.encode()] = command_docs(command)
    return docs


@commands.command("COMMAND LIST", arity=-2, flags="loading stale", acl="connection",
                  tips="nondeterministic_output_order",
                  summary="Get an array of Redis command names", since="7.0.0",
                  complexity="O(N) where N is the total number of Redis commands")
def command_list(ctx: Client, argv: list[bytes]) -> list[bytes]:
    """COMMAND LIST [FILTERBY MODULE module-name | ACLCAT category | PATTERN pattern]"""
    everything: list[Command] = []
    for command in _all(ctx.server.table):
        everything.append(command)
        everything.extend(command.subcommands.values())
    if len(argv) == 2:
        return [c.name.encode() for c in everything]
    if len(argv) != 5 or argv[2].upper() != b"FILTERBY":
        raise SyntaxErr()
    kind, value = argv[3].upper(), argv[4]
    if kind == b"MODULE":
        return []
    if kind == b"ACLCAT":
        category = value.decode("utf-8", "replace").lower()
        if category not in ACL_CATEGORIES:
            return []
        return [c.name.encode() for c in everything if category in c.acl_categories]
    if kind == b"PATTERN":
        return [c.name.encode() for c in everything
                if glob_match(value, c.name.encode(), nocase=True)]
    raise SyntaxErr()


def _set_keys(argv: list[bytes]) -> KeyRefs:
    """SET reads the old value only with GET: its one key spec has variable flags."""
    if any(arg.lower() == b"get" for arg in argv[3:]):
        return [(1, ("RW", "access", "update"))]
    return [(1, ("OW", "update"))]


def _bitfield_keys(argv: list[bytes]) -> KeyRefs:
    """BITFIELD only reads unless a SET or INCRBY (or a syntax error) shows up."""
    i, argc = 2, len(argv)
    while i < argc:
        remaining, arg = argc - i - 1, argv[i].lower()
        if arg == b"get" and remaining >= 2:
            i += 3
        elif arg == b"overflow" and remaining >= 1:
            i += 2
        else:  # SET / INCRBY write; anything else is an error: assume the worst
            return [(1, ("RW", "access", "update"))]
    return [(1, ("RO", "access"))]


# Key extraction for commands whose key specs cannot tell the whole story (Redis's
# getkeys procs): variable flags, or keys the specs cannot locate.
_GETKEYS_PROCS: dict[str, Callable[[list[bytes]], KeyRefs | None]] = {
    "set": _set_keys,
    "bitfield": _bitfield_keys,
    "sort": sort_keys,
    "sort_ro": sort_ro_keys,
}


def getkeys_proc(command: Any) -> Callable[[list[bytes]], KeyRefs | None] | None:
    """The command's own key procedure, where its key specs can't tell everything."""
    return _GETKEYS_PROCS.get(command.name)


def keys_for(command: Any, args: list[bytes]) -> KeyRefs | None:
    """The keys ``args`` (a request for ``command``) names, with their flags: from
    the key specs, or the command's own procedure where the specs can't tell
    (Redis's getKeysFromCommandWithSpecs; ACL checks use it too)."""
    proc = _GETKEYS_PROCS.get(command.name)
    found = None
    variable = any("variable_flags" in spec["flags"] for spec in command.key_specs)
    if command.has_keys() and not (variable and proc):
        found = command.key_references(args)
    if found is None and proc is not None:
        found = proc(args)
    return found


def _keys_of(ctx: Client, argv: list[bytes]) -> KeyRefs:
    """The keys of the command in ``argv[2:]`` with their flags, or Redis's error."""
    args = argv[2:]
    table = ctx.server.table
    command = table.lookup(args[0])
    if command is not None and command.subcommands and len(args) > 1:
        command = command.subcommands.get(args[1].lower())
    if command is None:
        raise err("Invalid command specified")
    if command.name not in _GETKEYS_PROCS and not command.has_keys():
        raise err("The command has no key arguments")
    arity = command.arity
    if (arity > 0 and len(args) != arity) or len(args) < -arity:
        raise err("Invalid number of arguments specified for command")
    found = keys_for(command, args)
    if not found:
        if "no_mandatory_keys" in command.flags:
            return []
        raise err("Invalid arguments specified for command")
    return found


@commands.command("COMMAND GETKEYS", arity=-4, flags="loading stale", acl="connection",
                  summary="Extract keys given a full Redis command", since="2.8.13",
                  complexity="O(N) where N is the number of arguments to the command")
def command_getkeys(ctx: Client, argv: list[bytes]) -> list[bytes]:
    """COMMAND GETKEYS command [arg [arg ...]]"""
    args = argv[2:]
    return [args[pos] for pos, _ in _keys_of(ctx, argv)]


@commands.command("COMMAND GETKEYSANDFLAGS", arity=-4, flags="loading stale", acl="connection",
                  summary="Extract keys and access flags given a full Redis command", since="7.0.0",
                  complexity="O(N) where N is the number of arguments to the command")
def command_getkeysandflags(ctx: Client, argv: list[bytes]) -> list:
    """COMMAND GETKEYSANDFLAGS command [arg [arg ...]]"""
    args = argv[2:]
    return [[args[pos], SetReply(Status(f) for f in KEY_SPEC_FLAGS if f in flags)]
            for pos, flags in _keys_of(ctx, argv)]


_HELP = (
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
)


@commands.command("COMMAND HELP", arity=2, flags="loading stale", acl="connection",
                  summary="Show helpful text about the different subcommands", since="5.0.0",
                  complexity="O(1)")
def command_help(ctx: Client, argv: list[bytes]) -> list[Status]:
    """COMMAND HELP"""
    return [Status(line) for line in _HELP]
