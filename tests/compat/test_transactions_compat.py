"""MULTI/EXEC/DISCARD/WATCH/UNWATCH: raw replies identical to a real Redis 7.0.

WATCH scenarios use two connections per server: client ``a`` watches and runs the
transaction, client ``b`` (another connection) writes in between.
"""

from __future__ import annotations

import time

import pytest
from support.raw import RawClient

Step = tuple


def play(port: int, steps: list[Step]) -> list[bytes]:
    """Run ``(who, *args)`` steps ("a"/"b" clients, or ("sleep", seconds)); return replies."""
    a, b = RawClient(port), RawClient(port)
    try:
        a.call("FLUSHALL")
        replies = []
        for who, *args in steps:
            if who == "sleep":
                time.sleep(args[0])
                continue
            replies.append((a if who == "a" else b).call(*args))
        a.call("FLUSHALL")
        return replies
    finally:
        a.close()
        b.close()


@pytest.fixture
def compare(real_redis, taipan):
    def run(steps: list[Step]) -> list[bytes]:
        expected, actual = play(real_redis.port, steps), play(taipan.port, steps)
        for step, ref, ours in zip([s for s in steps if s[0] != "sleep"], expected, actual,
                                   strict=True):
            assert ours == ref, f"{step!r}\n  redis:  {ref!r}\n  taipan: {ours!r}"
        return expected
    return run


# -- MULTI / EXEC / DISCARD basics -----------------------------------------------------------


def test_exec_discard_without_multi(differ) -> None:
    for args in [("EXEC",), ("DISCARD",), ("UNWATCH",), ("EXEC", "extra"), ("DISCARD", "x"),
                 ("MULTI", "x"), ("WATCH",), ("UNWATCH", "x")]:
        differ.check(*args)


def test_queued_replies(differ) -> None:
    differ.run([
        ("MULTI",), ("SET", "a", "1"), ("INCR", "a"), ("GET", "a"), ("MGET", "a", "b"),
        ("PING",), ("ECHO", "hi"), ("EXEC",), ("GET", "a"),
    ])


def test_queued_replies_resp3(differ) -> None:
    differ.run([("MULTI",), ("SET", "a", "1"), ("GET", "a"), ("GET", "missing"),
                ("INCRBYFLOAT", "f", "1.5"), ("EXISTS", "a"), ("EXEC",)], resp=(3,))


def test_empty_transaction(differ) -> None:
    differ.run([("MULTI",), ("EXEC",), ("MULTI",), ("DISCARD",), ("EXEC",)])


def test_nested_multi(differ) -> None:
    differ.run([("MULTI",), ("MULTI",), ("SET", "x", "1"), ("MULTI",), ("EXEC",), ("GET", "x")])


@pytest.mark.parametrize("bad", [
    ("NOSUCHCOMMAND", "a"), ("SET", "a"), ("GET",), ("GET", "a", "b"), ("OBJECT", "foo"),
    ("OBJECT",), ("PING", "a", "b"), ("WATCH",), ("EXPIRE", "k"),
])
def test_execabort_after_queue_error(differ, bad) -> None:
    differ.run([("MULTI",), ("SET", "a", "1"), bad, ("SET", "a", "2"), ("EXEC",), ("GET", "a"),
                ("EXEC",)])


def test_exec_with_wrong_arity_aborts(differ) -> None:
    differ.run([("MULTI",), ("SET", "a", "1"), ("EXEC", "extra"), ("EXEC",), ("GET", "a"),
                ("DISCARD", "extra"), ("MULTI",), ("DISCARD", "x"), ("SET", "b", "1"),
                ("DISCARD",), ("EXISTS", "b")])


def test_runtime_errors_inside_exec(differ) -> None:
    differ.run([
        ("MULTI",), ("SET", "a", "x"), ("INCR", "a"), ("RPUSH", "a", "x"), ("GET", "a"),
        ("SET", "k", "v", "EX", "0"), ("INCRBYFLOAT", "a", "1"), ("SELECT", "99"),
        ("RENAME", "missing", "b"), ("EXPIRE", "a", "10", "NX", "XX"), ("SET", "b", "2"),
        ("EXEC",), ("GET", "b"),
    ])


def test_select_and_db_commands_inside_exec(differ) -> None:
    differ.run([
        ("MULTI",), ("SELECT", "1"), ("SET", "x", "y"), ("DBSIZE",), ("SELECT", "0"),
        ("SWAPDB", "0", "1"), ("FLUSHDB",), ("EXEC",), ("GET", "x"), ("SELECT", "1"),
        ("DBSIZE",), ("SELECT", "0"), ("MULTI",), ("FLUSHALL",), ("DBSIZE",), ("EXEC",),
    ])


def test_discard_drops_queue(differ) -> None:
    differ.run([("MULTI",), ("SET", "a", "1"), ("DISCARD",), ("GET", "a"), ("DISCARD",),
                ("MULTI",), ("NOSUCH",), ("DISCARD",), ("MULTI",), ("SET", "a", "2"), ("EXEC",)])


def test_watch_inside_multi(differ) -> None:
    differ.run([("MULTI",), ("WATCH", "a"), ("SET", "a", "1"), ("EXEC",), ("GET", "a")])


def test_unwatch_and_reset_inside_multi(differ) -> None:
    differ.run([("MULTI",), ("UNWATCH",), ("EXEC",), ("MULTI",), ("SET", "a", "1"),
                ("RESET",), ("EXEC",), ("GET", "a")])


def test_multi_case_insensitive(differ) -> None:
    differ.run([("multi",), ("set", "a", "1"), ("Exec",), ("watch", "a"), ("uNwAtCh",)])


# -- WATCH invalidation ---------------------------------------------------------------------


def txn(who: str = "a") -> list[Step]:
    return [(who, "MULTI"), (who, "PING"), (who, "EXEC")]


SCENARIOS: dict[str, list[Step]] = {
    "untouched": [("a", "SET", "k", "1"), ("a", "WATCH", "k"), *txn()],
    "set by other": [("a", "SET", "k", "1"), ("a", "WATCH", "k"), ("b", "SET", "k", "2"), *txn()],
    "same value": [("a", "SET", "k", "1"), ("a", "WATCH", "k"), ("b", "SET", "k", "1"), *txn()],
    "self modify": [("a", "SET", "k", "1"), ("a", "WATCH", "k"), ("a", "SET", "k", "2"), *txn()],
    "missing then set": [("a", "WATCH", "k"), ("b", "SET", "k", "1"), *txn()],
    "other key": [("a", "WATCH", "k"), ("b", "SET", "j", "1"), *txn()],
    "unwatch": [("a", "WATCH", "k"), ("b", "SET", "k", "2"), ("a", "UNWATCH"), *txn()],
    "discard clears": [("a", "WATCH", "k"), ("b", "SET", "k", "2"), ("a", "MULTI"),
                       ("a", "DISCARD"), *txn()],
    "exec clears": [("a", "WATCH", "k"), ("b", "SET", "k", "2"), *txn(),
                    ("b", "SET", "k", "3"), *txn()],
    "watch twice": [("a", "WATCH", "k"), ("a", "WATCH", "k", "k"), ("b", "SET", "k", "1"),
                    *txn()],
    "many keys": [("a", "WATCH", "x", "y", "z"), ("b", "SET", "z", "1"), *txn()],
    "del missing": [("a", "WATCH", "k"), ("b", "DEL", "k"), *txn()],
    "del present": [("a", "SET", "k", "1"), ("a", "WATCH", "k"), ("b", "DEL", "k"), *txn()],
    "expire missing": [("a", "WATCH", "k"), ("b", "EXPIRE", "k", "10"), *txn()],
    "expire present": [("a", "SET", "k", "1"), ("a", "WATCH", "k"), ("b", "EXPIRE", "k", "10"),
                       *txn()],
    "expire in past": [("a", "SET", "k", "x"), ("a", "WATCH", "k"), ("b", "EXPIRE", "k", "-1"),
                       *txn()],
    "persist noop": [("a", "SET", "k", "1"), ("a", "WATCH", "k"), ("b", "PERSIST", "k"), *txn()],
    "getex noop": [("a", "SET", "k", "1"), ("a", "WATCH", "k"), ("b", "GETEX", "k"), *txn()],
    "read only": [("a", "SET", "k", "1"), ("a", "WATCH", "k"), ("b", "GET", "k"),
                  ("b", "TTL", "k"), ("b", "EXISTS", "k"), *txn()],
    "incr fails": [("a", "SET", "k", "x"), ("a", "WATCH", "k"), ("b", "INCR", "k"), *txn()],
    "setrange empty": [("a", "SET", "k", "x"), ("a", "WATCH", "k"),
                       ("b", "SETRANGE", "k", "0", ""), *txn()],
    "append empty": [("a", "SET", "k", "x"), ("a", "WATCH", "k"), ("b", "APPEND", "k", ""),
                     *txn()],
    "set nx fails": [("a", "SET", "k", "x"), ("a", "WATCH", "k"), ("b", "SET", "k", "y", "NX"),
                     *txn()],
    "rename source": [("a", "SET", "k", "1"), ("a", "WATCH", "k"), ("b", "RENAME", "k", "j"),
                      *txn()],
    "rename target": [("a", "SET", "k", "1"), ("a", "WATCH", "j"), ("b", "RENAME", "k", "j"),
                      *txn()],
    "rename same": [("a", "SET", "k", "1"), ("a", "WATCH", "k"), ("b", "RENAME", "k", "k"),
                    *txn()],
    "move in": [("b", "SELECT", "1"), ("b", "SET", "k", "1"), ("a", "WATCH", "k"),
                ("b", "MOVE", "k", "0"), *txn()],
    "move out": [("a", "SET", "k", "1"), ("a", "WATCH", "k"), ("b", "MOVE", "k", "1"), *txn()],
    "copy in": [("a", "SET", "s", "1"), ("a", "WATCH", "k"), ("b", "COPY", "s", "k"), *txn()],
    "copy to other db": [("a", "SET", "s", "1"), ("b", "SELECT", "1"), ("b", "WATCH", "k"),
                         ("a", "COPY", "s", "k", "DB", "1"), *txn("b")],
    "select after watch": [("a", "SET", "k", "1"), ("a", "WATCH", "k"), ("a", "SELECT", "1"),
                           ("b", "SET", "k", "2"), *txn()],
    "watched other db": [("a", "SELECT", "1"), ("a", "WATCH", "k"), ("b", "SET", "k", "2"),
                         *txn()],
    "flushdb present": [("a", "SET", "k", "1"), ("a", "WATCH", "k"), ("b", "FLUSHDB"), *txn()],
    "flushdb missing": [("a", "WATCH", "k"), ("b", "FLUSHDB"), *txn()],
    "flushdb other key": [("a", "SET", "j", "1"), ("a", "WATCH", "k"), ("b", "FLUSHDB"), *txn()],
    "flushdb other db": [("a", "SET", "k", "1"), ("a", "WATCH", "k"), ("b", "SELECT", "1"),
                         ("b", "SET", "k", "1"), ("b", "FLUSHDB"), *txn()],
    "flushall present": [("a", "SET", "k", "1"), ("a", "WATCH", "k"), ("b", "SELECT", "1"),
                         ("b", "FLUSHALL"), *txn()],
    "flushall missing": [("a", "WATCH", "k"), ("b", "SET", "j", "1"), ("b", "FLUSHALL"), *txn()],
    "swapdb missing both": [("b", "SELECT", "1"), ("b", "SET", "z", "1"), ("a", "WATCH", "k"),
                            ("b", "SWAPDB", "0", "1"), *txn()],
    "swapdb incoming": [("b", "SELECT", "1"), ("b", "SET", "k", "1"), ("a", "WATCH", "k"),
                        ("b", "SWAPDB", "0", "1"), *txn()],
    "swapdb outgoing": [("a", "SET", "k", "1"), ("a", "WATCH", "k"), ("b", "SWAPDB", "1", "0"),
                        *txn()],
    "swapdb same db": [("a", "SET", "k", "1"), ("a", "WATCH", "k"), ("b", "SWAPDB", "0", "0"),
                       *txn()],
    "swapdb watcher in other db": [("a", "SELECT", "1"), ("a", "WATCH", "k"),
                                   ("b", "SET", "k", "1"), ("b", "SWAPDB", "0", "1"), *txn()],
    "flushdb inside exec": [("a", "SET", "k", "1"), ("a", "WATCH", "k"), ("a", "MULTI"),
                            ("a", "FLUSHDB"), ("a", "EXEC"), *txn()],
    "watch in multi then dirty": [("a", "WATCH", "k"), ("a", "MULTI"), ("a", "WATCH", "j"),
                                  ("b", "SET", "k", "1"), ("a", "EXEC")],
    "queue error and dirty": [("a", "WATCH", "k"), ("b", "SET", "k", "1"), ("a", "MULTI"),
                              ("a", "NOSUCH"), ("a", "EXEC"), *txn()],
    "reset unwatches": [("a", "WATCH", "k"), ("b", "SET", "k", "1"), ("a", "RESET"), *txn()],
    "writes inside exec": [("a", "WATCH", "k"), ("a", "MULTI"), ("a", "SET", "k", "1"),
                           ("a", "INCR", "k"), ("a", "EXEC"), ("a", "GET", "k")],
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_watch_invalidation(compare, name) -> None:
    compare(SCENARIOS[name])


EXPIRY_SCENARIOS: dict[str, list[Step]] = {
    # The key expires between WATCH and EXEC: the transaction fails.
    "expires after watch": [("a", "SET", "k", "1"), ("a", "PEXPIRE", "k", "150"),
                            ("a", "WATCH", "k"), ("sleep", 0.25), *txn()],
    # Expiring while already queued also fails it.
    "expires while queued": [("a", "SET", "k", "x"), ("a", "PEXPIRE", "k", "150"),
                             ("a", "WATCH", "k"), ("a", "MULTI"), ("a", "PING"),
                             ("sleep", 0.25), ("a", "EXEC")],
    # Already expired when watched, then deleted: no logical change.
    "expired before watch, then read": [("a", "SET", "k", "1"), ("a", "PEXPIRE", "k", "20"),
                                        ("sleep", 0.05), ("a", "WATCH", "k"),
                                        ("b", "GET", "k"), *txn()],
    "expired before watch, flushdb": [("a", "SET", "k", "1"), ("a", "PEXPIRE", "k", "20"),
                                      ("sleep", 0.05), ("a", "WATCH", "k"), ("b", "FLUSHDB"),
                                      *txn()],
    "expired before watch, then set": [("a", "SET", "k", "1"), ("a", "PEXPIRE", "k", "20"),
                                       ("sleep", 0.05), ("a", "WATCH", "k"),
                                       ("b", "SET", "k", "2"), *txn()],
    "expired before watch, swapdb incoming": [
        ("b", "SELECT", "1"), ("b", "SET", "k", "1"), ("a", "SET", "k", "1"),
        ("a", "PEXPIRE", "k", "20"), ("sleep", 0.05), ("a", "WATCH", "k"),
        ("b", "SWAPDB", "0", "1"), *txn()],
    "swapdb brings an expired key": [
        ("b", "SELECT", "1"), ("b", "SET", "k", "1"), ("b", "PEXPIRE", "k", "20"),
        ("sleep", 0.05), ("a", "WATCH", "k"), ("b", "SWAPDB", "0", "1"), *txn()],
}


@pytest.mark.parametrize("name", list(EXPIRY_SCENARIOS))
def test_watch_and_expiry(compare, real_redis, taipan, name) -> None:
    # Active expiry would make "already expired when watched" a race; lazy only.
    clients = [RawClient(real_redis.port), RawClient(taipan.port)]
    for client in clients:
        client.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        compare(EXPIRY_SCENARIOS[name])
    finally:
        for client in clients:
            client.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
            client.close()


def test_exec_abort_on_noauth(real_redis, taipan) -> None:
    """A refused EXEC says why, as EXECABORT, even outside MULTI."""
    steps = [("a", "CONFIG", "SET", "requirepass", "pw"), ("b", "MULTI"), ("b", "EXEC"),
             ("b", "AUTH", "pw"), ("b", "MULTI"), ("b", "EXEC")]
    results = []
    for port in (real_redis.port, taipan.port):
        try:
            results.append(play(port, steps[:1]) + play_authed(port, steps[1:]))
        finally:
            with RawClient(port) as admin:
                admin.call("AUTH", "pw")
                admin.call("CONFIG", "SET", "requirepass", "")
    assert results[1] == results[0]


def play_authed(port: int, steps: list[Step]) -> list[bytes]:
    with RawClient(port) as client:
        return [client.call(*args) for _, *args in steps]
