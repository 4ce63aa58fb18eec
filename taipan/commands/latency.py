"""LATENCY LATEST / HISTORY / RESET / DOCTOR / GRAPH / HISTOGRAM / HELP.

The event series live in taipan/observability/latency.py, the per-command
histograms in taipan/observability/histograms.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.commands.table import Command, CommandGroup
from taipan.errors import err
from taipan.observability import histograms
from taipan.observability.latency_report import doctor, graph
from taipan.protocol.reply import Status, Verbatim

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("server")
commands.container("LATENCY", summary="A container for latency diagnostics commands",
                   since="2.8.13")

_FLAGS = "admin noscript loading stale"
_SPECIAL = "nondeterministic_output request_policy:all_nodes response_policy:special"


def _event_name(arg: bytes) -> str:
    return arg.decode("utf-8", "surrogateescape")


@commands.command("LATENCY LATEST", arity=2, flags=_FLAGS, tips=_SPECIAL,
                  summary="Return the latest latency samples for all events.",
                  since="2.8.13", complexity="O(1)")
def latency_latest(ctx: Client, argv: list[bytes]) -> list:
    """LATENCY LATEST"""
    return [[event.encode("utf-8", "surrogateescape"), series.samples[-1][0],
             series.samples[-1][1], series.max]
            for event, series in ctx.server.latency.events.items()]


@commands.command("LATENCY HISTORY", arity=3, flags=_FLAGS, tips=_SPECIAL,
                  summary="Return timestamp-latency samples for the event.",
                  since="2.8.13", complexity="O(1)")
def latency_history(ctx: Client, argv: list[bytes]) -> list:
    """LATENCY HISTORY event"""
    series = ctx.server.latency.events.get(_event_name(argv[2]))
    if series is None:
        return []
    return [[when, latency] for when, latency in series.samples]


@commands.command("LATENCY RESET", arity=-2, flags=_FLAGS,
                  tips="request_policy:all_nodes response_policy:all_succeeded",
                  summary="Reset latency data for one or more events.",
                  since="2.8.13", complexity="O(1)")
def latency_reset(ctx: Client, argv: list[bytes]) -> int:
    """LATENCY RESET [event [event ...]]"""
    monitor = ctx.server.latency
    if len(argv) == 2:
        return monitor.reset()
    return monitor.reset([_event_name(arg) for arg in argv[2:]])


@commands.command("LATENCY DOCTOR", arity=2, flags=_FLAGS, tips=_SPECIAL,
                  summary="Return a human readable latency analysis report.",
                  since="2.8.13", complexity="O(1)")
def latency_doctor(ctx: Client, argv: list[bytes]) -> Verbatim:
    """LATENCY DOCTOR"""
    server = ctx.server
    return Verbatim(doctor(server.latency, server.config).encode())


@commands.command("LATENCY GRAPH", arity=3, flags=_FLAGS, tips=_SPECIAL,
                  summary="Return a latency graph for the event.",
                  since="2.8.13", complexity="O(1)")
def latency_graph(ctx: Client, argv: list[bytes]) -> Verbatim:
    """LATENCY GRAPH event"""
    event = _event_name(argv[2])
    series = ctx.server.latency.events.get(event)
    if series is None:
        raise err(f"No samples available for event '{event}'")
    return Verbatim(graph(event, series).encode("utf-8", "surrogateescape"))


def _cdf(command: Command) -> dict[bytes, Any]:
    calls, buckets = histograms.cumulative_buckets(histograms.fold(command))
    return {b"calls": calls, b"histogram_usec": dict(buckets)}


@commands.command("LATENCY HISTOGRAM", arity=-2, flags=_FLAGS, tips=_SPECIAL,
                  summary="Return the cumulative distribution of latencies of a subset of "
                          "commands or all.",
                  since="7.0.0",
                  complexity="O(N) where N is the number of commands with latency "
                             "information being retrieved.")
def latency_histogram(ctx: Client, argv: list[bytes]) -> dict[bytes, Any]:
    """LATENCY HISTOGRAM [command [command ...]]"""
    table = ctx.server.table
    chosen: list[Command] = []
    if len(argv) == 2:
        for command in table:
            chosen.append(command)
            chosen.extend(command.subcommands.values())
    else:
        for arg in argv[2:]:
            command = _lookup(table, arg)
            if command is not None:
                chosen.append(command)
                chosen.extend(command.subcommands.values())
    reply: dict[bytes, Any] = {}
    for command in chosen:
        if histograms.has_data(command):
            reply[command.name.encode()] = _cdf(command)
    return reply


def _lookup(table: Any, arg: bytes) -> Command | None:
    """A command by its full name, ``config|get`` for a subcommand."""
    name, _, sub = arg.lower().partition(b"|")
    command = table.by_name.get(name)
    if command is None or not sub:
        return command
    if b"|" in sub:
        return None
    return command.subcommands.get(sub)


_HELP = (
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for "
    "the specified command names.",
    "    If no commands are specified then all histograms are replied.",
    "HELP",
    "    Prints this help.",
)


@commands.command("LATENCY HELP", arity=2, flags="loading stale",
                  summary="Show helpful text about the different subcommands.",
                  since="2.8.13", complexity="O(1)")
def latency_help(ctx: Client, argv: list[bytes]) -> list[Status]:
    """LATENCY HELP"""
    return [Status(line) for line in _HELP]
