"""The declarative command table: composition, declaration hygiene, derived metadata."""

from __future__ import annotations

import ast
import functools
import os
import sys

import pytest

from taipan.commands.keyspecs import KEY_SPEC_FLAGS, key_spec
from taipan.commands.table import (
    ACL_CATEGORIES,
    COMMAND_FLAGS,
    HIDDEN_FLAGS,
    Command,
    CommandGroup,
    build_table,
)

TABLE = build_table()


def _every_command() -> list[Command]:
    commands: list[Command] = []
    for command in TABLE:
        commands.append(command)
        commands.extend(command.subcommands.values())
    return commands


EVERY = _every_command()


def _handler(ctx, argv):
    """PING"""


# -- composition ----------------------------------------------------------------------

def test_duplicate_command_across_groups_fails_loudly() -> None:
    first, second = CommandGroup("string"), CommandGroup("generic")
    first.command("FOO", arity=1)(_handler)
    second.command("foo", arity=2)(_handler)
    with pytest.raises(ValueError, match="duplicate command 'foo'"):
        build_table([first, second])


def test_duplicate_command_in_one_group_fails_loudly() -> None:
    group = CommandGroup("string")
    group.command("FOO", arity=1)(_handler)
    group.command("FOO", arity=1)(_handler)
    with pytest.raises(ValueError, match="duplicate command"):
        build_table([group])


def test_duplicate_subcommand_and_container_fail_loudly() -> None:
    group = CommandGroup("server")
    group.container("THING")
    group.command("THING SUB", arity=2)(_handler)
    with pytest.raises(ValueError, match="duplicate subcommand"):
        group.command("THING SUB", arity=2)(_handler)
    with pytest.raises(ValueError, match="duplicate container"):
        group.container("THING")


def test_subcommand_needs_its_container_first() -> None:
    with pytest.raises(ValueError, match="declare container"):
        CommandGroup("server").command("NOPE SUB", arity=2)(_handler)


def test_unknown_flags_and_categories_are_refused() -> None:
    group = CommandGroup("string")
    with pytest.raises(ValueError, match="command flag"):
        group.command("A", arity=1, flags="write fastest")(_handler)
    with pytest.raises(ValueError, match="ACL category"):
        group.command("B", arity=1, acl="stringy")(_handler)
    with pytest.raises(ValueError, match="key-spec flag"):
        group.command("C", arity=2, keys=(1, 1, 1), key_specs=("RW mutate",))(_handler)


def test_the_real_table_builds_with_unique_names() -> None:
    names = [command.name for command in EVERY]
    assert len(names) == len(set(names))
    assert all(name == name.lower() for name in names)


# -- declaration hygiene -----------------------------------------------------------------

@functools.cache
def _module_functions(module_name: str) -> dict[str, ast.FunctionDef]:
    path = sys.modules[module_name].__file__ or ""
    source = os.path.join(os.path.dirname(path), os.path.basename(path).split(".")[0] + ".py")
    with open(source, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    return {node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def _docstring(handler: object) -> str:
    """The handler's docstring, from its source: mypyc's compiled functions have none."""
    node = _module_functions(handler.__module__).get(handler.__name__)  # type: ignore[attr-defined]
    return (ast.get_docstring(node) or "").strip() if node is not None else ""


@pytest.mark.parametrize("command", EVERY, ids=lambda c: c.name)
def test_handler_docstring_starts_with_its_name(command: Command) -> None:
    if command.handler is None:
        assert command.subcommands, f"{command.name} has neither handler nor subcommands"
        return
    doc = _docstring(command.handler)
    spelled = command.name.upper().replace("|", " ")
    assert doc, f"{command.name}: handler {command.handler.__name__} has no docstring"
    first_line = doc.splitlines()[0]
    assert first_line == spelled or first_line.startswith(spelled + " "), (
        f"{command.name}: docstring {first_line!r} should start with {spelled!r}")


@pytest.mark.parametrize("command", EVERY, ids=lambda c: c.name)
def test_arity_and_flags_are_sane(command: Command) -> None:
    is_sub = "|" in command.name
    assert command.arity != 0
    if is_sub:  # "PARENT SUB" is two words already
        assert abs(command.arity) >= 2
    assert set(command.flags) <= set(COMMAND_FLAGS) | set(HIDDEN_FLAGS)
    assert list(command.flags) == sorted(command.flags, key=(COMMAND_FLAGS + HIDDEN_FLAGS).index)
    assert not {"write", "readonly"} <= set(command.flags)
    assert command.is_write == ("write" in command.flags)
    assert command.allowed_in_multi == ("no_multi" not in command.flags)
    assert command.allowed_unauthenticated == ("no_auth" in command.flags)
    if "denyoom" in command.flags:
        assert "write" in command.flags
    categories = command.acl_categories
    assert list(categories) == [c for c in ACL_CATEGORIES if c in categories]
    assert ("fast" in categories) != ("slow" in categories)
    assert ("fast" in categories) == ("fast" in command.flags)
    if "admin" in command.flags:
        assert {"admin", "dangerous"} <= set(categories)


@pytest.mark.parametrize("command", EVERY, ids=lambda c: c.name)
def test_keys_and_key_specs_agree(command: Command) -> None:
    first, last, step = command.first_key, command.last_key, command.key_step
    if first == 0:
        assert (last, step) == (0, 0)
    else:
        assert first >= 1 and step >= 1
        assert last < 0 or last >= first
        if command.arity > 0:
            assert first < command.arity and (last < 0 or last < command.arity)
        assert command.key_specs, f"{command.name} has keys but no key spec"
    for spec in command.key_specs:
        assert list(spec)[-3:] == ["flags", "begin_search", "find_keys"]
        assert list(spec["flags"]) == sorted(spec["flags"], key=KEY_SPEC_FLAGS.index)
        assert len({"RO", "RW", "OW", "RM"} & set(spec["flags"])) <= 1
    movable = any(s["begin_search"]["type"] != "index" or s["find_keys"]["type"] != "range"
                  for s in command.key_specs)
    if movable:
        assert "movablekeys" in command.flags


@pytest.mark.parametrize("command", EVERY, ids=lambda c: c.name)
def test_docs_metadata_is_filled(command: Command) -> None:
    assert command.summary, f"{command.name} has no summary"
    assert command.since.count(".") == 2, f"{command.name} since={command.since!r}"
    # (Redis documents no complexity for MONITOR)
    assert command.complexity or command.subcommands or command.name == "monitor"
    if command.deprecated_since or command.replaced_by:
        assert "deprecated" in command.doc_flags


# -- derivations (sans IO; the compat tests hold them against a real Redis) --------------

def _declare(**kwargs) -> Command:
    group = CommandGroup(kwargs.pop("group", "string"))
    name = kwargs.pop("name", "X")
    group.command(name, **kwargs)(_handler)
    return group.commands[0]


def test_categories_derive_from_flags_and_group() -> None:
    assert _declare(arity=2, flags="readonly fast", keys=(1, 1, 1)).acl_categories == (
        "read", "string", "fast")
    assert _declare(arity=-1, flags="write", group="server",
                    acl="keyspace dangerous").acl_categories == (
        "keyspace", "write", "slow", "dangerous")
    assert _declare(arity=-1, flags="admin noscript", group="connection").acl_categories == (
        "admin", "slow", "dangerous", "connection")
    assert _declare(arity=1, group="generic", acl="connection -keyspace").acl_categories == (
        "slow", "connection")
    # Redis keeps scripting commands out of @read even when they are read-only.
    assert _declare(arity=-3, flags="readonly", group="scripting").acl_categories == (
        "slow", "scripting")


def test_container_has_no_group_category() -> None:
    group = CommandGroup("generic")
    container = group.container("THING")
    assert container.acl_categories == ("slow",)


def test_default_key_spec_follows_the_flags() -> None:
    read = _declare(arity=-2, flags="readonly", keys=(1, -1, 1))
    assert read.key_specs == (key_spec("RO access", index=1, lastkey=-1),)
    write = _declare(arity=3, flags="write", keys=(1, 1, 1))
    assert write.key_specs[0]["flags"] == ("RW", "access", "update")


def test_key_spec_shapes_from_the_keys_triple() -> None:
    rename = _declare(arity=3, flags="write", keys=(1, 2, 1),
                      key_specs=("RW access delete", "OW update"))
    assert [s["begin_search"]["spec"]["index"] for s in rename.key_specs] == [1, 2]
    assert [s["find_keys"]["spec"]["lastkey"] for s in rename.key_specs] == [0, 0]
    store = _declare(arity=-3, flags="write", keys=(1, -1, 1),
                     key_specs=("OW update", "RO access"))
    assert store.key_specs[1]["begin_search"]["spec"] == {"index": 2}
    assert store.key_specs[1]["find_keys"]["spec"] == {"lastkey": -1, "keystep": 1, "limit": 0}
    lcs = _declare(arity=-3, flags="readonly", keys=(1, 2, 1))
    assert lcs.key_specs[0]["find_keys"]["spec"]["lastkey"] == 1
    mset = _declare(arity=-3, flags="write", keys=(1, -1, 2), key_specs=("OW update",))
    assert mset.key_specs[0]["find_keys"]["spec"] == {"lastkey": -1, "keystep": 2, "limit": 0}
    noted = _declare(arity=-3, flags="write", keys=(1, 1, 1),
                     key_specs=({"flags": "RW access update", "notes": "why"},))
    assert list(noted.key_specs[0]) == ["notes", "flags", "begin_search", "find_keys"]


def test_movable_keys_are_derived_from_the_specs() -> None:
    lmpop = _declare(arity=-4, flags="write",
                     key_specs=({"flags": "RW access delete", "index": 1, "keynumidx": 0},))
    assert lmpop.flags == ("write", "movablekeys")
    assert "movablekeys" not in _declare(arity=2, flags="readonly", keys=(1, 1, 1)).flags


def _keys(command: Command, *args: str) -> list[tuple[int, tuple[str, ...]]] | None:
    return command.key_references([a.encode() for a in args])


def test_key_references_follow_each_spec_shape() -> None:
    mset = _declare(arity=-3, flags="write", keys=(1, -1, 2), key_specs=("OW update",))
    assert _keys(mset, "MSET", "a", "1", "b", "2") == [(1, ("OW", "update")),
                                                      (3, ("OW", "update"))]
    zunion = _declare(arity=-4, flags="write", keys=(1, 1, 1), key_specs=(
        "OW update", {"flags": "RO access", "index": 2, "keynumidx": 0}))
    assert [p for p, _ in _keys(zunion, "Z", "dst", "2", "a", "b", "WEIGHTS", "1", "2")] == [
        1, 3, 4]
    assert _keys(zunion, "Z", "dst", "x", "a") is None  # not a count
    assert _keys(zunion, "Z", "dst", "5", "a") is None  # more keys than arguments
    xread = _declare(arity=-4, flags="readonly", key_specs=(
        {"flags": "RO access", "keyword": "STREAMS", "lastkey": -1, "limit": 2},))
    assert [p for p, _ in _keys(xread, "XREAD", "COUNT", "1", "streams", "a", "b", "0",
                                "0")] == [4, 5]
    assert _keys(xread, "XREAD", "COUNT", "1") == []  # no keyword, no keys from it
    store = _declare(arity=-6, flags="write", keys=(1, 1, 1), key_specs=(
        "RO access", {"flags": "OW update", "keyword": "STORE", "startfrom": 6}))
    assert [p for p, _ in _keys(store, "G", "k", "1", "2", "3", "m", "STORE", "d")] == [1, 7]
    backwards = _declare(arity=-6, flags="write", key_specs=(
        {"flags": "RW access delete", "keyword": "KEYS", "startfrom": -2, "lastkey": -1},))
    assert [p for p, _ in _keys(backwards, "M", "h", "p", "", "0", "1", "KEYS", "a",
                                "b")] == [7, 8]
    unknown = _declare(arity=-2, flags="readonly", key_specs=({"flags": "RO", "unknown": True},))
    assert _keys(unknown, "S", "k") is None
