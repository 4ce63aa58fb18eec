"""Taking over pending entries: XCLAIM and XAUTOCLAIM."""

from __future__ import annotations

from taipan.commands.table import CommandGroup

commands = CommandGroup("stream")
