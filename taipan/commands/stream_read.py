"""Reading streams: XREAD and XREADGROUP, blocking or not."""

from __future__ import annotations

from taipan.commands.table import CommandGroup

commands = CommandGroup("stream")
