"""CLIENT subcommands: identity, listing, killing, pausing, reply modes."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from taipan.commands.args import to_int
from taipan.commands.connection import validate_client_name
from taipan.commands.table import CommandGroup
from taipan.errors import ReplyError, SyntaxErr, err
from taipan.protocol.reply import OK, Frames, Status, Verbatim

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("connection")
commands.container("CLIENT", summary="A container for client connection commands", since="2.4.0")

_CLIENT_TYPES = (b"normal", b"master", b"replica", b"slave", b"pubsub")


@commands.command("CLIENT ID", arity=2, flags="noscript loading stale",
                  summary="Returns the client ID for the current connection", since="5.0.0",
                  complexity="O(1)")
def client_id(ctx: Client, argv: list[bytes]) -> int:
    """CLIENT ID"""
    return ctx.id


@commands.command("CLIENT SETNAME", arity=3, flags="noscript loading stale",
                  summary="Set the current connection name", since="2.6.9", complexity="O(1)")
def client_setname(ctx: Client, argv: list[bytes]) -> Any:
    """CLIENT SETNAME connection-name"""
    validate_client_name(argv[2])
    ctx.name = argv[2]
    return OK


@commands.command("CLIENT GETNAME", arity=2, flags="noscript loading stale",
                  summary="Get the current connection name", since="2.6.9", complexity="O(1)")
def client_getname(ctx: Client, argv: list[bytes]) -> bytes | None:
    """CLIENT GETNAME"""
    return ctx.name or None


@commands.command("CLIENT INFO", arity=2, flags="noscript loading stale",
                  tips="nondeterministic_output",
                  summary="Returns information about the current client connection.", since="6.2.0",
                  complexity="O(1)")
def client_info(ctx: Client, argv: list[bytes]) -> Verbatim:
    """CLIENT INFO"""
    return Verbatim((ctx.info_line() + "\n").encode())


@commands.command("CLIENT LIST", arity=-2, flags="admin noscript loading stale",
                  tips="nondeterministic_output", summary="Get the list of client connections",
                  since="2.4.0", complexity="O(N) where N is the number of client connections",
                  history=(("2.8.12", "Added unique client `id` field."),
                           ("5.0.0", "Added optional `TYPE` filter."),
                           ("6.0.0", "Added `user` field."),
                           ("6.2.0",
                            "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the "
                            "optional `ID` filter."),
                           ("7.0.0", "Added `resp`, `multi-mem`, `rbs` and `rbp` fields."),
                           ("7.0.3", "Added `ssub` field.")))
def client_list(ctx: Client, argv: list[bytes]) -> Verbatim:
    """CLIENT LIST [TYPE NORMAL | MASTER | REPLICA | PUBSUB] [ID client-id [client-id ...]]"""
    clients = list(ctx.server.clients.values())
    if len(argv) > 2:
        option = argv[2].upper()
        if option == b"TYPE" and len(argv) == 4:
            kind = argv[3].lower()
            if kind not in _CLIENT_TYPES:
                raise err(f"Unknown client type '{argv[3].decode('utf-8', 'replace')}'")
            wanted_type = "replica" if kind == b"slave" else kind.decode()
            clients = [c for c in clients if client_type(c) == wanted_type]
        elif option == b"ID" and len(argv) >= 4:
            wanted = []
            for arg in argv[3:]:
                try:
                    wanted.append(to_int(arg))
                except ReplyError:
                    raise err("Invalid client ID") from None
            by_id = ctx.server.clients
            clients = [by_id[i] for i in wanted if i in by_id]
        else:
            raise SyntaxErr()
    return Verbatim("".join(c.info_line() + "\n" for c in clients).encode())


def _kill_filters(ctx: Client, argv: list[bytes]) -> tuple[dict[bytes, Any], bool]:
    """The ``<filter> <value>`` pairs of CLIENT KILL's new form (the last one wins)."""
    filters: dict[bytes, Any] = {}
    skip_me = True
    for i in range(2, len(argv), 2):
        name = argv[i].upper()
        if i + 1 >= len(argv):
            raise SyntaxErr()
        value = argv[i + 1]
        if name == b"ID":
            try:
                client_id = to_int(value)
            except ReplyError:
                client_id = 0
            if client_id <= 0:
                raise err("client-id should be greater than 0")
            filters[name] = client_id
        elif name == b"TYPE":
            kind = value.lower()
            if kind not in _CLIENT_TYPES:
                raise err(f"Unknown client type '{value.decode('utf-8', 'replace')}'")
            filters[name] = "replica" if kind == b"slave" else kind.decode()
        elif name in (b"ADDR", b"LADDR"):
            filters[name] = value.decode("utf-8", "surrogateescape")
        elif name == b"USER":
            user = ctx.server.acl.get(value)
            if user is None:
                raise err(f"No such user '{value.decode('utf-8', 'surrogateescape')}'")
            filters[name] = user
        elif name == b"SKIPME":
            if value.lower() not in (b"yes", b"no"):
                raise SyntaxErr()
            skip_me = value.lower() == b"yes"
        else:
            raise SyntaxErr()
    return filters, skip_me


def client_type(client: Any) -> str:
    """normal | replica | master | pubsub, as CLIENT LIST TYPE and KILL TYPE see it."""
    return getattr(client, "client_type", None) or (
        "pubsub" if client.subscribed else "normal")


def _matches(client: Any, filters: dict[bytes, Any]) -> bool:
    checks = {b"ID": client.id, b"ADDR": client.addr, b"LADDR": client.laddr,
              b"USER": client.user, b"TYPE": client_type(client)}
    return all(checks[name] == wanted for name, wanted in filters.items())


def kill_client(ctx: Client, client: Any) -> None:
    if client is ctx:
        ctx.close_requested = True  # reply first, then close
    elif client.transport is not None:
        client.transport.close()


@commands.command("CLIENT KILL", arity=-3, flags="admin noscript loading stale",
                  summary="Kill the connection of a client", since="2.4.0",
                  complexity="O(N) where N is the number of client connections",
                  history=(("2.8.12", "Added new filter format."), ("2.8.12", "`ID` option."),
                           ("3.2.0", "Added `master` type in for `TYPE` option."),
                           ("5.0.0",
                            "Replaced `slave` `TYPE` with `replica`. `slave` still supported for "
                            "backward compatibility."), ("6.2.0", "`LADDR` option.")))
def client_kill(ctx: Client, argv: list[bytes]) -> Any:
    """CLIENT KILL ip:port | <filter> <value> [<filter> <value> ...]"""
    if len(argv) == 3:  # the old form: one address, OK or an error
        address = argv[2].decode("utf-8", "surrogateescape")
        for client in ctx.server.clients.values():
            if client.addr == address:
                kill_client(ctx, client)
                return OK
        raise err("No such client")
    filters, skip_me = _kill_filters(ctx, argv)
    targets = [client for client in ctx.server.clients.values()
               if not (skip_me and client is ctx) and _matches(client, filters)]
    for client in targets:
        kill_client(ctx, client)
    return len(targets)


@commands.command("CLIENT PAUSE", arity=-3, flags="admin noscript loading stale",
                  summary="Stop processing commands from clients for some time", since="2.9.50",
                  complexity="O(1)",
                  history=(("6.2.0",
                            "`CLIENT PAUSE WRITE` mode added along with the `mode` option."),))
def client_pause(ctx: Client, argv: list[bytes]) -> Any:
    """CLIENT PAUSE timeout [WRITE | ALL]"""
    try:
        timeout_ms = to_int(argv[2])
    except ReplyError:
        raise err("timeout is not an integer or out of range") from None
    if timeout_ms < 0:
        raise err("timeout is negative")
    writes_only = False
    if len(argv) == 4:
        mode = argv[3].upper()
        if mode == b"WRITE":
            writes_only = True
        elif mode != b"ALL":
            raise err("CLIENT PAUSE mode must be WRITE or ALL")
    elif len(argv) > 4:
        text = argv[1].decode("utf-8", "replace")
        raise err(f"unknown subcommand or wrong number of arguments for '{text}'. "
                  "Try CLIENT HELP.")
    server = ctx.server
    deadline = time.monotonic() + timeout_ms / 1000.0
    # A new pause never shortens an existing one, and ALL wins over WRITE.
    if server.pause_until and time.monotonic() < server.pause_until:
        writes_only = writes_only and server.pause_writes_only
        deadline = max(deadline, server.pause_until)
    server.pause_until = deadline
    server.pause_writes_only = writes_only
    return OK


@commands.command("CLIENT UNPAUSE", arity=2, flags="admin noscript loading stale",
                  summary="Resume processing of clients that were paused", since="6.2.0",
                  complexity="O(N) Where N is the number of paused clients")
def client_unpause(ctx: Client, argv: list[bytes]) -> Any:
    """CLIENT UNPAUSE"""
    ctx.server.pause_until = 0.0
    return OK


@commands.command("CLIENT REPLY", arity=3, flags="noscript loading stale",
                  summary="Instruct the server whether to reply to commands", since="3.2.0",
                  complexity="O(1)")
def client_reply(ctx: Client, argv: list[bytes]) -> Any:
    """CLIENT REPLY ON | OFF | SKIP"""
    mode = argv[2].upper()
    if mode == b"ON":
        ctx.reply_mode = "on"
        return OK
    # OFF and SKIP answer nothing at all (inside EXEC too, where Redis's array then
    # holds one element less than its header announces).
    if mode == b"OFF":
        ctx.reply_mode = "off"
        return Frames()
    if mode == b"SKIP":
        if ctx.reply_mode != "off":  # re-arms even while this very reply is skipped
            ctx.reply_mode = "skip-arm"
        return Frames()
    raise SyntaxErr()


@commands.command("CLIENT UNBLOCK", arity=-3, flags="admin noscript loading stale",
                  summary="Unblock a client blocked in a blocking command from a different "
                          "connection", since="5.0.0",
                  complexity="O(log N) where N is the number of client connections")
def client_unblock(ctx: Client, argv: list[bytes]) -> int:
    """CLIENT UNBLOCK client-id [TIMEOUT | ERROR]"""
    client_id = to_int(argv[2])
    with_error = False
    if len(argv) == 4:
        reason = argv[3].upper()
        if reason not in (b"TIMEOUT", b"ERROR"):
            raise err("CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
        with_error = reason == b"ERROR"
    elif len(argv) > 4:
        raise SyntaxErr()
    target = ctx.server.clients.get(client_id)
    if target is None or ctx.server.unblock_client is None:
        return 0
    return 1 if ctx.server.unblock_client(target, with_error) else 0


@commands.command("CLIENT NO-EVICT", arity=3, flags="admin noscript loading stale",
                  summary="Set client eviction mode for the current connection", since="7.0.0",
                  complexity="O(1)")
def client_no_evict(ctx: Client, argv: list[bytes]) -> Any:
    """CLIENT NO-EVICT ON | OFF"""
    mode = argv[2].upper()
    if mode not in (b"ON", b"OFF"):
        raise SyntaxErr()
    ctx.no_evict = mode == b"ON"
    return OK


_HELP = (
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "HELP",
    "    Prints this help.",
)


@commands.command("CLIENT HELP", arity=2, flags="loading stale",
                  summary="Show helpful text about the different subcommands", since="5.0.0",
                  complexity="O(1)")
def client_help(ctx: Client, argv: list[bytes]) -> list[Status]:
    """CLIENT HELP"""
    return [Status(line) for line in _HELP]
