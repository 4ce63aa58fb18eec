"""Streams as RDB objects: STREAM_LISTPACKS_2 written (what Redis 7.0 writes), and
STREAM_LISTPACKS (5.0-6.2), _2 and _3 (Redis 7.2: consumers carry an active time)
read.

The body: the number of nodes; per node its master ID (16 bytes, big endian) and its
listpack; the length, last ID, (v2+) first ID, max deleted ID and entries added; then
the groups: name, last ID, (v2+) entries read, the group's PEL (raw ID, delivery
time, delivery count), and its consumers (name, seen time, (v3) active time, the
raw IDs they own).

A node's listpack starts with its master entry (live count, deleted count, the
number of master fields, the fields, a 0), then each entry: flags, ms and seq
differences from the master ID, the field count and fields unless the entry has the
master's fields (flag SAMEFIELDS), the values, and the number of listpack elements
the entry took (lp-count, so Redis can walk backwards).

Loading checks everything, whatever ``sanitize-dump-payload`` says (Redis checks the
listpacks' inner structure only when sanitizing): a payload that does not describe a
consistent stream raises ``RdbError``, before any key exists.
"""

from __future__ import annotations

from typing import Any

from taipan.persistence.rdb_format import (
    TYPE_STREAM_LISTPACKS,
    TYPE_STREAM_LISTPACKS_2,
    TYPE_STREAM_LISTPACKS_3,
    RdbError,
    RdbReader,
    canonical_int,
    write_length,
    write_string,
)
from taipan.persistence.rdb_packed import (
    listpack_decode,
    listpack_entries,
    listpack_from_entries,
    listpack_int_entry,
)
from taipan.types.stream import (
    DELETED,
    SAME_FIELDS,
    Consumer,
    ConsumerGroup,
    PendingEntry,
    Stream,
    StreamID,
)

_U64 = 1 << 64
_ZERO = listpack_int_entry(0)
_SMALL_ENTRIES = [listpack_int_entry(value) for value in range(128)]


def encode_id(entry_id: StreamID) -> bytes:
    """An ID as 128 bits, big endian (rax keys, PEL records)."""
    return entry_id[0].to_bytes(8, "big") + entry_id[1].to_bytes(8, "big")


def decode_id(raw: bytes) -> StreamID:
    return int.from_bytes(raw[:8], "big"), int.from_bytes(raw[8:16], "big")


def _as_int64(value: int) -> int:
    """An unsigned 64-bit difference as the int64 Redis stores it."""
    value %= _U64
    return value - _U64 if value >= 1 << 63 else value


# -- writing --------------------------------------------------------------------------


def node_listpack(master: StreamID, master_fields: tuple[bytes, ...] | list[bytes],
                  entries: list[tuple[StreamID, int, list[bytes]]]) -> bytes:
    """The listpack Redis keeps for one node (``Stream.nodes()`` gives its parts)."""
    deleted = sum(1 for _, flags, _ in entries if flags & DELETED)
    int_entry = listpack_int_entry
    parts = [int_entry(len(entries) - deleted), int_entry(deleted),
             int_entry(len(master_fields)), *listpack_entries(master_fields), _ZERO]
    master_ms, master_seq = master
    names = list(master_fields)
    small = _SMALL_ENTRIES
    # The values of every entry are encoded in one batch, then put in their places.
    values: list[bytes] = []
    slots: list[int] = []
    for (ms, seq), flags, fields in entries:
        keys = fields[0::2]
        same = keys == names
        parts.append(small[(flags & DELETED) | (SAME_FIELDS if same else 0)])
        diff = ms - master_ms
        parts.append(small[diff] if 0 <= diff < 128 else int_entry(_as_int64(diff)))
        diff = seq - master_seq
        parts.append(small[diff] if 0 <= diff < 128 else int_entry(_as_int64(diff)))
        pairs = len(keys)
        if same:
            slots.append(len(parts))
            parts += fields[1::2]
            values += fields[1::2]
            slots.append(len(parts))
            parts.append(int_entry(pairs + 3))
        else:
            parts.append(int_entry(pairs))
            slots.append(len(parts))
            parts += fields
            values += fields
            slots.append(len(parts))
            parts.append(int_entry(pairs * 2 + 4))
    encoded = listpack_entries(values)
    at = 0
    for start, stop in zip(slots[0::2], slots[1::2], strict=True):
        parts[start:stop] = encoded[at:at + stop - start]
        at += stop - start
    return listpack_from_entries(parts)


def write_stream(out: bytearray, stream: Stream, config: Any, compress: bool,
                 kind: int = TYPE_STREAM_LISTPACKS_2) -> int:
    """The body of a stream; returns its type. Taipan writes what Redis 7.0 writes,
    STREAM_LISTPACKS_2; the other ``kind``s (tests, tools) are the older form, without
    first ID, max deleted ID, entries added and entries read, and Redis 7.2's, with
    each consumer's active time (written as its seen time)."""
    nodes = list(stream.nodes())
    write_length(out, len(nodes))
    for master, master_fields, entries in nodes:
        write_string(out, encode_id(master), compress)
        write_string(out, node_listpack(master, master_fields, entries), compress)
    write_length(out, stream.length)
    ids = [stream.last_id]
    if kind != TYPE_STREAM_LISTPACKS:
        ids += (stream.first_id, stream.max_deleted_id)
    for ms, seq in ids:
        write_length(out, ms)
        write_length(out, seq)
    if kind != TYPE_STREAM_LISTPACKS:
        write_length(out, stream.entries_added)
    write_length(out, len(stream.groups))
    for name, group in stream.groups.items():
        write_string(out, name, compress)
        write_length(out, group.last_id[0])
        write_length(out, group.last_id[1])
        if kind != TYPE_STREAM_LISTPACKS:
            write_length(out, group.entries_read % _U64)  # -1 (unknown): Redis's uint64
        write_length(out, len(group.pending))
        for entry_id, pending in group.pending.items():
            out += encode_id(entry_id)
            out += (pending.delivery_time % _U64).to_bytes(8, "little")
            write_length(out, pending.delivery_count)
        write_length(out, len(group.consumers))
        for consumer_name, consumer in group.consumers.items():
            write_string(out, consumer_name, compress)
            out += (consumer.seen_time % _U64).to_bytes(8, "little")
            if kind == TYPE_STREAM_LISTPACKS_3:
                out += (consumer.seen_time % _U64).to_bytes(8, "little")
            write_length(out, len(consumer.pending))
            for entry_id in consumer.pending:
                out += encode_id(entry_id)
    return kind


# -- reading --------------------------------------------------------------------------


# Integers as listpack_decode spells them, for the common small ones: a dict lookup
# instead of a parse per element (flags, ID differences and counts are mostly small).
_SMALL_INTS = {b"%d" % value: value for value in range(-4096, 4096)}


def _corrupt() -> RdbError:
    return RdbError("Stream listpack integrity check failed.")


def _integer(item: bytes) -> int:
    """An element read as an integer, as Redis's lpGetIntegerIfValid (a string that
    spells a 64-bit integer canonically counts)."""
    value = canonical_int(item)
    if value is None:
        raise _corrupt()
    return value


def parse_node(master: StreamID, blob: bytes
               ) -> tuple[tuple[bytes, ...], list[tuple[StreamID, int, list[bytes]]]]:
    """A node's master fields and entries (ID, flags, flat fields) from its listpack,
    its structure checked as Redis's streamValidateListpackIntegrity does, and more:
    the counts must agree with the flags and IDs must ascend from the master ID."""
    items = listpack_decode(blob)
    if not items:
        raise RdbError("Empty listpack inside stream")
    try:
        return _parse_node(master, items)
    except IndexError:  # an element read past the last one
        raise _corrupt() from None


def _parse_node(master: StreamID, items: list[bytes]
                ) -> tuple[tuple[bytes, ...], list[tuple[StreamID, int, list[bytes]]]]:
    small = _SMALL_INTS.get
    size = len(items)
    if size < 4:
        raise _corrupt()
    live, deleted, master_count = map(_integer, items[:3])
    if live < 0 or deleted < 0 or master_count < 0 or 4 + master_count > size:
        raise _corrupt()
    master_fields = tuple(items[3:3 + master_count])
    pos = 3 + master_count
    if small(items[pos]) != 0:
        raise _corrupt()
    pos += 1
    total = live + deleted
    if total * 4 > size - pos:  # each entry takes four elements at least
        raise _corrupt()
    master_ms, master_seq = master
    entries: list[tuple[StreamID, int, list[bytes]]] = []
    append = entries.append
    previous = None
    seen_deleted = 0
    for _ in range(total):
        item = items[pos]
        flags = small(item)
        if flags is None:
            flags = _integer(item)
        item = items[pos + 1]
        ms_diff = small(item)
        if ms_diff is None:
            ms_diff = _integer(item)
        item = items[pos + 2]
        seq_diff = small(item)
        if seq_diff is None:
            seq_diff = _integer(item)
        pos += 3
        if flags & SAME_FIELDS:
            count = master_count
            values = items[pos:pos + count]
            fields = [field for pair in zip(master_fields, values, strict=False)
                      for field in pair]
            taken = count
            expected = count + 3
        else:
            item = items[pos]
            count = small(item)
            if count is None:
                count = _integer(item)
            if count < 0:
                raise _corrupt()
            pos += 1
            taken = count * 2
            fields = items[pos:pos + taken]
            expected = count * 2 + 4
        pos += taken
        if pos >= size:
            raise _corrupt()
        item = items[pos]
        lp_count = small(item)
        if lp_count is None:
            lp_count = _integer(item)
        if lp_count != expected:
            raise _corrupt()
        pos += 1
        entry_id = ((master_ms + ms_diff) % _U64, (master_seq + seq_diff) % _U64)
        if entry_id < master if previous is None else entry_id <= previous:
            raise RdbError("Stream listpack entries out of order")
        previous = entry_id
        if flags & DELETED:
            seen_deleted += 1
            flags = DELETED
        else:
            flags = 0
        append((entry_id, flags, fields))
    if pos != size:
        raise _corrupt()
    if seen_deleted != deleted:
        raise RdbError("Stream listpack counts inconsistent with its entries")
    return master_fields, entries


def _small_count(reader: RdbReader, minimum_bytes: int, what: str) -> int:
    """A count of records that each take at least ``minimum_bytes``: a count the rest
    of the payload can't hold is refused before anything is built."""
    count = reader.length()
    if count * minimum_bytes > reader.remaining():
        raise RdbError(f"{what} longer than its payload")
    return count


def _time(reader: RdbReader) -> int:
    return int.from_bytes(reader.read(8), "little", signed=True)


def read_stream(reader: RdbReader, kind: int, config: Any) -> Stream:
    stream = Stream()
    previous_last: StreamID | None = None
    for _ in range(_small_count(reader, 2, "Stream listpacks")):
        key = reader.string()
        if len(key) != 16:
            raise RdbError("Stream node key entry is not the size of a stream ID")
        master = decode_id(key)
        master_fields, entries = parse_node(master, reader.string())
        if previous_last is not None and master <= previous_last:
            raise RdbError("Listpack re-added with existing key")
        previous_last = entries[-1][0] if entries else master
        stream.add_loaded_node(master, master_fields, entries)
    length = reader.length()
    last_id = (reader.length(), reader.length())
    if length != stream.length:
        raise RdbError("Stream length inconsistent with rax entries")
    if previous_last is not None and last_id < previous_last:
        raise RdbError("Stream last ID smaller than its last entry")
    stream.last_id = last_id
    if kind == TYPE_STREAM_LISTPACKS:
        stream.max_deleted_id = (0, 0)
        stream.entries_added = length
        first = stream.first_entry()
        stream.first_id = first[0] if first is not None else (0, 0)
    else:
        stream.first_id = (reader.length(), reader.length())
        stream.max_deleted_id = (reader.length(), reader.length())
        stream.entries_added = reader.length()
    for _ in range(_small_count(reader, 4, "Stream cgroups")):
        _read_group(reader, kind, stream)
    return stream


def _read_group(reader: RdbReader, kind: int, stream: Stream) -> None:
    name = reader.string()
    last_id = (reader.length(), reader.length())
    if kind == TYPE_STREAM_LISTPACKS:
        entries_read = _estimate_entries_read(stream, last_id)
    else:
        entries_read = reader.length()
        if entries_read >= 1 << 63:
            entries_read -= _U64
    if name in stream.groups:
        raise RdbError(f"Duplicated consumer group name {name.decode('utf-8', 'replace')}")
    group = ConsumerGroup(name, last_id, entries_read)
    pel: dict[StreamID, list[Any]] = {}  # ID -> [delivery time, count, owner]
    for _ in range(_small_count(reader, 25, "Stream PEL")):
        entry_id = decode_id(reader.read(16))
        delivery_time = _time(reader)
        delivery_count = reader.length()
        if entry_id in pel:
            raise RdbError("Duplicated global PEL entry loading stream consumer group")
        pel[entry_id] = [delivery_time, delivery_count, None]
    consumers: list[tuple[Consumer, list[StreamID]]] = []
    for _ in range(_small_count(reader, 10, "Stream consumers")):
        consumer_name = reader.string()
        if consumer_name in group.consumers:
            raise RdbError("Duplicate stream consumer detected.")
        consumer = Consumer(consumer_name, 0)
        consumer.seen_time = _time(reader)
        if kind == TYPE_STREAM_LISTPACKS_3:
            _time(reader)  # active time: Redis 7.0 has no such field (seen time is both)
        group.consumers[consumer_name] = consumer
        owned = []
        for _ in range(_small_count(reader, 16, "Stream consumer PEL")):
            entry_id = decode_id(reader.read(16))
            record = pel.get(entry_id)
            if record is None:
                raise RdbError("Consumer entry not found in group global PEL")
            if record[2] is not None:
                raise RdbError("Duplicated consumer PEL entry loading a stream consumer group")
            record[2] = consumer
            owned.append(entry_id)
        consumers.append((consumer, owned))
    for entry_id, (delivery_time, delivery_count, owner) in pel.items():
        if owner is None:
            raise RdbError("Stream CG PEL entry without consumer")
        entry = PendingEntry(owner, delivery_time, delivery_count)
        group.pending[entry_id] = entry
        owner.pending[entry_id] = entry
    stream.groups[name] = group


def _estimate_entries_read(stream: Stream, entry_id: StreamID) -> int:
    """A group's entries-read for a file from before Redis 7.0, which has none: Redis's
    estimate from the group's last ID (the stream's counters are the file's length,
    no tombstones). -1 means unknown."""
    if not stream.entries_added:
        return 0
    if entry_id == stream.last_id or (not stream.length and entry_id < stream.last_id):
        return stream.entries_added
    if entry_id > stream.last_id:
        return -1
    if entry_id < stream.first_id:
        return stream.entries_added - stream.length
    if entry_id == stream.first_id:
        return stream.entries_added - stream.length + 1
    return -1


STREAM_TYPES = (TYPE_STREAM_LISTPACKS, TYPE_STREAM_LISTPACKS_2, TYPE_STREAM_LISTPACKS_3)
