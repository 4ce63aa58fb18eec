"""COMMAND INFO / DOCS / COUNT / LIST / GETKEYS: Taipan's table against a real Redis.

Every command and subcommand Taipan declares is compared with the reference server's
``COMMAND INFO`` reply, whole, in RESP2 and RESP3. Replies are parsed into typed trees
(each node keeps its RESP type marker) so the comparison is as strict as raw bytes,
except that a container's subcommands are compared sorted by name: Redis keeps them in
a dict whose iteration order changes from one server process to the next.
"""

from __future__ import annotations

from typing import Any

import pytest

from taipan.commands.table import build_table

Node = tuple[str, Any]

_TABLE = build_table()
_TOP_LEVEL = sorted(command.name for command in _TABLE)
_SUBCOMMANDS = sorted(
    sub.name for command in _TABLE for sub in command.subcommands.values()
)
_CONTAINERS = sorted(command.name for command in _TABLE if command.subcommands)


# -- a typed RESP parser --------------------------------------------------------------

def parse(raw: bytes) -> Node:
    """One whole reply as a tree of ``(type marker, value)`` nodes."""
    node, end = _parse_at(raw, 0)
    assert end == len(raw), f"trailing bytes after the reply: {raw[end:]!r}"
    return node


def _parse_at(raw: bytes, pos: int) -> tuple[Node, int]:
    end = raw.index(b"\r\n", pos)
    kind, header = chr(raw[pos]), raw[pos + 1:end]
    nxt = end + 2
    if kind in "+-":
        return (kind, header.decode()), nxt
    if kind in ":(":
        return (kind, int(header)), nxt
    if kind in ",#":
        return (kind, header.decode()), nxt
    if kind == "_":
        return (kind, None), nxt
    if kind in "$=!":
        length = int(header)
        if length < 0:
            return (kind, None), nxt
        return (kind, raw[nxt:nxt + length]), nxt + length + 2
    if kind in "*~>%|":
        count = int(header)
        if count < 0:
            return (kind, None), nxt
        items = []
        for _ in range(count * 2 if kind in "%|" else count):
            item, nxt = _parse_at(raw, nxt)
            items.append(item)
        if kind in "%|":
            items = list(zip(items[::2], items[1::2], strict=True))
        return (kind, items), nxt
    raise ValueError(f"unexpected reply type {kind!r} at {raw[pos:pos + 40]!r}")


def _text(node: Node) -> str:
    """A bulk or simple string node's text."""
    value = node[1]
    return value.decode() if isinstance(value, bytes) else value


def _sorted_subcommands(info: Node) -> Node:
    """A COMMAND INFO entry with its subcommands ordered by name."""
    kind, fields = info
    if kind != "*" or fields is None or len(fields) != 10:
        return info
    sub_kind, subs = fields[9]
    subs = sorted((_sorted_subcommands(sub) for sub in subs), key=lambda s: s[1][0][1])
    return (kind, [*fields[:9], (sub_kind, subs)])


def _info_entry(differ, name: str, resp: int) -> tuple[Node, Node]:
    """COMMAND INFO ``name`` from (redis, taipan), subcommands sorted."""
    expected, actual = differ.both("COMMAND", "INFO", name, resp=resp)
    ref, ours = parse(expected), parse(actual)
    assert ref[0] == ours[0] == "*" and len(ref[1]) == len(ours[1]) == 1
    return _sorted_subcommands(ref[1][0]), _sorted_subcommands(ours[1][0])


def _fields(info: Node) -> dict[str, Node]:
    names = ("name", "arity", "flags", "first_key", "last_key", "step", "acl_categories",
             "tips", "key_specs", "subcommands")
    return dict(zip(names, info[1], strict=True))


def _assert_same_info(ref: Node, ours: Node, name: str, resp: int) -> None:
    assert ref[0] == "*", f"Redis does not know {name!r}: {ref!r}"
    ref_fields, our_fields = _fields(ref), _fields(ours)
    for field, expected in ref_fields.items():
        assert our_fields[field] == expected, (
            f"COMMAND INFO {name} RESP{resp}: {field} differs\n"
            f"  redis:  {expected!r}\n  taipan: {our_fields[field]!r}"
        )
    assert ours == ref


# -- COMMAND INFO, one command at a time ------------------------------------------------

@pytest.mark.parametrize("resp", [2, 3])
@pytest.mark.parametrize("name", [n for n in _TOP_LEVEL if n not in _CONTAINERS])
def test_command_info_matches(differ, name: str, resp: int) -> None:
    expected, actual = differ.both("COMMAND", "INFO", name, resp=resp)
    if expected != actual:  # reparse for a readable message naming the field
        _assert_same_info(parse(expected)[1][0], parse(actual)[1][0], name, resp)
    assert actual == expected


@pytest.mark.parametrize("resp", [2, 3])
@pytest.mark.parametrize("name", _SUBCOMMANDS)
def test_subcommand_info_matches(differ, name: str, resp: int) -> None:
    expected, actual = differ.both("COMMAND", "INFO", name, resp=resp)
    if expected != actual:
        _assert_same_info(parse(expected)[1][0], parse(actual)[1][0], name, resp)
    assert actual == expected


@pytest.mark.parametrize("resp", [2, 3])
@pytest.mark.parametrize("name", _CONTAINERS)
def test_container_info_matches(differ, name: str, resp: int) -> None:
    """The container's own fields match; its subcommands are a subset of Redis's.

    Where Taipan implements every subcommand Redis has, the whole reply must match.
    """
    ref, ours = _info_entry(differ, name, resp)
    ref_fields, our_fields = _fields(ref), _fields(ours)
    for field in list(ref_fields)[:9]:
        assert our_fields[field] == ref_fields[field], (
            f"COMMAND INFO {name} RESP{resp}: {field} differs\n"
            f"  redis:  {ref_fields[field]!r}\n  taipan: {our_fields[field]!r}"
        )
    ref_subs = {_text(sub[1][0]): sub for sub in ref_fields["subcommands"][1]}
    our_subs = {_text(sub[1][0]): sub for sub in our_fields["subcommands"][1]}
    assert set(our_subs) <= set(ref_subs), f"subcommands Redis lacks: {set(our_subs) - set(ref_subs)}"
    assert our_fields["subcommands"][0] == ref_fields["subcommands"][0]
    for sub_name, sub in our_subs.items():
        assert sub == ref_subs[sub_name]
    if set(our_subs) == set(ref_subs):
        assert ours == ref


def test_command_info_several_and_unknown(differ) -> None:
    for resp in (2, 3):
        expected, actual = differ.both("COMMAND", "INFO", "get", "nosuchcommand", "set",
                                       "config|get", "config|nosuch", "GET", resp=resp)
        assert actual == expected


def test_every_command_reply_entry_matches_info(differ) -> None:
    """Bare ``COMMAND`` lists each command once, each entry equal to its COMMAND INFO."""
    _, actual = differ.both("COMMAND", resp=3)
    entries = parse(actual)[1]
    names = [_text(entry[1][0]) for entry in entries]
    assert sorted(names) == _TOP_LEVEL
    for entry in entries:
        _, ours = _info_entry(differ, _text(entry[1][0]), 3)
        assert _sorted_subcommands(entry) == ours
    _, info_all = differ.both("COMMAND", "INFO", resp=3)
    assert sorted(_text(e[1][0]) for e in parse(info_all)[1]) == _TOP_LEVEL


# -- COMMAND COUNT / LIST ---------------------------------------------------------------

def test_command_count_at_most_redis(differ) -> None:
    expected, actual = differ.both("COMMAND", "COUNT")
    ours, ref = parse(actual), parse(expected)
    assert ours[0] == ref[0] == ":"
    assert ours[1] == len(_TOP_LEVEL)
    assert 0 < ours[1] <= ref[1]


def _listed(differ, *args: str) -> tuple[set[str], set[str]]:
    expected, actual = differ.both("COMMAND", "LIST", *args)
    ref, ours = parse(expected), parse(actual)
    assert ref[0] == ours[0] == "*"
    return {_text(n) for n in ref[1]}, {_text(n) for n in ours[1]}


def test_command_list_is_the_table(differ) -> None:
    ref, ours = _listed(differ)
    assert ours == set(_TOP_LEVEL) | set(_SUBCOMMANDS)
    assert ours <= ref


@pytest.mark.parametrize("category", [
    "keyspace", "read", "write", "string", "fast", "slow", "admin", "dangerous",
    "connection", "transaction", "scripting", "pubsub", "blocking",
])
def test_command_list_filterby_aclcat(differ, category: str) -> None:
    """Filtering by category gives Redis's answer restricted to what Taipan implements."""
    ref, ours = _listed(differ, "FILTERBY", "ACLCAT", category)
    implemented = set(_TOP_LEVEL) | set(_SUBCOMMANDS)
    assert ours == ref & implemented


@pytest.mark.parametrize("pattern", ["*", "get*", "*set*", "config|*", "c?ient|*", "[a-c]*",
                                     "nomatch*"])
def test_command_list_filterby_pattern(differ, pattern: str) -> None:
    ref, ours = _listed(differ, "FILTERBY", "PATTERN", pattern)
    implemented = set(_TOP_LEVEL) | set(_SUBCOMMANDS)
    assert ours == ref & implemented


@pytest.mark.parametrize("args", [
    ("FILTERBY", "ACLCAT", "nosuchcategory"),
    ("FILTERBY", "MODULE", "nosuchmodule"),
    ("FILTERBY", "PATTERN"),
    ("FILTERBY", "NOSUCH", "x"),
    ("FILTERBY",),
    ("NOTFILTERBY", "ACLCAT", "read"),
    ("FILTERBY", "ACLCAT", "read", "extra"),
])
def test_command_list_filterby_edge_cases(differ, args: tuple[str, ...]) -> None:
    differ.check("COMMAND", "LIST", *args)


# -- COMMAND GETKEYS / GETKEYSANDFLAGS --------------------------------------------------

@pytest.mark.parametrize("args", [
    ("GET", "k"),
    ("SET", "k", "v", "EX", "10"),
    ("MSET", "a", "1", "b", "2", "c", "3"),
    ("MGET", "a", "b", "c"),
    ("DEL", "a", "b"),
    ("RENAME", "a", "b"),
    ("COPY", "a", "b", "REPLACE"),
    ("EXPIRE", "a", "10"),
    ("OBJECT", "ENCODING", "k"),
    ("WATCH", "a", "b"),
    ("get", "k"),
    ("SET", "k", "v", "GET"),
    ("SET", "k", "v", "get", "PX", "5"),
    ("SET", "k", "v", "NX"),
    ("GETEX", "k", "PERSIST"),
    ("BITFIELD", "k"),
    ("BITFIELD", "k", "GET", "u8", "0"),
    ("BITFIELD", "k", "GET", "u8"),
    ("BITFIELD", "k", "OVERFLOW", "WRAP", "GET", "u8", "0"),
    ("BITFIELD", "k", "SET", "u8", "0", "1"),
    ("BITFIELD", "k", "INCRBY", "u8", "0", "1"),
    ("BITFIELD", "k", "foo"),
    ("BITFIELD_RO", "k", "GET", "u8", "0"),
    ("BITOP", "AND", "dest", "a", "b", "c"),
    ("LMOVE", "src", "dst", "LEFT", "RIGHT"),
    ("LMPOP", "2", "a", "b", "LEFT"),
    ("LMPOP", "3", "a", "b", "LEFT"),
    ("LMPOP", "5", "a", "b", "LEFT"),
    ("LMPOP", "x", "a", "b", "LEFT"),
    ("LMPOP", "-1", "a", "b", "LEFT"),
    ("LCS", "a", "b", "LEN"),
    ("MSET", "a", "1", "b"),
])
def test_command_getkeys(differ, args: tuple[str, ...]) -> None:
    if args[0].lower() not in _TOP_LEVEL:
        pytest.skip(f"Taipan does not implement {args[0]} yet")
    differ.check("COMMAND", "GETKEYS", *args)
    differ.check("COMMAND", "GETKEYSANDFLAGS", *args)


def _synthetic_argvs(name: str) -> list[list[str]]:
    """Argument lists that pass the arity check, each argument a distinct number (so
    a keynum spec reads a count and every reported key shows which position it was)."""
    command = _TABLE.lookup(name.partition("|")[0].encode())
    if "|" in name:
        command = command.subcommands[name.partition("|")[2].encode()]
    words = name.split("|")
    arity = command.arity
    sizes = [arity] if arity > 0 else [-arity, -arity + 1, -arity + 3]
    return [words + [str(n) for n in range(1, size - len(words) + 1)] for size in sizes]


@pytest.mark.parametrize("name", _TOP_LEVEL + _SUBCOMMANDS)
def test_command_getkeysandflags_every_command(differ, name: str) -> None:
    """Keys found by the key specs, with their flags (or the error) match Redis's."""
    if name in _CONTAINERS and _TABLE.lookup(name.encode()).handler is None:
        pytest.skip("a container has no form of its own")
    for argv in _synthetic_argvs(name):
        differ.check("COMMAND", "GETKEYSANDFLAGS", *argv)
        differ.check("COMMAND", "GETKEYS", *argv, resp=(2,))


@pytest.mark.parametrize("args", [
    ("GETKEYS",),
    ("GETKEYS", "GET"),
    ("GETKEYS", "NOSUCHCOMMAND", "k"),
    ("GETKEYS", "PING"),
    ("GETKEYS", "PING", "hello"),
    ("GETKEYS", "SET", "k"),
    ("GETKEYS", "MSET", "a"),
    ("GETKEYS", "CONFIG", "GET", "x"),
    ("GETKEYS", "CONFIG", "NOSUCH"),
    ("GETKEYS", "OBJECT", "ENCODING"),
    ("GETKEYS", "OBJECT", "HELP"),
    ("GETKEYSANDFLAGS",),
    ("GETKEYSANDFLAGS", "NOSUCHCOMMAND"),
    ("GETKEYSANDFLAGS", "PING", "x"),
    ("GETKEYSANDFLAGS", "GET"),
])
def test_command_getkeys_errors(differ, args: tuple[str, ...]) -> None:
    differ.check("COMMAND", *args)


# -- COMMAND DOCS ---------------------------------------------------------------------

_DOC_FIELDS = ("summary", "since", "group", "complexity", "doc_flags", "deprecated_since",
               "replaced_by", "history")


def _docs(differ, name: str, resp: int = 3) -> tuple[dict, dict]:
    expected, actual = differ.both("COMMAND", "DOCS", name, resp=resp)
    ref, ours = parse(expected), parse(actual)
    assert ref[0] == ours[0]
    pairs = []
    for reply in (ref, ours):
        entries = reply[1] if reply[0] == "%" else list(zip(reply[1][::2], reply[1][1::2],
                                                            strict=True))
        assert len(entries) == 1, reply
        doc = entries[0][1]
        doc_pairs = doc[1] if doc[0] == "%" else list(zip(doc[1][::2], doc[1][1::2],
                                                          strict=True))
        pairs.append({_text(key): value for key, value in doc_pairs})
    return pairs[0], pairs[1]


@pytest.mark.parametrize("name", _TOP_LEVEL + _SUBCOMMANDS)
def test_command_docs_fields_match(differ, name: str) -> None:
    ref, ours = _docs(differ, name)
    for field in _DOC_FIELDS:
        assert ours.get(field) == ref.get(field), (
            f"COMMAND DOCS {name}: {field}\n  redis:  {ref.get(field)!r}\n"
            f"  taipan: {ours.get(field)!r}"
        )
    if "arguments" in ours:
        assert ours["arguments"] == ref["arguments"]
    if "arguments" not in ref and "subcommands" not in ref:
        differ.check("COMMAND", "DOCS", name)  # nothing left out: the whole reply matches
    if "subcommands" in ref:
        ref_subs = {_text(k) for k, _ in ref["subcommands"][1]}
        our_subs = {_text(k) for k, _ in ours["subcommands"][1]}
        assert our_subs <= ref_subs


@pytest.mark.parametrize("name", ["get", "set", "getset", "substr", "expire", "ping"])
def test_command_docs_raw_resp2_fields(differ, name: str) -> None:
    """The RESP2 shape too (flat arrays), on a few commands."""
    ref, ours = _docs(differ, name, resp=2)
    for field in _DOC_FIELDS:
        assert ours.get(field) == ref.get(field)


def test_command_docs_unknown_and_several(differ) -> None:
    differ.check("COMMAND", "DOCS", "nosuchcommand")
    expected, actual = differ.both("COMMAND", "DOCS", "get", "nosuch", "strlen")
    ref, ours = parse(expected), parse(actual)
    assert [_text(n) for n in ours[1][::2]] == [_text(n) for n in ref[1][::2]] == [
        "get", "strlen"]


def test_command_help_and_errors(differ) -> None:
    differ.check("COMMAND", "HELP")
    differ.check("COMMAND", "NOSUCHSUB")
    differ.check("COMMAND", "COUNT", "extra")
    differ.check("COMMAND", "GETKEYS")
