"""Connection commands: PING, ECHO, SELECT, AUTH, HELLO, QUIT, RESET."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.acl.users import DENIED_AUTH
from taipan.commands.args import to_int
from taipan.commands.table import CommandGroup
from taipan.errors import WRONGPASS, ReplyError, err, wrong_arity
from taipan.instance import REDIS_VERSION
from taipan.messaging.monitor import redact
from taipan.protocol.reply import OK, PONG, Status

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("connection")


@commands.command("PING", arity=-1, flags="fast",
                  tips="request_policy:all_shards response_policy:all_succeeded",
                  summary="Ping the server", since="1.0.0", complexity="O(1)")
def ping(ctx: Client, argv: list[bytes]) -> Any:
    """PING [message]"""
    if len(argv) > 2:
        raise wrong_arity("ping")
    if ctx.subscribed and ctx.resp == 2:
        # A RESP2 subscriber reads everything as arrays: PING answers like a message.
        return [b"pong", argv[1] if len(argv) == 2 else b""]
    return argv[1] if len(argv) == 2 else PONG


@commands.command("ECHO", arity=2, flags="loading stale fast", summary="Echo the given string",
                  since="1.0.0", complexity="O(1)")
def echo(ctx: Client, argv: list[bytes]) -> bytes:
    """ECHO message"""
    return argv[1]


@commands.command("SELECT", arity=2, flags="loading stale fast",
                  summary="Change the selected database for the current connection", since="1.0.0",
                  complexity="O(1)")
def select(ctx: Client, argv: list[bytes]) -> Any:
    """SELECT index"""
    index = to_int(argv[1])
    databases = ctx.server.databases
    if not 0 <= index < len(databases):
        raise ReplyError("ERR DB index is out of range")
    ctx.db = databases[index]
    return OK


def check_password(ctx: Client, username: bytes, password: bytes, argv0: bytes) -> None:
    """Authenticate ``ctx`` as ``username`` or raise WRONGPASS (and log it in the ACL
    LOG, the request's name as the object)."""
    acl = ctx.server.acl
    user = acl.check_credentials(username, password)
    if user is None:
        context = "multi" if ctx.multi is not None else "toplevel"
        acl.record(DENIED_AUTH, context, argv0, username, ctx.info_line())
        raise ReplyError(WRONGPASS)
    ctx.user = user
    ctx.set_authenticated(True)


@commands.command("AUTH", arity=-2, flags="noscript loading stale fast no_auth allow_busy",
                  summary="Authenticate to the server", since="1.0.0",
                  complexity="O(N) where N is the number of passwords defined for the user",
                  history=(("6.0.0", "Added ACL style (username and password)."),))
def auth(ctx: Client, argv: list[bytes]) -> Any:
    """AUTH [username] password"""
    if len(argv) > 3:
        raise ReplyError("ERR syntax error")
    credentials = argv[1:]
    for index in range(1, len(argv)):  # MONITOR shows "(redacted)", even on errors
        redact(argv, index)
    if len(credentials) == 1:
        if ctx.server.acl.default.nopass:
            raise err("AUTH <password> called without any password configured for the "
                      "default user. Are you sure your configuration is correct?")
        check_password(ctx, b"default", credentials[0], argv[0])
    else:
        check_password(ctx, credentials[0], credentials[1], argv[0])
    return OK


@commands.command("HELLO", arity=-1, flags="noscript loading stale fast no_auth allow_busy",
                  summary="Handshake with Redis", since="6.0.0", complexity="O(1)",
                  history=(("6.2.0",
                            "`protover` made optional; when called without arguments the "
                            "command reports the current connection's context."),))
def hello(ctx: Client, argv: list[bytes]) -> Any:
    """HELLO [protover [AUTH username password] [SETNAME clientname]]"""
    version = ctx.resp
    if len(argv) >= 2:
        try:
            version = to_int(argv[1])
        except ReplyError:
            raise err("Protocol version is not an integer or out of range") from None
        if version not in (2, 3):
            raise ReplyError("NOPROTO unsupported protocol version")
    name: bytes | None = None
    i = 2
    while i < len(argv):
        option = argv[i].upper()
        remaining = len(argv) - i - 1
        if option == b"AUTH" and remaining >= 2:
            username, password = argv[i + 1], argv[i + 2]
            redact(argv, i + 1)  # hidden from MONITOR, even when they are wrong
            redact(argv, i + 2)
            check_password(ctx, username, password, argv[0])
            i += 3
        elif option == b"SETNAME" and remaining >= 1:
            name = argv[i + 1]
            i += 2
        else:
            raise err(f"Syntax error in HELLO option '{argv[i].decode('utf-8', 'replace')}'")
    if not ctx.authenticated:
        raise ReplyError("NOAUTH HELLO must be called with the client already authenticated, "
                         "otherwise the HELLO AUTH <user> <pass> option can be used to "
                         "authenticate the client and select the RESP protocol version at the "
                         "same time")
    if name is not None:
        validate_client_name(name)
        ctx.name = name
    ctx.resp = version
    return {
        b"server": b"redis",
        b"version": REDIS_VERSION.encode(),
        b"proto": version,
        b"id": ctx.id,
        b"mode": b"standalone",
        b"role": b"master",
        b"modules": [],
    }


def validate_client_name(name: bytes) -> None:
    if any(c < 0x21 or c > 0x7E for c in name):
        raise err("Client names cannot contain spaces, newlines or special characters.")


@commands.command("QUIT", arity=-1, flags="noscript loading stale fast no_auth allow_busy",
                  summary="Close the connection", since="1.0.0", complexity="O(1)")
def quit_(ctx: Client, argv: list[bytes]) -> Any:
    """QUIT"""
    ctx.close_requested = True
    return OK


@commands.command("RESET", arity=1, flags="noscript loading stale fast no_auth allow_busy",
                  summary="Reset the connection", since="6.2.0", complexity="O(1)")
def reset(ctx: Client, argv: list[bytes]) -> Status:
    """RESET"""
    server = ctx.server
    if ctx.monitor:
        ctx.monitor = False
        server.monitors.remove(ctx)
        server.refresh_restrictions()
    if ctx.tracking is not None:
        server.tracking.disable(ctx)
    if ctx.subscribed:
        server.pubsub.drop_client(ctx)
    ctx.multi = None
    ctx.multi_failed = False
    ctx.unwatch_all()
    ctx.db = ctx.server.databases[0]
    ctx.resp = 2
    ctx.name = b""
    ctx.reply_mode = "on"
    ctx.no_evict = False
    acl = ctx.server.acl
    ctx.user = acl.default
    ctx.set_authenticated(not acl.auth_required())
    return Status("RESET")
