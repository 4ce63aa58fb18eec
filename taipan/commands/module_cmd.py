"""MODULE LIST / LOAD / LOADEX / UNLOAD / HELP. Taipan loads no native modules: the
command answers as a Redis that has none loaded and fails to load any; LOAD, LOADEX and
UNLOAD (Redis's protected subcommands) sit behind ``enable-module-command``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from taipan.commands.config_cmd import is_local_client
from taipan.commands.table import CommandGroup
from taipan.errors import err
from taipan.protocol.reply import Status

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("server")
commands.container("MODULE", summary="A container for module commands", since="4.0.0")
log = logging.getLogger("taipan")
_CHANGES = "no_async_loading admin noscript protected"


def _module_allowed(ctx: Client) -> None:
    setting = ctx.server.config.enable_module_command
    if setting == "yes" or (setting == "local" and is_local_client(ctx)):
        return
    raise err("MODULE command not allowed. If the enable-module-command option is set to "
              "\"local\", you can run it from a local connection, otherwise you need to set "
              "this option in the configuration file, and then restart the server.")


@commands.command("MODULE LIST", arity=2, flags="admin noscript",
                  tips="nondeterministic_output_order",
                  summary="List all modules loaded by the server", since="4.0.0",
                  complexity="O(N) where N is the number of loaded modules.")
def module_list(ctx: Client, argv: list[bytes]) -> list[Any]:
    """MODULE LIST"""
    return []


def _cannot_load(ctx: Client, argv: list[bytes]) -> Any:
    _module_allowed(ctx)
    log.warning("Module %s failed to load: Taipan does not load native Redis modules",
                argv[2].decode("utf-8", "replace"))
    raise err("Error loading the extension. Please check the server logs.")


@commands.command("MODULE LOAD", arity=-3, flags=_CHANGES, summary="Load a module",
                  since="4.0.0", complexity="O(1)")
def module_load(ctx: Client, argv: list[bytes]) -> Any:
    """MODULE LOAD path [arg [arg ...]]"""
    return _cannot_load(ctx, argv)


@commands.command("MODULE LOADEX", arity=-3, flags=_CHANGES,
                  summary="Load a module with extended parameters", since="7.0.0",
                  complexity="O(1)")
def module_loadex(ctx: Client, argv: list[bytes]) -> Any:
    """MODULE LOADEX path [CONFIG name value [CONFIG name value ...]] [ARGS args ...]"""
    return _cannot_load(ctx, argv)


@commands.command("MODULE UNLOAD", arity=3, flags=_CHANGES, summary="Unload a module",
                  since="4.0.0", complexity="O(1)")
def module_unload(ctx: Client, argv: list[bytes]) -> Any:
    """MODULE UNLOAD name"""
    _module_allowed(ctx)
    raise err("Error unloading module: no such module with that name")


_HELP = (
    "MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LIST",
    "    Return a list of loaded modules.",
    "LOAD <path> [<arg> ...]",
    "    Load a module library from <path>, passing to it any optional arguments.",
    "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
    "    Load a module library from <path>, while passing it module configurations and "
    "optional arguments.",
    "UNLOAD <name>",
    "    Unload a module.",
    "HELP",
    "    Prints this help.",
)


@commands.command("MODULE HELP", arity=2, flags="loading stale",
                  summary="Show helpful text about the different subcommands", since="5.0.0",
                  complexity="O(1)")
def module_help(ctx: Client, argv: list[bytes]) -> list[Status]:
    """MODULE HELP"""
    return [Status(line) for line in _HELP]
