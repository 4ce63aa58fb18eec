"""Stream.rax_node_count against a direct count of a compressed radix tree's nodes."""

from __future__ import annotations

import random

import pytest

from taipan.types.stream import Stream


def _tree_nodes(keys: list[bytes], depth: int = 0) -> int:
    """Nodes under a node that starts at ``depth`` (a rax: a node per branching
    prefix and per key, chains of single children squeezed into one node)."""
    if len(keys) == 1:
        return 1 if depth == len(keys[0]) else 2  # (the chain to it, then the key)
    common = depth
    while all(key[common] == keys[0][common] for key in keys):
        common += 1
    chain = 1 if common > depth else 0
    groups: dict[int, list[bytes]] = {}
    for key in keys:
        groups.setdefault(key[common], []).append(key)
    return chain + 1 + sum(_tree_nodes(group, common + 1) for group in groups.values())


def _stream_with_nodes(ids: list[tuple[int, int]]) -> Stream:
    stream = Stream()
    for entry_id in sorted(ids):
        stream.add(entry_id, [b"f", b"v"], max_entries=1)  # one node per entry
    return stream


@pytest.mark.parametrize("seed", range(40))
def test_rax_node_count_matches_the_tree(seed: int) -> None:
    rng = random.Random(seed)
    span = rng.choice([3, 300, 1 << 20, 1 << 64])
    ids = {(rng.randrange(span), rng.randrange(min(span, 1 << 64)))
           for _ in range(rng.randint(0, 80))}
    stream = _stream_with_nodes(list(ids))
    keys = [ms.to_bytes(8, "big") + seq.to_bytes(8, "big") for ms, seq in sorted(ids)]
    assert stream.node_count() == len(keys)
    assert stream.rax_node_count() == (_tree_nodes(keys) if keys else 1)


def test_rax_node_count_small_cases() -> None:
    assert Stream().rax_node_count() == 1
    assert _stream_with_nodes([(1, 0)]).rax_node_count() == 2
    # a shared 15-byte chain, a branch on the last byte, two keys
    assert _stream_with_nodes([(1, 0), (1, 1)]).rax_node_count() == 4
    # a branch at the head, each key reached through its own chain
    assert _stream_with_nodes([(0, 0), (1 << 63, 0)]).rax_node_count() == 5
