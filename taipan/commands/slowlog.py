"""SLOWLOG GET / LEN / RESET / HELP over the instance's slow log
(taipan/observability/slowlog.py; entries are pushed by the dispatcher)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.commands.args import try_int
from taipan.commands.table import CommandGroup
from taipan.errors import err
from taipan.protocol.reply import OK, Status

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("server")
commands.container("SLOWLOG", summary="A container for slow log commands", since="2.2.12")

_COUNT_RANGE = "count should be greater than or equal to -1"


@commands.command("SLOWLOG GET", arity=-2, flags="admin loading stale",
                  tips="request_policy:all_nodes nondeterministic_output",
                  summary="Get the slow log's entries", since="2.2.12",
                  complexity="O(N) where N is the number of entries returned",
                  history=(("4.0.0", "Added client IP address, port and name to the reply."),))
def slowlog_get(ctx: Client, argv: list[bytes]) -> Any:
    """SLOWLOG GET [count]"""
    entries = ctx.server.slowlog.entries
    count = 10
    if len(argv) > 3:
        sub = argv[1][:128].decode("utf-8", "surrogateescape")
        raise err(f"unknown subcommand or wrong number of arguments for '{sub}'. "
                  "Try SLOWLOG HELP.")
    if len(argv) == 3:
        parsed = try_int(argv[2])
        if parsed is None or parsed < -1:
            raise err(_COUNT_RANGE)
        count = parsed
        if count == -1:
            count = len(entries)
    reply = []
    for entry in entries:
        if len(reply) >= count:
            break
        reply.append([entry.id, entry.time, entry.duration, list(entry.argv), entry.addr,
                      entry.name])
    return reply


@commands.command("SLOWLOG LEN", arity=2, flags="admin loading stale",
                  tips="request_policy:all_nodes response_policy:agg_sum "
                       "nondeterministic_output",
                  summary="Get the slow log's length", since="2.2.12", complexity="O(1)")
def slowlog_len(ctx: Client, argv: list[bytes]) -> int:
    """SLOWLOG LEN"""
    return len(ctx.server.slowlog.entries)


@commands.command("SLOWLOG RESET", arity=2, flags="admin loading stale",
                  tips="request_policy:all_nodes response_policy:all_succeeded",
                  summary="Clear all entries from the slow log", since="2.2.12",
                  complexity="O(N) where N is the number of entries in the slowlog")
def slowlog_reset(ctx: Client, argv: list[bytes]) -> Any:
    """SLOWLOG RESET"""
    ctx.server.slowlog.reset()
    return OK


_HELP = (
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
)


@commands.command("SLOWLOG HELP", arity=2, flags="loading stale",
                  summary="Show helpful text about the different subcommands", since="6.2.0",
                  complexity="O(1)")
def slowlog_help(ctx: Client, argv: list[bytes]) -> list[Status]:
    """SLOWLOG HELP"""
    return [Status(line) for line in _HELP]
