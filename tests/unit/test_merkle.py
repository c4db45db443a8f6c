"""RFC 9162 Merkle tree (`voucher_app.ledger.merkle`): known answers, an independent naive
reference written from the RFC's definitions, and property tests over proofs built from stored
nodes the way the sequencer stores them."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voucher_app.ledger import merkle

# --------------------------------------------------------------------------------------------
# An independent reference: RFC 9162 §2.1.1 (MTH), §2.1.3.1 (PATH), §2.1.4.1 (PROOF), by
# recursion over leaf ranges, sharing nothing with the module under test.
# --------------------------------------------------------------------------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def largest_power_of_two_below(n: int) -> int:
    """k with k < n <= 2k, found by doubling (n >= 2)."""
    assert n >= 2
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(data: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over raw leaf data, the plain recursive definition."""
    n = len(data)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + data[0])
    k = largest_power_of_two_below(n)
    return sha256(b"\x01" + naive_mth(data[:k]) + naive_mth(data[k:]))


class NaiveTree:
    """MTH, PATH and PROOF over fixed leaf hashes; memoised so a few hundred leaves are fast."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self.leaves = list(leaf_hashes)
        self._cache: dict[tuple[int, int], bytes] = {}

    def mth(self, start: int, end: int) -> bytes:
        n = end - start
        if n == 0:
            return sha256(b"")
        if n == 1:
            return self.leaves[start]
        cached = self._cache.get((start, end))
        if cached is None:
            k = largest_power_of_two_below(n)
            cached = sha256(b"\x01" + self.mth(start, start + k) + self.mth(start + k, end))
            self._cache[(start, end)] = cached
        return cached

    def path(self, m: int, n: int) -> list[bytes]:
        """PATH(m, D[0:n])."""
        return self._path(m, 0, n)

    def _path(self, m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = largest_power_of_two_below(n)
        if m < k:
            return [*self._path(m, start, start + k), self.mth(start + k, end)]
        return [*self._path(m - k, start + k, end), self.mth(start, start + k)]

    def proof(self, m: int, n: int) -> list[bytes]:
        """PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true)."""
        return self._subproof(m, 0, n, True)

    def _subproof(self, m: int, start: int, end: int, b: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if b else [self.mth(start, end)]
        k = largest_power_of_two_below(n)
        if m <= k:
            return [*self._subproof(m, start, start + k, b), self.mth(start + k, end)]
        return [*self._subproof(m - k, start + k, end, False), self.mth(start, start + k)]


# --------------------------------------------------------------------------------------------
# Helpers: build a tree with CompactTree and keep every node it reports, as the sequencer does.
# --------------------------------------------------------------------------------------------


def leaves_from_seed(seed: bytes, count: int) -> list[bytes]:
    return [sha256(b"\x00" + seed + i.to_bytes(4, "big")) for i in range(count)]


def build(leaves: Sequence[bytes]) -> tuple[dict[merkle.NodeId, bytes], dict[int, bytes]]:
    """All nodes `CompactTree.append` reports, and the root after each size (0..len)."""
    tree = merkle.CompactTree()
    nodes: dict[merkle.NodeId, bytes] = {}
    roots = {0: tree.root()}
    for leaf in leaves:
        for node_id, value in tree.append(leaf):
            assert node_id not in nodes, f"node {node_id} reported twice"
            nodes[node_id] = value
        roots[tree.size] = tree.root()
    return nodes, roots


def inclusion_proof(index: int, size: int, nodes: dict[merkle.NodeId, bytes]) -> list[bytes]:
    return merkle.proof_hashes(merkle.inclusion_proof_ranges(index, size), nodes)


def consistency_proof(first: int, second: int, nodes: dict[merkle.NodeId, bytes]) -> list[bytes]:
    return merkle.proof_hashes(merkle.consistency_proof_ranges(first, second), nodes)


def flip_bit(proof: Sequence[bytes], element: int, bit: int) -> list[bytes]:
    changed = bytearray(proof[element])
    changed[bit // 8] ^= 1 << (bit % 8)
    return [*proof[:element], bytes(changed), *proof[element + 1 :]]


# --------------------------------------------------------------------------------------------
# RFC 6962 reference tree (the CT test data): known answers.
# --------------------------------------------------------------------------------------------

RFC6962_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]

#: MTH of the first n leaves, as published with RFC 6962's test data (n = 1..8).
RFC6962_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

#: (leaf index, tree size, PATH) from RFC 6962's test data.
RFC6962_INCLUSION_PROOFS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

#: (size1, size2, PROOF) from RFC 6962's test data.
RFC6962_CONSISTENCY_PROOFS = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


def rfc6962_tree() -> tuple[list[bytes], dict[merkle.NodeId, bytes], dict[int, bytes]]:
    leaves = [merkle.leaf_hash(d) for d in RFC6962_LEAVES]
    nodes, roots = build(leaves)
    return leaves, nodes, roots


def test_leaf_and_node_hashes_use_the_rfc_9162_domain_separation_prefixes() -> None:
    assert merkle.leaf_hash(b"abc") == sha256(b"\x00abc")
    assert merkle.node_hash(b"L" * 32, b"R" * 32) == sha256(b"\x01" + b"L" * 32 + b"R" * 32)
    assert merkle.leaf_hash(b"") != merkle.EMPTY_ROOT


def test_the_empty_tree_has_the_hash_of_the_empty_string_as_root() -> None:
    assert sha256(b"") == merkle.EMPTY_ROOT
    assert merkle.root_of([]) == sha256(b"")
    assert merkle.CompactTree().root() == sha256(b"")


def test_root_of_the_rfc_6962_eight_leaf_tree_is_the_published_value() -> None:
    root = merkle.root_of(merkle.leaf_hash(d) for d in RFC6962_LEAVES)
    assert root.hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_of_rfc_6962_prefixes_match_the_naive_mth_and_the_published_values(
    size: int,
) -> None:
    expected = naive_mth(RFC6962_LEAVES[:size])
    assert expected.hex() == RFC6962_ROOTS[size]  # the reference agrees with the RFC data
    assert merkle.root_of(merkle.leaf_hash(d) for d in RFC6962_LEAVES[:size]) == expected
    _leaves, _nodes, roots = rfc6962_tree()
    assert roots[size] == expected


@pytest.mark.parametrize(("index", "size", "expected"), RFC6962_INCLUSION_PROOFS)
def test_inclusion_proofs_of_the_rfc_6962_tree_are_the_published_ones(
    index: int, size: int, expected: list[str]
) -> None:
    leaves, nodes, roots = rfc6962_tree()
    proof = inclusion_proof(index, size, nodes)
    assert [p.hex() for p in proof] == expected
    assert proof == NaiveTree(leaves).path(index, size)
    merkle.verify_inclusion(leaves[index], index, size, proof, roots[size])


@pytest.mark.parametrize(("first", "second", "expected"), RFC6962_CONSISTENCY_PROOFS)
def test_consistency_proofs_of_the_rfc_6962_tree_are_the_published_ones(
    first: int, second: int, expected: list[str]
) -> None:
    leaves, nodes, roots = rfc6962_tree()
    proof = consistency_proof(first, second, nodes)
    assert [p.hex() for p in proof] == expected
    assert proof == NaiveTree(leaves).proof(first, second)
    merkle.verify_consistency(first, second, proof, roots[first], roots[second])


# --------------------------------------------------------------------------------------------
# Exhaustive checks on small trees.
# --------------------------------------------------------------------------------------------

SMALL = 40


def test_every_inclusion_proof_of_every_small_tree_matches_the_reference_and_verifies() -> None:
    leaves = leaves_from_seed(b"small", SMALL)
    nodes, roots = build(leaves)
    reference = NaiveTree(leaves)
    for size in range(1, SMALL + 1):
        assert roots[size] == reference.mth(0, size)
        for index in range(size):
            proof = inclusion_proof(index, size, nodes)
            assert proof == reference.path(index, size), (index, size)
            merkle.verify_inclusion(leaves[index], index, size, proof, roots[size])
            assert (
                merkle.root_from_inclusion_proof(leaves[index], index, size, proof) == roots[size]
            )


def test_every_consistency_proof_between_small_trees_matches_the_reference_and_verifies() -> None:
    leaves = leaves_from_seed(b"small", SMALL)
    nodes, roots = build(leaves)
    reference = NaiveTree(leaves)
    for second in range(1, SMALL + 1):
        for first in range(1, second + 1):
            proof = consistency_proof(first, second, nodes)
            assert proof == reference.proof(first, second), (first, second)
            merkle.verify_consistency(first, second, proof, roots[first], roots[second])


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 64, 100])
def test_subtrees_from_zero_are_one_complete_subtree_per_set_bit_of_the_size(size: int) -> None:
    parts = merkle.subtrees(0, size)
    widths = [1 << level for level, _ in parts]
    assert widths == sorted(widths, reverse=True)
    assert sum(widths) == size
    assert len(parts) == bin(size).count("1")
    assert merkle.CompactTree.border_nodes(size) == parts


def test_range_hash_from_stored_nodes_equals_the_mth_of_the_range() -> None:
    leaves = leaves_from_seed(b"range", 50)
    nodes, _roots = build(leaves)
    reference = NaiveTree(leaves)
    for size in range(1, 51):
        for start, end in merkle.inclusion_proof_ranges(size - 1, size):
            assert merkle.range_hash(start, end, nodes) == reference.mth(start, end)
        assert merkle.range_hash(0, size, nodes) == reference.mth(0, size)


def test_proofs_can_be_built_from_only_the_nodes_that_nodes_needed_names() -> None:
    leaves = leaves_from_seed(b"needed", 77)
    nodes, roots = build(leaves)
    ranges = merkle.consistency_proof_ranges(21, 77)
    needed = merkle.nodes_needed(ranges)
    assert needed == {n for start, end in ranges for n in merkle.subtrees(start, end)}
    subset = {node: nodes[node] for node in needed}
    proof = merkle.proof_hashes(ranges, subset)
    merkle.verify_consistency(21, 77, proof, roots[21], roots[77])

    ranges = merkle.inclusion_proof_ranges(50, 77)
    subset = {node: nodes[node] for node in merkle.nodes_needed(ranges)}
    merkle.verify_inclusion(leaves[50], 50, 77, merkle.proof_hashes(ranges, subset), roots[77])


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 1), (5, 5), (-1, 4), (7, 3)])
def test_inclusion_proof_ranges_refuse_an_index_outside_the_tree(index: int, size: int) -> None:
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_proof_ranges(index, size)


@pytest.mark.parametrize(("first", "second"), [(0, 0), (0, 5), (6, 5), (-1, 3)])
def test_consistency_proof_ranges_refuse_an_empty_first_tree_or_a_shrinking_tree(
    first: int, second: int
) -> None:
    with pytest.raises(merkle.ProofError):
        merkle.consistency_proof_ranges(first, second)


def test_consistency_proof_between_equal_sizes_is_empty_and_verifies_only_for_equal_roots() -> None:
    leaves = leaves_from_seed(b"equal", 9)
    nodes, roots = build(leaves)
    assert consistency_proof(9, 9, nodes) == []
    merkle.verify_consistency(9, 9, [], roots[9], roots[9])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(9, 9, [], roots[9], roots[8])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(9, 9, [roots[1]], roots[9], roots[9])


def test_verify_inclusion_refuses_hashes_that_are_not_32_bytes() -> None:
    leaves = leaves_from_seed(b"len", 6)
    nodes, roots = build(leaves)
    proof = inclusion_proof(2, 6, nodes)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(leaves[2][:31], 2, 6, proof, roots[6])
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(leaves[2], 2, 6, proof, roots[6] + b"\x00")
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(leaves[2], 2, 6, [*proof[:-1], proof[-1][:16]], roots[6])


def test_root_from_inclusion_proof_refuses_a_proof_too_long_or_too_short() -> None:
    leaves = leaves_from_seed(b"long", 6)
    nodes, _roots = build(leaves)
    proof = inclusion_proof(3, 6, nodes)
    with pytest.raises(merkle.ProofError, match="too long"):
        merkle.root_from_inclusion_proof(leaves[3], 3, 6, [*proof, proof[0]])
    with pytest.raises(merkle.ProofError, match="too short"):
        merkle.root_from_inclusion_proof(leaves[3], 3, 6, proof[:-1])


def test_a_single_leaf_tree_has_an_empty_inclusion_proof_and_the_leaf_as_root() -> None:
    leaf = merkle.leaf_hash(b"only")
    assert merkle.inclusion_proof_ranges(0, 1) == []
    assert merkle.root_of([leaf]) == leaf
    merkle.verify_inclusion(leaf, 0, 1, [], leaf)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(leaf, 0, 1, [leaf], leaf)


def test_append_reports_the_leaf_and_each_complete_subtree_it_finishes() -> None:
    tree = merkle.CompactTree()
    leaves = leaves_from_seed(b"append", 8)
    created = [tree.append(leaf) for leaf in leaves]
    assert [[node for node, _ in c] for c in created] == [
        [(0, 0)],
        [(0, 1), (1, 0)],
        [(0, 2)],
        [(0, 3), (1, 1), (2, 0)],
        [(0, 4)],
        [(0, 5), (1, 2)],
        [(0, 6)],
        [(0, 7), (1, 3), (2, 1), (3, 0)],
    ]
    assert created[-1][-1][1] == tree.root() == NaiveTree(leaves).mth(0, 8)
    assert tree.size == 8
    assert len(tree.border) == 1


# --------------------------------------------------------------------------------------------
# Property tests over larger random trees.
# --------------------------------------------------------------------------------------------

tree_counts = st.integers(min_value=1, max_value=300)
seeds = st.binary(min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(count=tree_counts, seed=seeds, data=st.data())
def test_inclusion_proofs_from_stored_nodes_match_the_reference_and_verify_at_every_size(
    count: int, seed: bytes, data: st.DataObject
) -> None:
    leaves = leaves_from_seed(seed, count)
    nodes, roots = build(leaves)
    reference = NaiveTree(leaves)
    sizes = {count, *data.draw(st.lists(st.integers(1, count), max_size=5), label="sizes")}
    for size in sorted(sizes):
        assert roots[size] == reference.mth(0, size)
        assert merkle.root_of(leaves[:size]) == roots[size]
        picked = data.draw(st.lists(st.integers(0, size - 1), max_size=6), label="indexes")
        for index in {0, size - 1, *picked}:
            proof = inclusion_proof(index, size, nodes)
            assert proof == reference.path(index, size)
            merkle.verify_inclusion(leaves[index], index, size, proof, roots[size])


@settings(max_examples=60, deadline=None)
@given(count=tree_counts, seed=seeds, data=st.data())
def test_altered_inclusion_proofs_do_not_verify(
    count: int, seed: bytes, data: st.DataObject
) -> None:
    leaves = leaves_from_seed(seed, max(count, 2))
    count = len(leaves)
    nodes, roots = build(leaves)
    size = data.draw(st.integers(2, count), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(index, size, nodes)
    assert proof, "a tree of two or more leaves has a non-empty proof"

    element = data.draw(st.integers(0, len(proof) - 1), label="element")
    bit = data.draw(st.integers(0, 255), label="bit")
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(
            leaves[index], index, size, flip_bit(proof, element, bit), roots[size]
        )

    removed = [*proof[:element], *proof[element + 1 :]]
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(leaves[index], index, size, removed, roots[size])

    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(merkle.leaf_hash(b"other"), index, size, proof, roots[size])

    # A proof for one size never verifies as a proof for another size against that size's
    # root. (Against the *same* root it may: PATH(0, D[5]) also computes MTH(D[5]) when read
    # as a size-6 proof, which is why a checkpoint binds the root to its size.)
    other_sizes = [s for s in range(index + 1, count + 1) if s != size]
    if other_sizes:
        wrong = data.draw(st.sampled_from(other_sizes), label="wrong size")
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(leaves[index], index, wrong, proof, roots[wrong])
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(leaves[index], index, size * 2, proof, roots[size])


@settings(max_examples=40, deadline=None)
@given(count=tree_counts, seed=seeds, data=st.data())
def test_consistency_proofs_from_stored_nodes_match_the_reference_for_every_first_size(
    count: int, seed: bytes, data: st.DataObject
) -> None:
    leaves = leaves_from_seed(seed, count)
    nodes, roots = build(leaves)
    reference = NaiveTree(leaves)
    seconds = {count, *data.draw(st.lists(st.integers(1, count), max_size=2), label="sizes")}
    for second in sorted(seconds):
        for first in range(1, second + 1):
            proof = consistency_proof(first, second, nodes)
            assert proof == reference.proof(first, second)
            merkle.verify_consistency(first, second, proof, roots[first], roots[second])


@settings(max_examples=80, deadline=None)
@given(count=st.integers(min_value=2, max_value=300), seed=seeds, data=st.data())
def test_altered_consistency_proofs_do_not_verify(
    count: int, seed: bytes, data: st.DataObject
) -> None:
    leaves = leaves_from_seed(seed, count)
    nodes, roots = build(leaves)
    second = data.draw(st.integers(2, count), label="second")
    first = data.draw(st.integers(1, second - 1), label="first")
    proof = consistency_proof(first, second, nodes)
    assert proof, "a proof between different sizes is never empty"

    element = data.draw(st.integers(0, len(proof) - 1), label="element")
    bit = data.draw(st.integers(0, 255), label="bit")
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(
            first, second, flip_bit(proof, element, bit), roots[first], roots[second]
        )

    removed = [*proof[:element], *proof[element + 1 :]]
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(first, second, removed, roots[first], roots[second])

    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(first, second, proof, roots[second], roots[second])

    wrong_first = data.draw(
        st.integers(1, second).filter(lambda s: s != first), label="wrong first"
    )
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(wrong_first, second, proof, roots[wrong_first], roots[second])

    wrong_second = data.draw(
        st.integers(first, count).filter(lambda s: s != second), label="wrong second"
    )
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(first, wrong_second, proof, roots[first], roots[wrong_second])


@settings(max_examples=60, deadline=None)
@given(count=tree_counts, seed=seeds, data=st.data())
def test_a_tree_restored_from_its_border_continues_exactly_like_a_fresh_tree(
    count: int, seed: bytes, data: st.DataObject
) -> None:
    leaves = leaves_from_seed(seed, count)
    fresh = merkle.CompactTree()
    created_by_fresh = [fresh.append(leaf) for leaf in leaves]
    nodes = {node: value for created in created_by_fresh for node, value in created}

    split = data.draw(st.integers(0, count), label="split")
    border = {node: nodes[node] for node in merkle.CompactTree.border_nodes(split)}
    restored = merkle.CompactTree.from_border(split, border)
    assert restored.size == split
    assert restored.root() == merkle.root_of(leaves[:split])
    for position in range(split, count):
        assert restored.append(leaves[position]) == created_by_fresh[position]
        assert restored.root() == merkle.root_of(leaves[: position + 1])
    assert restored.root() == fresh.root()
    assert restored.border == fresh.border


@settings(max_examples=200, deadline=None)
@given(start=st.integers(0, 1000), width=st.integers(1, 1000))
def test_subtrees_of_any_range_are_aligned_complete_subtrees_covering_it_exactly(
    start: int, width: int
) -> None:
    # Node (level, index) is the complete subtree over [index·2^level, (index+1)·2^level):
    # aligned by construction, so an unaligned start needs smaller subtrees first.
    covered = start
    for level, index in merkle.subtrees(start, start + width):
        assert index << level == covered
        covered += 1 << level
    assert covered == start + width
