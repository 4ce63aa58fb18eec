"""cjson, cmsgpack, bit and struct as installed into a lupa Lua 5.1 runtime.

Expected values were taken from EVAL on a real Redis 7.0.15 (x86-64);
tests/compat/test_lua_libs_compat.py compares against a live server.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

lua51 = pytest.importorskip("lupa.lua51")

from taipan.scripting import lua_libs  # noqa: E402


def make_runtime() -> Any:
    lua = lua51.LuaRuntime(unpack_returned_tuples=True, register_eval=False,
                           register_builtins=False, encoding=None, max_memory=64 << 20)
    lua_libs.install(lua)
    return lua


@pytest.fixture
def lua() -> Any:
    return make_runtime()


def run(lua: Any, body: str) -> Any:
    """Run ``body`` as Redis runs a script (chunk ``@user_script``)."""
    fn = lua.eval("loadstring")(body.encode(), b"@user_script")
    assert not isinstance(fn, tuple), fn
    return fn()


def lua_literal(data: bytes) -> str:
    """A Lua string literal for arbitrary bytes."""
    return '"' + "".join(f"\\{byte:03d}" for byte in data) + '"'


def error_of(lua: Any, body: str) -> bytes:
    """The message of the error ``body`` raises, caught by pcall in Lua."""
    ok, message = run(lua, f"return pcall(function() {body} end)")
    assert ok is False
    return message


# --- install ---------------------------------------------------------------


def test_install_creates_the_four_tables(lua: Any) -> None:
    keys = run(lua, """
        local out = {}
        for _, name in ipairs({"bit", "struct", "cmsgpack", "cjson"}) do
          local ks = {}
          for k in pairs(_G[name]) do ks[#ks + 1] = k end
          table.sort(ks)
          out[#out + 1] = name .. ":" .. table.concat(ks, ",")
        end
        return table.concat(out, " ")""")
    assert keys == (
        b"bit:arshift,band,bnot,bor,bswap,bxor,lshift,rol,ror,rshift,tobit,tohex "
        b"struct:pack,size,unpack "
        b"cmsgpack:_COPYRIGHT,_DESCRIPTION,_NAME,_VERSION,pack,unpack,unpack_limit,unpack_one "
        b"cjson:_NAME,_VERSION,decode,decode_invalid_numbers,decode_max_depth,encode,"
        b"encode_invalid_numbers,encode_keep_buffer,encode_max_depth,encode_number_precision,"
        b"encode_sparse_array,new,null")


def test_pairs_order_matches_redis(lua: Any) -> None:
    # The C code's registration order decides the hash layout pairs() walks.
    order = run(lua, "local ks = {} for k in pairs(cjson) do ks[#ks+1] = k end "
                     "return table.concat(ks, ',')")
    assert order == (b"_NAME,encode,decode_max_depth,_VERSION,decode_invalid_numbers,"
                     b"encode_keep_buffer,null,encode_number_precision,new,encode_max_depth,"
                     b"encode_invalid_numbers,decode,encode_sparse_array")


def test_chunk_name_matches_the_scripting_core() -> None:
    bootstrap = pytest.importorskip("taipan.scripting.lua_bootstrap")
    assert lua_libs.CHUNK_NAME == bootstrap.INTERNAL_CHUNK


def test_survives_removal_of_debug_and_newproxy(lua: Any) -> None:
    run(lua, "debug = nil newproxy = nil")
    assert run(lua, "return cjson.encode({1, cjson.null})") == b"[1,null]"
    assert error_of(lua, "bit.band('x')") == (
        b"user_script:1: bad argument #1 to 'band' (number expected, got string)")



# The scripting core's error handler walks up from the error, skipping C
# frames and the libraries' own chunk, to find the user's line: no frame in
# between may be a "(tail call)".
HANDLER_WALK = r"""
local body = ...
local getinfo = debug.getinfo
local where
xpcall(loadstring(body, "@user_script"), function()
  local level, info = 2, nil
  repeat
    info = getinfo(level, "Sl")
    level = level + 1
  until info == nil or (info.what ~= "C" and info.source ~= "=taipan")
  where = info and (info.source .. ":" .. info.currentline)
end)
return where
"""


@pytest.mark.parametrize("statement", [
    r"cjson.decode('[[[1,')", "cjson.decode(string.rep('[', 1001))",
    "cjson.encode({{{a = {cjson.encode}}}})", "cjson.encode_max_depth(0)",
    r"cmsgpack.unpack('\145\145\146\1')", r"cmsgpack.unpack('\145\129\192\1')",
    "cmsgpack.pack()", "struct.pack('i99999999999')", "struct.unpack('c0', 'a')",
    "struct.pack('!3')", "bit.band(1, 'x')",
])
def test_errors_point_the_handler_at_the_user_line(lua: Any, statement: str) -> None:
    body = f"local a = 1\nlocal x = {statement}\nreturn x"
    walk = lua.eval("loadstring")(HANDLER_WALK.encode())
    assert walk(body.encode()) == b"@user_script:2"


# --- bit -------------------------------------------------------------------


@pytest.mark.parametrize(("expr", "expected"), [
    ("bit.tobit(2^31)", -2147483648), ("bit.tobit(2^32 + 5)", 5), ("bit.tobit(2.5)", 2),
    ("bit.tobit(1.5)", 2), ("bit.tobit(-1.5)", -2), ("bit.tobit('0x10')", 16),
    ("bit.tobit(2^53 + 2)", 1), ("bit.tobit(2^60 + 2^33 + 7 * 2^8)", 33554439),
    ("bit.tobit(-2^52 - 3)", -12), ("bit.tobit(-2^60 - 2^20)", 8192),
    ("bit.tobit(1/0)", 0), ("bit.tobit(0/0)", 0),
    ("bit.bnot(0)", -1), ("bit.band(0xff00ff00, 0x0ff00ff0, 0xf0f0f0f0)", 0),
    ("bit.bor(1, 2, 4, 8, 16, 32, 64, 128)", 255), ("bit.bxor(-1, 0x12345678)", -305419897),
    ("bit.lshift(1, 31)", -2147483648), ("bit.lshift(1, 32)", 1), ("bit.lshift(1, 33.7)", 4),
    ("bit.rshift(-1, 28)", 15), ("bit.arshift(-256, 4)", -16), ("bit.arshift(2^31, 31)", -1),
    ("bit.rol(0x12345678, 8)", 878082066), ("bit.ror(0x12345678, 8)", 2014458966),
    ("bit.rol(1, -1)", -2147483648), ("bit.ror(1, 0)", 1),
    ("bit.bswap(0x12345678)", 2018915346),
])
def test_bit_values(lua: Any, expr: str, expected: int) -> None:
    assert run(lua, f"return {expr}") == expected


def test_bit_tohex(lua: Any) -> None:
    assert run(lua, "return bit.tohex(255), bit.tohex(-1, -4), bit.tohex(0x1234, 2), "
                    "bit.tohex(1, 0), bit.tohex(1, 20), bit.tohex(255, -2147483648)") == (
        b"000000ff", b"FFFF", b"34", b"", b"00000001", b"000000FF")


@pytest.mark.parametrize(("body", "message"), [
    ("local x = bit.band(1, 'x', 'y')", b"bad argument #3 to 'band' (number expected, got string)"),
    ("local x = bit.band()", b"bad argument #1 to 'band' (number expected, got no value)"),
    ("local x = bit.tohex(1, nil)", b"bad argument #2 to 'tohex' (number expected, got nil)"),
    ("local f = bit.bor local x = f(1, {})", b"bad argument #2 to 'f' (number expected, got table)"),
    ("local x = bit:band(1)", b"calling 'band' on bad self (number expected, got table)"),
])
def test_bit_errors_name_the_call_site(lua: Any, body: str, message: bytes) -> None:
    assert error_of(lua, body) == b"user_script:1: " + message


def test_errors_from_pcall_have_no_position(lua: Any) -> None:
    assert run(lua, "return pcall(bit.band, 'x')") == (
        False, b"bad argument #1 to '?' (number expected, got string)")


# --- struct ----------------------------------------------------------------


@pytest.mark.parametrize(("expr", "expected"), [
    ("struct.pack('>hHiIlLT', -2, 65535, -3, 4294967295, -4, 2^53, 7)",
     b"\xff\xfe\xff\xff\xff\xff\xff\xfd\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xfc"
     b"\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x07"),
    ("struct.pack('!4bi', 1, 2)", b"\x01\x00\x00\x00\x02\x00\x00\x00"),
    ("struct.pack('!bi3', 1, 2)", b"\x01\x00\x00\x02\x00\x00"),
    ("struct.pack('<i9', -1)", b"\xff" * 8 + b"\x00"),
    ("struct.pack('>L', 0/0)", b"\x80" + b"\x00" * 7),
    ("struct.pack('>L', 2^64)", b"\x00" * 8),
    ("struct.pack('>l', -0.5)", b"\x00" * 8),
    ("struct.pack('bc0s', 1, 'ab', 'cd')", b"\x01abcd\x00"),
    ("struct.pack('>d<d', 1.5, 1.5)", b"?\xf8" + b"\x00" * 12 + b"\xf8?"),
    ("struct.pack('<f', 1/3)", b"\xab\xaa\xaa>"),
    ("struct.pack('<f', 1e39)", b"\x00\x00\x80\x7f"),
    ("struct.pack('<f', 2^-149 * 1.5)", b"\x02\x00\x00\x00"),
    ("struct.pack('s', 12.5)", b"12.5\x00"),
])
def test_struct_pack(lua: Any, expr: str, expected: bytes) -> None:
    assert run(lua, f"return {expr}") == expected


def test_struct_unpack(lua: Any) -> None:
    assert run(lua, r"return struct.unpack('<i3', '\255\255\128')") == (-8323073, 4)
    assert run(lua, r"return struct.unpack('<i9', '\128\0\0\0\0\0\0\0\0')") == (-128, 10)
    assert run(lua, r"return struct.unpack('>i9', '\128\0\0\0\0\0\0\0\0')") == (0, 10)
    assert run(lua, r"return struct.unpack('<I8', string.rep('\255', 8))") == (2.0**64, 9)
    assert run(lua, r"return struct.unpack('c1c0', '2abc')") == (b"ab", 4)
    assert run(lua, r"return struct.unpack('ss', 'ab\0c\0d')") == (b"ab", b"c", 6)
    assert run(lua, "return struct.unpack('i', 'abcdefgh', '2')") == (1701077858, 6)
    assert run(lua, "return struct.unpack('', 'abcd', -7)") == -7
    nan, _ = run(lua, r"return struct.unpack('<f', '\0\0\192\127')")
    assert math.isnan(nan)
    assert run(lua, "return struct.size('!bhbibld'), struct.size('!i3bi3'), struct.size('zq5c3')") == (
        32, 9, 3)


@pytest.mark.parametrize(("body", "message"), [
    ("struct.pack('z')", b"bad argument #1 to 'pack' (invalid format option 'z')"),
    ("struct.pack('i')", b"bad argument #2 to 'pack' (number expected, got nil)"),
    ("struct.pack('ii', 1)", b"bad argument #3 to 'pack' (number expected, got nil)"),
    ("struct.pack('c5', 'ab')", b"bad argument #3 to 'pack' (string too short)"),
    ("struct.pack('i99999999999')", b"integral size overflow"),
    ("struct.pack('<i33', 1)", b"integral size 33 is larger than limit of 32"),
    ("struct.pack('!3')", b"alignment 3 is not a power of 2"),
    ("struct.unpack('c0', 'abc')", b"format 'c0' needs a previous size"),
    ("struct.unpack('s', 'abc')", b"unfinished string in data"),
    ("struct.unpack('i', 'abc')", b"bad argument #2 to 'unpack' (data string too short)"),
    ("struct.unpack('i', 'abcd', 0)", b"bad argument #3 to 'unpack' (offset must be 1 or greater)"),
    ("struct.size('s')", b"bad argument #1 to 'size' (option 's' has no fixed size)"),
    ("struct.size()", b"bad argument #1 to 'size' (string expected, got no value)"),
])
def test_struct_errors(lua: Any, body: str, message: bytes) -> None:
    assert error_of(lua, "local x = " + body) == b"user_script:1: " + message


def test_struct_unpack_stops_at_lua_stack_limit(lua: Any) -> None:
    assert run(lua, "return select('#', struct.unpack(string.rep('b', 7997), "
                    "string.rep('a', 8000)))") == 7998
    assert error_of(lua, "local x = struct.unpack(string.rep('b', 7998), string.rep('a', 8000))") == (
        b"user_script:1: stack overflow (too many results)")


# --- cmsgpack --------------------------------------------------------------


@pytest.mark.parametrize(("expr", "expected"), [
    ("0, 127, 128, 255, 256, 65535, 65536",
     b"\x00\x7f\xcc\x80\xcc\xff\xcd\x01\x00\xcd\xff\xff\xce\x00\x01\x00\x00"),
    ("-1, -32, -33, -128, -129, -32768, -32769",
     b"\xff\xe0\xd0\xdf\xd0\x80\xd1\xff\x7f\xd1\x80\x00\xd2\xff\xff\x7f\xff"),
    ("2^53, -2^63, 2^63", b"\xcf\x00\x20\x00\x00\x00\x00\x00\x00"
                         b"\xd3\x80\x00\x00\x00\x00\x00\x00\x00\xca\x5f\x00\x00\x00"),
    ("0.5, 0.1, -0.0", b"\xca\x3f\x00\x00\x00\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a\x00"),
    ("1/0, 0/0, 2^-149", b"\xca\x7f\x80\x00\x00\xcb\xff\xf8\x00\x00\x00\x00\x00\x00"
                        b"\xca\x00\x00\x00\x01"),
    ("{1, 2, 3}, {}, {a = 1}, {[1] = 1, [3] = 3}",
     b"\x93\x01\x02\x03\x90\x81\xa1a\x01\x82\x01\x01\x03\x03"),
    ("{[2^31] = 1}, true, false, nil, cjson.null", b"\x81\xce\x80\x00\x00\x00\x01\xc3\xc2\xc0\xc0"),
])
def test_cmsgpack_pack(lua: Any, expr: str, expected: bytes) -> None:
    assert run(lua, f"return cmsgpack.pack({expr})") == expected


def test_cmsgpack_nesting_limit_packs_nil(lua: Any) -> None:
    packed = run(lua, "local a = {} a[1] = a return cmsgpack.pack(a)")
    assert packed == b"\x91" * 16 + b"\xc0"


def test_cmsgpack_unpack(lua: Any) -> None:
    values = run(lua, "local t = {cmsgpack.unpack(cmsgpack.pack(1, 'a', {1, 2}, {x = 1}, true, 0.25))}"
                      " return t[1], t[2], t[3][2], t[4].x, t[5], t[6], #t")
    assert values == (1, b"a", 2, 1, True, 0.25, 6)
    assert run(lua, r"return cmsgpack.unpack('\207\255\255\255\255\255\255\255\255')") == -1
    assert run(lua, r"return cmsgpack.unpack('\211\0\32\0\0\0\0\0\1')") == 2**53
    assert run(lua, r"return cmsgpack.unpack_one('\1\2\3', 2)") == (-1, 3)
    assert run(lua, r"return cmsgpack.unpack_limit('\1\2\3', 2)") == (2, 1, 2)
    assert run(lua, r"return cmsgpack.unpack_limit('\1\2\3', 0, 1)") == 1
    assert run(lua, "return select('#', cmsgpack.unpack(''))") == 0


@pytest.mark.parametrize(("body", "message"), [
    (r"cmsgpack.unpack('\193')", b"user_script:1: Bad data format in input."),
    (r"cmsgpack.unpack('\146\1')", b"user_script:1: Missing bytes in input."),
    (r"cmsgpack.unpack('\129\192\1')", b"table index is nil"),
    (r"cmsgpack.unpack('\129\203\255\248\0\0\0\0\0\0\1')", b"table index is NaN"),
    ("cmsgpack.pack()",
     b"user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)"),
    (r"cmsgpack.unpack_one('\1\2\3', -1)",
     b"user_script:1: Invalid request to unpack with offset of -1 and limit of 3."),
    (r"cmsgpack.unpack_one('\1\2\3', 4)",
     b"user_script:1: Start offset 4 greater than input length 3."),
    (r"cmsgpack.unpack_limit('\1')",
     b"user_script:1: bad argument #2 to 'unpack_limit' (number expected, got no value)"),
    ("cmsgpack.unpack(string.rep('\\1', 8000))",
     b"user_script:1: stack overflow (too many return values at once; "
     b"use unpack_one or unpack_limit instead.)"),
])
def test_cmsgpack_errors(lua: Any, body: str, message: bytes) -> None:
    assert error_of(lua, "local x = " + body) == message


# --- cjson -----------------------------------------------------------------


@pytest.mark.parametrize(("expr", "expected"), [
    ("{1, 2, nil, 4}", b"[1,2,null,4]"),
    ("{[1] = 1, [10] = 2}", b"[1,null,null,null,null,null,null,null,null,2]"),
    ("{}", b"{}"), ("{[0] = 1}", b'{"0":1}'), ("{[1.5] = 1}", b'{"1.5":1}'),
    ("{[2^40] = 1}", b'{"1099511627776":1}'), ("{[2^31] = 1, [1] = 2}", b"[2]"),
    ("{cjson.null}", b"[null]"),
    ("0.1", b"0.1"), ("1e300", b"1e+300"), ("-0.0", b"-0"), ("1/3", b"0.33333333333333"),
    ("123456789012345678", b"1.2345678901235e+17"),
    (r"'a/b\"c\\d\1\31\127\128\255\n\r\t\b\f\0'",
     b'"a\\/b\\"c\\\\d\\u0001\\u001f\\u007f\x80\xff\\n\\r\\t\\b\\f\\u0000"'),
])
def test_cjson_encode(lua: Any, expr: str, expected: bytes) -> None:
    assert run(lua, f"return cjson.encode({expr})") == expected


def test_cjson_encode_object_order_is_luas(lua: Any) -> None:
    assert run(lua, "return cjson.encode({a = 1, b = 2, c = 3})") == b'{"a":1,"c":3,"b":2}'


def test_cjson_decode(lua: Any) -> None:
    assert run(lua, 'local t = cjson.decode(\' {"a" : [1, {"b": null}], "c": true} \') '
                    "return t.a[1], t.a[2].b == cjson.null, t.c") == (1, True, True)
    assert run(lua, r'''return cjson.decode('"\\u00e9\\ud83d\\ude00\\/"')''') == (
        "é😀/".encode())
    assert run(lua, "return cjson.decode('0x1F'), cjson.decode('+1'), cjson.decode('1.'), "
                    "cjson.decode('-.5'), cjson.decode('1e400')") == (31, 1, 1, -0.5, math.inf)
    assert run(lua, "return tostring(cjson.decode('-nan')), cjson.decode(123)") == (b"-nan", 123)
    assert run(lua, r"return cjson.decode('12 \0 garbage')") == 12


@pytest.mark.parametrize(("text", "message"), [
    (b"{", b"Expected object key string but found T_END at character 2"),
    (b"[1,]", b"Expected value but found T_ARR_END at character 4"),
    (b'{"a" 1}', b"Expected colon but found T_NUMBER at character 6"),
    (b"[1 2]", b"Expected comma or array end but found T_NUMBER at character 4"),
    (b"truex", b"Expected the end but found invalid token at character 5"),
    (b"-", b"Expected value but found invalid number at character 1"),
    (b'"abc', b"Expected value but found unexpected end of string at character 5"),
    (rb'"\x"', b"Expected value but found invalid escape code at character 2"),
    (rb'"\ud83d"', b"Expected value but found invalid unicode escape code at character 2"),
    (b"infinit", b"Expected the end but found invalid token at character 4"),
    (b"1\0garbage", b"JSON parser does not support UTF-16 or UTF-32"),
    (b"[" * 1001, b"Found too many nested data structures (1001) at character 1001"),
])
def test_cjson_decode_errors(lua: Any, text: bytes, message: bytes) -> None:
    body = f"local x = cjson.decode({lua_literal(text)})"
    assert error_of(lua, body) == b"user_script:1: " + message


@pytest.mark.parametrize(("body", "message"), [
    ("cjson.encode({[1] = 1, [20] = 2})", b"Cannot serialise table: excessively sparse array"),
    ("cjson.encode({[true] = 1})",
     b"Cannot serialise boolean: table key must be a number or string"),
    ("cjson.encode(0/0)", b"Cannot serialise number: must not be NaN or Inf"),
    ("cjson.encode({cjson.encode})", b"Cannot serialise function: type not supported"),
    ("cjson.encode(1, 2)", b"bad argument #1 to 'encode' (expected 1 argument)"),
    ("cjson.decode({})", b"bad argument #1 to 'decode' (string expected, got table)"),
    ("cjson.encode_sparse_array('yes')",
     b"bad argument #1 to 'encode_sparse_array' (invalid option 'yes')"),
    ("cjson.encode_sparse_array(nil, -1)",
     b"bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)"),
    ("cjson.encode_max_depth(1, 2)",
     b"bad argument #2 to 'encode_max_depth' (found too many arguments)"),
    ("cjson.encode_number_precision(15)",
     b"bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)"),
])
def test_cjson_errors(lua: Any, body: str, message: bytes) -> None:
    assert error_of(lua, "local x = " + body) == b"user_script:1: " + message


def test_cjson_encode_depth_limit(lua: Any) -> None:
    body = "local t = {} local c = t for i = 1, 1000 do c[1] = {} c = c[1] end local x = cjson.encode(t)"
    assert error_of(lua, body) == b"user_script:1: Cannot serialise, excessive nesting (1001)"


def test_cjson_configuration_persists_per_module(lua: Any) -> None:
    assert run(lua, "return cjson.encode_sparse_array()") == (False, 2, 10)
    assert run(lua, "return cjson.encode_invalid_numbers('null'), cjson.encode({1/0})") == (
        b"null", b"[null]")
    assert run(lua, "return cjson.encode_invalid_numbers(true), cjson.encode({1/0, 0/0})") == (
        True, b"[inf,nan]")
    assert run(lua, "return cjson.encode_number_precision(2^32 + 3), cjson.encode(1/3)") == (
        3, b"0.333")
    assert run(lua, "local c = cjson.new() return c.encode(1/3), c.null == cjson.null") == (
        b"0.33333333333333", True)
    assert run(lua, "return cjson.encode(1/3)") == b"0.333"


def test_cjson_null(lua: Any) -> None:
    assert run(lua, "return type(cjson.null), tostring(cjson.null), "
                    "cjson.decode('null') == cjson.null") == (b"userdata", b"userdata: (nil)", True)
