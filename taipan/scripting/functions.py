"""Function libraries: FUNCTION LOAD's parsing, registration and the library set.

A library is code with a ``#!lua name=<lib>`` shebang. Loading runs its body once
in the functions' own Lua state, where only ``redis.register_function``,
``redis.log`` and the version fields are visible; each registered callback then
runs on FCALL with the full scripting environment. ``LibrarySet`` holds libraries
and the function names they claim, so FUNCTION RESTORE can build a set aside and
join it (APPEND/REPLACE) or swap it in (FLUSH), all or nothing, as Redis does.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from taipan.errors import ReplyError, err
from taipan.protocol.reader import split_inline
from taipan.scripting.lua_replies import lua_number_text
from taipan.scripting.lua_state import LuaState
from taipan.scripting.script_flags import SCRIPT_FLAGS, ScriptFlags
from taipan.scripting.script_run import ScriptRun

if TYPE_CHECKING:
    from taipan.scripting.engine import Scripting

ENGINE = "LUA"
_NAME = re.compile(rb"[A-Za-z0-9_]+\Z")
BAD_NAME = ("Library names can only contain letters, numbers, or underscores(_) and must "
            "be at least one character long")


class RegisteredFunction:
    __slots__ = ("name", "callback", "flags", "description", "library")

    def __init__(self, name: str, callback: Any, flags: ScriptFlags,
                 description: bytes | None, library: Library) -> None:
        self.name = name
        self.callback = callback  # the Lua function FCALL runs
        self.flags = flags
        self.description = description
        self.library = library


class Library:
    __slots__ = ("name", "engine", "code", "functions")

    def __init__(self, name: str, code: bytes) -> None:
        self.name = name
        self.engine = ENGINE
        self.code = code  # the whole source, shebang included (FUNCTION LIST WITHCODE, DUMP)
        self.functions: dict[str, RegisteredFunction] = {}


class LibrarySet:
    """Libraries by name and their functions by name (function names are global).

    ``functions`` is keyed by the lowercased name: Redis's function dictionary
    compares names case-insensitively (FCALL, collisions), while library names
    and the names inside one library are case-sensitive.
    """

    def __init__(self) -> None:
        self.libraries: dict[str, Library] = {}
        self.functions: dict[str, RegisteredFunction] = {}

    def link(self, library: Library) -> None:
        self.libraries[library.name] = library
        for name, function in library.functions.items():
            self.functions.setdefault(name.lower(), function)  # dictAdd: first one wins

    def unlink(self, library: Library) -> None:
        del self.libraries[library.name]
        for name in library.functions:
            if getattr(self.functions.get(name.lower()), "library", None) is library:
                del self.functions[name.lower()]

    def add(self, library: Library, replace: bool, existing_message: str) -> None:
        """Link ``library``; with ``replace`` it takes the place of a namesake."""
        old = self.libraries.get(library.name)
        if old is not None and not replace:
            raise err(existing_message.format(library.name))
        if old is not None:
            self.unlink(old)
        clash = next((name for name in library.functions if name.lower() in self.functions),
                     None)
        if clash is not None:
            if old is not None:
                self.link(old)
            raise err(f"Function {clash} already exists")
        self.link(library)

    def join(self, other: LibrarySet, replace: bool) -> None:
        """FUNCTION RESTORE APPEND/REPLACE: all of ``other`` or nothing."""
        replaced = []
        for name in other.libraries:
            old = self.libraries.get(name)
            if old is None:
                continue
            if not replace:
                self._relink(replaced)
                raise err(f"Library {name} already exists")
            self.unlink(old)
            replaced.append(old)
        clash = next((function.name for name, function in other.functions.items()
                      if name in self.functions), None)
        if clash is not None:
            self._relink(replaced)
            raise err(f"Function {clash} already exists")
        for library in other.libraries.values():
            self.link(library)

    def _relink(self, libraries: list[Library]) -> None:
        for library in libraries:
            self.link(library)


class FunctionLibraries:
    """The server's libraries (``instance.functions``) and FUNCTION LOAD."""

    def __init__(self, scripting: Scripting) -> None:
        self.scripting = scripting
        self.current = LibrarySet()
        self._lua: LuaState | None = None
        scripting.host.function_registrar = self._register

    @property
    def lua(self) -> LuaState:
        if self._lua is None:
            self._lua = LuaState(self.scripting.host, function_mode=True)
        return self._lua

    @property
    def libraries(self) -> dict[str, Library]:
        return self.current.libraries

    def lookup(self, name: bytes) -> RegisteredFunction:
        function = self.current.functions.get(name.lower().decode("utf-8", "surrogateescape"))
        if function is None:
            raise err("Function not found")
        return function

    def load(self, code: bytes, replace: bool = False, into: LibrarySet | None = None) -> str:
        """FUNCTION LOAD: build the library and link it; its name, or ReplyError."""
        target = into or self.current
        name, _ = _metadata(code)
        if not replace and name in target.libraries:
            # Checked before the code is compiled or run, as Redis does.
            raise err(f"Library '{name}' already exists")
        library = self.build(code)
        target.add(library, replace, "Library '{}' already exists")
        return library.name

    def load_from_persistence(self, code: bytes, replace: bool = False) -> None:
        """A library from an RDB file (``replace``: DEBUG RELOAD MERGE); ValueError
        with Redis's reason, without the error code, as Redis logs it."""
        try:
            self.load(code, replace)
        except ReplyError as error:
            message = error.message
            raise ValueError(message[4:] if message.startswith("ERR ") else message) from None

    def flush(self) -> None:
        """FUNCTION FLUSH (and RESTORE FLUSH): every library, and a fresh Lua state."""
        self.current = LibrarySet()
        self._lua = None

    def swap(self, libraries: LibrarySet) -> None:
        self.current = libraries

    def build(self, code: bytes) -> Library:
        """Parse the shebang, compile and run the body; the library, unlinked."""
        name, body = _metadata(code)
        library = Library(name, code)
        lua = self.lua
        try:
            chunk = lua.compile(body, b"@user_function")
        except SyntaxError as error:
            raise err(f"Error compiling function: {error}") from None
        host = self.scripting.host
        if host.run is not None:
            raise err("Script already running")
        host.run = ScriptRun(None, name, lua, is_eval=False, loading=library)
        try:
            ok, result = lua.run_loader(chunk)
        finally:
            host.run = None
        if not ok:
            if lua.is_table(result) and type(result[b"err"]) is bytes:
                message = result[b"err"].decode("utf-8", "surrogateescape")
            else:
                message = "ERR " + _text(result)
            raise err(f"Error registering functions: {message}")
        if not library.functions:
            raise err("No functions registered")
        return library

    def _register(self, run: ScriptRun, args: tuple[Any, ...]) -> bytes | None:
        """redis.register_function(name, callback) or ({function_name=..., ...})."""
        try:
            name, callback, flags, description = self._read_registration(args)
        except ValueError as error:
            return ("ERR " + str(error)).encode()
        library: Library = run.loading
        if not _NAME.match(name.encode("utf-8", "surrogateescape")):
            return ("ERR " + BAD_NAME).encode()
        if name in library.functions:
            return b"ERR Function already exists in the library"
        library.functions[name] = RegisteredFunction(name, callback, flags, description, library)
        return None

    def _read_registration(self, args: tuple[Any, ...]
                           ) -> tuple[str, Any, ScriptFlags, bytes | None]:
        lua = self.lua
        if len(args) not in (1, 2):
            raise ValueError("wrong number of arguments to redis.register_function")
        if len(args) == 2:
            name, callback = args
            if not _is_string(name):
                raise ValueError("first argument to redis.register_function must be a string")
            if not lua.is_function(callback):
                raise ValueError("second argument to redis.register_function must be a function")
            return _text(name), callback, ScriptFlags(), None
        named = args[0]
        if not lua.is_table(named):
            raise ValueError("calling redis.register_function with a single argument is only "
                             "applicable to Lua table (representing named arguments).")
        name = callback = description = None
        flags = ScriptFlags()
        for key, value in named.items():
            if not _is_string(key):
                raise ValueError("named argument key given to redis.register_function is not "
                                 "a string")
            option = _text(key).lower()
            if option == "function_name":
                if not _is_string(value):
                    raise ValueError("function_name argument given to redis.register_function "
                                     "must be a string")
                name = _text(value)
            elif option == "description":
                if not _is_string(value):
                    raise ValueError("description argument given to redis.register_function "
                                     "must be a string")
                description = value if type(value) is bytes else _text(value).encode()
            elif option == "callback":
                if not lua.is_function(value):
                    raise ValueError("callback argument given to redis.register_function must "
                                     "be a function")
                callback = value
            elif option == "flags":
                flags = self._read_flags(value)
            else:
                raise ValueError("unknown argument given to redis.register_function")
        if name is None:
            raise ValueError("redis.register_function must get a function name argument")
        if callback is None:
            raise ValueError("redis.register_function must get a callback argument")
        return name, callback, flags, description

    def _read_flags(self, value: Any) -> ScriptFlags:
        if not self.lua.is_table(value):
            raise ValueError("flags argument to redis.register_function must be a table "
                             "representing function flags")
        names = set()
        index = 1
        while (flag := value[index]) is not None:
            if not _is_string(flag) or _text(flag).lower() not in SCRIPT_FLAGS:
                raise ValueError("unknown flag given")
            names.add(_text(flag).lower())
            index += 1
        return ScriptFlags(frozenset(names))

    # -- figures for INFO and FUNCTION STATS -------------------------------------------

    def function_count(self) -> int:
        return len(self.current.functions)

    def memory_used(self) -> int:
        return self._lua.memory_used() if self._lua is not None else 0

    def overhead_bytes(self) -> int:
        """What the library set holds besides the Lua heap (INFO used_memory_functions):
        the code and names, plus a fixed per-entry cost like Redis's dict entries."""
        total = 184  # an empty set, as Redis reports it
        for library in self.current.libraries.values():
            total += len(library.code) + len(library.name) + 96
            total += sum(len(name) + 64 for name in library.functions)
        return total


def _metadata(code: bytes) -> tuple[str, bytes]:
    """The library's name and the code to compile (from the shebang's line feed on)."""
    if not code.startswith(b"#!"):
        raise err("Missing library metadata")
    end = code.find(b"\n")
    if end < 0:
        raise err("Invalid library metadata")
    try:
        parts = split_inline(code[:end])
    except ReplyError:
        parts = []
    if not parts:
        raise err("Invalid library metadata")
    engine = parts[0][2:]
    name: bytes | None = None
    for part in parts[1:]:
        if part[:5].lower() == b"name=":
            if name is not None:
                raise err("Invalid metadata value, name argument was given multiple times")
            name = part[5:]
            continue
        raise err(f"Invalid metadata value given: {_text(part)}")
    if name is None:
        raise err("Library name was not given")
    if not _NAME.match(name):
        raise err(BAD_NAME)
    if engine.upper() != ENGINE.encode():
        raise err(f"Engine '{_text(engine)}' not found")
    return _text(name), code[end:]


def _is_string(value: Any) -> bool:
    return type(value) in (bytes, int, float)


def _text(value: Any) -> str:
    if type(value) is bytes:
        return value.decode("utf-8", "surrogateescape")
    if type(value) in (int, float):
        return lua_number_text(value)
    return str(value)
