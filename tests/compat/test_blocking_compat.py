"""Blocking list and sorted-set commands, scenario by scenario, against real Redis and Taipan.

Each scenario drives several raw connections with real timeouts and records what
every client saw; both servers must produce the same record.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from support.raw import RawClient
from support.scenarios import Scenario, run_scenario
from support.servers import ServerProcess


def _settle() -> None:
    time.sleep(0.05)  # let the server park the blocked client


def fifo_order(connect: Callable[[], RawClient]) -> list[bytes]:
    """The longest-waiting client is served first."""
    admin, first, second = connect(), connect(), connect()
    first.send_raw(RawClient.encode("BLPOP", "q", "0"))
    _settle()
    second.send_raw(RawClient.encode("BLPOP", "q", "0"))
    _settle()
    pushed = admin.call("RPUSH", "q", "a", "b")
    return [pushed, first.read_reply(), second.read_reply(), admin.call("EXISTS", "q")]


def several_keys(connect: Callable[[], RawClient]) -> list[bytes]:
    admin, waiter = connect(), connect()
    waiter.send_raw(RawClient.encode("BRPOP", "k1", "k2", "k3", "0"))
    _settle()
    return [admin.call("LPUSH", "k3", "x", "y"), waiter.read_reply(), admin.call("LRANGE", "k3", "0", "-1")]


def push_then_delete_in_multi(connect: Callable[[], RawClient]) -> list[bytes]:
    """Waiters are served after EXEC, so a key pushed and deleted in it serves no one."""
    admin, waiter = connect(), connect()
    waiter.send_raw(RawClient.encode("BLPOP", "m", "0.5"))
    _settle()
    replies = [admin.call("MULTI"), admin.call("RPUSH", "m", "v"), admin.call("DEL", "m"),
               admin.call("EXEC")]
    return replies + [waiter.read_reply()]


def push_then_pop_in_pipeline(connect: Callable[[], RawClient]) -> list[bytes]:
    """Outside MULTI the waiter is served right after the push, before the next command."""
    admin, waiter = connect(), connect()
    waiter.send_raw(RawClient.encode("BLPOP", "p", "0"))
    _settle()
    admin.send_raw(RawClient.encode("RPUSH", "p", "v") + RawClient.encode("LPOP", "p"))
    return [admin.read_reply(), admin.read_reply(), waiter.read_reply()]


def timeout_replies(connect: Callable[[], RawClient]) -> list[bytes]:
    client = connect()
    resp3 = connect()
    resp3.call("HELLO", "3")
    return [
        client.call("BLPOP", "none", "0.05"),
        client.call("BLMOVE", "none", "dst", "LEFT", "RIGHT", "0.05"),
        client.call("BRPOPLPUSH", "none", "dst", "0.05"),
        client.call("BLMPOP", "0.05", "2", "none", "none2", "LEFT", "COUNT", "3"),
        resp3.call("BLPOP", "none", "0.05"),
        resp3.call("BLMOVE", "none", "dst", "LEFT", "RIGHT", "0.05"),
    ]


def blocking_in_multi(connect: Callable[[], RawClient]) -> list[bytes]:
    client = connect()
    return [client.call("MULTI"), client.call("BLPOP", "none", "0"),
            client.call("BRPOP", "none", "10"), client.call("EXEC")]


def blmove_chain(connect: Callable[[], RawClient]) -> list[bytes]:
    """A served BLMOVE pushes to its destination, which serves the next waiter."""
    admin, mover, popper = connect(), connect(), connect()
    mover.send_raw(RawClient.encode("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"))
    _settle()
    popper.send_raw(RawClient.encode("BLPOP", "dst", "0"))
    _settle()
    return [admin.call("LPUSH", "src", "item"), mover.read_reply(), popper.read_reply(),
            admin.call("EXISTS", "src", "dst")]


def blmpop_count(connect: Callable[[], RawClient]) -> list[bytes]:
    admin, waiter = connect(), connect()
    waiter.send_raw(RawClient.encode("BLMPOP", "0", "2", "x", "y", "RIGHT", "COUNT", "2"))
    _settle()
    return [admin.call("RPUSH", "y", "1", "2", "3"), waiter.read_reply(),
            admin.call("LRANGE", "y", "0", "-1")]


def wrong_type_then_list(connect: Callable[[], RawClient]) -> list[bytes]:
    """A key that becomes a string keeps the client waiting; a list then serves it."""
    admin, waiter = connect(), connect()
    waiter.send_raw(RawClient.encode("BLPOP", "t", "2"))
    _settle()
    replies = [admin.call("SET", "t", "string")]
    _settle()
    replies += [admin.call("DEL", "t"), admin.call("RPUSH", "t", "v"), waiter.read_reply()]
    return replies


def errors(connect: Callable[[], RawClient]) -> list[bytes]:
    client = connect()
    client.call("SET", "str", "x")
    return [
        client.call("BLPOP", "str", "0"),
        client.call("BLPOP", "k", "-1"),
        client.call("BLPOP", "k", "abc"),
        client.call("BLPOP", "k", "1e100"),
        client.call("BLMPOP", "0", "0", "k", "LEFT"),
        client.call("BLMPOP", "0", "1", "k", "UP"),
        client.call("BLMOVE", "k", "d", "LEFT", "UP", "0"),
        client.call("CLIENT", "UNBLOCK", "999999"),
        client.call("CLIENT", "UNBLOCK", "1", "LATER"),
    ]


def client_unblock(connect: Callable[[], RawClient]) -> list[bytes]:
    admin, waiter, other = connect(), connect(), connect()
    waiter_id = int(waiter.call("CLIENT", "ID")[1:-2])
    other_id = int(other.call("CLIENT", "ID")[1:-2])
    waiter.send_raw(RawClient.encode("BLPOP", "u", "0"))
    other.send_raw(RawClient.encode("BRPOP", "u", "0"))
    _settle()
    return [
        admin.call("CLIENT", "UNBLOCK", str(waiter_id)),
        waiter.read_reply(),
        admin.call("CLIENT", "UNBLOCK", str(other_id), "ERROR"),
        other.read_reply(),
        admin.call("CLIENT", "UNBLOCK", str(waiter_id)),
    ]


def pipelined_after_block(connect: Callable[[], RawClient]) -> list[bytes]:
    """Requests sent behind a blocking command run after it completes, in order."""
    admin, waiter = connect(), connect()
    waiter.send_raw(RawClient.encode("BLPOP", "z", "0") + RawClient.encode("PING")
                    + RawClient.encode("LLEN", "z"))
    _settle()
    return [admin.call("RPUSH", "z", "1", "2"), waiter.read_reply(), waiter.read_reply(),
            waiter.read_reply()]


def served_counts_once(connect: Callable[[], RawClient]) -> list[bytes]:
    """A command that blocked is one call when it is served (INFO commandstats and
    stats, LATENCY HISTOGRAM), not a second one."""
    admin, first, second = connect(), connect(), connect()
    admin.call("CONFIG", "RESETSTAT")
    first.send_raw(RawClient.encode("BLPOP", "s", "0"))
    second.send_raw(RawClient.encode("BLPOP", "s", "0"))
    _settle()
    replies = [admin.call("RPUSH", "s", "a"), first.read_reply(),
               admin.call("RPUSH", "s", "b"), second.read_reply()]
    commandstats = admin.call("INFO", "commandstats")
    # (in Redis's INFO the commands come in its command table's hash order)
    replies += sorted(re.findall(rb"cmdstat_(?:blpop|rpush):calls=\d+", commandstats))
    replies += re.findall(rb"total_commands_processed:\d+", admin.call("INFO", "stats"))
    replies += re.findall(rb"calls\r\n:\d+", admin.call("LATENCY", "HISTOGRAM", "blpop"))
    return replies


SCENARIOS = [fifo_order, several_keys, push_then_delete_in_multi, push_then_pop_in_pipeline,
             timeout_replies, blocking_in_multi, blmove_chain, blmpop_count,
             wrong_type_then_list, errors, client_unblock, pipelined_after_block,
             served_counts_once]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_blocking_scenario(real_redis: ServerProcess, taipan: ServerProcess,
                           scenario: Scenario) -> None:
    expected = run_scenario(real_redis, scenario)
    actual = run_scenario(taipan, scenario)
    assert actual == expected


def zset_pops(connect: Callable[[], RawClient]) -> list[bytes]:
    """BZPOPMIN/BZPOPMAX/BZMPOP: served by ZADD, time out with a null array."""
    admin, low, high, multi = connect(), connect(), connect(), connect()
    resp3 = connect()
    resp3.call("HELLO", "3")
    low.send_raw(RawClient.encode("BZPOPMIN", "z1", "z2", "0"))
    _settle()
    high.send_raw(RawClient.encode("BZMPOP", "0", "1", "z2", "MAX", "COUNT", "2"))
    _settle()
    replies = [admin.call("ZADD", "z2", "1", "a", "2", "b", "3", "c"), low.read_reply(),
               high.read_reply(), admin.call("ZRANGE", "z2", "0", "-1", "WITHSCORES")]
    replies += [admin.call("BZPOPMAX", "none", "0.05"), resp3.call("BZPOPMIN", "none", "0.05"),
                resp3.call("ZADD", "z3", "1.5", "m"), resp3.call("BZPOPMAX", "z3", "0"),
                multi.call("MULTI"), multi.call("BZPOPMIN", "none", "0"), multi.call("EXEC")]
    admin.call("SET", "s", "x")
    replies.append(admin.call("BZPOPMIN", "s", "0"))
    return replies


SCENARIOS.append(zset_pops)
