"""Consumer groups: XGROUP, XACK, XPENDING."""

from __future__ import annotations

from taipan.commands.table import CommandGroup

commands = CommandGroup("stream")
