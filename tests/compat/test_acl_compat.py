"""ACL users (Redis 7.0 ACL v2): raw replies identical to a real Redis 7.0.

The servers are shared by the whole session: every test creates users with its own
names and deletes them (and restores any config it changes) in teardown.

Redis lists the single commands of a description (``+get -set``) in its command
dict's order, randomized per process; descriptions are compared after sorting each
run of single-command rules (``+@all``/``-@all`` and the categories keep their order;
keys, channels, flags and passwords must match exactly).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator

import pytest
from support.raw import RawClient

Arg = bytes | str | int

# -- comparison helpers ------------------------------------------------------------------


def _parse(data: bytes, pos: int = 0) -> tuple[object, int]:
    """A raw reply as (type byte, value) trees: the type survives the comparison."""
    end = data.index(b"\r\n", pos)
    kind, body = data[pos:pos + 1], data[pos + 1:end]
    nxt = end + 2
    if kind in (b"$", b"=", b"!"):
        length = int(body)
        if length < 0:
            return (kind, None), nxt
        return (kind, data[nxt:nxt + length]), nxt + length + 2
    if kind in (b"*", b"~", b">", b"%", b"|"):
        count = int(body)
        if count < 0:
            return (kind, None), nxt
        items = []
        for _ in range(count * (2 if kind in (b"%", b"|") else 1)):
            item, nxt = _parse(data, nxt)
            items.append(item)
        return (kind, items), nxt
    return (kind, body), nxt


_SINGLE = re.compile(rb"^[+-][^@]")


def normalise_rules(text: bytes) -> bytes:
    """Sort each run of single-command rules (+get, -config|set) in a description."""
    tokens: list[bytes] = []
    for token in text.split(b" "):
        opening = token.startswith(b"(")
        closing = token.endswith(b")") and not opening or (opening and len(token) > 1
                                                            and token.endswith(b")"))
        core = token[1 if opening else 0:len(token) - (1 if closing else 0)]
        if opening:
            tokens.append(b"(")
        tokens.append(core)
        if closing:
            tokens.append(b")")
    out: list[bytes] = []
    run: list[bytes] = []
    for token in tokens:
        if _SINGLE.match(token):
            run.append(token)
            continue
        out.extend(sorted(run))
        run = []
        out.append(token)
    out.extend(sorted(run))
    return b" ".join(out)


# Commands of Redis 7.0 that Taipan lacks (cluster, replication, modules...): a
# description of Redis names them when a category holds them; they are left out of
# the comparison (filled in by the ``acl`` fixture from COMMAND LIST on both).
MISSING: set[bytes] = set()


def _drop_missing(text: bytes) -> bytes:
    kept = [token for token in text.split(b" ")
            if not (_SINGLE.match(token) and token[1:].rstrip(b")") in MISSING)]
    return b" ".join(kept)


def _normalise(tree: object) -> object:
    kind, value = tree  # type: ignore[misc]
    if isinstance(value, list):
        return kind, [_normalise(item) for item in value]
    if isinstance(value, bytes) and (b"-@all" in value or b"+@all" in value):
        return kind, normalise_rules(_drop_missing(value))
    return kind, value


def same_description(expected: bytes, actual: bytes) -> bool:
    if expected == actual:
        return True
    return _normalise(_parse(expected)[0]) == _normalise(_parse(actual)[0])


def test_normaliser() -> None:
    assert normalise_rules(b"user a on ~x resetchannels -@all +set +get (~y -@all +b +a)") \
        == b"user a on ~x resetchannels -@all +get +set ( ~y -@all +a +b )"


class Pair:
    """One connection to each server; ``check`` asserts identical raw replies."""

    def __init__(self, redis_port: int, taipan_port: int) -> None:
        self.ref, self.ours = RawClient(redis_port), RawClient(taipan_port)

    def both(self, *args: Arg) -> tuple[bytes, bytes]:
        return self.ref.call(*args), self.ours.call(*args)

    def check(self, *args: Arg) -> bytes:
        expected, actual = self.both(*args)
        assert actual == expected, f"{args!r}\n  redis:  {expected!r}\n  taipan: {actual!r}"
        return expected

    def check_desc(self, *args: Arg) -> bytes:
        expected, actual = self.both(*args)
        assert same_description(expected, actual), \
            f"{args!r}\n  redis:  {expected!r}\n  taipan: {actual!r}"
        return expected

    def close(self) -> None:
        self.ref.close()
        self.ours.close()


class Acl:
    """Admin connections (RESP2 and RESP3, default user) and cleanup of what a test
    creates or changes."""

    def __init__(self, redis_port: int, taipan_port: int) -> None:
        self.ports = (redis_port, taipan_port)
        self.admin = Pair(*self.ports)
        self.admin3 = Pair(*self.ports)
        self.admin3.both("HELLO", "3")
        self.pairs: list[Pair] = [self.admin, self.admin3]
        self.users: set[str] = set()
        self.configs: dict[str, tuple[bytes, bytes]] = {}

    def pair(self, user: str | None = None, password: str = "pw", resp: int = 2) -> Pair:
        pair = Pair(*self.ports)
        self.pairs.append(pair)
        if resp == 3:
            pair.both("HELLO", "3")
        if user is not None:
            pair.check("AUTH", user, password)
        return pair

    def setuser(self, name: str, *rules: Arg) -> bytes:
        self.users.add(name)
        return self.admin.check("ACL", "SETUSER", name, *rules)

    def describe(self, name: str) -> None:
        """GETUSER (RESP2 and RESP3) and ACL LIST agree."""
        for pair in (self.admin, self.admin3):
            pair.check_desc("ACL", "GETUSER", name)
        self.admin.check_desc("ACL", "LIST")

    def config_set(self, name: str, value: str) -> None:
        if name not in self.configs:
            ref = self.admin.ref.call("CONFIG", "GET", name)
            ours = self.admin.ours.call("CONFIG", "GET", name)
            self.configs[name] = (ref, ours)
        self.admin.check("CONFIG", "SET", name, value)

    def cleanup(self) -> None:
        for pair in self.pairs[2:]:
            pair.close()
        admin = Pair(*self.ports)
        try:
            for name, (ref, ours) in self.configs.items():
                for client, raw in ((admin.ref, ref), (admin.ours, ours)):
                    value = raw.split(b"\r\n")[-2]
                    client.call("CONFIG", "SET", name, value)
            admin.both("CONFIG", "SET", "requirepass", "")
            if self.users:
                admin.both("ACL", "DELUSER", *sorted(self.users))
            admin.both("ACL", "LOG", "RESET")
        finally:
            admin.close()
            self.admin.close()
            self.admin3.close()


@pytest.fixture
def acl(differ, real_redis, taipan) -> Iterator[Acl]:
    helper = Acl(real_redis.port, taipan.port)
    if not MISSING:
        MISSING.update(name.encode() for name in
                       _command_list(helper.admin.ref) - _command_list(helper.admin.ours))
    helper.admin.both("ACL", "LOG", "RESET")
    try:
        yield helper
    finally:
        helper.cleanup()


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# -- SETUSER rules, GETUSER and LIST ------------------------------------------------------

RULE_SETS = {
    "on": ["on"],
    "off": ["off"],
    "passwords": ["on", ">p1", ">p2", ">p1"],
    "remove_password": [">p1", ">p2", "<p1"],
    "hash": ["#" + sha("secret")],
    "hash_remove": ["#" + sha("a"), "#" + sha("b"), "!" + sha("a")],
    "nopass": [">p", "nopass"],
    "nopass_then_pass": ["nopass", ">p"],
    "resetpass": [">p", "nopass", "resetpass"],
    "keys": ["~foo*", "~bar", "~foo*"],
    "key_permissions": ["%R~r*", "%W~w*", "%RW~rw*", "%WR~wr", "%r~lower"],
    "key_merge": ["%R~k", "%W~k", "%R~j", "~j"],
    "key_read_no_tilde": ["%R"],
    "allkeys": ["~x", "allkeys"],
    "resetkeys": ["~*", "resetkeys", "~y"],
    "channels": ["&ch*", "&other", "&ch*"],
    "allchannels": ["&x", "allchannels"],
    "resetchannels": ["&*", "resetchannels", "&z"],
    "commands": ["+get", "+set", "-set", "+hset"],
    "subcommands": ["+config|get", "+client|id", "+client|setname"],
    "remove_subcommand": ["+config", "-config|set", "-config|rewrite"],
    "remove_subcommand_of_all": ["+@all", "-config|set"],
    "container_after_sub": ["+config|get", "+config"],
    "first_arg": ["+select|0", "+select|1", "+select|0"],
    "first_arg_then_command": ["+select|0", "+select"],
    "first_arg_then_removal": ["+select|0", "-select"],
    "category": ["+@hash", "-hset", "+@string", "-@write"],
    "category_removal": ["+@all", "-@dangerous", "-@slow", "+get"],
    "categories_mixed_case": ["+@HASH", "-@Write"],
    "allcommands": ["allcommands", "-flushall"],
    "nocommands": ["+@all", "nocommands", "+ping"],
    "selector_one_arg": ["(~x +get)", "(%R~y &c +@read -@hash)"],
    "selector_spread": ["(~x", "+get", "+set)", "(~y", "+del)"],
    "selector_empty": ["()"],
    "clearselectors": ["(~x +get)", "clearselectors", "(~z +set)"],
    "reset": [">p", "~x", "&y", "+get", "(~z +set)", "on", "skip-sanitize-payload", "reset"],
    "skip_sanitize": ["skip-sanitize-payload"],
    "sanitize": ["skip-sanitize-payload", "sanitize-payload"],
    "mixed_case_flags": ["ON", "NOPASS", "ALLKEYS", "ALLCHANNELS", "ALLCOMMANDS"],
    "empty_rule": [""],
    "everything": ["on", ">pw", "#" + sha("x"), "~k*", "%R~r*", "&c*", "-@all", "+@hash",
                   "+get", "+config|get", "+select|2", "(~s* +set)", "skip-sanitize-payload"],
}


@pytest.mark.parametrize("case", sorted(RULE_SETS))
def test_setuser_getuser_list(acl: Acl, case: str) -> None:
    name = f"acl_rules_{case}"
    acl.setuser(name, *RULE_SETS[case])
    acl.describe(name)


@pytest.mark.parametrize("case", ["commands", "reset", "everything", "selector_spread"])
def test_setuser_applied_twice(acl: Acl, case: str) -> None:
    """Rules on an existing user change it (and not a fresh copy)."""
    name = f"acl_twice_{case}"
    acl.setuser(name, "on", ">old", "~old", "&old", "+ping")
    acl.setuser(name, *RULE_SETS[case])
    acl.describe(name)


def test_setuser_without_rules(acl: Acl) -> None:
    acl.setuser("acl_bare")
    acl.describe("acl_bare")
    acl.setuser("acl_bare")
    acl.describe("acl_bare")


def test_key_pattern_without_permissions(acl: Acl) -> None:
    acl.users.add("acl_pct_tilde")
    acl.admin.check("ACL", "SETUSER", "acl_pct_tilde", "%~x")
    acl.admin.check("ACL", "GETUSER", "acl_pct_tilde")


@pytest.mark.parametrize("default", ["allchannels", "resetchannels"])
def test_acl_pubsub_default(acl: Acl, default: str) -> None:
    acl.config_set("acl-pubsub-default", default)
    acl.setuser(f"acl_pubsub_{default}_new", "on")
    acl.describe(f"acl_pubsub_{default}_new")
    acl.setuser(f"acl_pubsub_{default}_sel", "(~x +get)")
    acl.describe(f"acl_pubsub_{default}_sel")
    acl.setuser(f"acl_pubsub_{default}_reset", "&foo", "reset")
    acl.describe(f"acl_pubsub_{default}_reset")
    acl.admin.check("CONFIG", "GET", "acl-pubsub-default")


def test_users_and_whoami(acl: Acl) -> None:
    for name in ("acl_u_b", "acl_u_a", "acl_u_c"):
        acl.setuser(name)
    acl.admin.check("ACL", "USERS")
    acl.admin3.check("ACL", "USERS")
    acl.admin.check("ACL", "WHOAMI")
    acl.admin.check("ACL", "GETUSER", "default")
    acl.admin3.check("ACL", "GETUSER", "default")
    acl.admin.check("ACL", "GETUSER", "acl_nosuch_user")
    acl.admin3.check("ACL", "GETUSER", "acl_nosuch_user")


# -- rule errors ----------------------------------------------------------------------------

RULE_ERRORS = {
    "unknown_command": ["+nosuchcommand"],
    "unknown_removal": ["-nosuchcommand"],
    "unknown_category": ["+@nosuch"],
    "unknown_category_removal": ["-@nosuch"],
    "bad_hash_short": ["#abc"],
    "bad_hash_upper": ["#" + sha("x").upper()],
    "bad_hash_removal": ["!zz"],
    "missing_password": ["<nothere"],
    "missing_hash": ["!" + sha("nothere")],
    "pattern_after_star": ["~*", "~x"],
    "pattern_after_allkeys": ["allkeys", "%R~x"],
    "channel_after_star": ["&*", "&x"],
    "channel_after_allchannels": ["allchannels", "&x"],
    "space_in_key": ["~a b"],
    "space_in_channel": ["&a b"],
    "space_in_read_key": ["%R~a b"],
    "bad_permission": ["%X~k"],
    "permission_twice": ["%RR~k"],
    "empty_sub": ["+config|"],
    "sub_of_sub": ["+config|get|x"],
    "unknown_sub": ["+client|nosuch"],
    "remove_first_arg": ["-select|0"],
    "empty_first_arg": ["+select|"],
    "empty_command": ["+|x"],
    "first_arg_of_unknown": ["+nosuch|x"],
    "unmatched_open": ["(~x"],
    "unmatched_open_later": ["on", "(~x", "+get"],
    "two_opens": ["(~x", "(~y +get)"],
    "bad_rule_in_selector": ["(~x +nosuch)"],
    "bad_flag_in_selector": ["(on)"],
    "password_in_selector": ["(>pw)"],
    "unknown_rule": ["bogus"],
    "close_only": ["~x)"],
    "after_good_rules": ["on", ">pw", "~k", "+nosuch"],
}


@pytest.mark.parametrize("case", sorted(RULE_ERRORS))
def test_setuser_errors(acl: Acl, case: str) -> None:
    name = f"acl_err_{case}"
    acl.users.add(name)
    acl.admin.check("ACL", "SETUSER", name, *RULE_ERRORS[case])
    acl.admin.check("ACL", "GETUSER", name)  # nothing created


def test_failed_setuser_leaves_user_unchanged(acl: Acl) -> None:
    acl.setuser("acl_err_keep", "on", ">pw", "~k", "+get")
    acl.admin.check("ACL", "SETUSER", "acl_err_keep", "off", "~z", "+nosuch")
    acl.describe("acl_err_keep")


@pytest.mark.parametrize("name", ["a b", "a\tb", "a\x00b", " "])
def test_username_with_spaces(acl: Acl, name: str) -> None:
    acl.admin.check("ACL", "SETUSER", name, "on")


@pytest.mark.parametrize("args", [
    ("ACL", "DELUSER", "default"),
    ("ACL", "DELUSER", "acl_nosuch", "default"),
    ("ACL", "DELUSER", "acl_nosuch"),
    ("ACL", "CAT", "nosuch"),
    ("ACL", "CAT", ""),
    ("ACL", "CAT"),
    ("ACL", "GENPASS", "0"),
    ("ACL", "GENPASS", "-1"),
    ("ACL", "GENPASS", "5000"),
    ("ACL", "GENPASS", "4097"),
    ("ACL", "GENPASS", "abc"),
    ("ACL", "GENPASS", "1.5"),
    ("ACL", "LOG", "-1"),
    ("ACL", "LOG", "abc"),
    ("ACL", "LOG", "0"),
    ("ACL", "LOG", "RESET"),
    ("ACL", "LOG", "reset"),
    ("ACL", "SAVE"),
    ("ACL", "LOAD"),
    ("ACL", "HELP"),
    ("ACL", "WHOAMI"),
    ("ACL",),
    ("ACL", "NOSUCH"),
    ("ACL", "SETUSER"),
    ("ACL", "GETUSER"),
    ("ACL", "GETUSER", "a", "b"),
    ("ACL", "DELUSER"),
    ("ACL", "LIST", "x"),
    ("ACL", "USERS", "x"),
    ("ACL", "WHOAMI", "x"),
    ("ACL", "SAVE", "x"),
    ("ACL", "LOAD", "x"),
    ("ACL", "HELP", "x"),
    ("ACL", "DRYRUN"),
    ("ACL", "DRYRUN", "default"),
    ("ACL", "DRYRUN", "default", "get"),
    ("acl", "help"),
])
def test_acl_subcommand_replies(differ, args: tuple) -> None:
    differ.check(*args)


def _category_names(client: RawClient) -> list[str]:
    return [name.decode() for name in
            re.findall(rb"\$\d+\r\n([^\r]*)\r\n", client.call("ACL", "CAT"))]


def test_acl_cat_members(acl: Acl) -> None:
    """Each category holds the same commands (in Redis's random dict order: as sets),
    leaving out the commands Taipan lacks."""
    wrong = []
    for category in _category_names(acl.admin.ref):
        for spelling in (category, category.upper()):
            ref = set(re.findall(rb"\$\d+\r\n([^\r]*)\r\n",
                                 acl.admin.ref.call("ACL", "CAT", spelling)))
            ours = set(re.findall(rb"\$\d+\r\n([^\r]*)\r\n",
                                  acl.admin.ours.call("ACL", "CAT", spelling)))
            if ref - MISSING != ours:
                wrong.append(f"{spelling}: only redis {sorted(ref - MISSING - ours)}, "
                             f"only taipan {sorted(ours - ref)}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("args", [
    ("ACL", "CAT", "read", "x"),
    ("ACL", "GENPASS", "1", "2"),
    ("ACL", "LOG", "1", "2"),
])
def test_acl_extra_argument_errors(differ, args: tuple) -> None:
    differ.check(*args)


@pytest.mark.parametrize("bits", [1, 4, 5, 8, 255, 256, 4096])
def test_genpass_lengths(differ, bits: int) -> None:
    ref, ours = differ.both("ACL", "GENPASS", bits)
    assert len(ref) == len(ours) and ref[:1] == ours[:1] == b"$"
    assert re.fullmatch(rb"\$\d+\r\n[0-9a-f]+\r\n", ours)


def test_genpass_default(differ) -> None:
    ref, ours = differ.both("ACL", "GENPASS")
    assert len(ref) == len(ours) == len(b"$64\r\n\r\n") + 64


# -- DRYRUN -------------------------------------------------------------------------------


def test_dryrun(acl: Acl) -> None:
    acl.setuser("acl_dry", "on", "-@all", "+get", "+set", "+config|get", "+select|0",
                "+publish", "+subscribe", "+psubscribe", "%R~r*", "%W~w*", "~rw*", "&ch*",
                "(+del ~d*)", "(+client|list)")
    for args in [
        ("acl_nosuch_user", "get", "k"), ("acl_dry", "nosuchcmd", "k"),
        ("acl_dry", "get"), ("acl_dry", "get", "a", "b"), ("acl_dry", "set", "k"),
        ("acl_dry", "get", "r1"), ("acl_dry", "get", "w1"), ("acl_dry", "get", "rw1"),
        ("acl_dry", "set", "w1", "v"), ("acl_dry", "set", "r1", "v"),
        ("acl_dry", "GET", "r1"), ("acl_dry", "hset", "r1", "f", "v"),
        ("acl_dry", "config", "get", "x"), ("acl_dry", "config", "set", "x", "y"),
        ("acl_dry", "config"), ("acl_dry", "config", "nosuch"),
        ("acl_dry", "CONFIG", "GET", "maxmemory"), ("acl_dry", "config", "get"),
        ("acl_dry", "select", "0"), ("acl_dry", "select", "1"), ("acl_dry", "SELECT", "0"),
        ("acl_dry", "publish", "ch1", "m"), ("acl_dry", "publish", "other", "m"),
        ("acl_dry", "subscribe", "ch1", "other"), ("acl_dry", "subscribe", "ch1"),
        ("acl_dry", "psubscribe", "ch*"), ("acl_dry", "psubscribe", "ch1"),
        ("acl_dry", "del", "d1"), ("acl_dry", "del", "r1"), ("acl_dry", "del", "d1", "x"),
        ("acl_dry", "client", "list"), ("acl_dry", "client", "id"),
        ("acl_dry", "ping"), ("acl_dry", "auth", "a"), ("acl_dry", "hello"),
        ("default", "flushall"), ("default", "get", "k"),
    ]:
        acl.admin.check("ACL", "DRYRUN", *args)
        acl.admin3.check("ACL", "DRYRUN", *args)


def test_dryrun_key_specs(acl: Acl) -> None:
    acl.setuser("acl_dry_keys", "on", "+@all", "%R~r*", "%W~w*", "~rw*")
    for args in [
        ("rename", "r1", "w1"), ("rename", "rw1", "w1"), ("rename", "rw1", "rw2"),
        ("copy", "r1", "w1"), ("copy", "w1", "r1"), ("copy", "r1", "rw1"),
        ("sort", "r1"), ("sort", "r1", "store", "w1"), ("sort", "r1", "store", "r2"),
        ("sort_ro", "r1"), ("lpush", "w1", "v"), ("lpush", "r1", "v"),
        ("eval", "return 1", "1", "r1"), ("eval", "return 1", "1", "x"),
        ("eval", "return 1", "0"), ("lmove", "r1", "w1", "left", "right"),
        ("lmove", "rw1", "w1", "left", "right"), ("smove", "rw1", "rw2", "m"),
        ("mset", "w1", "v", "r1", "v"), ("mget", "r1", "rw1"), ("mget", "r1", "w1"),
        ("bitop", "and", "w1", "r1"), ("bitop", "and", "rw1", "r1", "r2"),
        ("getdel", "r1"), ("getdel", "rw1"), ("exists", "w1"), ("type", "r1"),
        ("object", "encoding", "w1"), ("xread", "streams", "r1", "0"),
        ("xread", "streams", "w1", "0"), ("zunionstore", "w1", "2", "r1", "r2"),
        ("zunionstore", "w1", "2", "r1", "w2"), ("geosearchstore", "w1", "r1", "frommember",
                                                 "m", "byradius", "1", "km"),
        ("georadius", "r1", "0", "0", "1", "km", "store", "w1"),
        ("georadius", "r1", "0", "0", "1", "km", "store", "r2"),
        ("set", "r1", "v", "get"), ("set", "rw1", "v", "get"), ("append", "w1", "v"),
    ]:
        acl.admin.check("ACL", "DRYRUN", "acl_dry_keys", *args)


DRYRUN_USERS = {
    "acl_tbl_read": ["on", "-@all", "+@read", "~k*"],
    "acl_tbl_nodanger": ["on", "+@all", "-@dangerous", "~*"],
    "acl_tbl_hash": ["on", "-@all", "+@hash", "%R~k1", "%W~k2"],
    "acl_tbl_selectors": ["on", "(+get ~k1)", "(+set ~k2)"],
    "acl_tbl_configget": ["on", "-@all", "+config|get"],
    "acl_tbl_channels": ["on", "+@all", "~*", "resetchannels", "&k1"],
}


def _command_list(client: RawClient) -> set[str]:
    reply = client.call("COMMAND", "LIST")
    return {item.decode() for item in re.findall(rb"\$\d+\r\n([^\r]*)\r\n", reply)}


def _arity(client: RawClient, name: str) -> int:
    """COMMAND INFO's arity of a command or ``parent|sub`` (first integer in the reply)."""
    if "|" in name:
        parent, sub = name.split("|")
        reply = client.call("COMMAND", "DOCS", parent)  # only to check it exists
        del reply
        info = client.call("COMMAND", "INFO", parent)
        # The subcommand's own entry: find its name, then the integer after it.
        marker = f"${len(name)}\r\n{name}\r\n:".encode()
        pos = info.find(marker)
        assert pos >= 0, name
        start = pos + len(marker)
        return int(info[start:info.index(b"\r\n", start)])
    info = client.call("COMMAND", "INFO", name)
    match = re.search(rb"\r\n:(-?\d+)\r\n", info)
    assert match, name
    return int(match.group(1))


def _dryrun_argv(name: str, arity: int) -> list[str]:
    head = name.split("|")
    needed = abs(arity) - len(head)
    return [*head, *(f"k{i + 1}" for i in range(max(needed, 0)))]


def test_dryrun_whole_command_table(acl: Acl) -> None:
    ref_names = _command_list(acl.admin.ref)
    ours_names = _command_list(acl.admin.ours)
    names = sorted(ref_names & ours_names)
    for user, rules in DRYRUN_USERS.items():
        acl.setuser(user, *rules)
    differences = []
    assert len(names) > 200
    for name in names:
        argv = _dryrun_argv(name, _arity(acl.admin.ref, name))
        for extra in ([], ["k3", "k4"]):
            for user in DRYRUN_USERS:
                args = ("ACL", "DRYRUN", user, *argv, *extra)
                expected, actual = acl.admin.both(*args)
                if expected != actual:
                    differences.append(f"{args!r}\n  redis:  {expected!r}\n"
                                       f"  taipan: {actual!r}")
    assert not differences, "\n".join(differences)


def test_command_table_covered(acl: Acl) -> None:
    """Taipan has no command Redis lacks (the DRYRUN sweep covers every common one)."""
    assert _command_list(acl.admin.ours) - _command_list(acl.admin.ref) == set()
    assert len(_command_list(acl.admin.ours)) > 200


# -- NOPERM for a restricted user -----------------------------------------------------------

RESTRICTED = ["on", ">pw", "-@all", "+get", "+set", "+lpush", "+rename", "+copy", "+sort",
              "+eval", "+evalsha", "+multi", "+exec", "+discard", "+publish", "+subscribe",
              "+psubscribe", "+ping", "+acl|whoami", "+hello", "+auth", "+del", "+mget",
              "%R~r*", "%W~w*", "~rw*", "&ch*"]


@pytest.fixture
def restricted(acl: Acl) -> Iterator[Pair]:
    acl.setuser("acl_limited", *RESTRICTED)
    yield acl.pair("acl_limited")


@pytest.mark.parametrize("args", [
    ("ACL", "WHOAMI"), ("HSET", "rw1", "f", "v"), ("FLUSHALL",), ("ACL", "LIST"),
    ("CONFIG", "GET", "port"), ("GET", "r1"), ("GET", "w1"), ("GET", "rw1"), ("GET", "x"),
    ("SET", "w1", "v"), ("SET", "r1", "v"), ("SET", "rw1", "v"), ("LPUSH", "r1", "v"),
    ("LPUSH", "w1", "v"), ("RENAME", "rw1", "w2"), ("RENAME", "r1", "w2"),
    ("RENAME", "w1", "rw2"), ("COPY", "r1", "w1"), ("COPY", "w1", "r1"),
    ("COPY", "r1", "rw1"), ("SORT", "r1", "STORE", "w1"), ("SORT", "r1", "STORE", "r2"),
    ("SORT", "w1"), ("DEL", "w1"), ("DEL", "r1"), ("MGET", "r1", "rw1"), ("MGET", "r1", "w1"),
    ("EVAL", "return 1", "1", "r1"), ("EVAL", "return 1", "1", "x"),
    ("EVAL", "return 1", "0"), ("PUBLISH", "ch1", "m"), ("PUBLISH", "other", "m"),
    ("PING",), ("SELECT", "0"), ("HELLO", "4"), ("nosuchcommand",), ("GET",),
])
def test_noperm_replies(acl: Acl, restricted: Pair, args: tuple) -> None:
    restricted.check(*args)


@pytest.mark.parametrize("args", [
    ("SUBSCRIBE", "other"), ("SUBSCRIBE", "ch1", "other"), ("SUBSCRIBE", "ch1"),
    ("PSUBSCRIBE", "ch*"), ("PSUBSCRIBE", "ch1"), ("PSUBSCRIBE", "c*"),
])
def test_noperm_subscribe(acl: Acl, restricted: Pair, args: tuple) -> None:
    restricted.check(*args)


@pytest.mark.parametrize("script", [
    "return redis.call('hset', 'rw1', 'f', 'v')",
    "return redis.pcall('hset', 'rw1', 'f', 'v')",
    "return redis.call('get', 'w1')",
    "return redis.pcall('get', 'w1')",
    "return redis.call('set', 'r1', 'v')",
    "local ok, e = pcall(redis.call, 'get', 'w1') return e",
    "return redis.pcall('publish', 'other', 'm')",
    "return redis.call('get', 'rw1')",
    "return redis.acl_check_cmd('get', 'r1')",
    "return redis.acl_check_cmd('set', 'rw1', 'v')",
    "return redis.acl_check_cmd('get', 'w1')",
    "return redis.acl_check_cmd('hset', 'rw1', 'f', 'v')",
])
def test_noperm_in_scripts(acl: Acl, restricted: Pair, script: str) -> None:
    restricted.check("EVAL", script, "0")
    acl.admin.check_desc("ACL", "LOG", "0")


def test_multi_denied_commands(acl: Acl, restricted: Pair) -> None:
    for args in [("MULTI",), ("SET", "rw1", "v"), ("HSET", "rw1", "f", "v"), ("GET", "w1"),
                 ("EXEC",), ("GET", "rw1")]:
        restricted.check(*args)


def test_multi_permission_lost_before_exec(acl: Acl, restricted: Pair) -> None:
    for args in [("MULTI",), ("SET", "rw1", "v"), ("GET", "rw1")]:
        restricted.check(*args)
    acl.admin.check("ACL", "SETUSER", "acl_limited", "-get")
    restricted.check("EXEC")
    restricted.check("GET", "rw1")
    acl.admin.check("ACL", "SETUSER", "acl_limited", "+get", "resetkeys", "~w*")
    for args in [("MULTI",), ("SET", "w1", "v"), ("SET", "rw1", "v")]:
        restricted.check(*args)
    acl.admin.check("ACL", "SETUSER", "acl_limited", "+get", "resetkeys", "~rw*")
    restricted.check("EXEC")


def test_multi_channel_lost_before_exec(acl: Acl, restricted: Pair) -> None:
    for args in [("MULTI",), ("PUBLISH", "ch1", "m")]:
        restricted.check(*args)
    acl.admin.check("ACL", "SETUSER", "acl_limited", "resetchannels", "&other")
    restricted.check("EXEC")


def test_selectors_grant_access(acl: Acl) -> None:
    acl.setuser("acl_sel", "on", ">pw", "resetchannels", "+get", "~a*", "(+set ~b*)",
                "(+get +publish %R~c* &n*)")
    conn = acl.pair("acl_sel")
    for args in [("GET", "a1"), ("GET", "b1"), ("GET", "c1"), ("SET", "b1", "v"),
                 ("SET", "a1", "v"), ("SET", "c1", "v"), ("PUBLISH", "n1", "m"),
                 ("PUBLISH", "x", "m"), ("MGET", "a1", "b1"), ("DEL", "a1")]:
        conn.check(*args)


def test_auth(acl: Acl) -> None:
    acl.setuser("acl_auth", "on", ">pw", ">pw2", "+@all", "~*")
    acl.setuser("acl_auth_off", "off", ">pw", "+@all", "~*")
    acl.setuser("acl_auth_nopass", "on", "nopass", "+@all", "~*")
    conn = acl.pair()
    for args in [("AUTH", "acl_auth", "wrong"), ("AUTH", "acl_auth_off", "pw"),
                 ("AUTH", "acl_nosuch", "pw"), ("AUTH", "pw"), ("AUTH", "a", "b", "c"),
                 ("AUTH",), ("ACL", "WHOAMI"), ("AUTH", "acl_auth", "pw2"), ("ACL", "WHOAMI"),
                 ("AUTH", "acl_auth_nopass", "anything"), ("ACL", "WHOAMI"),
                 ("AUTH", "default", "x"), ("ACL", "WHOAMI"),
                 ("HELLO", "2", "AUTH", "acl_auth", "bad"),
                 ("HELLO", "2", "AUTH", "acl_auth_off", "pw"),
                 ("HELLO", "2", "AUTH", "acl_auth", "pw", "SETNAME", "n1"),
                 ("ACL", "WHOAMI"), ("CLIENT", "GETNAME"), ("RESET",), ("ACL", "WHOAMI")]:
        ref, ours = conn.both(*args)
        if args[0] == "HELLO" and ref.startswith(b"*"):
            ref, ours = re.sub(rb":\d+\r\n", b":N\r\n", ref), re.sub(rb":\d+\r\n", b":N\r\n",
                                                                     ours)
        assert ours == ref, f"{args!r}\n  redis:  {ref!r}\n  taipan: {ours!r}"


def test_auth_password_when_default_nopass(differ) -> None:
    differ.check("AUTH", "somepass")
    differ.check("AUTH", "default", "somepass")


def test_requirepass_and_default_user(acl: Acl) -> None:
    acl.config_set("requirepass", "s3cret")
    acl.admin.check("ACL", "GETUSER", "default")
    acl.admin.check_desc("ACL", "LIST")
    conn = acl.pair()
    for args in [("GET", "x"), ("ACL", "WHOAMI"), ("AUTH", "bad"), ("AUTH", "s3cret"),
                 ("ACL", "WHOAMI"), ("GET", "x")]:
        conn.check(*args)
    conn2 = acl.pair()
    for args in [("HELLO", "3", "AUTH", "default", "bad"), ("PING",)]:
        conn2.check(*args)
    acl.config_set("requirepass", "")
    acl.admin.check("ACL", "GETUSER", "default")


def test_hello3_auth(acl: Acl) -> None:
    acl.setuser("acl_hello", "on", ">pw", "+@all", "~*")
    conn = acl.pair()
    ref, ours = conn.both("HELLO", "3", "AUTH", "acl_hello", "pw")
    strip = re.compile(rb":\d+\r\n")
    assert strip.sub(b"", ours) == strip.sub(b"", ref)
    conn.check("ACL", "WHOAMI")
    conn.check("ACL", "GETUSER", "acl_hello")


def test_disabled_user_keeps_connection(acl: Acl) -> None:
    acl.setuser("acl_disable", "on", ">pw", "+@all", "~*")
    conn = acl.pair("acl_disable")
    acl.admin.check("ACL", "SETUSER", "acl_disable", "off")
    conn.check("ACL", "WHOAMI")
    conn2 = acl.pair()
    conn2.check("AUTH", "acl_disable", "pw")


def test_deluser_closes_connections(acl: Acl) -> None:
    acl.setuser("acl_del", "on", ">pw", "+@all", "~*")
    conn = acl.pair("acl_del")
    acl.admin.check("ACL", "DELUSER", "acl_del")
    assert conn.ref.read_until_closed(1.0) == conn.ours.read_until_closed(1.0)


def test_client_kill_user(acl: Acl) -> None:
    acl.setuser("acl_kill", "on", ">pw", "+@all", "~*")
    conn = acl.pair("acl_kill")
    conn2 = acl.pair("acl_kill")
    acl.admin.check("CLIENT", "KILL", "USER", "acl_kill")
    acl.admin.check("CLIENT", "KILL", "USER", "acl_kill")
    acl.admin.check("CLIENT", "KILL", "USER", "acl_nosuch_user")
    for pair in (conn, conn2):
        assert pair.ref.read_until_closed(1.0) == pair.ours.read_until_closed(1.0)


def test_setuser_channels_kills_subscribers(acl: Acl) -> None:
    acl.setuser("acl_subkill", "on", ">pw", "+@all", "~*", "resetchannels", "&ch*")
    conn = acl.pair("acl_subkill")
    conn.check("SUBSCRIBE", "ch1")
    acl.admin.check("ACL", "SETUSER", "acl_subkill", "resetchannels", "&other")
    assert conn.ref.read_until_closed(1.0) == conn.ours.read_until_closed(1.0)


# -- ACL LOG ----------------------------------------------------------------------------------


def _log_shape(raw: bytes) -> list[dict]:
    """ACL LOG entries without what can't match (age, client-info contents)."""
    kind, entries = _parse(raw)[0]  # type: ignore[misc]
    assert kind == b"*", raw
    shaped = []
    for entry in entries:
        fields = entry[1]
        pairs = {fields[i][1]: fields[i + 1] for i in range(0, len(fields), 2)}
        shaped.append({
            "keys": [fields[i][1] for i in range(0, len(fields), 2)],
            "types": [fields[i + 1][0] for i in range(0, len(fields), 2)],
            **{name.decode(): pairs[name] for name in
               (b"count", b"reason", b"context", b"object", b"username")},
            "client-info-has-user": pairs[b"client-info"][1].split(b" user=")[1].split()[0],
        })
    return shaped


def _denials(acl: Acl, restricted: Pair) -> None:
    for args in [("HSET", "rw1", "f", "v"), ("HSET", "rw1", "f", "v"), ("GET", "w1"),
                 ("SET", "r1", "v"), ("PUBLISH", "other", "m"), ("SUBSCRIBE", "other")]:
        restricted.check(*args)
    restricted.check("EVAL", "return redis.pcall('hset', 'x', 'f', 'v')", "0")
    restricted.check("MULTI")
    restricted.check("GET", "rw1")
    acl.admin.check("ACL", "SETUSER", "acl_limited", "-get")
    restricted.check("EXEC")
    restricted.check("AUTH", "acl_limited", "wrong")
    restricted.check("AUTH", "acl_nosuch_user", "wrong")


def test_acl_log_entries(acl: Acl, restricted: Pair) -> None:
    _denials(acl, restricted)
    for resp_pair in (acl.admin, acl.admin3):
        for args in [("ACL", "LOG"), ("ACL", "LOG", "2"), ("ACL", "LOG", "100")]:
            ref, ours = resp_pair.both(*args)
            if resp_pair is acl.admin:
                assert _log_shape(ours) == _log_shape(ref), args
            else:
                assert len(_parse(ref)[0][1]) == len(_parse(ours)[0][1])  # type: ignore[index]
                assert ours[:1] == ref[:1]
    acl.admin.check("ACL", "LOG", "0")
    acl.admin.check("ACL", "LOG", "RESET")
    acl.admin.check("ACL", "LOG")


def test_acl_log_resp3_shape(acl: Acl, restricted: Pair) -> None:
    restricted.check("GET", "w1")
    ref, ours = acl.admin3.both("ACL", "LOG")
    strip = re.compile(rb"(,[0-9.e-]+\r\n)|(=\d+\r\ntxt:[^\r]*\r\n)|(\$\d+\r\nid=[^\r]*\r\n)")
    assert strip.sub(b"", ours) == strip.sub(b"", ref)


def test_acl_log_age_milliseconds(acl: Acl, restricted: Pair) -> None:
    restricted.check("GET", "w1")
    time.sleep(0.0123)
    _, ours = acl.admin.both("ACL", "LOG", "1")
    age = re.search(rb"age-seconds\r\n\$\d+\r\n([^\r]*)\r\n", ours)
    assert age is not None
    millis = float(age.group(1)) * 1000  # whole milliseconds, as Redis's mstime()
    assert abs(millis - round(millis)) < 1e-6, age.group(1)


def test_acl_log_max_len(acl: Acl, restricted: Pair) -> None:
    acl.config_set("acllog-max-len", "2")
    for key in ("w1", "w2", "w3", "w4"):
        restricted.check("GET", key)
    assert [e["object"] for e in _log_shape(acl.admin.ours.call("ACL", "LOG"))] == \
        [e["object"] for e in _log_shape(acl.admin.ref.call("ACL", "LOG"))]
    acl.config_set("acllog-max-len", "0")
    restricted.check("GET", "w5")
    acl.admin.check("ACL", "LOG")


@pytest.mark.parametrize("args", [
    ("SORT", "k1", "BY", "nosort"), ("SORT_RO", "k1", "BY", "k2*"), ("SORT", "k1"),
    ("CONFIG", "SET", "maxmemory", "0"), ("CONFIG", "GET", "maxmemory"),
    ("SPUBLISH", "zz", "m"), ("SSUBSCRIBE", "zz"), ("OBJECT", "ENCODING", "zz"),
    ("EVAL", "return redis.call('publish', 'zz', 'm')", "0"),
    ("EVAL", "return redis.pcall('subscribe', 'zz')", "0"),
    ("EVAL", "return redis.call('acl', 'whoami')", "0"),
    ("EVAL", "return redis.call('config', 'set', 'maxmemory', '0')", "0"),
    ("CLIENT", "KILL", "USER", "acl_nosuch", "SKIPME", "no"),
])
def test_noperm_partial_user(acl: Acl, args: tuple) -> None:
    acl.setuser("acl_partial", "on", ">pw", "+@all", "-@dangerous", "~k*", "resetchannels",
                "&c*", "+sort")
    conn = acl.pair("acl_partial")
    conn.check(*args)


@pytest.mark.parametrize("args", [("SORT", "k1", "BY", "k2*"), ("SORT", "k1", "GET", "k2*"),
                                  ("SORT", "k1", "GET", "#"),
                                  ("SORT", "k1", "BY", "nosort", "GET", "#"),
                                  ("SORT_RO", "k1", "GET", "k2*")])
def test_sort_by_get_needs_all_keys(acl: Acl, args: tuple) -> None:
    acl.setuser("acl_sortby", "on", ">pw", "+@all", "~k*")
    conn = acl.pair("acl_sortby")
    conn.check("RPUSH", "k1", "1", "2")
    conn.check(*args)


def test_multi_subscribe_denied(acl: Acl) -> None:
    acl.setuser("acl_msub", "on", ">pw", "+@all", "~*", "resetchannels", "&c*")
    conn = acl.pair("acl_msub")
    for args in [("MULTI",), ("SUBSCRIBE", "zz"), ("PUBLISH", "zz", "m"), ("PUBLISH", "c1", "m"),
                 ("EXEC",)]:
        conn.check(*args)
    acl.admin.check_desc("ACL", "LOG", "0")
    assert [e["context"] for e in _log_shape(acl.admin.ours.call("ACL", "LOG"))] == \
        [e["context"] for e in _log_shape(acl.admin.ref.call("ACL", "LOG"))]
