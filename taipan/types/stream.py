"""The stream type: entries in compact nodes, and consumer groups.

Layout (chosen for memory; see the closing note of the streams issue):

* Entries live in nodes of up to ``stream-node-max-entries`` entries, split where
  Redis splits its listpacks (entry count, deleted ones included, or the size the
  node's listpack would have reached ``stream-node-max-bytes``), so node-bound
  behaviour (approximate trimming, XINFO's node counts, RDB nodes) is Redis's.
* A node keeps its entries' IDs in two ``array`` columns (milliseconds relative to
  the node's first ID, and sequence numbers; 4 bytes each until a value needs 8),
  the encoded field/value data in one ``bytearray`` and each entry's offset in it.
  An entry whose fields are the node's first entry's fields stores only values.
  No Python object exists per entry or per field until an entry is read.
* Nodes sit in a list ordered by ID with a parallel list of their first IDs, so
  XADD appends in O(1) and a range finds its first node by bisection.

Entry encoding in ``data``: a flags byte (bit 0 deleted, bit 1 same fields as the
node's master fields), then, without same fields, the number of pairs as a varint
and each field; then each value; strings as varint length + bytes.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

from sortedcontainers import SortedDict

StreamID = tuple[int, int]
UINT64_MAX = (1 << 64) - 1
MIN_ID: StreamID = (0, 0)
MAX_ID: StreamID = (UINT64_MAX, UINT64_MAX)
Entry = tuple[StreamID, list[bytes]]

DELETED = 1
SAME_FIELDS = 2
_LISTPACK_MAX = 1 << 30  # Redis's cap on one node's listpack


# -- the size a node's listpack has in Redis (for where nodes split) ------------------

def _backlen_size(length: int) -> int:
    if length < 128:
        return 1
    if length < 16384:
        return 2
    if length < 2097152:
        return 3
    if length < 268435456:
        return 4
    return 5


def lp_int_size(value: int) -> int:
    """Bytes one integer element takes in a listpack (encoding and back length)."""
    if 0 <= value <= 127:
        size = 1
    elif -4096 <= value <= 4095:
        size = 2
    elif -32768 <= value <= 32767:
        size = 3
    elif -8388608 <= value <= 8388607:
        size = 4
    elif -2147483648 <= value <= 2147483647:
        size = 5
    else:
        size = 9
    return size + 1  # every integer encoding is under 128 bytes: one back-length byte


def lp_string_size(value: bytes) -> int:
    """Bytes one string element takes (strings that read as integers are stored so)."""
    if len(value) <= 20 and value and (value[0] <= 57 and (value[0] >= 48 or value[0] == 45)):
        digits = value[1:] if value[:1] == b"-" else value
        if digits.isdigit() and (digits[:1] != b"0" or value == b"0"):
            number = int(value)
            if -(1 << 63) <= number < (1 << 63):
                return lp_int_size(number)
    length = len(value)
    size = length + (1 if length <= 63 else 2 if length <= 4095 else 5)
    return size + _backlen_size(size)


# -- encoding ------------------------------------------------------------------------

def _put_varint(out: bytearray, value: int) -> None:
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _get_varint(data: bytearray, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


class _Node:
    """Up to stream-node-max-entries consecutive entries (see the module docstring)."""

    __slots__ = ("master", "fields", "field_list", "ms", "seq", "offsets", "data", "live",
                 "deleted", "lp_base")

    def __init__(self, master: StreamID, fields: tuple[bytes, ...]) -> None:
        self.master = master
        self.fields = fields  # the master fields: the first entry's field names
        self.field_list = list(fields)  # (compared with each new entry's names)
        self.ms = array("I")  # ms - master ms ("Q" once a value needs it)
        self.seq = array("I")  # absolute sequence numbers ("Q" once needed)
        self.offsets = array("I")
        self.data = bytearray()
        self.live = 0
        self.deleted = 0
        # The node's listpack size in Redis, but for the two counters up front
        # (their size depends on their values): header, master fields, entries.
        self.lp_base = 6 + 1 + lp_int_size(len(fields)) + sum(map(lp_string_size, fields)) \
            + lp_int_size(0)

    def lp_bytes(self) -> int:
        live, deleted = self.live, self.deleted
        return self.lp_base + (2 if live < 128 else lp_int_size(live)) \
            + (2 if deleted < 128 else lp_int_size(deleted))

    def __len__(self) -> int:
        return len(self.offsets)

    def _widen(self, ms_delta: int, seq: int) -> None:
        """Switch an ID column to 8-byte items once a value needs them."""
        if ms_delta < 0 and type(self.ms) is array:
            # Only after XSETID moved an emptied stream's last ID back, so an
            # entry lands after higher tombstones (Redis allows it): a plain list.
            self.ms = list(self.ms)
        elif ms_delta > 0xFFFFFFFF and type(self.ms) is array and self.ms.typecode == "I":
            self.ms = array("Q", self.ms)
        if seq > 0xFFFFFFFF and self.seq.typecode == "I":
            self.seq = array("Q", self.seq)

    def id_at(self, index: int) -> StreamID:
        return self.master[0] + self.ms[index], self.seq[index]

    def append(self, entry_id: StreamID, fields: list[bytes]) -> None:
        master_ms, master_seq = self.master
        ms, seq = entry_id
        ms_delta = ms - master_ms
        if ms_delta > 0xFFFFFFFF or seq > 0xFFFFFFFF or ms_delta < 0:
            self._widen(ms_delta, seq)
        self.ms.append(ms_delta)
        self.seq.append(seq)
        data = self.data
        self.offsets.append(len(data))
        seq_delta = seq - master_seq
        # flags, ms-diff and seq-diff elements (small ones take 2 bytes each)
        lp = (4 if 0 <= ms_delta <= 127 else 2 + lp_int_size(ms_delta)) \
            + (2 if 0 <= seq_delta <= 127 else lp_int_size(seq_delta))
        if len(fields) == 2 and len(self.fields) == 1 and fields[0] == self.fields[0]:
            # one pair under the node's one field name: the common case, inlined
            value = fields[1]
            length = len(value)
            if length < 64:
                data.append(SAME_FIELDS)
                data.append(length)
                data += value
                first = value[0] if length else 0
                # (a short string that can't be a number: Redis stores it as is; then
                # the lp-count element)
                self.lp_base += lp + 2 + (length + 2 if first > 57 or (
                    first < 48 and first != 45) else lp_string_size(value))
                self.live += 1
                return
            data.append(SAME_FIELDS)
            items = fields[1:]
            lp += 2  # lp-count
        else:
            names = fields[0::2]
            if names == self.field_list:
                data.append(SAME_FIELDS)
                items = fields[1::2]
                lp += 2 if len(items) < 125 else lp_int_size(len(items) + 3)  # lp-count
            else:
                data.append(0)
                _put_varint(data, len(names))
                items = fields
                lp += lp_int_size(len(names)) + lp_int_size(len(names) * 2 + 4)
        for item in items:
            length = len(item)
            if length < 64:
                data.append(length)
                first = item[0] if length else 0
                # (a short string that can't be a number: Redis stores it as is)
                lp += length + 2 if first > 57 or (first < 48 and first != 45) \
                    else lp_string_size(item)
            else:
                _put_varint(data, length)
                lp += lp_string_size(item)
            data += item
        self.lp_base += lp
        self.live += 1

    def flags_at(self, index: int) -> int:
        return self.data[self.offsets[index]]

    def fields_at(self, index: int) -> list[bytes]:
        data = self.data
        pos = self.offsets[index]
        flags = data[pos]
        pos += 1
        out: list[bytes] = []
        if flags & SAME_FIELDS:
            for name in self.fields:
                length = data[pos]
                if length < 128:
                    pos += 1
                else:
                    length, pos = _get_varint(data, pos)
                out.append(name)
                out.append(data[pos:pos + length])
                pos += length
        else:
            pairs, pos = _get_varint(data, pos)
            for _ in range(pairs * 2):
                length = data[pos]
                if length < 128:
                    pos += 1
                else:
                    length, pos = _get_varint(data, pos)
                out.append(data[pos:pos + length])
                pos += length
        return [bytes(item) if type(item) is bytearray else item for item in out]

    def encode_at(self, index: int, out: bytearray, view: memoryview,
                  names: list[bytes]) -> None:
        """Append entry ``index`` as its RESP reply, ``[id, [field, value ...]]``
        (the same bytes in RESP2 and RESP3), straight from the node's buffer;
        ``names`` holds the master fields, each already encoded."""
        data = self.data
        pos = self.offsets[index]
        flags = data[pos]
        pos += 1
        entry_id = b"%d-%d" % (self.master[0] + self.ms[index], self.seq[index])
        if flags & SAME_FIELDS:
            out += b"*2\r\n$%d\r\n%s\r\n*%d\r\n" % (len(entry_id), entry_id, 2 * len(names))
            for name in names:
                length = data[pos]
                if length < 128:
                    pos += 1
                else:
                    length, pos = _get_varint(data, pos)
                out += name
                out += b"$%d\r\n" % length
                out += view[pos:pos + length]
                out += b"\r\n"
                pos += length
            return
        pairs, pos = _get_varint(data, pos)
        out += b"*2\r\n$%d\r\n%s\r\n*%d\r\n" % (len(entry_id), entry_id, 2 * pairs)
        for _ in range(pairs * 2):
            length = data[pos]
            if length < 128:
                pos += 1
            else:
                length, pos = _get_varint(data, pos)
            out += b"$%d\r\n" % length
            out += view[pos:pos + length]
            out += b"\r\n"
            pos += length

    def index_after(self, entry_id: StreamID) -> int:
        """The position of the first entry whose ID is > ``entry_id``."""
        lo, hi = 0, len(self.offsets)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.id_at(mid) <= entry_id:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def encode_span(self, lo: int, hi: int, reverse: bool, parts: list[bytes],
                    count: int) -> None:
        """Append the live entries lo..hi-1 (backwards when ``reverse``) as their
        RESP replies to ``parts``, until it holds ``count`` (0: no limit)."""
        data, offsets, ms, seq = self.data, self.offsets, self.ms, self.seq
        base = self.master[0]
        names = self.encoded_names()
        one_name = names[0] if len(names) == 1 else None
        view = memoryview(data)
        for i in (range(hi - 1, lo - 1, -1) if reverse else range(lo, hi)):
            pos = offsets[i]
            flags = data[pos]
            if flags & DELETED:
                continue
            entry_id = b"%d-%d" % (base + ms[i], seq[i])
            length = data[pos + 1]
            if one_name is not None and flags & SAME_FIELDS and length < 128:
                # one field named as the node's first entry's: the common case
                parts.append(b"*2\r\n$%d\r\n%s\r\n*2\r\n%s$%d\r\n%s\r\n" % (
                    len(entry_id), entry_id, one_name, length, view[pos + 2:pos + 2 + length]))
            else:
                out = bytearray()
                self.encode_at(i, out, view, names)
                parts.append(bytes(out))
            if count and len(parts) >= count:
                break
        view.release()

    def encoded_names(self) -> list[bytes]:
        return [b"$%d\r\n%s\r\n" % (len(name), name) for name in self.fields]

    def mark_deleted(self, index: int) -> None:
        self.data[self.offsets[index]] |= DELETED
        self.live -= 1
        self.deleted += 1

    def index_of(self, entry_id: StreamID) -> int:
        """The position of the first entry whose ID is >= ``entry_id``."""
        lo, hi = 0, len(self.offsets)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.id_at(mid) < entry_id:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def last_id(self) -> StreamID:
        """The node's last entry, deleted or not (what Redis's trimming reads)."""
        return self.id_at(len(self.offsets) - 1)

    def entries(self) -> Iterator[tuple[StreamID, int, list[bytes]]]:
        """Every entry, deleted ones included: (ID, flags, fields)."""
        for index in range(len(self.offsets)):
            yield self.id_at(index), self.flags_at(index), self.fields_at(index)


class Stream:
    """A stream value: its entries, its counters, its consumer groups."""

    __slots__ = ("_nodes", "_firsts", "length", "last_id", "first_id", "max_deleted_id",
                 "entries_added", "groups")
    TYPE_NAME = "stream"  # (TYPE, SCAN TYPE)

    def __init__(self) -> None:
        self._nodes: list[_Node] = []
        self._firsts: list[StreamID] = []  # each node's master ID, for bisection
        self.length = 0  # live entries
        self.last_id: StreamID = MIN_ID  # the greatest ID ever added (or XSETID)
        self.first_id: StreamID = MIN_ID  # the first live entry's (0-0 when empty)
        self.max_deleted_id: StreamID = MIN_ID
        self.entries_added = 0  # every entry ever added
        # group name -> ConsumerGroup, kept in name order as Redis's radix tree.
        self.groups: SortedDict = SortedDict()

    def __len__(self) -> int:
        return self.length

    def encoding(self, config: Any) -> str:
        """OBJECT ENCODING."""
        return "stream"

    def copy(self) -> Stream:
        """COPY: a deep copy, groups and pending lists included."""
        return copy_stream(self)

    # -- writing ----------------------------------------------------------------------

    def add(self, entry_id: StreamID, fields: list[bytes], max_bytes: int = 4096,
            max_entries: int = 100) -> None:
        """Append an entry (the caller checked ``entry_id`` > ``last_id``); ``fields``
        is flat: field, value, field, value ..."""
        nodes = self._nodes
        node = nodes[-1] if nodes else None
        if node is not None:
            live, deleted = node.live, node.deleted
            size = node.lp_base + (2 if live < 128 else lp_int_size(live)) \
                + (2 if deleted < 128 else lp_int_size(deleted))  # (lp_bytes, inlined)
            if (max_entries and len(node.offsets) >= max_entries) or size + sum(
                    map(len, fields)) >= (max_bytes if 0 < max_bytes <= _LISTPACK_MAX
                                          else _LISTPACK_MAX):
                node = None
        if node is None:
            node = _Node(entry_id, tuple(fields[0::2]))
            nodes.append(node)
            self._firsts.append(entry_id)
        node.append(entry_id, fields)
        self.length += 1
        self.entries_added += 1
        self.last_id = entry_id
        if self.length == 1:
            self.first_id = entry_id

    def delete(self, entry_id: StreamID) -> bool:
        """XDEL one entry; False when there is no such live entry."""
        found = self._locate(entry_id)
        if found is None:
            return False
        node_index, index = found
        node = self._nodes[node_index]
        if node.live == 1:
            del self._nodes[node_index]  # its last live entry: the node goes
            del self._firsts[node_index]
        else:
            node.mark_deleted(index)
        self.length -= 1
        if entry_id > self.max_deleted_id:
            self.max_deleted_id = entry_id
        if entry_id == self.first_id:
            self._refresh_first_id()
        return True

    def trim(self, maxlen: int | None = None, minid: StreamID | None = None,
             approx: bool = False, limit: int = 0) -> int:
        """XTRIM / XADD's trimming with Redis's rules: whole nodes first; within a
        node only when exact; ``limit`` caps the entries removed (0: none)."""
        if maxlen is None and minid is None:
            return 0
        removed = 0
        nodes = self._nodes
        while nodes:
            if maxlen is not None and self.length <= maxlen:
                break
            node = nodes[0]
            live = node.live
            if limit and removed + live > limit:
                break
            if maxlen is not None:
                whole = self.length - live >= maxlen
            else:
                whole = node.last_id() < minid  # type: ignore[operator]
            if whole:
                del nodes[0]
                del self._firsts[0]
                self.length -= live
                removed += live
                continue
            if approx:
                break
            for index in range(len(node)):
                if maxlen is not None:
                    if self.length <= maxlen:
                        break
                elif node.id_at(index) >= minid:  # type: ignore[operator]
                    break
                if not node.flags_at(index) & DELETED:
                    node.mark_deleted(index)
                    self.length -= 1
                    removed += 1
            break
        self._refresh_first_id()
        return removed

    def _refresh_first_id(self) -> None:
        first = self.first_entry()
        self.first_id = first[0] if first is not None else MIN_ID

    # -- reading ----------------------------------------------------------------------

    def _locate(self, entry_id: StreamID) -> tuple[int, int] | None:
        """(node index, entry index) of a live entry."""
        node_index = bisect_right(self._firsts, entry_id) - 1
        if node_index < 0:
            return None
        node = self._nodes[node_index]
        index = node.index_of(entry_id)
        if index < len(node) and node.id_at(index) == entry_id \
                and not node.flags_at(index) & DELETED:
            return node_index, index
        return None

    def get(self, entry_id: StreamID) -> list[bytes] | None:
        found = self._locate(entry_id)
        if found is None:
            return None
        return self._nodes[found[0]].fields_at(found[1])

    def range(self, start: StreamID, end: StreamID, count: int = 0,
              reverse: bool = False) -> list[Entry]:
        """Live entries with start <= ID <= end, ascending (or descending from
        ``end`` when ``reverse``), at most ``count`` of them (0: all)."""
        if start > end or not self._nodes:
            return []
        out: list[Entry] = []
        if reverse:
            for entry in self._iter_reverse(end):
                if entry[0] < start:
                    break
                out.append(entry)
                if count and len(out) >= count:
                    break
            return out
        for entry in self._iter_from(start):
            if entry[0] > end:
                break
            out.append(entry)
            if count and len(out) >= count:
                break
        return out

    def _iter_from(self, start: StreamID) -> Iterator[Entry]:
        for node, i in self._positions_from(start):
            yield node.id_at(i), node.fields_at(i)

    def _iter_reverse(self, end: StreamID) -> Iterator[Entry]:
        for node, i in self._positions_reverse(end):
            yield node.id_at(i), node.fields_at(i)

    def _positions_from(self, start: StreamID) -> Iterator[tuple[_Node, int]]:
        """(node, index) of each live entry from ``start`` up."""
        nodes = self._nodes
        if not nodes:
            return
        node_index = max(bisect_right(self._firsts, start) - 1, 0)
        index = nodes[node_index].index_of(start)
        while node_index < len(nodes):
            node = nodes[node_index]
            data, offsets = node.data, node.offsets
            for i in range(index, len(offsets)):
                if not data[offsets[i]] & DELETED:
                    yield node, i
            node_index += 1
            index = 0

    def _positions_reverse(self, end: StreamID) -> Iterator[tuple[_Node, int]]:
        """(node, index) of each live entry from ``end`` down."""
        nodes = self._nodes
        node_index = bisect_right(self._firsts, end) - 1
        if node_index < 0:
            return
        node = nodes[node_index]
        index = node.index_of(end)
        if index < len(node) and node.id_at(index) == end:
            index += 1
        while node_index >= 0:
            node = nodes[node_index]
            data, offsets = node.data, node.offsets
            for i in range(index - 1, -1, -1):
                if not data[offsets[i]] & DELETED:
                    yield node, i
            node_index -= 1
            if node_index >= 0:
                index = len(nodes[node_index])

    def encoded_range(self, start: StreamID, end: StreamID, count: int = 0,
                      reverse: bool = False) -> bytes:
        """``range``'s entries as the RESP array XRANGE replies (identical in RESP2
        and RESP3), encoded from the nodes' buffers without an object per field."""
        parts: list[bytes] = []
        for node, lo, hi in self._spans(start, end, reverse):
            node.encode_span(lo, hi, reverse, parts, count)
            if count and len(parts) >= count:
                break
        return b"*%d\r\n" % len(parts) + b"".join(parts)

    def _spans(self, start: StreamID, end: StreamID,
               reverse: bool = False) -> Iterator[tuple[_Node, int, int]]:
        """(node, first index, index past the last) of the entries, deleted or not,
        with start <= ID <= end, node by node (last node first when ``reverse``)."""
        if start > end:
            return
        nodes, firsts = self._nodes, self._firsts
        first = max(bisect_right(firsts, start) - 1, 0)
        last = bisect_right(firsts, end) - 1
        for k in (range(last, first - 1, -1) if reverse else range(first, last + 1)):
            node = nodes[k]
            lo = node.index_of(start) if k == first else 0
            hi = node.index_after(end) if k == last else len(node.offsets)
            if lo < hi:
                yield node, lo, hi

    def first_entry(self) -> Entry | None:
        for entry in self._iter_from(MIN_ID) if self._nodes else ():
            return entry
        return None

    def last_entry(self) -> Entry | None:
        for entry in self._iter_reverse(MAX_ID) if self._nodes else ():
            return entry
        return None

    # -- nodes (XINFO STREAM FULL, RDB, memory) ----------------------------------------

    def node_count(self) -> int:
        return len(self._nodes)

    def nodes(self) -> Iterator[tuple[StreamID, tuple[bytes, ...], list[tuple[StreamID, int,
                                                                              list[bytes]]]]]:
        """Each node as (master ID, master fields, [(ID, flags, fields), ...]),
        deleted entries included: what an RDB file holds."""
        for node in self._nodes:
            yield node.master, node.fields, list(node.entries())

    def add_loaded_node(self, master: StreamID, master_fields: tuple[bytes, ...],
                        entries: list[tuple[StreamID, int, list[bytes]]]) -> None:
        """Rebuild one node as loaded (RDB, RESTORE), deleted entries and all; the
        caller sets the stream's counters and IDs afterwards."""
        node = _Node(master, master_fields)
        for entry_id, flags, fields in entries:
            node.append(entry_id, fields)
            if flags & DELETED:
                node.mark_deleted(len(node) - 1)
            else:
                self.length += 1
        if node.live:
            self._nodes.append(node)
            self._firsts.append(master)

    def memory_bytes(self) -> int:
        """An estimate of what the entries occupy (MEMORY USAGE)."""
        total = 0
        for node in self._nodes:
            total += 120 + len(node.data) + node.ms.itemsize * len(node.ms) \
                + node.seq.itemsize * len(node.seq) + 4 * len(node.offsets)
        return total

    def edge_id(self, first: bool = True) -> StreamID:
        """The first (or last) entry's ID counting deleted ones, as Redis's
        streamGetEdgeID without skipping tombstones; MAX_ID (MIN_ID) when empty."""
        nodes = self._nodes
        if not nodes:
            return MAX_ID if first else MIN_ID
        return nodes[0].id_at(0) if first else nodes[-1].last_id()

    def rax_node_count(self) -> int:
        """How many nodes Redis's radix tree of this stream's nodes has (XINFO's
        radix-tree-nodes).

        The tree's keys are the nodes' master IDs as 16 big-endian bytes, and a rax
        always holds a set of keys in one shape (inserts split, deletes recompress):
        a head node, one node per branching prefix and per key, and one compressed
        node per edge that spans two bytes or more past its branching byte (the
        head is itself that chain when the keys share a first byte).
        """
        keys = [(ms << 64) | seq for ms, seq in self._firsts]
        count = len(keys)
        if count < 2:
            return count + 1
        # Branching depths are the common-prefix lengths of neighbouring keys: a
        # stack walk over them visits each branch once with its parent's depth.
        lcps = [(128 - (a ^ b).bit_length()) >> 3 for a, b in pairwise(keys)]
        branches = chains = 0
        stack: list[int] = []
        for depth in lcps:
            while stack and stack[-1] > depth:
                child = stack.pop()
                parent = stack[-1] if stack and stack[-1] > depth else depth
                if child - parent >= 2:
                    chains += 1
            if not stack or stack[-1] < depth:
                stack.append(depth)
                branches += 1
        top = stack[0]
        for parent, child in pairwise(stack):
            if child - parent >= 2:
                chains += 1
        # a key hangs off the deeper of the branches beside it
        previous = -1
        for depth in lcps:
            if 16 - max(previous, depth) >= 2:
                chains += 1
            previous = depth
        if 16 - previous >= 2:
            chains += 1
        return (1 if top > 0 else 0) + branches + count + chains

    # -- consumer-group lag (Redis 7.0's rules) ------------------------------------------

    def range_has_tombstones(self, start: StreamID | None = None,
                             end: StreamID | None = None) -> bool:
        """Whether a deleted entry may lie in [start, end] (Redis's
        streamRangeHasTombstones: judged by the greatest deleted ID alone)."""
        deleted = self.max_deleted_id
        if not self.length or deleted == MIN_ID or self.first_id > deleted:
            return False
        return (start or MIN_ID) <= deleted <= (end or MAX_ID)

    def estimate_entries_read(self, entry_id: StreamID) -> int | None:
        """How many entries were ever added up to ``entry_id``, when that can be
        known (Redis's streamEstimateDistanceFromFirstEverEntry); None otherwise."""
        if not self.entries_added:
            return 0
        if not self.length and entry_id <= self.last_id:
            return self.entries_added
        if entry_id == self.last_id:
            return self.entries_added
        if entry_id > self.last_id:
            return None
        deleted = self.max_deleted_id
        if deleted == MIN_ID or deleted < self.first_id:
            if entry_id < self.first_id:
                return self.entries_added - self.length
            if entry_id == self.first_id:
                return self.entries_added - self.length + 1
        return None

    def group_lag(self, group: ConsumerGroup) -> int | None:
        """XINFO's ``lag`` of a group: entries not yet delivered to it, or None when
        tombstones make it unknowable (Redis's streamReplyWithCGLag)."""
        if not self.entries_added:
            return 0
        if group.entries_read != -1 and not self.range_has_tombstones(group.last_id):
            return self.entries_added - group.entries_read
        read = self.estimate_entries_read(group.last_id)
        return None if read is None else self.entries_added - read


# -- consumer groups --------------------------------------------------------------------

class Consumer:
    __slots__ = ("name", "seen_time", "pending")

    def __init__(self, name: bytes, now_ms: int) -> None:
        self.name = name
        self.seen_time = now_ms  # last time it read or claimed (ms)
        self.pending: SortedDict = SortedDict()  # ID -> PendingEntry it owns


class PendingEntry:
    """One delivered, not yet acknowledged entry (Redis's streamNACK)."""

    __slots__ = ("consumer", "delivery_time", "delivery_count")

    def __init__(self, consumer: Consumer, delivery_time: int, delivery_count: int = 1) -> None:
        self.consumer = consumer
        self.delivery_time = delivery_time
        self.delivery_count = delivery_count


class ConsumerGroup:
    __slots__ = ("name", "last_id", "entries_read", "pending", "consumers")

    def __init__(self, name: bytes, last_id: StreamID, entries_read: int = -1) -> None:
        self.name = name
        self.last_id = last_id
        # How many entries the group has read, -1 when unknown (Redis's
        # SCG_INVALID_ENTRIES_READ); the base of XINFO's lag.
        self.entries_read = entries_read
        self.pending: SortedDict = SortedDict()  # ID -> PendingEntry
        self.consumers: SortedDict = SortedDict()  # name -> Consumer, in name order

    def consumer(self, name: bytes, now_ms: int) -> tuple[Consumer, bool]:
        """The named consumer, created if needed; True when it was created."""
        found = self.consumers.get(name)
        if found is not None:
            return found, False
        created = Consumer(name, now_ms)
        self.consumers[name] = created
        return created, True


def copy_stream(stream: Stream) -> Stream:
    """A deep copy (COPY): entries, counters, groups, consumers and pending lists."""
    clone = Stream()
    for master, fields, entries in stream.nodes():
        clone.add_loaded_node(master, fields, entries)
    clone.length = stream.length
    clone.last_id = stream.last_id
    clone.first_id = stream.first_id
    clone.max_deleted_id = stream.max_deleted_id
    clone.entries_added = stream.entries_added
    for name, group in stream.groups.items():
        copy = ConsumerGroup(name, group.last_id, group.entries_read)
        for consumer_name, consumer in group.consumers.items():
            copy.consumers[consumer_name] = Consumer(consumer_name, consumer.seen_time)
        for entry_id, pending in group.pending.items():
            owner = copy.consumers[pending.consumer.name]
            entry = PendingEntry(owner, pending.delivery_time, pending.delivery_count)
            copy.pending[entry_id] = entry
            owner.pending[entry_id] = entry
        clone.groups[name] = copy
    return clone
