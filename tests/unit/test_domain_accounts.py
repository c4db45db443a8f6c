"""Account names and which accounts may go negative (`voucher_app.domain.accounts`)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voucher_app.domain.accounts import (
    PROVIDER_KINDS,
    Account,
    AccountKind,
    available,
    funding,
    parse_account,
    provider,
    voucher,
)
from voucher_app.domain.errors import InvalidAccount

PID = "5b0f6c1e-2a55-4c1a-9d3b-1f7e9a7c0b11"


@pytest.mark.parametrize(
    ("name", "account"),
    [
        (f"programme:{PID}:funding", Account(AccountKind.FUNDING, PID, PID)),
        (f"center:440000:{PID}:available", Account(AccountKind.AVAILABLE, "440000", PID)),
        (f"center:440000:{PID}:available:7", Account(AccountKind.AVAILABLE, "440000", PID, 7)),
        (f"center:440000:{PID}:available:63", available("440000", PID, 63)),
        ("voucher:V-1", Account(AccountKind.VOUCHER, "V-1")),
        (f"provider:R-1:{PID}:pending", Account(AccountKind.PENDING, "R-1", PID)),
        (f"provider:R-1:{PID}:payable", Account(AccountKind.PAYABLE, "R-1", PID)),
        (f"provider:R-1:{PID}:paid", Account(AccountKind.PAID, "R-1", PID)),
    ],
)
def test_account_names_parse_and_print_back_unchanged(name: str, account: Account) -> None:
    assert parse_account(name) == account
    assert account.name == name


def test_constructors_build_the_accounts_parse_returns() -> None:
    assert funding(PID) == parse_account(f"programme:{PID}:funding")
    assert available("440300", PID) == parse_account(f"center:440300:{PID}:available")
    assert available("440300", PID, 5).name == f"center:440300:{PID}:available:5"
    assert voucher("V9") == parse_account("voucher:V9")
    assert provider(AccountKind.PAID, "R", PID) == parse_account(f"provider:R:{PID}:paid")


@pytest.mark.parametrize("kind", [AccountKind.FUNDING, AccountKind.AVAILABLE, AccountKind.VOUCHER])
def test_provider_refuses_a_kind_that_is_not_a_provider_account(kind: AccountKind) -> None:
    with pytest.raises(InvalidAccount) as caught:
        provider(kind, "R", PID)
    assert caught.value.message == f"{kind.value} is not a provider account kind"


@pytest.mark.parametrize("kind", list(AccountKind))
def test_only_a_funding_account_may_go_negative(kind: AccountKind) -> None:
    account = Account(kind, "owner", None if kind is AccountKind.VOUCHER else PID)
    assert account.may_go_negative is (kind is AccountKind.FUNDING)
    assert parse_account(account.name).may_go_negative is (kind is AccountKind.FUNDING)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "programme",
        f"programme:{PID}",
        f"programme:{PID}:funds",
        f"programme:{PID}:funding:extra",
        f"center:440000:{PID}",
        f"center:440000:{PID}:pending",
        f"center:440000:{PID}:available:0",
        f"center:440000:{PID}:available:07",
        f"center:440000:{PID}:available:64",
        f"center:440000:{PID}:available:100",
        f"center:440000:{PID}:available:",
        f"provider:R:{PID}:available",
        f"provider:R:{PID}:funding",
        f"provider:R:{PID}:voucher",
        "voucher:a:b",
        "voucher:",
        ":voucher:V",
        "voucher:has space",
        "voucher:under_score",
        "voucher:" + "x" * 65,
        "voucher:名",
        "Voucher:V",
        "voucher:V\n",
        f"PROGRAMME:{PID}:funding",
    ],
)
def test_parse_refuses_names_outside_the_grammar(name: str) -> None:
    with pytest.raises(InvalidAccount):
        parse_account(name)


segment = st.from_regex(r"[A-Za-z0-9-]{1,64}", fullmatch=True)


@settings(max_examples=100, deadline=None)
@given(owner=segment, programme=segment, kind=st.sampled_from(sorted(PROVIDER_KINDS)))
def test_any_well_formed_segments_round_trip_through_the_name(
    owner: str, programme: str, kind: AccountKind
) -> None:
    for account in (
        funding(programme),
        available(owner, programme),
        voucher(owner),
        provider(kind, owner, programme),
    ):
        assert parse_account(account.name) == account
