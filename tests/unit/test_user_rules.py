"""The account rules: user names, the password policy, and what each role is bound to."""

from __future__ import annotations

import uuid

import pytest

from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.errors import InvalidInput, WeakPassword
from voucher_app.domain.users import (
    Binding,
    Principal,
    check_binding,
    check_password,
    check_username,
)


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


USERNAME_RULE = (
    "a user name has 3 to 64 characters: letters, digits and . _ @ -, "
    "starting with a letter or digit"
)


@pytest.mark.parametrize(
    "name", ["abc", "x" * 64, "0.chen_kuaiji@gd-sme", "9ab", "  Abc  ", "a" + "-" * 63]
)
def test_a_user_name_of_3_to_64_allowed_characters_is_accepted(name: str) -> None:
    assert check_username(name) == name.strip().lower()


@pytest.mark.parametrize("name", ["", "ab", "x" * 65, ".abc", "_abc", "@abc", "abc!", "ab c"])
def test_a_refused_user_name_is_told_the_rule(name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_username(name)
    assert refused.value.code == "invalid_input"
    assert refused.value.details == {"field": "username"}
    assert str(refused.value) == USERNAME_RULE


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("abcdefghijk", "a password has at least 12 characters"),
        ("abcd" * 32 + "e", "a password has at most 128 characters"),
        ("PASSWORD1234", "this password is too easy to guess"),  # common, whatever the case
        ("QwertyUiop12", "this password is too easy to guess"),
        ("abcabcabcabc", "this password is too easy to guess"),  # three different characters
        ("xx-CHENKUAIJI-xx", "a password may not contain the user name"),  # whatever the case
    ],
)
def test_each_password_refusal_says_which_rule_and_names_the_field(
    password: str, message: str
) -> None:
    with pytest.raises(WeakPassword) as refused:
        check_password(password, "ChenKuaiji")
    assert refused.value.details == {"field": "password"}
    assert str(refused.value) == message


@pytest.mark.parametrize(
    "password",
    [
        "abcdefghijkl",  # exactly 12
        "abcd" * 32,  # exactly 128
        "abcdabcdabcd",  # four different characters are enough
        "chenkuaij-2026",  # the user name less a letter is not the user name
    ],
)
def test_a_password_at_the_edges_of_the_policy_is_accepted(password: str) -> None:
    check_password(password, "chenkuaiji")


@pytest.mark.parametrize(
    "password",
    [
        "123456789012",
        "password1234",
        "qwertyuiop12",
        "iloveyou1234",
        "admin1234567",
        "administrator",
        "welcome12345",
        "letmein12345",
        "abc123456789",
        "1qaz2wsx3edc",
        "woaini1314520",
    ],
)
def test_the_passwords_every_breach_list_starts_with_are_refused(password: str) -> None:
    with pytest.raises(WeakPassword, match="too easy"):
        check_password(password, "chenkuaiji")


@pytest.mark.parametrize(
    ("role", "center", "sme", "provider", "message", "field"),
    [
        (Role.SME, None, None, None, "users with the role sme are bound to one sme", "sme"),
        (
            Role.PROVIDER,
            None,
            None,
            "",
            "users with the role provider are bound to one provider",
            "provider",
        ),
        (
            Role.CENTER_FINANCE,
            None,
            None,
            None,
            "users with the role center_finance are bound to one center",
            "center",
        ),
        (
            Role.AUDITOR,
            "440000",
            "s",
            None,
            "users with the role auditor are bound to no sme",
            "sme",
        ),
        (Role.PROVIDER, None, "s", "p", "users with the role provider are bound to no sme", "sme"),
        (
            Role.ADMIN,
            None,
            None,
            "p",
            "users with the role admin are bound to no provider",
            "provider",
        ),
        (Role.SYSTEM, "440000", None, None, "system is not a role a person holds", "role"),
    ],
)
def test_a_binding_refusal_says_what_the_role_is_or_is_not_bound_to(
    role: Role,
    center: str | None,
    sme: str | None,
    provider: str | None,
    message: str,
    field: str,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_binding(role, center=center, sme=sme, provider=provider)
    assert refused.value.code == "invalid_input"
    assert refused.value.details == {"field": field}
    assert str(refused.value) == message


def test_a_finance_officer_is_bound_to_a_center() -> None:
    binding = check_binding(Role.CENTER_FINANCE, center="440300", sme=None, provider=None)
    assert binding is Binding.CENTER


def test_a_principal_acts_under_its_user_name_and_role() -> None:
    user = Principal(uuid.uuid4(), "chen.kuaiji", Role.CENTER_FINANCE, center_id=2)
    assert user.actor == Actor("chen.kuaiji", Role.CENTER_FINANCE)
    assert user.scopes == frozenset({"read", "write"})  # a session may read and write
