"""`/readyz` warns before the working-day calendar runs out: the package knows the holidays of
2026 only, so from 25 December 2026 a programme with a five-working-day notice cannot approve
(its notice would run into 2027, whose holidays are not known yet). The advisory check
`working_calendar` fails 30 days before that day, names it, and leaves the instance ready; the
gauge `voucher_working_calendar_days_left` counts the days, for an alert."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient

from tests import factories
from tests.e2e.accounts import bearer
from tests.e2e.test_observability import scrape, value
from voucher_app import jobs
from voucher_app.clock import FrozenClock
from voucher_app.domain.actors import Role
from voucher_app.wiring import current

ADD = ": add the next year's arrangement to the calendar (docs/operations.md)"


def calendar_check(app: Flask, client: FlaskClient, moment: datetime) -> dict[str, object]:
    app.extensions["voucher_app"].clock = FrozenClock(moment)
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.get_json()  # advisory: the instance stays ready
    check: dict[str, object] = answer.get_json()["checks"]["working_calendar"]
    return check


def programme(app: Flask, moment: datetime, notice_working_days: int = 5) -> None:
    """A programme set up at `moment`, its entries sequenced and signed (nothing waits)."""
    app.extensions["voucher_app"].clock = FrozenClock(moment)
    with app.app_context():
        uow = current().uow()
        factories.guangdong(uow)
        factories.voucher_programme(uow, vouchers=1, notice_working_days=notice_working_days)
        jobs.sequence_and_sign(current())


def test_seventeen_days_before_approvals_stop_the_check_fails_and_names_the_day(
    app: Flask, client: FlaskClient
) -> None:
    moment = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)  # 10:00 on 8 December in China
    programme(app, moment)
    samples = scrape(client, bearer(app, Role.ADMIN))
    assert value(samples, "voucher_working_calendar_days_left") == 17
    assert calendar_check(app, client, moment) == {
        "ok": False,
        "advisory": True,
        "value": 17,
        "detail": "the holidays are known up to 2026-12-31; approvals with a notice of 5 "
        "working days are refused from 2026-12-25" + ADD,
    }


def test_the_day_is_the_day_in_china_and_the_warning_starts_thirty_days_before(
    app: Flask, client: FlaskClient
) -> None:
    moment = datetime(2026, 11, 24, 15, 59, tzinfo=UTC)  # 23:59 on 24 November in China
    programme(app, moment)
    check = calendar_check(app, client, moment)
    assert (check["ok"], check["value"]) == (True, 31)
    assert str(check["detail"]).endswith("refused from 2026-12-25")
    # A minute later it is 25 November in China (still the 24th in UTC): 30 days left.
    check = calendar_check(app, client, datetime(2026, 11, 24, 16, 0, tzinfo=UTC))
    assert (check["ok"], check["value"]) == (False, 30)
    assert str(check["detail"]).endswith(ADD)


def test_without_a_programme_that_sets_a_notice_there_is_nothing_to_run_out(
    app: Flask, client: FlaskClient
) -> None:
    moment = datetime(2026, 12, 30, 2, 0, tzinfo=UTC)
    programme(app, moment, notice_working_days=0)
    check = calendar_check(app, client, moment)
    assert check == {"ok": True, "advisory": True, "detail": "no programme sets a notice period"}
    samples = scrape(client, bearer(app, Role.ADMIN))
    assert ("voucher_working_calendar_days_left", frozenset()) not in samples
