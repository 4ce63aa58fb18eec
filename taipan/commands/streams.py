"""Stream commands: XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID."""

from __future__ import annotations

from taipan.commands.table import CommandGroup

commands = CommandGroup("stream")
