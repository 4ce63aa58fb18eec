"""ACL SETUSER / GETUSER / DELUSER / LIST / USERS / WHOAMI / CAT / GENPASS / LOG /
DRYRUN / SAVE / LOAD / HELP (Redis's aclCommand). The users, rules and checks are
in ``taipan/acl``."""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

from taipan.acl.check import OK as ACL_OK
from taipan.acl.check import check
from taipan.acl.rules import USER_FLAGS, Selector, has_spaces
from taipan.acl.users import DENIED_CMD, DENIED_KEY, REASONS
from taipan.commands.args import to_int
from taipan.commands.table import ACL_CATEGORIES, CommandGroup
from taipan.errors import ReplyError, err
from taipan.messaging.monitor import redact
from taipan.protocol.reply import OK, SetReply, Status

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("server")
commands.container("ACL", summary="A container for Access List Control commands ",
                   since="6.0.0", flags="sentinel")

_FLAGS = "noscript loading stale sentinel"
_ADMIN = "admin " + _FLAGS
_NO_ACL_FILE = ("This Redis instance is not configured to use an ACL file. You may want to "
                "specify users via the ACL SETUSER command and then issue a CONFIG REWRITE "
                "(assuming you have a Redis configuration file set) in order to store users "
                "in the Redis configuration.")
_GENPASS_MAX_BITS = 4096


def _text(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")


def _syntax(argv: list[bytes]) -> ReplyError:
    """Redis's answer to a subcommand with arguments it takes no such number of."""
    return err(f"unknown subcommand or wrong number of arguments for '{_text(argv[1])}'. "
               "Try ACL HELP.")


@commands.command("ACL SETUSER", arity=-3, flags=_ADMIN,
                  summary="Modify or create the rules for a specific ACL user", since="6.0.0",
                  complexity="O(N). Where N is the number of rules provided.",
                  history=(("6.2.0", "Added Pub/Sub channel patterns."),
                           ("7.0.0", "Added selectors and key based permissions.")))
def acl_setuser(ctx: Client, argv: list[bytes]) -> Status:
    """ACL SETUSER username [rule [rule ...]]"""
    name, rules = argv[2], argv[3:]
    for index in range(2, len(argv)):  # nothing about the user reaches MONITOR/SLOWLOG
        redact(argv, index)
    if has_spaces(name):
        raise err("Usernames can't contain spaces or null characters")
    server = ctx.server
    error = server.acl.set_user(name, rules)
    if error is not None:
        raise err(error)
    if name == b"default":
        server.default_user_changed()
    return OK


@commands.command("ACL DELUSER", arity=-3, flags=_ADMIN,
                  summary="Remove the specified ACL users and the associated rules",
                  since="6.0.0", complexity="O(1) amortized time considering the typical user.")
def acl_deluser(ctx: Client, argv: list[bytes]) -> int:
    """ACL DELUSER username [username ...]"""
    if b"default" in argv[2:]:
        raise err("The 'default' user cannot be removed")
    return ctx.server.acl.delete(argv[2:])


def _selector_fields(selector: Selector, index: Any) -> dict[bytes, Any]:
    return {
        b"commands": selector.describe_commands(index).encode(),
        b"keys": " ".join(selector.describe_keys()).encode(),
        b"channels": " ".join(selector.describe_channels()).encode(),
    }


@commands.command("ACL GETUSER", arity=3, flags=_ADMIN,
                  summary="Get the rules for a specific ACL user", since="6.0.0",
                  complexity="O(N). Where N is the number of password, command and pattern "
                             "rules that the user has.",
                  history=(("6.2.0", "Added Pub/Sub channel patterns."),
                           ("7.0.0", "Added selectors and changed the format of key and "
                                     "channel patterns from a list to their rule "
                                     "representation.")))
def acl_getuser(ctx: Client, argv: list[bytes]) -> dict[bytes, Any] | None:
    """ACL GETUSER username"""
    acl = ctx.server.acl
    user = acl.get(argv[2])
    if user is None:
        return None
    reply: dict[bytes, Any] = {
        b"flags": SetReply(flag.encode() for flag in USER_FLAGS if flag in user.flags),
        b"passwords": [digest.encode() for digest in user.passwords],
    }
    reply.update(_selector_fields(user.root, acl.index))
    reply[b"selectors"] = [_selector_fields(selector, acl.index)
                           for selector in user.selectors[1:]]
    return reply


@commands.command("ACL LIST", arity=2, flags=_ADMIN,
                  summary="List the current ACL rules in ACL config file format",
                  since="6.0.0", complexity="O(N). Where N is the number of configured users.")
def acl_list(ctx: Client, argv: list[bytes]) -> list[bytes]:
    """ACL LIST"""
    return [line.encode("utf-8", "surrogateescape") for line in ctx.server.acl.config_lines()]


@commands.command("ACL USERS", arity=2, flags=_ADMIN,
                  summary="List the username of all the configured ACL rules", since="6.0.0",
                  complexity="O(N). Where N is the number of configured users.")
def acl_users(ctx: Client, argv: list[bytes]) -> list[bytes]:
    """ACL USERS"""
    return [user.name for user in ctx.server.acl.sorted_users()]


@commands.command("ACL WHOAMI", arity=2, flags=_FLAGS,
                  summary="Return the name of the user associated to the current connection",
                  since="6.0.0", complexity="O(1)")
def acl_whoami(ctx: Client, argv: list[bytes]) -> bytes:
    """ACL WHOAMI"""
    return ctx.user.name


@commands.command("ACL CAT", arity=-2, flags=_FLAGS,
                  summary="List the ACL categories or the commands inside a category",
                  since="6.0.0",
                  complexity="O(1) since the categories and commands are a fixed set.")
def acl_cat(ctx: Client, argv: list[bytes]) -> list[bytes]:
    """ACL CAT [categoryname]"""
    if len(argv) > 3:
        raise _syntax(argv)
    if len(argv) == 2:
        return [category.encode() for category in ACL_CATEGORIES]
    category = _text(argv[2]).lower()
    index = ctx.server.acl.index
    if category not in index.by_category:
        raise err(f"Unknown category '{_text(argv[2])[:128]}'")
    return [name.encode() for name in index.by_category[category]]


@commands.command("ACL GENPASS", arity=-2, flags=_FLAGS,
                  summary="Generate a pseudorandom secure password to use for ACL users",
                  since="6.0.0", complexity="O(1)")
def acl_genpass(ctx: Client, argv: list[bytes]) -> bytes:
    """ACL GENPASS [bits]"""
    if len(argv) > 3:
        raise _syntax(argv)
    bits = to_int(argv[2]) if len(argv) == 3 else 256
    if bits <= 0 or bits > _GENPASS_MAX_BITS:
        raise err("ACL GENPASS argument must be the number of bits for the output password, "
                  f"a positive number up to {_GENPASS_MAX_BITS}")
    chars = (bits + 3) // 4
    return secrets.token_hex((chars + 1) // 2)[:chars].encode()


@commands.command("ACL LOG", arity=-2, flags=_ADMIN,
                  summary="List latest events denied because of ACLs in place", since="6.0.0",
                  complexity="O(N) with N being the number of entries shown.")
def acl_log(ctx: Client, argv: list[bytes]) -> Any:
    """ACL LOG [count | RESET]"""
    if len(argv) > 3:
        raise _syntax(argv)
    acl = ctx.server.acl
    count = 10
    if len(argv) == 3:
        if argv[2].lower() == b"reset":
            acl.log.clear()
            return OK
        count = max(to_int(argv[2]), 0)
    now = int(time.time() * 1000)  # (whole milliseconds, as Redis's mstime)
    return [{
        b"count": entry.count,
        b"reason": REASONS[entry.reason].encode(),
        b"context": entry.context.encode(),
        b"object": entry.object,
        b"username": entry.username,
        b"age-seconds": (now - entry.ctime_ms) / 1000,
        b"client-info": entry.client_info.encode(),
    } for entry in list(acl.log)[:count]]


@commands.command("ACL DRYRUN", arity=-4, flags=_ADMIN,
                  summary="Returns whether the user can execute the given command without "
                          "executing the command.", since="7.0.0", complexity="O(1).")
def acl_dryrun(ctx: Client, argv: list[bytes]) -> Any:
    """ACL DRYRUN username command [arg [arg ...]]"""
    acl = ctx.server.acl
    user = acl.get(argv[2])
    if user is None:
        raise err(f"User '{_text(argv[2])}' not found")
    request = argv[3:]
    command = ctx.server.table.lookup(request[0])
    if command is not None and command.subcommands and len(request) > 1:
        command = command.subcommands.get(request[1].lower())
    if command is None:
        raise err(f"Command '{_text(argv[3])}' not found")
    arity = command.arity
    if (arity > 0 and len(request) != arity) or len(request) < -arity:
        raise err(f"wrong number of arguments for '{command.name}' command")
    result, position = check(user, command, request)
    if result == ACL_OK:
        return OK
    if result == DENIED_CMD:
        return f"This user has no permissions to run the '{command.name}' command".encode()
    kind = "key" if result == DENIED_KEY else "channel"
    return (f"This user has no permissions to access the '{_text(request[position])}' "
            f"{kind}").encode("utf-8", "surrogateescape")


def _acl_file(ctx: Client) -> str:
    path = ctx.server.config.aclfile
    if not path:
        raise err(_NO_ACL_FILE)
    return path


@commands.command("ACL SAVE", arity=2, flags=_ADMIN,
                  summary="Save the current ACL rules in the configured ACL file",
                  since="6.0.0", complexity="O(N). Where N is the number of configured users.")
def acl_save(ctx: Client, argv: list[bytes]) -> Status:
    """ACL SAVE"""
    if not ctx.server.acl.save_file(_acl_file(ctx)):
        raise err("There was an error trying to save the ACLs. Please check the server logs "
                  "for more information")
    return OK


@commands.command("ACL LOAD", arity=2, flags=_ADMIN,
                  summary="Reload the ACLs from the configured ACL file", since="6.0.0",
                  complexity="O(N). Where N is the number of configured users.")
def acl_load(ctx: Client, argv: list[bytes]) -> Status:
    """ACL LOAD"""
    server = ctx.server
    error = server.acl.load_file(_acl_file(ctx))
    if error is not None:
        raise ReplyError("ERR " + error)
    server.default_user_changed()
    return OK


_HELP = (
    "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
    "HELP",
    "    Prints this help.",
)


@commands.command("ACL HELP", arity=2, flags="loading stale sentinel",
                  summary="Show helpful text about the different subcommands", since="6.0.0",
                  complexity="O(1)")
def acl_help(ctx: Client, argv: list[bytes]) -> list[Status]:
    """ACL HELP"""
    return [Status(line) for line in _HELP]
