"""Differential tests of cjson, cmsgpack, bit and struct against a real redis-server.

Taipan's EVAL is not wired to these libraries yet, so each snippet runs twice:
through EVAL on Redis, and in a lupa runtime with ``lua_libs.install`` applied,
compiled under Redis's chunk name so error positions read the same. Both sides
render the snippet's results (or its error) with the same Lua ``show`` helper
and the rendered strings must be identical. ``show`` resets cjson's settings
afterwards, because they persist in Redis's Lua state.

Snippets end in ``return id(...)``: a ``return f(...)`` would be a tail call,
which only Redis's C functions survive with their caller's position (see the
known differences in taipan/scripting/lua_libs).
"""

from __future__ import annotations

import math
import random
import struct
from collections.abc import Iterator

import pytest
import redis
from support.servers import ServerProcess

lua51 = pytest.importorskip("lupa.lua51")

from taipan.scripting import lua_libs  # noqa: E402

PRELUDE = r"""
local function dump(v)
  local t = type(v)
  if t == "string" then
    return '"' .. (string.gsub(v, "[^%w%p ]", function(c)
      return string.format("\\%03d", string.byte(c)) end)) .. '"'
  elseif t == "number" then return string.format("%.17g", v)
  elseif t == "table" then
    local parts = {}
    for k, x in pairs(v) do parts[#parts + 1] = dump(k) .. "=" .. dump(x) end
    table.sort(parts)
    return "{" .. table.concat(parts, ",") .. "}"
  elseif t == "userdata" then return v == cjson.null and "NULL" or "userdata"
  end
  return tostring(v)
end
local function id(...) return ... end
local function show(f)
  local res = {n = 0}
  local function keep(...) res = {n = select("#", ...), ...} end
  keep(pcall(f))
  cjson.encode_sparse_array(false, 2, 10) cjson.encode_max_depth(1000)
  cjson.decode_max_depth(1000) cjson.encode_number_precision(14)
  cjson.encode_keep_buffer(true) cjson.encode_invalid_numbers(false)
  cjson.decode_invalid_numbers(true)
  if not res[1] then return "ERR:" .. tostring(res[2]) end
  local out = {}
  for i = 2, res.n do out[#out + 1] = dump(res[i]) end
  return table.concat(out, " ")
end
return show(function()
"""
EPILOGUE = "\nend)"

BIT = [
    'return id(bit.tobit(2^31), bit.tobit(2^32+5), bit.tobit(-1.5), bit.tobit(2.5), bit.tobit("0x10"))',
    "return id(bit.tobit(2^53+2), bit.tobit(2^60+2^33+7*2^8), bit.tobit(-2^52-3), bit.tobit(1/0))",
    "return id(bit.tohex(255), bit.tohex(-1, -4), bit.tohex(1, 0), bit.tohex(1, 20), bit.tohex(255, -2147483648))",
    "return id(bit.lshift(1, 31), bit.lshift(1, 32), bit.rshift(-1, 28), bit.arshift(-256, 4))",
    "return id(bit.rol(0x12345678, 8), bit.ror(0x12345678, 8), bit.bswap(0x12345678), bit.bnot(0))",
    "return id(bit.band(0xff00ff00, 0x0ff00ff0, 0xf0f0f0f0), bit.bor(1,2,4,8,16,32,64,128), bit.bxor(-1, 7))",
    "return id(bit.rol(1,-1), bit.lshift(1, -1), bit.lshift(1, 33.7), bit.ror(1, 0))",
    "return id(bit.tohex(1, nil))", 'return id(bit.band(1, "x", "y"))', "return id(bit.band())",
    "return id(bit.bor(true))", "return id(bit:band(1))", "local f = bit.bor return id(f(1, {}))",
    'return id(pcall(bit.band, "x"))',
]

STRUCT = [
    'return id(struct.pack("<i9", -1), struct.pack(">i32", -2), struct.pack("<i0", 5))',
    r'return id(struct.unpack("<i9", "\1\0\0\0\0\0\0\0\128"))',
    r'return id(struct.unpack(">i9", "\128\0\0\0\0\0\0\0\0"))',
    r'return id(struct.unpack("<i16", "\0\0\0\0\0\0\0\128" .. string.rep("\0", 8)))',
    r'return id(struct.unpack("<I8", string.rep("\255", 8)))',
    r'return id(struct.unpack("<i3", "\255\255\128"))',
    'return id(struct.pack(">l", -2^63), struct.pack(">l", -2^64), struct.pack(">L", 2^63), struct.pack(">l", -1.5))',
    'return id(struct.pack(">L", 0/0), struct.pack(">L", 1/0), struct.pack(">L", -1/0), struct.pack(">L", 2^64))',
    'return id(struct.pack("!4bi", 1, 2), struct.pack("!bi3", 1, 2), struct.pack("!8bd", 1, 2))',
    'return id(struct.pack("!bhbibl", 1, 2, 3, 4, 5, 6), struct.size("!bhbibld"), struct.size("!i3bi3"))',
    'return id(struct.pack("!16bi3bi5bi6bi7bi12", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10))',
    'return id(struct.pack(">hHiIlLT", -2, 65535, -3, 4294967295, -4, 2^53, 7))',
    'return id(struct.unpack(">hHiIlLT", struct.pack(">hHiIlLT", -2, 65535, -3, 4294967295, -4, 2^53, 7)))',
    'return id(struct.pack("<f>f", 1/3, 1/3), struct.pack("f", 1e39), struct.pack("f", 2^-149 * 2.5))',
    'return id(struct.pack("f", 0/0), struct.pack("f", -0.0), struct.pack("f", 3.4028235677973366e38))',
    'return id(struct.pack("<d>d", 1/3, -1e-310), struct.pack("d", 0/0), struct.pack("d", 2^-1074))',
    'return id(struct.unpack("<f>f<d>d", struct.pack("<f>f<d>d", 1/3, -7.25, 1e300, -2^-1074)))',
    r'return id(struct.unpack("<f", "\0\0\192\127"), struct.unpack("<f", "\1\0\0\0"))',
    r'return id(struct.unpack("<d", "\0\0\0\0\0\0\248\255"), struct.unpack(">d", "\128\0\0\0\0\0\0\1"))',
    'return id(struct.pack("bc0s", 1, "ab", "cd"), struct.pack("c2", "xyz"), struct.pack("s", 12.5))',
    r'return id(struct.unpack("bc0", "\2abc"))', r'return id(struct.unpack("c1c0", "2abc"))',
    r'return id(struct.unpack("ss", "ab\0c\0d"))', 'return id(struct.unpack("c3", "abcdef", 3))',
    'return id(struct.unpack("i", "abcdefgh", "2"))', 'return id(struct.unpack("i", "abcdefgh", 2.9))',
    'return id(struct.unpack("", "abcd", -7))', 'return id(struct.unpack("i\\0zzz", "abcd"))',
    'return id(struct.pack("!xbxh", 1, 2), struct.pack(" < b > h ", 1, 2), struct.size("zq5c3"))',
    'return id(struct.pack("z"))', 'return id(struct.pack("i", "x"))', 'return id(struct.pack("i"))',
    'return id(struct.pack())', 'return id(struct.pack(12))', 'return id(struct.pack("c5", "ab"))',
    'return id(struct.pack("i99999999999"))', 'return id(struct.pack("<i33", 1))',
    'return id(struct.pack("!0"))', 'return id(struct.unpack("c0", "abc"))',
    r'return id(struct.unpack("c1c0", "xabc"))', 'return id(struct.unpack("s", "abc"))',
    'return id(struct.unpack("i", "abc"))', 'return id(struct.unpack("i", "abcd", 0))',
    'return id(struct.unpack("i", "abcd", -1))', 'return id(struct.unpack("i", "abcd", "x"))',
    'return id(struct.size("s"))', 'return id(struct.size("c0"))', 'return id(struct.size("!3"))',
    'return id(struct.size("?"))', 'return id(struct.size("\\200"))',
    'return select("#", struct.unpack(string.rep("b", 7997), string.rep("a", 8000)))',
    'return id(struct.unpack(string.rep("b", 7998), string.rep("a", 8000)))',
]

CMSGPACK = [
    "return id(cmsgpack.pack(0, 127, 128, 255, 256, 65535, 65536, 2^32-1, 2^32, -1, -32, -33, -128, -129))",
    "return id(cmsgpack.pack(-32768, -32769, -2^31, -2^31-1, 2^53, -2^63, 2^63, 2^64))",
    "return id(cmsgpack.pack(0.5, 0.1, 1/0, -1/0, 0/0, -(0/0), -0.0, 1e300, 2^-149, 2^-150, 2^128))",
    'return id(cmsgpack.pack({1,2,3}, {}, {a=1}, {[1]=1,[3]=3}, {nil, 2}, true, false, nil, "abc"))',
    "return id(cmsgpack.pack({[2^31]=1}, {[2^31-1]=1}, {[1.5]=1}, {[0]=1}, {[-1]=1, [1]=2}, cjson.null))",
    'return id(cmsgpack.pack(string.rep("x", 31), string.rep("x", 32)))',
    'return id(cmsgpack.pack(string.rep("x", 256)):sub(1, 5), cmsgpack.pack(string.rep("x", 65536)):sub(1, 6))',
    "local t = {} for i = 1, 70000 do t[i] = i end return id(cmsgpack.pack(t):sub(1, 8))",
    'local t = {} for i = 1, 16 do t["k" .. i] = i end return id(cmsgpack.pack(t))',
    "local a = {x = 1} a.self = a return id(cmsgpack.pack(a))",
    "local t = setmetatable({}, {__index = function(t, k) return k end}) return id(cmsgpack.pack(t))",
    'return id(cmsgpack.unpack(cmsgpack.pack(1, "a", {1,2}, {x=1}, true, nil, 0.25)))',
    r'return id(cmsgpack.unpack("\207\255\255\255\255\255\255\255\255\207\128\0\0\0\0\0\0\1"))',
    r'return id(cmsgpack.unpack("\211\0\32\0\0\0\0\0\1\211\128\0\0\0\0\0\0\0"))',
    r'return id(cmsgpack.unpack("\209\255\254\208\255\210\128\0\0\0\206\255\255\255\255\204\200"))',
    r'return id(cmsgpack.unpack("\202\127\192\0\0\202\255\192\0\0\202\0\0\0\1\202\127\128\0\0"))',
    r'return id(cmsgpack.unpack("\203\127\248\0\0\0\0\0\0\203\0\0\0\0\0\0\0\1"))',
    r'return id(cmsgpack.unpack("\217\3abc\218\0\2de\219\0\0\0\1f\163ghi\160"))',
    r'return id(cmsgpack.unpack("\220\0\2\1\2\221\0\0\0\1\3\222\0\1\1\2\223\0\0\0\1\3\4"))',
    r'return id(cmsgpack.unpack("\147\1\192\3\130\1\2\1\3\145\192"))',
    r'return id(cmsgpack.unpack("\193"))', r'return id(cmsgpack.unpack("\196\1a"))',
    r'return id(cmsgpack.unpack("\146\1"))', r'return id(cmsgpack.unpack("\219\0\0\0\5abc"))',
    r'return id(cmsgpack.unpack("\129\192\1"))',
    r'return id(cmsgpack.unpack("\129\203\255\248\0\0\0\0\0\0\1"))',
    'return id(cmsgpack.unpack(""))', "return id(cmsgpack.unpack())", "return id(cmsgpack.unpack(12))",
    r'return id(cmsgpack.unpack_one("\1\2\3"), cmsgpack.unpack_one("\1\2\3", 2))',
    r'return id(cmsgpack.unpack_one("\1\2\3", 3))', r'return id(cmsgpack.unpack_one("\1\2\3", 4))',
    r'return id(cmsgpack.unpack_one("\1\2\3", -1))', r'return id(cmsgpack.unpack_one("\1\2\3", "x"))',
    r'return id(cmsgpack.unpack_limit("\1\2\3", 2))', r'return id(cmsgpack.unpack_limit("\1\2\3", 0))',
    r'return id(cmsgpack.unpack_limit("\1\2\3", 0, 1))', r'return id(cmsgpack.unpack_limit("\1\2\3", -1))',
    r'return id(cmsgpack.unpack_limit("\1\2\3", 5, 1))', r'return id(cmsgpack.unpack_limit("\1\2\3"))',
    "return id(cmsgpack.pack())",
    'return select("#", cmsgpack.unpack(string.rep("\\1", 7999)))',
    'return id(cmsgpack.unpack(string.rep("\\1", 8000)))',
    'return select("#", cmsgpack.unpack(string.rep("\\1", 7995) .. "\\129\\1\\1"))',
    'return id(cmsgpack.unpack(string.rep("\\1", 7996) .. "\\129\\1\\1"))',
    'return id(cmsgpack.unpack_limit(string.rep("\\1", 8000), 7999))',
    "local t = {} for i = 1, 4001 do t[i] = i end return id(cmsgpack.pack(unpack(t)))",
]

CJSON = [
    "return id(cjson.encode({1,2,nil,4}), cjson.encode({[1]=1,[10]=2}), cjson.encode({}))",
    "return id(cjson.encode({[1]=1,[11]=2}))", "return id(cjson.encode({[true]=1}))",
    "return id(cjson.encode({[0]=1}), cjson.encode({[-1]=1}), cjson.encode({[1.5]=1}))",
    "return id(cjson.encode({[2^40]=1}), cjson.encode({[2^31]=1, [1]=2}), cjson.encode({[2^31-1]=1}))",
    "return id(cjson.encode(0/0))", "return id(cjson.encode({[1/0]=1}))", "return id(cjson.encode({{}, {{}}}))",
    "return id(cjson.encode(0.1), cjson.encode(1e300), cjson.encode(-0.0), cjson.encode(123456789012345678))",
    'return id(cjson.encode("a/b\\"c\\\\d\\1\\31\\127\\128\\255\\n\\r\\t\\b\\f\\0"))',
    "return id(cjson.encode(coroutine.create(tostring)))", "return id(cjson.encode({[{}]=1}))",
    'return id(cjson.encode({a={1,2,{b="c"}}, [5]=true, x=false}), cjson.encode({cjson.null, nil, 3}))',
    "return id(cjson.encode(cjson.null), cjson.encode(nil), cjson.encode(true))",
    "return id(cjson.encode())", "return id(cjson.encode(1, 2))", "return id(pcall(cjson.encode))",
    "return id(cjson:encode(1))",
    'local t = {} for i = 1, 50 do t["key" .. i] = i end return id(cjson.encode(t))',
    "local t = {} for i = 1, 50 do t[i * 1.5] = i end return id(cjson.encode(t))",
    "local t = {} t[1] = t return id(cjson.encode(t))",
    "local t = {} local c = t for i=1,1000 do c[1] = {} c = c[1] end return id(cjson.encode(t))",
    "return id(cjson.encode_sparse_array(), cjson.encode_max_depth(), cjson.encode_number_precision())",
    'return id(cjson.encode_sparse_array("yes"))', "return id(cjson.encode_sparse_array({}))",
    "return id(cjson.encode_sparse_array(nil, -1))", 'return id(cjson.encode_sparse_array(nil, "x"))',
    "return id(cjson.encode_sparse_array(nil, 1, 2, 3))", "return id(cjson.encode_number_precision(15))",
    "return id(cjson.encode_max_depth(2^40))", 'return id(cjson.encode_keep_buffer("maybe"))',
    "return id(cjson.encode_number_precision(2^32 + 3), cjson.encode({1/3, 12345}), cjson.encode({[1/3]=1}))",
    "return id(cjson.encode_sparse_array(true, 3, 5), cjson.encode({[1]=1,[20]=2}), cjson.encode({[1]=1, [5]=2}))",
    "return id(cjson.encode_sparse_array(nil, 2147483647, 0), cjson.encode({[1]=1, [2]=1, [3]=1}))",
    "return id(cjson.encode_invalid_numbers(true), cjson.encode({1/0, -1/0, 0/0, -(0/0)}))",
    'return id(cjson.encode_invalid_numbers("null"), cjson.encode({1/0, 0/0}), cjson.encode({[1/0]=1}))',
    "return id(cjson.encode_max_depth(2), cjson.encode({{1}}), pcall(cjson.encode, {a={b={}}}))",
    'return id(cjson.decode_max_depth(2), pcall(cjson.decode, "  [ [ [1]]]"))',
    'return id(cjson.decode(string.rep("[", 1001)))',
    "local c = cjson.new() c.encode_number_precision(2) return id(c.encode(1/3), cjson.encode(1/3), c._NAME)",
    'return id(cjson.decode(" {\\"a\\" : [1, {\\"b\\": null}], \\"c\\": true, \\"d\\": false} "))',
    'return id(cjson.decode("\\"\\\\u00e9\\\\ud83d\\\\ude00\\\\/\\\\b\\\\f\\\\n\\\\r\\\\t\\\\u0000\\""))',
    'return id(cjson.decode("\\"\\\\ud83d\\"")) ', 'return id(cjson.decode("\\"\\\\ud83d\\\\u0041\\""))',
    'return id(cjson.decode("\\"\\\\u12\\""))', 'return id(cjson.decode("\\"\\\\x\\""))',
    'return id(cjson.decode("\\"abc"))', 'return id(cjson.decode("\\"a\\\\"))',
    'return id(cjson.decode("1\\0garbage"))', 'return id(cjson.decode("12 \\0 b"))',
    'return id(cjson.decode(""))', 'return id(cjson.decode("[1,]"))', 'return id(cjson.decode("{\\"a\\":1,}"))',
    'return id(cjson.decode("{\\"a\\" 1}"))', 'return id(cjson.decode("{1:2}"))', 'return id(cjson.decode("[1 2]"))',
    'return id(cjson.decode("truex"))', 'return id(cjson.decode("True"))', 'return id(cjson.decode("nul"))',
    'return id(cjson.decode("-"))', 'return id(cjson.decode("+x"))', 'return id(cjson.decode("0x"))',
    'return id(cjson.decode("1e"))', 'return id(cjson.decode(".5"))', 'return id(cjson.decode("infinit"))',
    'return id(cjson.decode("nan(12"))', 'return id(cjson.decode("-\\200"))', 'return id(cjson.decode({}))',
    'return id(cjson.decode("0x1F"), cjson.decode("-0x10"), cjson.decode("0x1p4"), cjson.decode("01"))',
    'return id(cjson.decode("1."), cjson.decode("1E+2"), cjson.decode("-0"), cjson.decode("0X1.8P1"))',
    'return id(cjson.decode("inf"), cjson.decode("-Infinity"), cjson.decode("NaN"), cjson.decode("-nan"))',
    'return id(cjson.decode("nan(123)"), cjson.decode("+inf"), cjson.decode("-.5"), cjson.decode(123))',
    'return id(cjson.decode("1e400"), cjson.decode("1e-400"), cjson.decode("123456789012345678901234567890"))',
    'return id(cjson.decode("{\\"a\\":1,\\"a\\":2}"), cjson.decode("[true,false,null]"), cjson.decode("[[],{}]"))',
    'return id(cjson.decode_invalid_numbers(false), pcall(cjson.decode, "0x10"), pcall(cjson.decode, "-01"))',
    'return id(cjson.decode_invalid_numbers(false), pcall(cjson.decode, "inf"), pcall(cjson.decode, "+1"))',
    'return id(cjson.decode_invalid_numbers("off"), pcall(cjson.decode, "-0.5e3"), pcall(cjson.decode, "0."))',
    "return id(type(cjson.null), tostring(cjson.null), cjson.decode('null') == cjson.null)",
    "local ks = {} for k in pairs(cjson) do ks[#ks+1] = k end return id(table.concat(ks, ','))",
    "local ks = {} for k in pairs(cmsgpack) do ks[#ks+1] = k end return id(table.concat(ks, ','))",
    "local ks = {} for k in pairs(bit) do ks[#ks+1] = k end return id(table.concat(ks, ','))",
]


class Pair:
    """One snippet, run on Redis by EVAL and in a lupa runtime with the libraries."""

    def __init__(self, port: int) -> None:
        self.client = redis.Redis(port=port)
        self.lua = lua51.LuaRuntime(unpack_returned_tuples=True, register_eval=False,
                                    register_builtins=False, encoding=None, max_memory=256 << 20)
        lua_libs.install(self.lua)
        self.loadstring = self.lua.eval("loadstring")

    def both(self, snippet: str) -> tuple[bytes, bytes]:
        script = PRELUDE + snippet + EPILOGUE
        expected = self.client.eval(script, 0)
        fn = self.loadstring(script.encode(), b"@user_script")
        assert not isinstance(fn, tuple), fn
        return expected, fn()

    def mismatches(self, snippets: list[str]) -> list[str]:
        found = []
        for snippet in snippets:
            expected, actual = self.both(snippet)
            if expected != actual:
                found.append(f"{snippet}\n  redis:  {expected!r}\n  taipan: {actual!r}")
        return found


@pytest.fixture(scope="module")
def pair(real_redis: ServerProcess) -> Iterator[Pair]:
    p = Pair(real_redis.port)
    yield p
    p.client.close()


@pytest.mark.parametrize("snippets", [BIT, STRUCT, CMSGPACK, CJSON],
                         ids=["bit", "struct", "cmsgpack", "cjson"])
def test_curated_snippets(pair: Pair, snippets: list[str]) -> None:
    assert pair.mismatches(snippets) == []


def _literal(x: float) -> str:
    if math.isnan(x):
        return "(0/0)"
    if math.isinf(x):
        return "(1/0)" if x > 0 else "(-1/0)"
    if x == 0 and math.copysign(1, x) < 0:
        return "(-0.0)"
    return repr(x)


def _bytes(data: bytes) -> str:
    return '"' + "".join(f"\\{c}" for c in data) + '"'


def _random_double(rnd: random.Random) -> float:
    kind = rnd.randrange(5)
    if kind == 0:
        return float(rnd.randint(-2**40, 2**40))
    if kind == 1:
        return 2.0 ** rnd.randint(-1074, 1023) * rnd.choice([1, -1, 1.5, 1 + 2**-24, 1 + 2**-25])
    if kind == 2:
        return struct.unpack("<d", rnd.randbytes(8))[0]
    if kind == 3:
        return struct.unpack("<f", rnd.randbytes(4))[0]
    return rnd.uniform(-1e6, 1e6)


def _random_snippets(seed: int) -> list[str]:
    rnd = random.Random(seed)
    snippets = []
    for _ in range(12):
        xs = [_literal(_random_double(rnd)) for _ in range(8)]
        args = ", ".join(xs)
        snippets += [
            f"local o = {{}} for _, x in ipairs({{{args}}}) do o[#o+1] = bit.tobit(x) "
            "o[#o+1] = bit.tohex(x) o[#o+1] = bit.arshift(x, x) o[#o+1] = bit.band(x, -x, 0x7fffffff) "
            "o[#o+1] = bit.bxor(x, 12345.5) end return id(table.concat(o, ' '))",
            f"return id(cmsgpack.pack({args}))",
            f"return id(cmsgpack.unpack(cmsgpack.pack({args})))",
            f"return id(struct.pack('<fd>fdlLhHbBi3I5i12I9', {args}, 1, 2, 3, 4, 5, 6))",
        ]
        data = rnd.randbytes(rnd.randint(0, 40))
        js = bytes(rnd.choice(b'{}[],:"\\ 0123456789.eE+-xtrufalsn\x00\x80iIN/u') for _ in range(20))
        snippets += [
            f"return id(struct.unpack('<fd>fdlLhHbBi3I5i12>i9', {_bytes(data)} .. string.rep('\\255', 90)))",
            f"return id(cmsgpack.unpack({_bytes(data)}))",
            f"return id(cjson.decode({_bytes(data)}))",
            f"return id(cjson.decode({_bytes(js)}))",
        ]
    return snippets


@pytest.mark.parametrize("seed", [1, 2])
def test_random_inputs(pair: Pair, seed: int) -> None:
    assert pair.mismatches(_random_snippets(seed)) == []
