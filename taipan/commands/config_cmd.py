"""CONFIG GET / SET / RESETSTAT / REWRITE / HELP over the typed parameter table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.commands.table import CommandGroup
from taipan.config import ConfigError, Param, split_words
from taipan.errors import ReplyError, SyntaxErr, err
from taipan.messaging.monitor import redact
from taipan.protocol.reply import OK, Status

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("server")
commands.container("CONFIG", summary="A container for server configuration commands", since="2.0.0")


@commands.command("CONFIG GET", arity=-3, flags="admin noscript loading stale",
                  summary="Get the values of configuration parameters", since="2.0.0",
                  complexity="O(N) when N is the number of configuration parameters provided",
                  history=(("7.0.0",
                            "Added the ability to pass multiple pattern parameters in one call"),))
def config_get(ctx: Client, argv: list[bytes]) -> dict:
    """CONFIG GET parameter [parameter ...]"""
    config = ctx.server.config
    found: dict[bytes, bytes] = {}
    seen: set[str] = set()  # names already answered, compared without case
    for pattern in argv[2:]:
        for name, value in config.matching(pattern).items():
            if name.lower() not in seen:
                seen.add(name.lower())
                found[name.encode("utf-8", "surrogateescape")] = value.encode(
                    "utf-8", "surrogateescape")
    return found


def _protected_allowed(ctx: Client) -> bool:
    setting = ctx.server.config.enable_protected_configs
    return setting == "yes" or (setting == "local" and is_local_client(ctx))


def is_local_client(ctx: Client) -> bool:
    """A unix-socket connection or one from exactly 127.0.0.1 or ::1 (Redis's
    islocalClient, for the ``local`` settings)."""
    if ctx.kind == "unix":
        return True
    host = ctx.addr.rpartition(":")[0].strip("[]")
    return host in ("127.0.0.1", "::1")


def _failed(name: str, reason: str) -> ReplyError:
    return err(f"CONFIG SET failed (possibly related to argument '{name}') - {reason}")


@commands.command("CONFIG SET", arity=-4, flags="admin noscript loading stale",
                  tips="request_policy:all_nodes response_policy:all_succeeded",
                  summary="Set configuration parameters to the given values", since="2.0.0",
                  complexity="O(N) when N is the number of configuration parameters provided",
                  history=(("7.0.0", "Added the ability to set multiple parameters in one call."),))
def config_set(ctx: Client, argv: list[bytes]) -> Any:
    """CONFIG SET parameter value [parameter value ...]"""
    if len(argv) % 2:
        raise SyntaxErr()
    config = ctx.server.config
    # Credentials never reach MONITOR or the slow log, even from a failing call.
    original = list(argv)
    for i in range(2, len(argv), 2):
        if argv[i].lower() in _SENSITIVE:
            redact(argv, i + 1)
    argv = original
    # First every name: unknown, immutable, protected, duplicate (in argument order).
    pairs: list[tuple[str, Param, str]] = []
    seen: set[str] = set()
    for i in range(2, len(argv), 2):
        name = argv[i].decode("utf-8", "surrogateescape")
        param = config.lookup(name)
        if param is None:
            raise err(f"Unknown option or number of arguments for CONFIG SET - '{name}'")
        if not param.mutable:
            raise _failed(name, "can't set immutable config")
        if param.protected and not _protected_allowed(ctx):
            raise _failed(name, "can't set protected config")
        if name.lower() in seen:
            raise _failed(name, "duplicate parameter")
        seen.add(name.lower())
        pairs.append((name.lower(), param, argv[i + 1].decode("utf-8", "surrogateescape")))
    # Then every value, before anything changes: all or nothing.
    parsed: list[tuple[str, Param, Any]] = []
    for name, param, text in pairs:
        words = split_words(text) if param.multi_arg else [text]
        try:
            parsed.append((name, param, config.parse(param, words)))
        except ConfigError as exc:
            raise _failed(name, str(exc)) from None
    previous = [(param, config.get(param.name)) for _, param, _ in parsed]
    for _, param, value in parsed:
        config.store(param, value)
    applied: list[tuple[Param, Any, Any]] = []
    for (name, param, value), (_, old) in zip(parsed, previous, strict=True):
        applier = config.appliers.get(param.name)
        if applier is None or (old == value and not param.volatile):
            continue
        try:
            applier(old, value)
        except ConfigError as exc:
            for undo_param, undo_old, undo_new in reversed(applied):
                config.store(undo_param, undo_old)
                try:
                    config.appliers[undo_param.name](undo_new, undo_old)
                except ConfigError:
                    pass  # best effort, as Redis's restore of the previous values
            for restore_param, old_value in previous:
                config.store(restore_param, old_value)
            raise _failed(name, str(exc)) from None
        applied.append((param, old, value))
    ctx.server.config_changed([param.name for _, param, _ in parsed])
    return OK


@commands.command("CONFIG RESETSTAT", arity=2, flags="admin noscript loading stale",
                  summary="Reset the stats returned by INFO", since="2.0.0", complexity="O(1)")
def config_resetstat(ctx: Client, argv: list[bytes]) -> Any:
    """CONFIG RESETSTAT"""
    ctx.server.reset_stats()
    return OK


@commands.command("CONFIG REWRITE", arity=2, flags="admin noscript loading stale",
                  summary="Rewrite the configuration file with the in memory configuration",
                  since="2.8.0", complexity="O(1)")
def config_rewrite(ctx: Client, argv: list[bytes]) -> Any:
    """CONFIG REWRITE"""
    try:
        ctx.server.config.rewrite()
    except OSError as exc:
        raise err(f"Rewriting config file: {exc.strerror}") from None
    return OK


# Redis's SENSITIVE_CONFIG parameters: their CONFIG SET values are redacted.
_SENSITIVE = frozenset({b"requirepass", b"masterauth", b"masteruser"})

_HELP = (
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
)


@commands.command("CONFIG HELP", arity=2, flags="loading stale",
                  summary="Show helpful text about the different subcommands", since="5.0.0",
                  complexity="O(1)")
def config_help(ctx: Client, argv: list[bytes]) -> list[Status]:
    """CONFIG HELP"""
    return [Status(line) for line in _HELP]
