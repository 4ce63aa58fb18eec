"""The hot path that setup.py compiles with mypyc, and which build is running.

The same ``.py`` sources serve both builds: mypyc turns the modules listed here into
C extensions placed beside them, and Python prefers an extension to a source file.
``TAIPAN_PURE_PYTHON=1`` at install time skips compiling; at run time it makes every
taipan module load from its source even where a compiled one sits beside it (see
``taipan/__init__.py``), so one checkout can run the test suite on both builds.

This module imports nothing from taipan: setup.py reads it before taipan exists.
"""

from __future__ import annotations

import importlib.machinery
import sys

# Paths relative to the project root, in the order mypyc is given them.
COMPILED_MODULES: tuple[str, ...] = (
    "taipan/protocol/reply.py",
    "taipan/protocol/hiredis_reader.py",
    "taipan/dispatch.py",
    "taipan/net/client.py",
    "taipan/keyspace/database.py",
    "taipan/keyspace/access.py",
    "taipan/commands/args.py",
    "taipan/commands/expire_args.py",
    "taipan/commands/strings.py",
    "taipan/commands/counters.py",
    "taipan/commands/lists.py",
    "taipan/commands/hashes.py",
    "taipan/commands/sets.py",
    "taipan/commands/sorted_sets.py",
    "taipan/commands/zset_args.py",
    "taipan/commands/expire.py",
    "taipan/commands/keys.py",
    "taipan/commands/connection.py",
    "taipan/commands/table.py",
    "taipan/keyspace/blocking.py",
    "taipan/net/connection.py",
    "taipan/instance.py",
    "taipan/protocol/reader.py",
    "taipan/commands/zset_ranges.py",
    "taipan/commands/zset_pops.py",
    "taipan/types/zset.py",
    "taipan/types/sorted_keys.py",
    "taipan/types/sets.py",
    "taipan/types/packed.py",
    "taipan/commands/transactions.py",
    "taipan/keyspace/expiry.py",
    "taipan/keyspace/events.py",
    "taipan/net/output.py",
    # persistence codecs: RDB values and files, LZF (SAVE, load, DUMP/RESTORE)
    "taipan/persistence/lzf.py",
    "taipan/persistence/rdb_format.py",
    "taipan/persistence/rdb_packed.py",
    "taipan/persistence/rdb_values.py",
    "taipan/persistence/rdb_file.py",
    # scripting: EVAL/EVALSHA/FCALL, redis.call and reply conversion (lupa stays the
    # boundary; the exception classes that extend lupa's live in script_errors.py)
    "taipan/commands/scripting.py",
    "taipan/scripting/engine.py",
    "taipan/scripting/script_run.py",
    "taipan/scripting/lua_replies.py",
)

PURE_ENV = "TAIPAN_PURE_PYTHON"


def build_kind() -> str:
    """``mypyc`` when the hot path runs compiled, else ``pure-python`` (INFO server)."""
    module = sys.modules.get("taipan.dispatch")
    path = getattr(module, "__file__", None) or ""
    if any(path.endswith(suffix) for suffix in importlib.machinery.EXTENSION_SUFFIXES):
        return "mypyc"
    return "pure-python"
