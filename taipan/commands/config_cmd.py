"""CONFIG GET / SET / RESETSTAT / REWRITE / HELP over the typed parameter table."""

from __future__ import annotations

from typing import Any

from taipan.commands.table import CommandGroup
from taipan.config import ConfigError
from taipan.errors import ReplyError, err, wrong_arity
from taipan.protocol.reply import OK, Status

commands = CommandGroup("server")
commands.container("CONFIG", summary="A container for server configuration commands",
                   since="2.0.0")


@commands.command("CONFIG GET", arity=-3, flags="admin noscript loading stale")
def config_get(ctx: Any, argv: list[bytes]) -> dict:
    """CONFIG GET parameter [parameter ...]"""
    config = ctx.server.config
    found: dict[bytes, bytes] = {}
    for pattern in argv[2:]:
        for name, value in config.matching(pattern).items():
            found.setdefault(name.encode(), value.encode())
    return found


@commands.command("CONFIG SET", arity=-4, flags="admin noscript loading stale")
def config_set(ctx: Any, argv: list[bytes]) -> Any:
    """CONFIG SET parameter value [parameter value ...]"""
    if len(argv) % 2:
        raise wrong_arity("config|set")
    config = ctx.server.config
    pairs: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    for i in range(2, len(argv), 2):
        name = argv[i].decode("utf-8", "replace").lower()
        param = config.params.get(name)
        if param is None:
            raise err(f"Unknown option or number of arguments for CONFIG SET - '{name}'")
        if param.name in seen:
            raise err(f"Duplicate parameter - '{name}'")
        seen.add(param.name)
        pairs.append((name, argv[i + 1]))
    # All or nothing: validate every value before applying any.
    previous = {name: config.get(name) for name, _ in pairs}
    try:
        for name, raw in pairs:
            text = raw.decode("utf-8", "replace")
            words = text.split() if config.params[name].kind == "save" else [text]
            try:
                config.set_words(name, words)
            except ConfigError as exc:
                raise err(f"CONFIG SET failed (possibly related to argument '{name}') - {exc}") from None
    except ReplyError:
        for name, value in previous.items():
            setattr(config, config.params[name].attr, value)
        raise
    ctx.server.config_changed([name for name, _ in pairs])
    return OK


@commands.command("CONFIG RESETSTAT", arity=2, flags="admin noscript loading stale")
def config_resetstat(ctx: Any, argv: list[bytes]) -> Any:
    """CONFIG RESETSTAT"""
    ctx.server.reset_stats()
    return OK


@commands.command("CONFIG REWRITE", arity=2, flags="admin noscript loading stale")
def config_rewrite(ctx: Any, argv: list[bytes]) -> Any:
    """CONFIG REWRITE"""
    try:
        ctx.server.config.rewrite()
    except OSError as exc:
        raise err(f"Rewriting config file: {exc.strerror}") from None
    return OK


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


@commands.command("CONFIG HELP", arity=2, flags="loading stale")
def config_help(ctx: Any, argv: list[bytes]) -> list[Status]:
    """CONFIG HELP"""
    return [Status(line) for line in _HELP]
