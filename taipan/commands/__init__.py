"""Command modules, one per group. ``all_groups`` lists them for ``build_table``."""

from __future__ import annotations

from taipan.commands.table import CommandGroup


def all_groups() -> list[CommandGroup]:
    from taipan.commands import (
        bitfield,
        bitmaps,
        client_cmd,
        config_cmd,
        connection,
        counters,
        databases,
        expire,
        hyperloglog,
        info,
        introspection,
        keys,
        lcs,
        lists,
        server_cmds,
        sorted_sets,
        strings,
        transactions,
        zset_pops,
        zset_ranges,
        zset_setops,
    )

    return [
        strings.commands,
        counters.commands,
        bitmaps.commands,
        bitfield.commands,
        lcs.commands,
        hyperloglog.commands,
        keys.commands,
        lists.commands,
        sorted_sets.commands,
        zset_ranges.commands,
        zset_pops.commands,
        zset_setops.commands,
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
