"""Who did something (`voucher_app.domain.actors`): an actor id is 1 to 64 characters of
letters, digits and `._:@-` (the published entry grammar's pattern), refused otherwise naming
the `actor` field and the id."""

from __future__ import annotations

import pytest

from voucher_app.domain.actors import SYSTEM, Actor, Role
from voucher_app.domain.errors import InvalidInput


@pytest.mark.parametrize(
    "actor_id",
    [
        pytest.param("a", id="one-character"),
        pytest.param("x" * 64, id="64-characters"),
        pytest.param("user:42", id="colon"),
        pytest.param("staff@440300", id="at"),
        pytest.param("job.daily-close_2", id="dot-hyphen-underscore"),
        pytest.param("ABCxyz0189", id="letters-and-digits"),
    ],
)
def test_an_actor_id_of_1_to_64_allowed_characters_is_accepted(actor_id: str) -> None:
    assert Actor(actor_id, Role.CENTER_STAFF).id == actor_id


@pytest.mark.parametrize(
    "actor_id",
    [
        pytest.param("", id="empty"),
        pytest.param("x" * 65, id="65-characters"),
        pytest.param("user 42", id="space"),
        pytest.param("user/42", id="slash"),
        pytest.param("张三", id="chinese"),
        pytest.param("user\n", id="trailing-newline"),
        pytest.param("a,b", id="comma"),
    ],
)
def test_a_malformed_actor_id_is_refused_naming_the_actor_field_and_the_id(actor_id: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Actor(actor_id, Role.SME)
    assert caught.value.code == "invalid_input"
    assert caught.value.details == {"field": "actor"}
    assert caught.value.message == f"malformed actor id {actor_id!r}"


def test_the_system_actor_is_system_with_the_system_role() -> None:
    assert Actor("system", Role.SYSTEM) == SYSTEM
