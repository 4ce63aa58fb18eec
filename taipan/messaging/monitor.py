"""MONITOR: every command the server runs, as a line to each monitoring client.

A line is a RESP simple string, the same in RESP2 and RESP3, built once per command
and queued as the same bytes for every monitor::

    +1700000000.123456 [0 127.0.0.1:51234] "SET" "key" "v\\x00"

The dispatcher feeds a command after it ran (Redis 7.0's order), except the script
commands (EVAL, FCALL & co., flagged ``skip_monitor``), which are fed when they
start so that the commands their script calls follow them. Commands refused before
running (unknown, bad arity, NOAUTH ...) are never shown, nor administrative ones.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from taipan.keyspace.blocking import Blocked
from taipan.protocol.reply import Frames, Raw

if TYPE_CHECKING:
    from taipan.commands.table import Command
    from taipan.net.client import Client

# What AUTH and HELLO's AUTH option show in place of credentials.
REDACTED = b"(redacted)"

# Redis's quoting of an argument (sdscatrepr): backslash escapes for the quote, the
# backslash and five control characters, \xHH for every other byte outside the
# printable ASCII range.
_ESCAPES = {i: b"\\x%02x" % i for i in range(256) if not 0x20 <= i <= 0x7E}
_ESCAPES.update({ord("\\"): b"\\\\", ord('"'): b'\\"', ord("\n"): b"\\n",
                 ord("\r"): b"\\r", ord("\t"): b"\\t", 0x07: b"\\a", 0x08: b"\\b"})
_NEEDS_ESCAPE = re.compile(rb'[^\x20\x21\x23-\x5b\x5d-\x7e]')


def _escape(match: re.Match[bytes]) -> bytes:
    return _ESCAPES[match.group()[0]]


def quote(arg: bytes) -> bytes:
    """One argument as Redis's MONITOR shows it, quotes included."""
    if _NEEDS_ESCAPE.search(arg) is None:
        return b'"' + arg + b'"'
    return b'"' + _NEEDS_ESCAPE.sub(_escape, arg) + b'"'


def redact(argv: list[bytes], index: int) -> None:
    """Hide a credential from MONITOR (called by AUTH and HELLO once they parsed it)."""
    argv[index] = REDACTED


# Per command: 0 never shown (admin), 1 shown after it ran, 2 shown when it starts
# (the script commands). Filled on first use, while a monitor is attached.
_WHEN: dict[Command, int] = {}


def _when(command: Command) -> int:
    when = _WHEN.get(command)
    if when is None:
        flags = command.flags
        when = 0 if "admin" in flags else 2 if "skip_monitor" in flags else 1
        _WHEN[command] = when
    return when


def _line(client: Client, argv: list[bytes]) -> bytes:
    usec = time.time_ns() // 1000
    kind = client.kind
    if kind == "lua":
        origin = b"lua"
    elif kind == "unix":
        origin = b"unix:" + client.server.config.unixsocket.encode()
    else:
        origin = client.addr.encode()
    return b"+%d.%06d [%d %s] %s\r\n" % (usec // 1_000_000, usec % 1_000_000, client.db.index,
                                         origin, b" ".join(map(quote, argv)))


def _hears(monitor: Client) -> bool:
    """Whether a monitor takes lines now: CLIENT REPLY OFF, a skip in effect and a
    connection closing after its reply silence it, as they do its replies."""
    mode = monitor.reply_mode
    return (mode == "on" or mode == "skip-arm") and not monitor.close_requested


def feed_monitors(monitors: list[Client], client: Client, command: Command,
                  argv: list[bytes], reply: Any) -> Any:
    """Dispatcher.call, after ``command`` ran (``monitors`` is not empty).

    Returns the reply to send: a monitor running a command itself gets its line
    right after the reply, as Redis writes the two into its buffer in that order
    (inside EXEC, after each queued command's reply).
    """
    if _when(command) != 1 or client.waiter is not None:
        # (a blocked command re-run to be served was shown when it first ran)
        return reply
    return feed_argv(monitors, client, argv, reply)


def feed_argv(monitors: list[Client], client: Client, argv: list[bytes], reply: Any) -> Any:
    """Show ``argv`` ran by ``client``; also used for an EXEC refused before it ran,
    which Redis shows so that monitors see the end of the MULTI they saw."""
    if client.server.loading:
        return reply
    line = _line(client, argv)
    own = False
    for monitor in monitors:
        if monitor is client:
            own = True
        elif _hears(monitor):
            monitor.deliver(line)
    if not own or not _hears(client):
        return reply
    if type(reply) is Blocked:
        # Parked: shown now, as Redis does; the reply comes when it is served.
        client.deliver(line)
        return reply
    return Frames((reply, Raw(line)))


def feed_script_start(monitors: list[Client], client: Client, command: Command,
                      argv: list[bytes]) -> None:
    """Dispatcher.call, before a script command (EVAL, FCALL ...) runs: Redis shows
    it first, then the commands its script calls."""
    if _when(command) != 2 or client.server.loading:
        return
    line = _line(client, argv)
    for monitor in monitors:
        if _hears(monitor):
            monitor.deliver(line)
