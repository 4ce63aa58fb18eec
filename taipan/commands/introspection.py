"""COMMAND and its subcommands, generated from the declarative table."""

from __future__ import annotations

from typing import Any

from taipan.commands.table import ACL_CATEGORIES, Command, CommandGroup
from taipan.errors import ReplyError, SyntaxErr, err
from taipan.glob import glob_match
from taipan.protocol.reply import Status

commands = CommandGroup("server")


def default_key_specs(command: Command) -> tuple[dict, ...]:
    """Key specs for a command declared only with (first, last, step)."""
    if command.key_specs or command.first_key <= 0:
        return command.key_specs
    if command.last_key < 0:
        last = command.last_key
    else:
        last = command.last_key - command.first_key
    flags = ["RO", "access"] if "readonly" in command.flags else ["RW", "update"]
    return ({
        "flags": flags,
        "begin_search": {"type": "index", "spec": {"index": command.first_key}},
        "find_keys": {"type": "range",
                      "spec": {"lastkey": last, "keystep": command.key_step, "limit": 0}},
    },)


def _spec_reply(spec: dict) -> dict:
    reply: dict[bytes, Any] = {}
    for name, value in spec.items():
        if name == "flags":
            reply[b"flags"] = set(Status(flag) for flag in value)
        elif isinstance(value, dict):
            reply[name.encode()] = _spec_reply(value)
        elif isinstance(value, str):
            reply[name.encode()] = value.encode()
        else:
            reply[name.encode()] = value
    return reply


def command_info(command: Command) -> list:
    return [
        command.name.encode(),
        command.arity,
        [Status(flag) for flag in command.flags],
        command.first_key,
        command.last_key,
        command.key_step,
        [Status("@" + category) for category in command.acl_categories],
        [Status(tip) for tip in command.tips],
        [_spec_reply(spec) for spec in default_key_specs(command)],
        [command_info(sub) for sub in command.subcommands.values()],
    ]


def command_docs(command: Command) -> dict:
    doc: dict[bytes, Any] = {
        b"summary": command.summary.encode(),
        b"since": command.since.encode(),
        b"group": command.group.encode(),
        b"complexity": command.complexity.encode(),
    }
    if command.doc_flags:
        doc[b"doc_flags"] = {Status(flag) for flag in command.doc_flags}
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


def command_(ctx: Any, argv: list[bytes]) -> list:
    """COMMAND"""
    return [command_info(c) for c in _all(ctx.server.table)]


commands.container("COMMAND", handler=command_, arity=-1, flags="loading stale",
                   acl="connection", tips="nondeterministic_output_order",
                   summary="Get array of Redis command details", since="2.8.13",
                   complexity="O(N) where N is the total number of Redis commands")


@commands.command("COMMAND COUNT", arity=2, flags="loading stale", acl="connection")
def command_count(ctx: Any, argv: list[bytes]) -> int:
    """COMMAND COUNT"""
    return len(ctx.server.table)


@commands.command("COMMAND INFO", arity=-2, flags="loading stale", acl="connection",
                  tips="nondeterministic_output_order")
def command_info_cmd(ctx: Any, argv: list[bytes]) -> list:
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
                  tips="nondeterministic_output_order")
def command_docs_cmd(ctx: Any, argv: list[bytes]) -> dict:
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
                  tips="nondeterministic_output_order")
def command_list(ctx: Any, argv: list[bytes]) -> list[bytes]:
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
        return [c.name.encode() for c in everything if glob_match(value, c.name.encode(), nocase=True)]
    raise SyntaxErr()


def _getkeys(ctx: Any, argv: list[bytes]) -> tuple[Command, list[int]]:
    args = argv[2:]
    dispatcher = ctx.server.dispatcher
    resolved = dispatcher.resolve(args)
    if isinstance(resolved, ReplyError):
        if resolved.message.startswith("ERR wrong number"):
            raise err("Invalid number of arguments specified for command")
        raise err("Invalid command specified")
    positions = resolved.key_positions(args)
    if not positions:
        raise err("The command has no key arguments")
    return resolved, positions


@commands.command("COMMAND GETKEYS", arity=-3, flags="loading stale", acl="connection")
def command_getkeys(ctx: Any, argv: list[bytes]) -> list[bytes]:
    """COMMAND GETKEYS command [arg [arg ...]]"""
    _, positions = _getkeys(ctx, argv)
    args = argv[2:]
    return [args[i] for i in positions]


@commands.command("COMMAND GETKEYSANDFLAGS", arity=-3, flags="loading stale", acl="connection")
def command_getkeysandflags(ctx: Any, argv: list[bytes]) -> list:
    """COMMAND GETKEYSANDFLAGS command [arg [arg ...]]"""
    command, positions = _getkeys(ctx, argv)
    args = argv[2:]
    specs = default_key_specs(command)
    flags = specs[0]["flags"] if specs else []
    return [[args[i], {Status(f) for f in flags}] for i in positions]


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


@commands.command("COMMAND HELP", arity=2, flags="loading stale", acl="connection")
def command_help(ctx: Any, argv: list[bytes]) -> list[Status]:
    """COMMAND HELP"""
    return [Status(line) for line in _HELP]
