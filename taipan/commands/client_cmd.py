"""CLIENT subcommands: identity, listing, killing, pausing, reply modes."""

from __future__ import annotations

import time
from typing import Any

from taipan.commands.args import to_int
from taipan.commands.connection import validate_client_name
from taipan.commands.table import CommandGroup
from taipan.errors import ReplyError, SyntaxErr, err
from taipan.protocol.reply import OK, Status, Verbatim

commands = CommandGroup("connection")
commands.container("CLIENT", summary="A container for client connection commands",
                   since="2.4.0")

_CLIENT_TYPES = (b"normal", b"master", b"replica", b"slave", b"pubsub")


@commands.command("CLIENT ID", arity=2, flags="noscript loading stale")
def client_id(ctx: Any, argv: list[bytes]) -> int:
    """CLIENT ID"""
    return ctx.id


@commands.command("CLIENT SETNAME", arity=3, flags="noscript loading stale")
def client_setname(ctx: Any, argv: list[bytes]) -> Any:
    """CLIENT SETNAME connection-name"""
    validate_client_name(argv[2])
    ctx.name = argv[2]
    return OK


@commands.command("CLIENT GETNAME", arity=2, flags="noscript loading stale")
def client_getname(ctx: Any, argv: list[bytes]) -> bytes | None:
    """CLIENT GETNAME"""
    return ctx.name or None


@commands.command("CLIENT INFO", arity=2, flags="noscript loading stale",
                  tips="nondeterministic_output")
def client_info(ctx: Any, argv: list[bytes]) -> Verbatim:
    """CLIENT INFO"""
    return Verbatim((ctx.info_line() + "\n").encode())


@commands.command("CLIENT LIST", arity=-2, flags="admin noscript loading stale",
                  tips="nondeterministic_output")
def client_list(ctx: Any, argv: list[bytes]) -> Verbatim:
    """CLIENT LIST [TYPE NORMAL | MASTER | REPLICA | PUBSUB] [ID client-id [client-id ...]]"""
    clients = list(ctx.server.clients.values())
    if len(argv) > 2:
        option = argv[2].upper()
        if option == b"TYPE" and len(argv) == 4:
            kind = argv[3].lower()
            if kind not in _CLIENT_TYPES:
                raise err(f"Unknown client type '{argv[3].decode('utf-8', 'replace')}'")
            clients = [c for c in clients if kind == b"normal"]
        elif option == b"ID" and len(argv) >= 4:
            wanted = []
            for arg in argv[3:]:
                try:
                    wanted.append(to_int(arg))
                except ReplyError:
                    raise err("Invalid client ID") from None
            by_id = ctx.server.clients
            clients = [by_id[i] for i in dict.fromkeys(wanted) if i in by_id]
        else:
            raise SyntaxErr()
    return Verbatim("".join(c.info_line() + "\n" for c in clients).encode())


def _kill_targets(ctx: Any, argv: list[bytes]) -> list[Any]:
    filters: list[tuple[bytes, bytes]] = []
    skip_me = True
    if (len(argv) - 2) % 2:
        raise SyntaxErr()
    for i in range(2, len(argv), 2):
        name, value = argv[i].upper(), argv[i + 1]
        if name == b"SKIPME":
            if value.lower() not in (b"yes", b"no"):
                raise SyntaxErr()
            skip_me = value.lower() == b"yes"
        elif name == b"ID":
            try:
                client_id = to_int(value)
            except ReplyError:
                raise err("client-id should be greater than 0") from None
            if client_id <= 0:
                raise err("client-id should be greater than 0")
            filters.append((name, value))
        elif name == b"TYPE":
            if value.lower() not in _CLIENT_TYPES:
                raise err(f"Unknown client type '{value.decode('utf-8', 'replace')}'")
            filters.append((name, value.lower()))
        elif name in (b"ADDR", b"LADDR", b"USER", b"MAXAGE"):
            filters.append((name, value))
        else:
            raise SyntaxErr()
    targets = []
    now = time.time()
    for client in ctx.server.clients.values():
        if skip_me and client is ctx:
            continue
        if all(_matches(client, name, value, now) for name, value in filters):
            targets.append(client)
    return targets


def _matches(client: Any, name: bytes, value: bytes, now: float) -> bool:
    text = value.decode("utf-8", "replace")
    if name == b"ID":
        return client.id == int(value)
    if name == b"ADDR":
        return client.addr == text
    if name == b"LADDR":
        return client.laddr == text
    if name == b"USER":
        return client.user == text
    if name == b"TYPE":
        return value == b"normal"
    if name == b"MAXAGE":
        return now - client.created >= int(value)
    return False


def kill_client(ctx: Any, client: Any) -> None:
    if client is ctx:
        ctx.close_requested = True  # reply first, then close
    elif client.transport is not None:
        client.transport.close()


@commands.command("CLIENT KILL", arity=-3, flags="admin noscript loading stale")
def client_kill(ctx: Any, argv: list[bytes]) -> Any:
    """CLIENT KILL ip:port | <filter> <value> [<filter> <value> ...]"""
    if len(argv) == 3:  # the old form: one address, OK or an error
        address = argv[2].decode("utf-8", "replace")
        for client in ctx.server.clients.values():
            if client.addr == address:
                kill_client(ctx, client)
                return OK
        raise err("No such client")
    targets = _kill_targets(ctx, argv)
    for client in targets:
        kill_client(ctx, client)
    return len(targets)


@commands.command("CLIENT PAUSE", arity=-3, flags="admin noscript loading stale")
def client_pause(ctx: Any, argv: list[bytes]) -> Any:
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
            raise SyntaxErr()
    elif len(argv) > 4:
        raise SyntaxErr()
    server = ctx.server
    deadline = time.monotonic() + timeout_ms / 1000.0
    # A new pause never shortens an existing one, and ALL wins over WRITE.
    if server.pause_until and time.monotonic() < server.pause_until:
        writes_only = writes_only and server.pause_writes_only
        deadline = max(deadline, server.pause_until)
    server.pause_until = deadline
    server.pause_writes_only = writes_only
    return OK


@commands.command("CLIENT UNPAUSE", arity=2, flags="admin noscript loading stale")
def client_unpause(ctx: Any, argv: list[bytes]) -> Any:
    """CLIENT UNPAUSE"""
    ctx.server.pause_until = 0.0
    return OK


@commands.command("CLIENT REPLY", arity=3, flags="noscript loading stale")
def client_reply(ctx: Any, argv: list[bytes]) -> Any:
    """CLIENT REPLY ON | OFF | SKIP"""
    mode = argv[2].upper()
    if mode == b"ON":
        ctx.reply_mode = "on"
        return OK
    if mode == b"OFF":
        ctx.reply_mode = "off"
        return None
    if mode == b"SKIP":
        if ctx.reply_mode == "on":
            ctx.reply_mode = "skip-arm"
        return None
    raise SyntaxErr()


@commands.command("CLIENT NO-EVICT", arity=3, flags="admin noscript loading stale")
def client_no_evict(ctx: Any, argv: list[bytes]) -> Any:
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
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "    * MAXAGE <maxage>",
    "      Kill connections older than the specified age.",
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
    "    Print this help.",
)


@commands.command("CLIENT HELP", arity=2, flags="loading stale")
def client_help(ctx: Any, argv: list[bytes]) -> list[Status]:
    """CLIENT HELP"""
    return [Status(line) for line in _HELP]
