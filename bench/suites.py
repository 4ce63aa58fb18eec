"""Which redis-benchmark tests to run, how many requests each, and how to name them.

Pure data and helpers (no sockets, no processes), covered by tests/unit/test_bench_parsing.py.
"""

from __future__ import annotations

from collections import Counter

# -t names → one redis-benchmark run each, so each run's CPU delta is that test's alone.
STRINGS = ("ping_inline", "ping_mbulk", "set", "get", "incr", "mset")
# Order matters: SPOP and ZPOPMIN pop what the SADD and ZADD runs just before them
# added to the same server, and LPOP/RPOP drain what LPUSH/RPUSH pushed.
COLLECTIONS = ("lpush", "rpush", "lpop", "rpop", "sadd", "spop", "hset", "zadd", "zpopmin",
               "lrange_100", "lrange_300", "lrange_600")
# EVALSHA of a script that runs one command, and of one that runs ten: redis-benchmark
# sends them as custom commands (SCRIPTS holds each script and its EVALSHA arguments).
SCRIPTING = ("evalsha_1", "evalsha_10")
SCRIPTS = {
    "evalsha_1": ("return redis.call('SET', KEYS[1], ARGV[1])",
                  ["1", "key:__rand_int__", "xxx"]),
    "evalsha_10": ("local v for i = 1, 10 do v = redis.call('INCR', KEYS[1]) end return v",
                   ["1", "counter:__rand_int__"]),
}
SUITES = {"strings": STRINGS, "collections": COLLECTIONS, "scripting": SCRIPTING,
          "all": STRINGS + COLLECTIONS + SCRIPTING}
DEFAULT_SUITE = "strings"

# The names redis-benchmark prints for them (a failed run has no CSV row to name it).
LABELS = {
    "ping_inline": "PING_INLINE", "ping_mbulk": "PING_MBULK", "mset": "MSET (10 keys)",
    "lrange_100": "LRANGE_100 (first 100 elements)",
    "lrange_300": "LRANGE_300 (first 300 elements)",
    "lrange_500": "LRANGE_500 (first 500 elements)",
    "lrange_600": "LRANGE_600 (first 600 elements)",
    "evalsha_1": "EVALSHA (1 command)", "evalsha_10": "EVALSHA (10 commands)",
}
# Every LRANGE test starts with this extra run of -n LPUSHes, in the same redis-benchmark
# process, so its CSV has two rows; the warm-up row is recorded apart from the test's.
LRANGE_WARMUP = "LPUSH (needed to benchmark LRANGE)"

# Default -n per pipeline depth (a fifth with --quick). The collections suite has twice
# as many tests, so it gets fewer requests to stay within a few minutes per full run.
DEFAULT_REQUESTS = {
    "strings": {1: 50_000, 16: 200_000},
    "collections": {1: 30_000, 16: 80_000},
    "scripting": {1: 30_000, 16: 100_000},
}
# An LRANGE_N request returns N elements; these get a fraction of the default -n.
REQUEST_DIVISORS = {"lrange_100": 2, "lrange_300": 4, "lrange_500": 6, "lrange_600": 8}
# Default -r: SET/GET/INCR/MSET keys, and the random members SADD/HSET/ZADD add. The
# large range for collections keeps duplicates rare, so SPOP/ZPOPMIN find what SADD/ZADD
# added instead of an empty key.
DEFAULT_KEYSPACE = {"strings": 100_000, "collections": 10_000_000, "scripting": 100_000}


def label(test: str) -> str:
    return LABELS.get(test, test.upper())


def expected_rows(test: str) -> int:
    """CSV rows one ``redis-benchmark -t <test>`` run prints (LRANGE adds its warm-up)."""
    return 2 if test.startswith("lrange") else 1


def suite_of(test: str) -> str:
    if test in SCRIPTING:
        return "scripting"
    return "collections" if test in COLLECTIONS or test.startswith("lrange") else "strings"


def expand_tests(spec: str) -> list[str]:
    """``ping,set`` → ``["ping_inline", "ping_mbulk", "set"]`` (``ping`` means both).

    Suite names expand to their tests: ``strings,lrange_100``.
    """
    tests: list[str] = []
    for name in (part.strip().lower() for part in spec.split(",")):
        if name == "ping":
            expanded: tuple[str, ...] = ("ping_inline", "ping_mbulk")
        else:
            expanded = SUITES.get(name, (name,))
        for test in expanded:
            if test and test not in tests:
                tests.append(test)
    return tests


def default_requests(test: str, pipeline: int, quick: bool = False) -> int:
    """Default -n: deeper pipelines than 1 all get the P16 figure; never below 1,000,
    which also keeps the LRANGE warm-up list longer than the 600 elements read."""
    base = DEFAULT_REQUESTS[suite_of(test)][1 if pipeline == 1 else 16]
    return max(1000, base // (5 if quick else 1) // REQUEST_DIVISORS.get(test, 1))


def requests_plan(tests: list[str], pipelines: list[int], requests: int | None,
                  quick: bool) -> dict[str, dict[int, int]]:
    """``{test: {pipeline: -n}}``; an explicit ``requests`` applies to every run as is."""
    return {test: {depth: requests or default_requests(test, depth, quick)
                   for depth in pipelines} for test in tests}


def keyspace_plan(tests: list[str], keyspace: int | None) -> dict[str, int]:
    """``{test: -r}``; an explicit ``keyspace`` (0: no -r) applies to every test."""
    return {test: DEFAULT_KEYSPACE[suite_of(test)] if keyspace is None else keyspace
            for test in tests}


def describe_plan(plan: dict[str, dict[int, int]]) -> str:
    """``P1 20,000 (lrange_600 2,500), P16 50,000`` — each depth's usual -n and exceptions,
    per suite when the tests come from both (``strings P1 ...; collections P1 ...``)."""
    by_suite: dict[str, dict[str, dict[int, int]]] = {}
    for test, per_depth in plan.items():
        by_suite.setdefault(suite_of(test), {})[test] = per_depth
    if len(by_suite) == 1:
        return _describe(plan)
    return "; ".join(f"{suite} {_describe(part)}" for suite, part in by_suite.items())


def _describe(plan: dict[str, dict[int, int]]) -> str:
    parts = []
    depths = sorted({depth for per_depth in plan.values() for depth in per_depth})
    for depth in depths:
        values = {test: per_depth[depth] for test, per_depth in plan.items() if depth in per_depth}
        usual = Counter(values.values()).most_common(1)[0][0]
        others = ", ".join(f"{test} {n:,}" for test, n in values.items() if n != usual)
        parts.append(f"P{depth} {usual:,}" + (f" ({others})" if others else ""))
    return ", ".join(parts)
