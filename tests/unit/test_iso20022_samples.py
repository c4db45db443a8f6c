"""Public camt.053 statements written by other projects (genkgo/camt, moov-io/iso20022), read by
`parse_camt053`: each is read, or refused whole with `InvalidStatement` naming why — never a
crash, never a silent misreading. Statements our own tests write cannot show that: they are
written the way our reader reads.

The samples are in the shared reference folder (`reference/iso20022/samples/`, see its README),
looked for in the roots `tests.iso20022.shared_reference` uses. If it is absent the cases skip,
unless VOUCHER_REQUIRE_VECTORS=1, in which case they fail. Each sample's outcome is stated here,
so a change in what is refused is noticed, and a sample added later fails until someone states
what reading it must give.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.iso20022 import _SHARED_ROOTS
from voucher_app.domain.errors import InvalidStatement
from voucher_app.settlement.camt053 import NAMESPACE, parse_camt053

REQUIRE_ENV = "VOUCHER_REQUIRE_VECTORS"
SAMPLES = ("reference", "iso20022", "samples")
NOT_CNY = "currency 'EUR': only CNY is accepted"


def other_version(version: str) -> str:
    return f"the root element is {{urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}}}"


#: What reading each sample must say: (a part of the message, its details["where"]).
REFUSALS = {
    "genkgo__camt053.v2.five.decimals.xml": (other_version("02"), "Document"),
    "genkgo__camt053.v2.minimal.xml": (other_version("02"), "Document"),
    "genkgo__camt053.v2.multi.statement.xml": (other_version("02"), "Document"),
    "genkgo__camt053.v3.xml": (other_version("03"), "Document"),
    "genkgo__camt053.v4.xml": (other_version("04"), "Document"),
    "genkgo__camt053.v8.xml": (NOT_CNY, "Stmt[1]/Bal[1]/Amt"),  # our version, in euros
    "genkgo__camt53.only-Dt-with-DtTm.xml": (other_version("02"), "Document"),
    "moov__camt.053_P_CH2909000000250094239.xml": (other_version("04"), "Document"),
}

#: What the same files say once their namespace is rewritten to the version we read, so the
#: reader gets past the root element to what they hold: the currency of the account or of its
#: balances, several statements, a status it cannot read.
CONTENT_REFUSALS: dict[str, tuple[str, str] | None] = {
    "genkgo__camt053.v2.five.decimals.xml": (NOT_CNY, "Stmt[1]/Acct/Ccy"),
    "genkgo__camt053.v2.minimal.xml": (NOT_CNY, "Stmt[1]/Acct/Ccy"),
    "genkgo__camt053.v2.multi.statement.xml": ("holds 2 statements", "BkToCstmrStmt"),
    "genkgo__camt053.v3.xml": (NOT_CNY, "Stmt[1]/Acct/Ccy"),
    # Before .08 an entry's status is a bare code (<Sts>BOOK</Sts>), not <Sts><Cd>BOOK</Cd>.
    "genkgo__camt053.v4.xml": (NOT_CNY, "Stmt[1]/Bal[1]/Amt"),
    "genkgo__camt053.v8.xml": (NOT_CNY, "Stmt[1]/Bal[1]/Amt"),
    "genkgo__camt53.only-Dt-with-DtTm.xml": None,
    "moov__camt.053_P_CH2909000000250094239.xml": (
        "currency 'CHF': only CNY is accepted",
        "Stmt[1]/Bal[1]/Amt",
    ),  # a Swiss account
}
NO_ENTRIES_IN_RON = "genkgo__camt53.only-Dt-with-DtTm.xml"


def shared_samples() -> Path | None:
    """The folder of public camt.053 samples, or None where it is absent."""
    for root in _SHARED_ROOTS:
        folder = root.joinpath(*SAMPLES)
        if folder.is_dir():
            return folder
    return None


def sample_files() -> list[Path]:
    folder = shared_samples()
    return sorted(path for path in folder.iterdir() if path.is_file()) if folder else []


def sample_params(leave_out: frozenset[str] = frozenset()) -> list[Any]:
    files = sample_files()
    if not files:
        return [pytest.param(None, id="samples-missing")]
    return [pytest.param(path, id=path.name) for path in files if path.name not in leave_out]


def need_samples() -> None:
    folders = " or ".join(str(root.joinpath(*SAMPLES)) for root in _SHARED_ROOTS)
    reason = f"no ISO 20022 samples in {folders}"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason}; {REQUIRE_ENV}=1 demands them", pytrace=False)
    pytest.skip(reason)


def sample(path: Path | None) -> Path:
    if path is None:
        need_samples()
    assert path is not None
    if path.name not in REFUSALS or path.name not in CONTENT_REFUSALS:
        pytest.fail(f"{path.name}: state what reading it must give", pytrace=False)
    return path


def in_our_version(content: bytes) -> bytes:
    """The file with its camt.053 namespace replaced by the one `parse_camt053` reads."""
    return re.sub(
        rb"urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.[0-9]{2}", NAMESPACE.encode(), content
    )


def refusal(content: bytes) -> InvalidStatement:
    with pytest.raises(InvalidStatement) as caught:
        parse_camt053(content)
    return caught.value


@pytest.mark.parametrize("path", sample_params())
def test_each_sample_is_refused_whole_naming_why(path: Path | None) -> None:
    file = sample(path)
    problem, where = REFUSALS[file.name]
    error = refusal(file.read_bytes())
    assert error.code == "invalid_statement"
    assert error.details == {"where": where}
    assert error.message.startswith(f"{where}: ")
    assert problem in error.message


@pytest.mark.parametrize("path", sample_params(leave_out=frozenset({NO_ENTRIES_IN_RON})))
def test_each_sample_in_our_version_is_refused_for_what_it_holds(path: Path | None) -> None:
    file = sample(path)
    expected = CONTENT_REFUSALS[file.name]
    assert expected is not None, f"{file.name} is read: say what it must read, or give a test"
    problem, where = expected
    error = refusal(in_our_version(file.read_bytes()))
    assert error.details == {"where": where}
    assert error.message.startswith(f"{where}: ")
    assert problem in error.message


def test_every_sample_has_a_stated_outcome() -> None:
    files = sample_files()
    if not files:
        need_samples()
    assert {path.name for path in files} == set(REFUSALS) == set(CONTENT_REFUSALS)


def test_a_statement_whose_balances_are_not_in_cny_is_refused() -> None:
    folder = shared_samples()
    if folder is None:
        need_samples()
    assert folder is not None
    content = (folder / NO_ENTRIES_IN_RON).read_bytes()
    assert b'<Amt Ccy="RON">' in content and b"<Ntry>" not in content
    assert "'RON'" in refusal(in_our_version(content)).message
