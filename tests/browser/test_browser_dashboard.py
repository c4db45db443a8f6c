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
from voucher_app.web.dashboard import MEASURES, SHARES
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
    """On a phone: the totals, every one of the 21 cities named on its own bar row, each bar
    the share of its budget the service computed, the months said in words when there are
    too few to draw; then a city's dashboard through its row, keeping the chosen months."""
    load_demo(app, runner)
    auditor = account(app, Role.AUDITOR, center="440000")
    province = report_of(app, "440000")
    used = reports.utilisation(province.children)
    assert len(used) == 21

    sign_in(page, live_url, auditor.username)
    expect(page).to_have_url(f"{live_url}/dashboard/440000")
    for measure in (*MEASURES, "available_fen"):
        card = page.locator(f'.totals li[data-measure="{measure}"] strong')
        expect(card).to_have_text(format_yuan(getattr(province.total, measure)))
    expect(page.locator("#chart-children svg")).to_be_visible()
    drawn = chart_series(page, "chart-children")
    assert drawn == {
        name: [getattr(line, share) for line in used]
        for name, share in zip(("已发放", "已兑付", "已支付"), SHARES, strict=True)
    }
    assert any(drawn["已发放"])  # the demo committed some of a city's budget
    chart_text = page.locator("#chart-children svg text").all_text_contents()
    for line in used:  # no name dropped, however narrow the screen
        assert line.label in chart_text, line.label
        expect(page.locator(f'tr[data-center="{line.key}"] th')).to_have_text(line.label)
    if len(province.by_month) < 2:
        expect(page.locator("#months-not-enough")).to_contain_text("数据不足")
        expect(page.locator("#chart-months")).to_have_count(0)
    else:
        expect(page.locator("#chart-months svg")).to_be_visible()

    month = province.by_month[0].key
    page.locator("#from").fill(month)
    page.locator("#to").fill(month)
    page.get_by_role("button", name="显示").click()
    expect(page).to_have_url(f"{live_url}/dashboard/440000?programme=&from={month}&to={month}")
    page.locator('tr[data-center="440300"] a').click()
    expect(page).to_have_url(f"{live_url}/dashboard/440300?from={month}&to={month}")
    shenzhen = report_of(app, "440300")
    expect(page.locator('.totals li[data-measure="committed_fen"] strong')).to_have_text(
        format_yuan(shenzhen.total.committed_fen)
    )
    expect(page.locator("#months-not-enough")).to_be_visible()  # one month chosen: one point
