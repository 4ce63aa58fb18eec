"""``TAIPAN_PURE_PYTHON=1`` at run time: taipan's modules load from their ``.py``
sources even where mypyc's compiled modules sit beside them.

Installed by ``taipan/__init__.py`` before any other taipan module is imported, so
the pure-Python build of an installation that has the compiled one can be run (and
tested) without reinstalling.
"""

from __future__ import annotations

import importlib.machinery
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

_SOURCE_ONLY = (importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES)


class SourceOnlyFinder:
    """A meta-path finder for ``taipan.*`` that sees source files and nothing else."""

    @staticmethod
    def find_spec(name: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if not name.startswith("taipan.") or not path:
            return None
        for entry in path:
            spec = importlib.machinery.FileFinder(entry, _SOURCE_ONLY).find_spec(name)
            if spec is not None:
                return spec
        return None


def install() -> None:
    if not any(isinstance(finder, SourceOnlyFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, SourceOnlyFinder())  # type: ignore[arg-type]
