"""FUNCTION and FCALL/FCALL_RO: raw replies identical to a real Redis 7.0.

Libraries are loaded on both servers; anything whose order is Redis's dict order
(several libraries in FUNCTION LIST, several functions in one library) is compared
as sorted, decoded replies instead of raw bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.raw import RawClient

pytestmark = pytest.mark.usefixtures("no_functions")

LIB = "#!lua name=lib\n"


@pytest.fixture
def no_functions(differ) -> Iterator[None]:
    differ.both("FUNCTION", "FLUSH")
    yield
    differ.both("FUNCTION", "FLUSH")
    differ.both("SCRIPT", "FLUSH")


def ids(case: object) -> str:
    return repr(case).replace("\\n", " ")[:70]


def load(differ, code: str, *options: str) -> bytes:
    """FUNCTION LOAD on both servers (RESP2 only: a load is a write)."""
    return differ.check("FUNCTION", "LOAD", *options, code, resp=(2,))


# -- FUNCTION LOAD errors ------------------------------------------------------------------

LOAD_ERRORS = [
    "return 1", "#!lua\nreturn 1", "#!lua name=\nreturn 1", "#!lua name=a-b\nreturn 1",
    "#!lua name=ok name=ok2\nreturn 1", "#!lua name=ok foo=bar\nreturn 1",
    "#!lua name=ok foo\nreturn 1", "#!python name=ok\nreturn 1", "#!lua name=ok",
    "#!\nreturn 1", "#!lua name=ok\nreturn 1", "#!lua name=ok\nreturn +",
    "#!lua name=ok\nerror('boom')", "#!lua name=ok\nerror({err='MYERR boom'})",
    "#!lua name=ok\nerror(5)", "#!lua name=ok\nredis.call('PING')",
    "#!lua name=ok\nreturn redis.call", "#!lua name=ok\nlocal x = KEYS", "#!lua name=ok\nx = 1",
    "#!lua name=ok\nlocal s = string.rep('x', 3)", "#!lua name=ok\nlocal s = math.random()",
    "#!lua name=ok\nredis.setresp(3)", "#!lua name=ok\nredis.pcall('PING')",
    "#!lua name=ok\nredis.sha1hex('x')", "#!lua name=ok\nredis.error_reply('x')",
    "#!lua name=ok\nlocal t = type(redis.call)", "#!lua name=ok\nlocal x = _G",
    "#!lua name=ok\nlocal x = pcall", "#!lua name=ok\nreturn debug",
    "#!lua name=ok\nlocal x = redis.REDIS_VERSION .. redis.LOG_WARNING",
    "#!lua name=ok\nredis.log(redis.LOG_WARNING, 'loading')",
    "#!lua name=ok\nredis.log()", "#!lua name=ok\nredis.log('x', 'y')",
    "#!lua name=ok\nredis.register_function()", "#!lua name=ok\nredis.register_function('a')",
    "#!lua name=ok\nredis.register_function('a', 'b')",
    "#!lua name=ok\nredis.register_function(1, function() end)",
    "#!lua name=ok\nredis.register_function({}, function() end)",
    "#!lua name=ok\nredis.register_function('a', function() end, 'x')",
    "#!lua name=ok\nredis.register_function('a', function() end, 1, 2)",
    "#!lua name=ok\nredis.register_function('bad-name', function() end)",
    "#!lua name=ok\nredis.register_function('', function() end)",
    "#!lua name=ok\nredis.register_function('g', function() end)\n"
    "redis.register_function('g', function() end)",
    "#!lua name=ok\nredis.register_function('x')", "#!lua name=ok\nredis.register_function{}",
    "#!lua name=ok\nredis.register_function{function_name='a'}",
    "#!lua name=ok\nredis.register_function{callback=function() end}",
    "#!lua name=ok\nredis.register_function{function_name=1, callback=function() end}",
    "#!lua name=ok\nredis.register_function{function_name={}, callback=function() end}",
    "#!lua name=ok\nredis.register_function{function_name='a', callback='x'}",
    "#!lua name=ok\nredis.register_function{function_name='a', callback=function() end, bogus=1}",
    "#!lua name=ok\nredis.register_function{function_name='a', callback=function() end,"
    " description=1}",
    "#!lua name=ok\nredis.register_function{function_name='a', callback=function() end,"
    " description={}}",
    "#!lua name=ok\nredis.register_function{function_name='a', callback=function() end,"
    " flags='no-writes'}",
    "#!lua name=ok\nredis.register_function{function_name='a', callback=function() end,"
    " flags={'bogus'}}",
    "#!lua name=ok\nredis.register_function{function_name='a', callback=function() end,"
    " flags={1}}",
    "#!lua name=ok\nredis.register_function{[1]='a', callback=function() end}",
    "#!lua name=ok\nredis.register_function{function_name='bad name', callback=function() end}",
    "#!lua name=ok\nredis.register_function({function_name='a', callback=function() end}, 1)",
    "#!lua name=ok\nlocal ok, e = pcall(redis.register_function, 'bad-name', function() end)",
    "#!lua name=ok\nlocal f = function() end\nredis.register_function('a', f)\nerror('after')",
]


@pytest.mark.parametrize("code", LOAD_ERRORS, ids=ids)
def test_load_errors(differ, code: str) -> None:
    load(differ, code)
    differ.check("FUNCTION", "LIST")


LOADS = [
    "#!lua name=ok\nredis.register_function('f', function() return 1 end)",
    "#!LUA name=ok\nredis.register_function('f', function() return 1 end)",
    "#!lua NAME=ok\nredis.register_function('f', function() return 1 end)",
    "#!lua name=ok\nredis.register_function{function_name='f', callback=function() end,"
    " description=1}",
    "#!lua name=ok\nredis.register_function{function_name='f', callback=function() end,"
    " flags={'NO-WRITES'}}",
    "#!lua name=ok\nredis.register_function{function_name='f', callback=function() end,"
    " FLAGS={}, Description='d', CALLBACK=function() end}",
    "#!lua name=ok\nredis.register_function{function_name='f', callback=function() end,"
    " flags={'no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}}",
    "#!lua name=ok\nredis.register_function{function_name='f', callback=function() end,"
    " flags={'allow-stale', 'no-writes'}, description='two\\nlines'}",
    "#!lua name=ok\nredis.register_function(12, function() return 1 end)",
    "#!lua name=ok\n\n\nredis.register_function('f', function() return 1 end)",
    "#!lua name=ok\r\nredis.register_function('f', function() return 1 end)",
]


@pytest.mark.parametrize("code", LOADS, ids=ids)
def test_load_and_list(differ, code: str) -> None:
    load(differ, code)
    differ.check("FUNCTION", "LIST")
    differ.check("FUNCTION", "LIST", "WITHCODE")
    differ.check("FUNCTION", "STATS")
    load(differ, code)  # exists already
    load(differ, code, "REPLACE")


def test_load_options(differ) -> None:
    code = LIB + "redis.register_function('f', function() return 1 end)"
    for args in [("FUNCTION", "LOAD"), ("FUNCTION", "LOAD", "REPLACE"),
                 ("FUNCTION", "LOAD", "BOGUS", code), ("FUNCTION", "LOAD", "replace", code),
                 ("FUNCTION", "LOAD", "REPLACE", "REPLACE", code),
                 ("FUNCTION", "LOAD", "REPLACE", "x", code), ("FUNCTION", "LOAD", code)]:
        differ.check(*args, resp=(2,))


def test_load_timeout(differ) -> None:
    """A library body gets 500 ms to register its functions."""
    load(differ, "#!lua name=forever\nredis.register_function('f', function() end)\n"
                 "while true do end")
    differ.check("FUNCTION", "LIST")


def test_library_exists_is_checked_before_the_code_runs(differ) -> None:
    load(differ, LIB + "redis.register_function('f', function() return 1 end)")
    for code in [LIB + "return +", LIB + "error('x')", LIB + "local x = 1",
                 LIB + "redis.register_function('bad-name', function() end)",
                 "#!lua name=lib bogus=1\nreturn 1"]:
        load(differ, code)


def test_function_name_collisions(differ) -> None:
    """Function names are global and compared without case; library names are not."""
    load(differ, "#!lua name=casea\nredis.register_function('Fx', function() return 'A' end)")
    for args in [
        ("FUNCTION", "LOAD", "#!lua name=caseb\nredis.register_function('fx', function() end)"),
        ("FUNCTION", "LOAD", "#!lua name=caseb\nredis.register_function('FX', function() end)"),
        ("FCALL", "FX", "0"), ("FCALL", "fx", "0"), ("FCALL", "Fx", "0"), ("FCALL_RO", "fX", "0"),
        ("FUNCTION", "LOAD", "REPLACE",
         "#!lua name=casea\nredis.register_function('other', function() return 'B' end)"),
        ("FCALL", "fx", "0"), ("FCALL", "OTHER", "0"),
        ("FUNCTION", "LOAD", "#!lua name=CASEA\nredis.register_function('x2', function() end)"),
    ]:
        differ.check(*args, resp=(2,))
    check_unordered(differ, "FUNCTION", "LIST", "LIBRARYNAME", "casea")
    for args in [
        ("FUNCTION", "DELETE", "CASEA"), ("FUNCTION", "DELETE", "Casea"), ("FUNCTION", "LIST"),
        ("FUNCTION", "LOAD", "REPLACE",
         "#!lua name=casea\nredis.register_function('x2', function() end)"),
        ("FUNCTION", "LIST"),
    ]:
        differ.check(*args, resp=(2,))


# -- FCALL / FCALL_RO ------------------------------------------------------------------------

LIBRARY = LIB + """
redis.register_function{function_name='ro', callback=function() return redis.call('SET', 'k', 'v')
  end, flags={'no-writes'}, description='desc'}
redis.register_function('rw', function(keys, args) return redis.call('SET', keys[1], args[1]) end)
redis.register_function('echo', function(keys, args) return {keys, args} end)
redis.register_function('err', function() error('in function') end)
redis.register_function('err2', function() return redis.call('nosuch') end)
redis.register_function('err3', function()
  local function inner()
    return redis.call('INCR', 'str')
  end
  return inner()
end)
redis.register_function('errtable', function() return {err = 'OWN failure'} end)
redis.register_function('glob', function() return undefinedglobal end)
redis.register_function('setglob', function() newglobal = 1 end)
redis.register_function('keysglobal', function() return KEYS end)
redis.register_function('resp3', function() redis.setresp(3) return redis.call('HGETALL', 'h') end)
redis.register_function('types', function(keys, args)
  return {type(keys), type(args), #keys, #args, type(redis.setresp), type(string.format)}
end)
redis.register_function('pcallerr', function() return redis.pcall('nosuch') end)
redis.register_function('get', function(keys) return redis.call('GET', keys[1]) end)
redis.register_function('sha', function() return redis.sha1hex('abc') end)
redis.register_function{function_name='rodel', callback=function()
  return redis.call('DEL', 'nokey') end, flags={'no-writes'}}
redis.register_function{function_name='stale', callback=function() return 1 end,
  flags={'allow-stale'}}
redis.register_function('evalinside', function() return redis.call('EVAL', 'return 1', 0) end)
redis.register_function('fcallinside', function() return redis.call('FCALL', 'echo', 0) end)
"""

FCALLS = [
    ("FCALL", "ro", "0"), ("FCALL_RO", "ro", "0"), ("FCALL", "rw", "1", "fk", "fv"),
    ("FCALL_RO", "rw", "1", "fk", "fv"), ("FCALL", "echo", "2", "a", "b", "c", "d"),
    ("FCALL", "echo", "0"), ("FCALL", "echo", "0", "x\x00y"), ("FCALL", "err", "0"),
    ("FCALL", "err2", "0"), ("FCALL", "err3", "0"), ("FCALL", "errtable", "0"),
    ("FCALL", "glob", "0"), ("FCALL", "setglob", "0"), ("FCALL", "keysglobal", "0"),
    ("FCALL", "resp3", "0"), ("FCALL", "types", "1", "a", "b", "c"), ("FCALL", "pcallerr", "0"),
    ("FCALL_RO", "get", "1", "str"), ("FCALL", "sha", "0"), ("FCALL", "rodel", "0"),
    ("FCALL_RO", "rodel", "0"), ("FCALL", "stale", "0"), ("FCALL_RO", "stale", "0"),
    ("FCALL", "evalinside", "0"), ("FCALL", "fcallinside", "0"),
    ("FCALL", "nosuch", "0"), ("FCALL", "nosuch", "x"), ("FCALL", "echo", "x"),
    ("FCALL", "echo", "-1"), ("FCALL", "echo", "3", "a"), ("FCALL", "echo", "1.5", "a"),
    ("FCALL", "echo", ""), ("FCALL", "echo", "99999999999999999999"), ("FCALL", "echo"),
    ("FCALL",), ("FCALL_RO", "echo", "0"), ("FCALL_RO", "nosuch", "0"), ("FCALL_RO", "echo"),
    ("FCALL", "ECHO", "0"), ("FCALL", "", "0"),
    ("COMMAND", "GETKEYS", "FCALL", "f", "2", "a", "b", "c"),
    ("COMMAND", "GETKEYS", "FCALL_RO", "f", "0"),
]


@pytest.mark.parametrize("command", FCALLS, ids=ids)
def test_fcall(differ, command: tuple) -> None:
    differ.run([("SET", "str", "x"), ("HSET", "h", "f", "v")])
    load(differ, LIBRARY)
    differ.check(*command, resp=(2,) if command[1:2] == ("rw",) else (2, 3))


def test_fcall_in_transaction_and_select(differ) -> None:
    load(differ, LIBRARY)
    differ.run([
        ("MULTI",), ("FCALL", "rw", "1", "t1", "v"), ("FCALL", "err", "0"),
        ("FCALL", "nosuch", "0"), ("FCALL", "echo", "x"), ("FCALL_RO", "rw", "1", "t2", "v"),
        ("EXEC",), ("GET", "t1"), ("SELECT", "4"), ("FCALL", "rw", "1", "t4", "v"),
        ("GET", "t4"), ("SELECT", "0"), ("GET", "t4"),
    ])


# -- FUNCTION LIST / DELETE / FLUSH / STATS / HELP ---------------------------------------------

def _decoded(reply: bytes) -> Any:
    """A RESP2 reply as Python values (lists for arrays), for order-free comparisons."""
    value, _ = _parse(reply, 0)
    return value


def _parse(data: bytes, pos: int) -> tuple[Any, int]:
    end = data.index(b"\r\n", pos)
    kind, header = data[pos:pos + 1], data[pos + 1:end]
    pos = end + 2
    if kind == b"*":
        count = int(header)
        if count < 0:
            return None, pos
        items = []
        for _ in range(count):
            item, pos = _parse(data, pos)
            items.append(item)
        return items, pos
    if kind == b"$":
        length = int(header)
        if length < 0:
            return None, pos
        return data[pos:pos + length], pos + length + 2
    if kind == b":":
        return int(header), pos
    return kind + header, pos  # +status / -error


def _canonical(value: Any) -> Any:
    """Sort every list (library lists, function lists, flat maps' pairs)."""
    if isinstance(value, list):
        return sorted((_canonical(item) for item in value), key=repr)
    return value


def check_unordered(differ, *args: str) -> None:
    expected, actual = differ.both(*args)
    assert _canonical(_decoded(actual)) == _canonical(_decoded(expected)), args


def test_list_several_libraries(differ) -> None:
    load(differ, LIBRARY)
    load(differ, "#!lua name=other\nredis.register_function('o1', function() end)\n"
                 "redis.register_function{function_name='o2', callback=function() end, "
                 "flags={'no-writes'}, description='second'}")
    load(differ, "#!lua name=third\nredis.register_function('t', function() end)")
    for args in [("FUNCTION", "LIST"), ("FUNCTION", "LIST", "WITHCODE"),
                 ("FUNCTION", "LIST", "LIBRARYNAME", "*"),
                 ("FUNCTION", "LIST", "LIBRARYNAME", "OTH*", "WITHCODE"),
                 ("FUNCTION", "LIST", "withcode", "libraryname", "*i*"),
                 ("FUNCTION", "LIST", "LIBRARYNAME", "l?b")]:
        check_unordered(differ, *args)
    differ.check("FUNCTION", "STATS")
    differ.check("FUNCTION", "LIST", "LIBRARYNAME", "third", "WITHCODE")
    differ.check("FUNCTION", "LIST", "LIBRARYNAME", "nomatch")


LIST_AND_ADMIN = [
    ("FUNCTION", "LIST", "LIBRARYNAME"), ("FUNCTION", "LIST", "WITHCODE", "WITHCODE"),
    ("FUNCTION", "LIST", "LIBRARYNAME", "a", "LIBRARYNAME", "b"), ("FUNCTION", "LIST", "bogus"),
    ("FUNCTION", "LIST", "WITHCODE", "bogus"), ("FUNCTION", "LIST", "LIBRARYNAME", "[a"),
    ("FUNCTION", "STATS"), ("FUNCTION", "STATS", "x"), ("FUNCTION", "DELETE"),
    ("FUNCTION", "DELETE", "nosuch"), ("FUNCTION", "DELETE", "a", "b"),
    ("FUNCTION", "FLUSH", "x"), ("FUNCTION", "FLUSH", "SYNC", "x"), ("FUNCTION", "FLUSH", "sync"),
    ("FUNCTION", "FLUSH", "ASYNC"), ("FUNCTION", "FLUSH"), ("FUNCTION", "KILL"),
    ("FUNCTION", "KILL", "x"), ("FUNCTION", "HELP"), ("FUNCTION", "HELP", "x"), ("FUNCTION",),
    ("FUNCTION", "bogus"), ("FUNCTION", "DUMP", "x"), ("FUNCTION", "RESTORE"),
    ("FUNCTION", "RESTORE", "garbage"), ("FUNCTION", "RESTORE", "garbage", "BOGUS"),
    ("FUNCTION", "RESTORE", "garbage", "FLUSH", "x"), ("FUNCTION", "RESTORE", "", "APPEND"),
    ("FUNCTION", "RESTORE", "\x00", "replace"),
]


@pytest.mark.parametrize("command", LIST_AND_ADMIN, ids=ids)
def test_function_subcommands(differ, command: tuple) -> None:
    load(differ, "#!lua name=one\nredis.register_function('f', function() return 1 end)")
    differ.check(*command, resp=(2,))
    differ.check("FUNCTION", "LIST")


def test_delete_and_flush(differ) -> None:
    load(differ, "#!lua name=one\nredis.register_function('f1', function() return 1 end)")
    load(differ, "#!lua name=two\nredis.register_function('f2', function() return 2 end)")
    differ.run([
        ("FUNCTION", "DELETE", "one"), ("FCALL", "f1", "0"), ("FCALL", "f2", "0"),
        ("FUNCTION", "DELETE", "one"), ("FUNCTION", "STATS"),
        ("FUNCTION", "LOAD", "#!lua name=one\nredis.register_function('f2', function() end)"),
        ("FUNCTION", "FLUSH"), ("FCALL", "f2", "0"), ("FUNCTION", "LIST"), ("FUNCTION", "STATS"),
        ("FUNCTION", "LOAD", "#!lua name=one\nredis.register_function('f2', function() "
                             "return 'again' end)"),
        ("FCALL", "f2", "0"),
    ])


def test_stats_when_idle(differ) -> None:
    differ.check("FUNCTION", "STATS")
    load(differ, LIBRARY)
    differ.check("FUNCTION", "STATS")


# -- FUNCTION DUMP / RESTORE -----------------------------------------------------------------

def _dump(client: RawClient) -> bytes:
    reply = client.call("FUNCTION", "DUMP")
    assert reply.startswith(b"$"), reply
    return reply.split(b"\r\n", 1)[1][:-2]


def test_dump_payloads_are_identical(differ) -> None:
    differ.check("FUNCTION", "DUMP")
    load(differ, "#!lua name=lib1\nredis.register_function('f1', function() return 1 end)")
    differ.check("FUNCTION", "DUMP")


RESTORE_CASES = [
    # (libraries in the payload, libraries already loaded, policy)
    (["lib1"], [], None), (["lib1"], ["lib1"], None), (["lib1"], ["lib1"], "APPEND"),
    (["lib1"], ["lib1"], "REPLACE"), (["lib1"], ["lib1"], "FLUSH"),
    (["lib1b"], ["lib1"], "APPEND"), (["lib1b"], ["lib1"], "REPLACE"),
    (["lib2f1"], ["lib1"], "APPEND"), (["lib2f1"], ["lib1"], "REPLACE"),
    (["lib2f1"], ["lib1"], "FLUSH"), (["lib3F1"], ["lib1"], None),
    (["lib1", "lib2"], ["lib2"], "append"), (["lib1", "lib2"], ["lib2"], "replace"),
    (["lib2"], ["lib1"], "flush"), ([], ["lib1"], "FLUSH"), ([], ["lib1"], "APPEND"),
]

LIBRARIES = {
    "lib1": "#!lua name=lib1\nredis.register_function('f1', function() return 1 end)",
    "lib1b": "#!lua name=lib1\nredis.register_function('f1b', function() return 11 end)",
    "lib2": "#!lua name=lib2\nredis.register_function('f2', function() return 2 end)",
    "lib2f1": "#!lua name=lib2\nredis.register_function('f1', function() return 21 end)",
    "lib3F1": "#!lua name=lib3\nredis.register_function('F1', function() return 3 end)",
}


@pytest.mark.parametrize("payload_libs, loaded, policy", RESTORE_CASES, ids=ids)
@pytest.mark.parametrize("source", ["redis", "taipan"])
def test_restore(differ, source: str, payload_libs: list[str], loaded: list[str],
                 policy: str | None) -> None:
    """A payload DUMPed by one server, RESTOREd on both, after each has ``loaded``."""
    ref, ours = differ.pairs[2]
    maker = ref if source == "redis" else ours
    for name in payload_libs:
        maker.call("FUNCTION", "LOAD", LIBRARIES[name])
    payload = _dump(maker)
    differ.both("FUNCTION", "FLUSH")
    for name in loaded:
        load(differ, LIBRARIES[name])
    differ.check("FUNCTION", "RESTORE", payload, *([policy] if policy else []), resp=(2,))
    check_unordered(differ, "FUNCTION", "LIST", "WITHCODE")
    for function in ("f1", "f1b", "f2", "F1"):
        differ.check("FCALL", function, "0")


def test_payload_round_trips(differ) -> None:
    """DUMP on each server, RESTORE of each payload on both, FLUSH in between."""
    load(differ, "#!lua name=lib1\nredis.register_function('f1', function() return 1 end)")
    load(differ, "#!lua name=lib2\nredis.register_function{function_name='f2', callback="
                 "function() return 2 end, flags={'no-writes'}, description='two'}")
    ref, ours = differ.pairs[2]
    payloads = [_dump(ref), _dump(ours)]
    for payload in payloads:
        differ.check("FUNCTION", "FLUSH", resp=(2,))
        differ.check("FUNCTION", "RESTORE", payload, resp=(2,))
        check_unordered(differ, "FUNCTION", "LIST", "WITHCODE")
        differ.check("FCALL", "f1", "0")
        differ.check("FCALL_RO", "f2", "0")
        # Which of the two libraries the error names is Redis's dict order.
        expected, actual = differ.both("FUNCTION", "RESTORE", payload)
        assert expected.startswith(b"-ERR Library lib") and actual.startswith(b"-ERR Library lib")
        differ.check("FUNCTION", "RESTORE", payload, "REPLACE", resp=(2,))
        check_unordered(differ, "FUNCTION", "LIST", "WITHCODE")


CORRUPT = [
    lambda p: p[:-1], lambda p: p[:-3] + b"xyz", lambda p: p + b"x", lambda p: b"x" + p,
    lambda p: p[:5], lambda p: p[:1], lambda p: p.replace(b"lib1", b"lib9"),
    lambda p: bytes([p[0] ^ 1]) + p[1:],
]


@pytest.mark.parametrize("corrupt", CORRUPT, ids=[str(i) for i in range(len(CORRUPT))])
def test_restore_corrupt_payload(differ, corrupt) -> None:
    load(differ, "#!lua name=lib1\nredis.register_function('f1', function() return 1 end)")
    payload = corrupt(_dump(differ.pairs[2][0]))
    differ.both("FUNCTION", "FLUSH")
    for policy in ((), ("FLUSH",), ("APPEND",)):
        differ.check("FUNCTION", "RESTORE", payload, *policy, resp=(2,))
    differ.check("FUNCTION", "LIST")


def test_restore_payloads_with_bad_libraries(differ) -> None:
    """Payloads Redis would never DUMP: each library is loaded as FUNCTION LOAD would."""
    from taipan.persistence.function_payload import dump_functions

    load(differ, LIBRARIES["lib1"])
    for codes in [[b"#!lua name=bad\nreturn +"], [b"#!lua name=bad\nerror('x')"],
                  [b"#!lua name=empty\nlocal x = 1"], [b"no shebang"],
                  [b"#!lua name=bad-name\nredis.register_function('q', function() end)"],
                  [LIBRARIES["lib1"].encode(), LIBRARIES["lib1b"].encode()],
                  [LIBRARIES["lib2"].encode(), LIBRARIES["lib3F1"].encode()],
                  [LIBRARIES["lib2"].encode(), LIBRARIES["lib2f1"].encode()]]:
        payload = dump_functions(codes, compress=False)
        for policy in ((), ("REPLACE",), ("FLUSH",)):
            differ.check("FUNCTION", "RESTORE", payload, *policy, resp=(2,))
            check_unordered(differ, "FUNCTION", "LIST")
