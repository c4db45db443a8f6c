"""RFC 9162 Merkle tree hashing, proofs and their verification, as pure functions over bytes.

The tree over leaves D[0:n] is the one of RFC 9162 §2.1.1. Trees are stored as complete
subtrees: node (level, index) is the root of leaves [index·2^level, (index+1)·2^level). Every
hash a proof needs is the hash of a leaf range, and every range a proof names decomposes into a
few complete subtrees, so proofs for any tree size come from stored nodes without recomputing
the tree: `*_proof_ranges` say which ranges, `subtrees` which stored nodes, `range_hash` folds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from voucher_app.domain.errors import LedgerFault

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeId = tuple[int, int]  # (level, index)
Range = tuple[int, int]  # [start, end) of leaf indexes


class ProofError(LedgerFault):
    """A proof, or the values it is checked against, does not verify."""

    code = "proof_error"


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(size: int) -> int:
    """The largest power of two strictly smaller than `size` (size ≥ 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def subtrees(start: int, end: int) -> list[NodeId]:
    """The complete subtrees that make up leaves [start, end), left to right.

    Valid for the ranges proofs use: `start` is a multiple of a power of two at least as large
    as every subtree of the range, which holds for every range `*_proof_ranges` returns.
    """
    nodes: list[NodeId] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def range_hash(start: int, end: int, nodes: Mapping[NodeId, bytes]) -> bytes:
    """MTH(D[start:end]) from the stored complete subtrees of that range (RFC 9162 §2.1.1)."""
    parts = [nodes[node] for node in subtrees(start, end)]
    result = parts[-1]
    for part in reversed(parts[:-1]):
        result = node_hash(part, result)
    return result


def inclusion_proof_ranges(index: int, size: int) -> list[Range]:
    """The leaf ranges whose hashes form PATH(index, D[0:size]) (RFC 9162 §2.1.3.1)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return ranges[::-1]


def consistency_proof_ranges(first: int, second: int) -> list[Range]:
    """The leaf ranges whose hashes form PROOF(first, D[0:second]) (RFC 9162 §2.1.4.1)."""
    if not 0 < first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    ranges: list[Range] = []
    start, end, m, complete = 0, second, first, True
    while m != end - start:
        k = split_point(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, complete = start + k, m - k, False
    if not complete:
        ranges.append((start, end))
    return ranges[::-1]


def proof_hashes(ranges: Sequence[Range], nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    return [range_hash(start, end, nodes) for start, end in ranges]


def nodes_needed(ranges: Iterable[Range]) -> set[NodeId]:
    return {node for start, end in ranges for node in subtrees(start, end)}


@dataclass
class CompactTree:
    """An append-only tree that keeps only its right border: O(log n) memory, any root.

    `append` returns the complete subtrees the new leaf finishes, so a caller that stores them
    (the sequencer) keeps a node table from which every proof can be built.
    """

    size: int = 0
    border: list[bytes] = field(default_factory=list)  # one root per set bit of size, largest first

    @classmethod
    def from_border(cls, size: int, nodes: Mapping[NodeId, bytes]) -> CompactTree:
        return cls(size, [nodes[node] for node in subtrees(0, size)])

    @staticmethod
    def border_nodes(size: int) -> list[NodeId]:
        return subtrees(0, size)

    def append(self, leaf: bytes) -> list[tuple[NodeId, bytes]]:
        index = self.size
        created: list[tuple[NodeId, bytes]] = [((0, index), leaf)]
        node, level = leaf, 0
        while index & 1:
            node = node_hash(self.border.pop(), node)
            index >>= 1
            level += 1
            created.append(((level, index), node))
        self.border.append(node)
        self.size += 1
        return created

    def root(self) -> bytes:
        if not self.border:
            return EMPTY_ROOT
        result = self.border[-1]
        for part in reversed(self.border[:-1]):
            result = node_hash(part, result)
        return result


def root_of(leaves: Iterable[bytes]) -> bytes:
    tree = CompactTree()
    for leaf in leaves:
        tree.append(leaf)
    return tree.root()


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root that `proof` implies for `leaf` at `index` (RFC 9162 §2.1.3.2)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    _check_hash(leaf, "leaf hash")
    fn, sn, result = index, size - 1, leaf
    for step in proof:
        _check_hash(step, "proof hash")
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            result = node_hash(step, result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, step)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    return result


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    _check_hash(root, "root")
    if root_from_inclusion_proof(leaf, index, size, proof) != root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(  # noqa: PLR0912 - RFC 9162 §2.1.4.2, step by step
    first: int, second: int, proof: Sequence[bytes], first_root: bytes, second_root: bytes
) -> None:
    """Check that the tree of size `second` extends the tree of size `first` (RFC 9162 §2.1.4.2)."""
    if first <= 0:
        raise ProofError("a consistency proof from an empty tree proves nothing")
    if first > second:
        raise ProofError(f"size {first} is larger than size {second}")
    if first == second:
        # Equal trees: the roots must be identical and the proof empty; nothing is hashed, so
        # (as in the reference verifier and its vectors) the roots are compared as given.
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if first_root != second_root:
            raise ProofError("equal sizes with different roots")
        return
    _check_hash(first_root, "first root")
    _check_hash(second_root, "second root")
    for step in proof:
        _check_hash(step, "proof hash")
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first_result = second_result = path[0]
    for step in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            first_result = node_hash(step, first_result)
            second_result = node_hash(step, second_result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            second_result = node_hash(second_result, step)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if first_result != first_root:
        raise ProofError("consistency proof does not lead to the first root")
    if second_result != second_root:
        raise ProofError("consistency proof does not lead to the second root")
