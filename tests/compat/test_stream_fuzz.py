"""Random stream and consumer-group command sequences against Redis and Taipan.

A hypothesis state machine draws XADD/XDEL/XTRIM/XSETID/XRANGE/XREAD and the
consumer-group commands (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM,
XINFO) over two stream keys, one plain key and small ID, group and consumer
alphabets, so IDs collide, groups go missing and types clash; each command goes to
both servers and the raw replies must be identical. IDs are explicit (``*`` would
read each server's clock) and only replies that don't report times are compared
(XPENDING's summary, JUSTID claims, XINFO GROUPS and STREAM).
"""

from __future__ import annotations

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule
from support.machines import PairedMachine, run_against_both

KEYS = st.sampled_from(["s", "t", "plain"])  # "plain" is a string
IDS = st.sampled_from([
    "0-1", "1-0", "1-1", "2", "2-5", "3-0", "5-*", "10-0", "10-1", "100", "0-0", "-", "+",
    "(1-0", "(5", "18446744073709551615-18446744073709551615", "abc", "1-x", "-1",
])
NEW_IDS = st.sampled_from(["1-1", "2-0", "3", "4-*", "5-0", "7-2", "9-*", "12", "20-0",
                           "0-0", "0-1", "abc"])
GROUPS = st.sampled_from(["g1", "g2", "nogroup"])
CONSUMERS = st.sampled_from(["alice", "bob", "carol"])
COUNTS = st.sampled_from(["0", "1", "2", "5", "-1", "abc", "100000000000"])
FIELDS = st.sampled_from([("f", "v"), ("f", "1"), ("a", "1", "b", "2"), ("f", ""),
                          ("x", "y" * 40), ("f",)])
TRIMS = st.sampled_from([
    (), ("MAXLEN", "2"), ("MAXLEN", "~", "1"), ("MAXLEN", "=", "0"), ("MINID", "3"),
    ("MINID", "~", "5-0"), ("MAXLEN", "~", "1", "LIMIT", "10"), ("MAXLEN", "1", "LIMIT", "1"),
    ("MAXLEN", "-1"), ("MINID", "abc"), ("LIMIT", "5"),
])


class StreamsRedisVsTaipan(PairedMachine):
    @initialize()
    def start(self) -> None:
        for client in (self.ref, self.ours):
            client.call("FLUSHALL")
        self.send("SET", "plain", "x")
        self.send("XADD", "s", "1-0", "f", "v")

    @rule(key=KEYS, entry_id=NEW_IDS, fields=FIELDS, trim=TRIMS, nomk=st.booleans())
    def xadd(self, key: str, entry_id: str, fields: tuple, trim: tuple, nomk: bool) -> None:
        self.send("XADD", key, *(("NOMKSTREAM",) if nomk else ()), *trim, entry_id, *fields)

    @rule(key=KEYS, ids=st.lists(IDS, min_size=1, max_size=3))
    def xdel(self, key: str, ids: list[str]) -> None:
        self.send("XDEL", key, *ids)

    @rule(key=KEYS, trim=TRIMS)
    def xtrim(self, key: str, trim: tuple) -> None:
        self.send("XTRIM", key, *trim)

    @rule(key=KEYS, start=IDS, end=IDS, count=st.one_of(st.none(), COUNTS),
          reverse=st.booleans())
    def xrange(self, key: str, start: str, end: str, count: str | None, reverse: bool) -> None:
        command = ("XREVRANGE", key, end, start) if reverse else ("XRANGE", key, start, end)
        self.send(*command, *(("COUNT", count) if count is not None else ()))

    @rule(keys=st.lists(KEYS, min_size=1, max_size=2), ids=st.lists(IDS, min_size=1,
                                                                       max_size=2),
          count=st.one_of(st.none(), COUNTS))
    def xread(self, keys: list[str], ids: list[str], count: str | None) -> None:
        ids = (ids * 2)[:len(keys)]
        self.send("XREAD", *(("COUNT", count) if count is not None else ()), "STREAMS",
                  *keys, *ids)

    @rule(key=KEYS, group=GROUPS, entry_id=st.sampled_from(["0", "$", "1-0", "5-0", "abc"]),
          mkstream=st.booleans(), entries_read=st.sampled_from([None, "0", "3", "-1", "x"]))
    def xgroup_create(self, key: str, group: str, entry_id: str, mkstream: bool,
                      entries_read: str | None) -> None:
        self.send("XGROUP", "CREATE", key, group, entry_id,
                  *(("MKSTREAM",) if mkstream else ()),
                  *(("ENTRIESREAD", entries_read) if entries_read is not None else ()))

    @rule(key=KEYS, group=GROUPS, entry_id=st.sampled_from(["0", "$", "2-0", "abc"]))
    def xgroup_setid(self, key: str, group: str, entry_id: str) -> None:
        self.send("XGROUP", "SETID", key, group, entry_id)

    @rule(key=KEYS, group=GROUPS, consumer=CONSUMERS, create=st.booleans())
    def xgroup_consumer(self, key: str, group: str, consumer: str, create: bool) -> None:
        self.send("XGROUP", "CREATECONSUMER" if create else "DELCONSUMER", key, group, consumer)

    @rule(key=KEYS, group=GROUPS)
    def xgroup_destroy(self, key: str, group: str) -> None:
        self.send("XGROUP", "DESTROY", key, group)

    @rule(key=KEYS, group=GROUPS, consumer=CONSUMERS,
          entry_id=st.sampled_from([">", ">", "0", "1-0", "abc"]),
          count=st.one_of(st.none(), COUNTS), noack=st.booleans())
    def xreadgroup(self, key: str, group: str, consumer: str, entry_id: str,
                   count: str | None, noack: bool) -> None:
        self.send("XREADGROUP", "GROUP", group, consumer,
                  *(("COUNT", count) if count is not None else ()),
                  *(("NOACK",) if noack else ()), "STREAMS", key, entry_id)

    @rule(key=KEYS, group=GROUPS, ids=st.lists(IDS, min_size=1, max_size=3))
    def xack(self, key: str, group: str, ids: list[str]) -> None:
        self.send("XACK", key, group, *ids)

    @rule(key=KEYS, group=GROUPS)
    def xpending_summary(self, key: str, group: str) -> None:
        self.send("XPENDING", key, group)

    @rule(key=KEYS, group=GROUPS, consumer=CONSUMERS, ids=st.lists(IDS, min_size=1,
                                                                     max_size=2),
          force=st.booleans(), lastid=st.sampled_from([None, "5-0", "abc"]))
    def xclaim(self, key: str, group: str, consumer: str, ids: list[str], force: bool,
               lastid: str | None) -> None:
        self.send("XCLAIM", key, group, consumer, "0", *ids, "JUSTID",
                  *(("FORCE",) if force else ()), *(("LASTID", lastid) if lastid else ()))

    @rule(key=KEYS, group=GROUPS, consumer=CONSUMERS, start=st.sampled_from(["0", "2-0", "-"]),
          count=st.sampled_from([None, "1", "3", "0"]))
    def xautoclaim(self, key: str, group: str, consumer: str, start: str,
                   count: str | None) -> None:
        self.send("XAUTOCLAIM", key, group, consumer, "0", start,
                  *(("COUNT", count) if count is not None else ()), "JUSTID")

    @rule(key=KEYS, last=st.sampled_from(["0-0", "1-0", "50-0", "abc"]),
          added=st.sampled_from([None, "0", "100"]))
    def xsetid(self, key: str, last: str, added: str | None) -> None:
        self.send("XSETID", key, last, *(("ENTRIESADDED", added) if added else ()))

    @rule(key=KEYS)
    def xinfo(self, key: str) -> None:
        self.send("XINFO", "STREAM", key)
        self.send("XINFO", "GROUPS", key)

    @invariant()
    def same_length(self) -> None:
        if self.steps:
            self.send("XLEN", "s")


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_random_stream_sequences(real_redis, taipan) -> None:
    run_against_both(StreamsRedisVsTaipan, real_redis.port, taipan.port, examples=150,
                     steps=30, setup=[("CONFIG", "SET", "stream-node-max-entries", "3")],
                     restore=[("CONFIG", "SET", "stream-node-max-entries", "100")])
