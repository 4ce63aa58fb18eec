"""How persistence reaches the function libraries without importing the scripting
engine (DESIGN.md §1: persistence sits below it).

The engine is ``instance.functions``, an object with:

- ``libraries``: ``dict[str, Library]``, each ``Library.code`` the library's whole
  source (``#!lua name=...`` shebang included), as bytes;
- ``load_from_persistence(code: bytes, replace: bool = False) -> None``: create a
  library read from an RDB file; raises ``ValueError(message)`` with Redis's text
  ("Library 'x' already exists", a compile error...) when it can't. ``replace`` is
  passed (as a keyword, and only when true) by DEBUG RELOAD MERGE, where Redis
  replaces a library of the same name;
- ``flush() -> None``: drop every library (DEBUG RELOAD empties them with the
  keys, as Redis's emptyData does).

An instance without that object (the engine not built in, an embedding without it)
saves no libraries and drops those a file holds, saying so in the log.
"""

from __future__ import annotations

import logging
from typing import Any

from taipan.persistence.rdb_file import FunctionLoader

log = logging.getLogger("taipan")


def library_codes(instance: Any) -> list[bytes]:
    """The codes of the instance's libraries, to save (in the engine's order)."""
    functions = getattr(instance, "functions", None)
    if functions is None:
        return []
    return [bytes(library.code) for library in functions.libraries.values()]


def library_loader(instance: Any, replace: bool = False) -> FunctionLoader:
    """What the RDB reader hands each library's code to, while it loads."""
    functions = getattr(instance, "functions", None)
    if functions is None:
        return _drop_library
    if replace:
        return lambda code: functions.load_from_persistence(code, replace=True)
    return functions.load_from_persistence


def flush_libraries(instance: Any) -> None:
    functions = getattr(instance, "functions", None)
    if functions is not None:
        functions.flush()


def _drop_library(code: bytes) -> None:
    name = code.split(b"\n", 1)[0].decode(errors="replace")
    log.warning(f"Function library not loaded: no function engine here ({name})")
