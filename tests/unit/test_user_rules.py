"""The account rules: user names, the password policy, and what each role is bound to."""

from __future__ import annotations

import pytest

from voucher_app.domain.actors import Role
from voucher_app.domain.errors import InvalidInput, WeakPassword
from voucher_app.domain.users import Binding, check_binding, check_password, check_username


@pytest.mark.parametrize(
    ("given", "kept"),
    [("Chen.Kuaiji", "chen.kuaiji"), ("  sme-440305@gd ", "sme-440305@gd"), ("abc", "abc")],
)
def test_a_user_name_is_kept_in_lower_case(given: str, kept: str) -> None:
    assert check_username(given) == kept


@pytest.mark.parametrize("name", ["ab", "-lead", "a b c", "名字名字", "x" * 65, "semi;colon"])
def test_a_malformed_user_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_username(name)
    assert refused.value.details["field"] == "username"


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short-pw-11", "at least 12"),
        ("x" * 129, "at most 128"),
        ("Password1234", "too easy"),
        ("aaaaaaaaaaaaaaaa", "too easy"),
        ("abababababab", "too easy"),  # fewer than four different characters
        ("my-chenkuaiji-2026", "user name"),
    ],
)
def test_a_weak_password_is_refused_saying_why(password: str, why: str) -> None:
    with pytest.raises(WeakPassword, match=why) as refused:
        check_password(password, "chenkuaiji")
    assert refused.value.code == "weak_password"


def test_a_long_password_of_any_characters_is_accepted() -> None:
    check_password("correct horse battery staple", "chenkuaiji")
    check_password("服务券对账要仔细核对每一笔", "chenkuaiji")


@pytest.mark.parametrize(
    ("role", "center", "sme", "provider", "binding"),
    [
        (Role.SME, None, "91440305MA5DE0001R", None, Binding.SME),
        (Role.PROVIDER, None, None, "p", Binding.PROVIDER),
        (Role.CENTER_STAFF, "440300", None, None, Binding.CENTER),
        (Role.CENTER_ADMIN, "440300", None, None, Binding.CENTER),
        (Role.AUDITOR, "440000", None, None, Binding.CENTER),
        (Role.ADMIN, None, None, None, None),
    ],
)
def test_each_role_is_bound_to_what_it_needs(
    role: Role, center: str | None, sme: str | None, provider: str | None, binding: Binding | None
) -> None:
    assert check_binding(role, center=center, sme=sme, provider=provider) is binding


@pytest.mark.parametrize(
    ("role", "center", "sme", "provider", "field"),
    [
        (Role.SME, None, None, None, "sme"),
        (Role.SME, "440300", "91440305MA5DE0001R", None, "center"),
        (Role.CENTER_STAFF, None, None, None, "center"),
        (Role.ADMIN, "440000", None, None, "center"),
        (Role.SYSTEM, None, None, None, "role"),
    ],
)
def test_a_missing_or_extra_binding_is_refused_naming_it(
    role: Role, center: str | None, sme: str | None, provider: str | None, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_binding(role, center=center, sme=sme, provider=provider)
    assert refused.value.details["field"] == field
