"""INFO: Redis's sections and field names, filled with Taipan's real figures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.commands.info_sections import DEFAULT_SECTIONS, SECTIONS, section_fields
from taipan.commands.table import CommandGroup
from taipan.protocol.reply import Verbatim

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("server")


def wanted_sections(requested: list[str]) -> list[str]:
    """Section names in Redis's order: ``default``, ``all``, ``everything`` or names."""
    wanted: set[str] = set()
    for name in requested or ["default"]:
        name = name.lower()
        if name == "default":
            wanted |= DEFAULT_SECTIONS
        elif name in ("all", "everything"):
            wanted |= set(SECTIONS)
        elif name in SECTIONS:
            wanted.add(name)
    return [name for name in SECTIONS if name in wanted]


def render_info(server: Any, requested: list[str]) -> str:
    """The INFO text: ``# Title`` blocks of ``field:value`` lines, CRLF separated."""
    blocks = []
    for name in wanted_sections(requested):
        lines = [f"# {SECTIONS[name][0]}"]
        lines += [f"{key}:{value}" for key, value in section_fields(server, name).items()]
        blocks.append("\r\n".join(lines) + "\r\n")
    return "\r\n".join(blocks)


@commands.command("INFO", arity=-1, flags="loading stale", acl="dangerous",
                  tips="nondeterministic_output request_policy:all_shards response_policy:special",
                  summary="Get information and statistics about the server", since="1.0.0",
                  complexity="O(1)",
                  history=(("7.0.0", "Added support for taking multiple section arguments."),))
def info(ctx: Client, argv: list[bytes]) -> Verbatim:
    """INFO [section [section ...]]"""
    sections = [arg.decode("utf-8", "replace") for arg in argv[1:]]
    return Verbatim(render_info(ctx.server, sections).encode())
