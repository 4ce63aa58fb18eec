"""Key specs: how COMMAND INFO describes where a command's keys are, and finding them.

A spec is kept laid out as COMMAND INFO reports it (``notes``, ``flags``,
``begin_search``, ``find_keys``). Declarations spell out only what the command's
``keys=(first, last, step)`` triple does not already say; ``derive_key_specs`` fills
in the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# Key-spec flags in the order Redis reports them.
KEY_SPEC_FLAGS = (
    "RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key",
    "incomplete", "variable_flags",
)

KeySpec = dict[str, Any]


def key_spec(
    flags: str,
    *,
    index: int | None = None,
    keyword: str | None = None,
    startfrom: int = 1,
    unknown: bool = False,
    lastkey: int = 0,
    keystep: int = 1,
    limit: int = 0,
    keynumidx: int | None = None,
    firstkey: int = 1,
    notes: str = "",
) -> KeySpec:
    """One key spec, laid out as COMMAND INFO reports it.

    Begin search: ``index=``, ``keyword=`` (with ``startfrom``), or ``unknown=True``;
    with none of them the position comes from the command's ``keys=`` triple.
    Find keys: a range (``lastkey``, ``keystep``, ``limit``) unless ``keynumidx`` is
    given (``firstkey``, ``keystep``), or unknown.
    """
    spec: KeySpec = {}
    if notes:
        spec["notes"] = notes
    spec["flags"] = ordered(flags.split(), KEY_SPEC_FLAGS, "key-spec flag")
    if unknown:
        spec["begin_search"] = {"type": "unknown", "spec": {}}
        spec["find_keys"] = {"type": "unknown", "spec": {}}
        return spec
    if keyword is not None:
        spec["begin_search"] = {"type": "keyword",
                                "spec": {"keyword": keyword, "startfrom": startfrom}}
    elif index is not None:
        spec["begin_search"] = {"type": "index", "spec": {"index": index}}
    if keynumidx is not None:
        spec["find_keys"] = {"type": "keynum", "spec": {
            "keynumidx": keynumidx, "firstkey": firstkey, "keystep": keystep}}
    elif "begin_search" in spec:
        spec["find_keys"] = _range(lastkey, keystep, limit)
    return spec


def _range(lastkey: int, keystep: int, limit: int = 0) -> dict[str, Any]:
    return {"type": "range", "spec": {"lastkey": lastkey, "keystep": keystep, "limit": limit}}


def ordered(items: Iterable[str], order: tuple[str, ...], what: str) -> tuple[str, ...]:
    items = tuple(items)
    for item in items:
        if item not in order:
            raise ValueError(f"unknown {what} {item!r}")
    return tuple(sorted(items, key=order.index))


def _default_spec_flags(flags: tuple[str, ...]) -> str:
    if "readonly" in flags:
        return "RO access"
    if "write" in flags:
        return "RW access update"
    return "RO"


def derive_key_specs(
    declared: Iterable[KeySpec | str], keys: tuple[int, int, int], flags: tuple[str, ...],
) -> tuple[KeySpec, ...]:
    """Complete key specs: shapes from the ``keys`` triple where none was spelled out."""
    first, last, step = keys
    specs = [_spec_from_declaration(s) for s in declared]
    if not specs and first > 0:
        specs = [key_spec(_default_spec_flags(flags))]
    shapeless = [s for s in specs if "begin_search" not in s]
    if shapeless and first <= 0:
        raise ValueError("key specs without a position need keys=(first, last, step)")
    for n, spec in enumerate(shapeless):
        index = first + n * step
        if n < len(shapeless) - 1:
            spec["begin_search"] = {"type": "index", "spec": {"index": index}}
            spec["find_keys"] = _range(0, 1)
        else:
            lastkey = last if last < 0 else last - index
            spec["begin_search"] = {"type": "index", "spec": {"index": index}}
            spec["find_keys"] = _range(lastkey, step)
    return tuple(specs)


def _spec_from_declaration(declared: KeySpec | str) -> KeySpec:
    """A key spec from flags (``"RW access delete"``), ``key_spec`` keyword arguments
    as a dict (``{"flags": "RO", "keyword": "STORE", "startfrom": 6}``), or a full spec."""
    if isinstance(declared, str):
        return key_spec(declared)
    if isinstance(declared.get("flags"), str):
        return key_spec(**declared)
    return dict(declared)


def is_movable(specs: Iterable[KeySpec]) -> bool:
    return any(s["begin_search"]["type"] != "index" or s["find_keys"]["type"] != "range"
               for s in specs)


KeyRefs = list[tuple[int, tuple[str, ...]]]


def find_keys(specs: Iterable[KeySpec], argv: list[bytes]) -> KeyRefs | None:
    """(position, flags) of each key in ``argv`` that the key specs locate, as Redis's
    getKeysUsingKeySpecs finds them; None when a spec cannot be followed."""
    argc = len(argv)
    found: KeyRefs = []
    for spec in specs:
        flags = spec["flags"]
        if "not_key" in flags:
            continue
        begin, find = spec["begin_search"], spec["find_keys"]
        if begin["type"] == "index":
            first = begin["spec"]["index"]
        elif begin["type"] == "keyword":
            first = _find_keyword(argv, begin["spec"]["keyword"], begin["spec"]["startfrom"])
            if not first:
                continue
        else:
            return None
        if find["type"] == "range":
            lastkey, step, limit = (find["spec"][k] for k in ("lastkey", "keystep", "limit"))
            if lastkey >= 0:
                last = first + lastkey
            elif not limit:
                last = argc + lastkey
            else:
                last = first + ((argc - first) // limit + lastkey)
        elif find["type"] == "keynum":
            keynumidx, firstkey, step = (find["spec"][k]
                                         for k in ("keynumidx", "firstkey", "keystep"))
            if first + keynumidx >= argc:
                return None
            try:
                numkeys = int(argv[first + keynumidx])
            except ValueError:
                return None
            if numkeys < 0:
                return None
            first += firstkey
            last = first + numkeys - 1
        else:
            return None
        if last >= argc or last < first or first >= argc:
            return None
        found.extend((i, flags) for i in range(first, last + 1, step))
        if "incomplete" in flags:
            return None
    return found


def _find_keyword(argv: list[bytes], keyword: str, startfrom: int) -> int:
    """The index after ``keyword``, searching from ``startfrom`` (backwards if < 0)."""
    argc = len(argv)
    wanted = keyword.lower().encode()
    if startfrom > 0:
        indexes = range(startfrom, argc - 1)  # a keyword in last place has no key after it
    else:
        indexes = range(argc + startfrom, 0, -1)
    for i in indexes:
        if i >= argc or i < 1:
            break
        if argv[i].lower() == wanted:
            return i + 1
    return 0
