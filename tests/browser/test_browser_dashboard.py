"""A provincial auditor reads the dashboard: the totals, and charts drawn with exactly the
figures the spend report gives — then drills down to a city and finds its own."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner
from playwright.sync_api import Page, expect

from tests.browser.steps import sign_in
from tests.e2e.accounts import account
from tests.e2e.demo_data import load_demo
from voucher_app.domain.actors import Role
from voucher_app.domain.money import format_yuan
from voucher_app.services import reports
from voucher_app.services.reports import SpendReport
from voucher_app.web.dashboard import MEASURES
from voucher_app.wiring import current


def report_of(app: Flask, code: str) -> SpendReport:
    with app.app_context():
        return reports.spend_report(current().uow(), code)


def chart_series(page: Page, chart: str) -> dict[str, list[int]]:
    """Each series of an ECharts chart on the page, by name, as the chart itself holds it."""
    series: dict[str, list[int]] = page.evaluate(
        """(id) => {
            const option = echarts.getInstanceByDom(document.getElementById(id)).getOption();
            return Object.fromEntries(option.series.map((s) => [s.name, s.data]));
        }""",
        chart,
    )
    return series


def test_the_auditors_dashboard_draws_the_reports_figures_and_drills_down(
    app: Flask, runner: FlaskCliRunner, live_url: str, page: Page
) -> None:
    load_demo(app, runner)
    auditor = account(app, Role.AUDITOR, center="440000")
    province = report_of(app, "440000")

    sign_in(page, live_url, auditor.username)
    expect(page).to_have_url(f"{live_url}/dashboard/440000")
    for measure in (*MEASURES, "available_fen"):
        card = page.locator(f'.totals li[data-measure="{measure}"] strong')
        expect(card).to_have_text(format_yuan(getattr(province.total, measure)))
    expect(page.locator("#chart-children svg")).to_be_visible()
    drawn = chart_series(page, "chart-children")
    assert drawn == {
        name: [getattr(line.figures, measure) for line in province.children]
        for name, measure in zip(
            ("预算", "已发放", "已兑付", "已支付", "已过期"), MEASURES, strict=True
        )
    }
    assert sum(drawn["已发放"]) == province.total.committed_fen > 0

    page.locator('tr[data-center="440300"] a').click()
    expect(page).to_have_url(f"{live_url}/dashboard/440300")
    shenzhen = report_of(app, "440300")
    expect(page.locator('.totals li[data-measure="committed_fen"] strong')).to_have_text(
        format_yuan(shenzhen.total.committed_fen)
    )
    assert sum(chart_series(page, "chart-children")["已发放"]) == shenzhen.total.committed_fen
