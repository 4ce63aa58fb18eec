"""Builds Taipan with its hot path compiled by mypyc (``taipan/hot_path.py`` lists the
modules) when a C compiler and Python's headers are there; otherwise, or with
``TAIPAN_PURE_PYTHON=1``, installs the pure-Python package and says so in one line.

Editable installs stay pure: a compiled module beside its source would hide every
edit of that source. ``run-tests`` builds the compiled modules in a copy of the tree
to run the test suite on both builds.
"""

from __future__ import annotations

import os
import runpy
import sys
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
HOT_PATH = runpy.run_path(os.path.join(HERE, "taipan", "hot_path.py"))


def _say(message: str) -> None:
    print(f"taipan: {message}", file=sys.stderr, flush=True)


class OptionalBuildExt(build_ext):
    """Compiling is an optimisation: any failure leaves the pure-Python package
    whole (no half-built extension shadows its source)."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # compiler missing or failing, headers missing ...
            self._remove_outputs()
            _say(f"could not compile the hot path ({_brief(error)}); installing the "
                 "pure-Python build")
        else:
            if self.extensions:
                _say(f"hot path compiled with mypyc ({len(HOT_PATH['COMPILED_MODULES'])} "
                     "modules)")

    def _remove_outputs(self) -> None:
        for extension in self.extensions:
            path = self.get_ext_fullpath(extension.name)
            if os.path.exists(path):
                os.remove(path)


def _brief(error: BaseException) -> str:
    """One short line: a failing compiler's message holds its whole command line."""
    text = str(error).splitlines()[0] if str(error) else ""
    text = f"{type(error).__name__}: {text}"
    return text if len(text) <= 100 else text[:97] + "..."


def _extensions() -> list[Any]:
    if os.environ.get(HOT_PATH["PURE_ENV"]) == "1":
        _say(f"{HOT_PATH['PURE_ENV']}=1: installing the pure-Python build")
        return []
    if "editable_wheel" in sys.argv:
        _say("editable install: the pure-Python build (pip install . compiles)")
        return []
    if not any(command in sys.argv for command in ("bdist_wheel", "build_ext", "build",
                                                   "install", "bdist")):
        return []  # metadata only (egg_info, dist_info, sdist)
    try:
        from mypyc.build import mypycify
    except ImportError:
        _say("mypy (mypyc) is not installed; installing the pure-Python build")
        return []
    cwd = os.getcwd()
    os.chdir(HERE)  # mypyc wants the module paths relative to the project
    try:
        return list(mypycify(
            # --strict: a strict type error fails the build (then pure Python).
            ["--strict", "--ignore-missing-imports", "--follow-imports=silent",
             *HOT_PATH["COMPILED_MODULES"]],
            opt_level="3",
        ))
    # mypyc reports type errors (printed above) by sys.exit(1): SystemExit, not an Exception.
    except (Exception, SystemExit) as error:  # a type error, or mypy itself failing
        _say(f"mypyc could not translate the hot path ({_brief(error)}); installing the "
             "pure-Python build")
        return []
    finally:
        os.chdir(cwd)


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
