"""Command modules, one per group. ``all_groups`` lists them for ``build_table``."""

from __future__ import annotations

from taipan.commands.table import CommandGroup


def all_groups() -> list[CommandGroup]:
    from taipan.commands import (
        client_cmd,
        config_cmd,
        connection,
        counters,
        databases,
        expire,
        info,
        introspection,
        keys,
        lists,
        server_cmds,
        strings,
        transactions,
    )

    return [
        strings.commands,
        counters.commands,
        keys.commands,
        lists.commands,
        expire.commands,
        databases.commands,
        connection.commands,
        client_cmd.commands,
        transactions.commands,
        server_cmds.commands,
        config_cmd.commands,
        info.commands,
        introspection.commands,
    ]
