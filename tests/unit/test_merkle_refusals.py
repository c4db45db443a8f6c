"""What RFC 9162's verifiers must refuse (`voucher_app.ledger.merkle`), and with which message.

The edges a careless verifier gets wrong: a consistency proof from the empty tree (RFC 9162
§2.1.4: there is none; `first` is at least 1), a leaf index equal to the tree size (§2.1.3.2: the
index must be below the size), hashes that are not 32 bytes, proofs one step too long or too
short. A verifier reads untrusted input, so a crafted proof must also be refused *quickly*: the
bit-shifting loops of §2.1.3.2 and §2.1.4.2 never terminate on a negative size, so every check
here runs under a wall-clock bound, and a verifier that loops fails the test instead of hanging.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from types import FrameType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.test_merkle import build, consistency_proof, inclusion_proof, leaves_from_seed
from voucher_app.ledger import merkle
from voucher_app.ledger.merkle import ProofError

#: Far more than any proof of a 2**64-leaf tree takes to verify (microseconds).
BOUND_SECONDS = 2.0

LEAVES = leaves_from_seed(b"refusals", 8)
NODES, ROOTS = build(LEAVES)
A_HASH = merkle.leaf_hash(b"some hash")


@contextmanager
def finishes_quickly(seconds: float = BOUND_SECONDS) -> Iterator[None]:
    """Fail (instead of hanging) if the block runs longer than `seconds`."""

    def out_of_time(signum: int, frame: FrameType | None) -> None:
        raise AssertionError(f"did not finish within {seconds} s: a verifier must not loop")

    previous = signal.signal(signal.SIGALRM, out_of_time)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def refused(message: str) -> AbstractContextManager[object]:
    """Expect a `ProofError` whose message is exactly `message`."""
    return pytest.raises(ProofError, match=f"^{re.escape(message)}$")


# --------------------------------------------------------------------------------------------
# Consistency proofs: sizes the RFC has no proof for.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("second", [0, 1, 2, 5, 8])
@pytest.mark.parametrize("proof_length", [0, 1, 3])
def test_a_consistency_proof_from_the_empty_tree_is_refused_whatever_the_proof(
    second: int, proof_length: int
) -> None:
    # RFC 9162 §2.1.4: PROOF(m, D[n]) is defined for 0 < m <= n only; the empty tree is
    # consistent with everything, so a "proof" from it must not be taken as evidence.
    proof = [A_HASH] * proof_length
    with finishes_quickly(), refused("a consistency proof from an empty tree proves nothing"):
        merkle.verify_consistency(0, second, proof, merkle.EMPTY_ROOT, ROOTS[min(second, 8)])


@pytest.mark.parametrize("first", [-1, -8, -(2**40)])
def test_a_consistency_proof_from_a_negative_size_is_refused(first: int) -> None:
    with finishes_quickly(), refused("a consistency proof from an empty tree proves nothing"):
        merkle.verify_consistency(first, 8, consistency_proof(4, 8, NODES), ROOTS[4], ROOTS[8])


@pytest.mark.parametrize(("first", "second"), [(2, 1), (8, 5), (9, 8)])
def test_a_consistency_proof_to_a_smaller_tree_is_refused(first: int, second: int) -> None:
    with finishes_quickly(), refused(f"size {first} is larger than size {second}"):
        merkle.verify_consistency(first, second, [A_HASH], ROOTS[8], ROOTS[second])


def test_equal_sizes_need_an_empty_proof_and_equal_roots() -> None:
    merkle.verify_consistency(5, 5, [], ROOTS[5], ROOTS[5])
    with refused("a proof between equal sizes must be empty"):
        merkle.verify_consistency(5, 5, [ROOTS[5]], ROOTS[5], ROOTS[5])
    with refused("equal sizes with different roots"):
        merkle.verify_consistency(5, 5, [], ROOTS[5], ROOTS[6])


@pytest.mark.parametrize(("first", "second"), [(1, 2), (3, 8), (4, 8), (6, 8), (5, 7)])
def test_an_empty_proof_between_different_sizes_is_refused(first: int, second: int) -> None:
    with refused("consistency proof is empty"):
        merkle.verify_consistency(first, second, [], ROOTS[first], ROOTS[second])


@pytest.mark.parametrize(("first", "second"), [(1, 2), (2, 3), (3, 8), (4, 8), (6, 8), (5, 7)])
def test_a_consistency_proof_with_one_hash_too_many_is_refused_as_too_long(
    first: int, second: int
) -> None:
    proof = consistency_proof(first, second, NODES)
    with finishes_quickly(), refused("consistency proof is too long"):
        merkle.verify_consistency(first, second, [*proof, A_HASH], ROOTS[first], ROOTS[second])


@pytest.mark.parametrize(("first", "second"), [(3, 8), (6, 8), (5, 7)])
def test_a_consistency_proof_missing_its_last_hash_is_refused_as_too_short(
    first: int, second: int
) -> None:
    # (For a first size that is a power of two the first root is the proof's implied first
    # element, so dropping the only other hash leaves an empty proof: refused as empty above.)
    proof = consistency_proof(first, second, NODES)
    with refused("consistency proof is too short"):
        merkle.verify_consistency(first, second, proof[:-1], ROOTS[first], ROOTS[second])


@pytest.mark.parametrize(("first", "second"), [(3, 8), (6, 8), (5, 7)])
def test_a_consistency_proof_is_checked_against_each_root_and_names_the_one_it_misses(
    first: int, second: int
) -> None:
    proof = consistency_proof(first, second, NODES)
    merkle.verify_consistency(first, second, proof, ROOTS[first], ROOTS[second])
    with refused("consistency proof does not lead to the first root"):
        merkle.verify_consistency(first, second, proof, A_HASH, ROOTS[second])
    with refused("consistency proof does not lead to the second root"):
        merkle.verify_consistency(first, second, proof, ROOTS[first], A_HASH)


@pytest.mark.parametrize(("first", "second"), [(1, 2), (2, 3), (4, 8)])
def test_from_a_power_of_two_size_the_first_root_starts_the_path_to_the_second(
    first: int, second: int
) -> None:
    # §2.1.4.2 step 2: when the first size is a power of two the first root is prepended to the
    # proof, so a wrong first root shows as a path that misses the second root.
    proof = consistency_proof(first, second, NODES)
    merkle.verify_consistency(first, second, proof, ROOTS[first], ROOTS[second])
    with refused("consistency proof does not lead to the second root"):
        merkle.verify_consistency(first, second, proof, A_HASH, ROOTS[second])
    with refused("consistency proof does not lead to the second root"):
        merkle.verify_consistency(first, second, proof, ROOTS[first], A_HASH)


# --------------------------------------------------------------------------------------------
# Inclusion proofs: indexes outside the tree.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 5, 8])
def test_a_leaf_index_equal_to_the_tree_size_is_refused(size: int) -> None:
    # §2.1.3.2: "If leaf_index is greater than or equal to tree_size, then stop and fail".
    # The proof of the last leaf, shifted one place right, is the classic off-by-one.
    proof = inclusion_proof(size - 1, size, NODES)
    message = f"leaf {size} is not in a tree of size {size}"
    for leaf in (LEAVES[size - 1], ROOTS[size]):
        with finishes_quickly(), refused(message):
            merkle.verify_inclusion(leaf, size, size, proof, ROOTS[size])
        with finishes_quickly(), refused(message):
            merkle.verify_inclusion(leaf, size, size, [], leaf)
        with finishes_quickly(), refused(message):
            merkle.root_from_inclusion_proof(leaf, size, size, proof)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (-1, 1), (-1, 8), (9, 8), (-(2**40), 0)])
def test_a_leaf_index_below_zero_or_beyond_the_tree_is_refused(index: int, size: int) -> None:
    with finishes_quickly(), refused(f"leaf {index} is not in a tree of size {size}"):
        merkle.verify_inclusion(LEAVES[0], index, size, [A_HASH], ROOTS[8])
    with refused(f"leaf {index} is not in a tree of size {size}"):
        merkle.inclusion_proof_ranges(index, size)


def test_an_inclusion_proof_too_long_or_too_short_is_refused_with_its_reason() -> None:
    proof = inclusion_proof(0, 1, NODES)
    assert proof == []
    with refused("inclusion proof is too long"):
        merkle.verify_inclusion(LEAVES[0], 0, 1, [A_HASH], ROOTS[1])
    proof = inclusion_proof(2, 5, NODES)
    with refused("inclusion proof is too short"):
        merkle.verify_inclusion(LEAVES[2], 2, 5, proof[:-1], ROOTS[5])
    with refused("inclusion proof does not lead to the root"):
        merkle.verify_inclusion(LEAVES[2], 2, 5, proof, ROOTS[6])


@pytest.mark.parametrize(("first", "second"), [(0, 0), (0, 5), (6, 5), (-1, 3)])
def test_consistency_proof_ranges_name_the_sizes_they_have_no_proof_for(
    first: int, second: int
) -> None:
    with refused(f"no consistency proof from size {first} to size {second}"):
        merkle.consistency_proof_ranges(first, second)


# --------------------------------------------------------------------------------------------
# Hashes that are not SHA-256 outputs.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_every_hash_a_verifier_is_given_must_be_32_bytes_and_the_refusal_names_it(
    length: int,
) -> None:
    bad = bytes(length)
    proof = inclusion_proof(2, 5, NODES)
    with refused(f"leaf hash is {length} bytes, not 32"):
        merkle.verify_inclusion(bad, 2, 5, proof, ROOTS[5])
    with refused(f"root is {length} bytes, not 32"):
        merkle.verify_inclusion(LEAVES[2], 2, 5, proof, bad)
    with refused(f"proof hash is {length} bytes, not 32"):
        merkle.verify_inclusion(LEAVES[2], 2, 5, [*proof[:-1], bad], ROOTS[5])

    proof = consistency_proof(3, 8, NODES)
    with refused(f"first root is {length} bytes, not 32"):
        merkle.verify_consistency(3, 8, proof, bad, ROOTS[8])
    with refused(f"second root is {length} bytes, not 32"):
        merkle.verify_consistency(3, 8, proof, ROOTS[3], bad)
    with refused(f"proof hash is {length} bytes, not 32"):
        merkle.verify_consistency(3, 8, [*proof[:-1], bad], ROOTS[3], ROOTS[8])
    with refused(f"proof hash is {length} bytes, not 32"):
        merkle.verify_consistency(3, 8, [bad, *proof[1:]], ROOTS[3], ROOTS[8])


# --------------------------------------------------------------------------------------------
# Crafted input: any sizes, any number of arbitrary hashes, refused quickly.
# --------------------------------------------------------------------------------------------

sizes = st.integers(min_value=-(2**64), max_value=2**64)
hashes = st.lists(st.binary(min_size=32, max_size=32), max_size=70)


@settings(max_examples=150, deadline=None)
@given(first=sizes, second=sizes, proof=hashes)
def test_a_crafted_consistency_proof_is_refused_quickly(
    first: int, second: int, proof: list[bytes]
) -> None:
    with finishes_quickly(), pytest.raises(ProofError):
        merkle.verify_consistency(first, second, proof, A_HASH, ROOTS[8])


@settings(max_examples=150, deadline=None)
@given(index=sizes, size=sizes, proof=hashes)
def test_a_crafted_inclusion_proof_is_refused_quickly(
    index: int, size: int, proof: list[bytes]
) -> None:
    with finishes_quickly(), pytest.raises(ProofError):
        merkle.verify_inclusion(LEAVES[0], index, size, proof, A_HASH)
