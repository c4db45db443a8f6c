"""Forms that do not guess, and say what is wrong (issue 16): on a phone, in Chinese and in
English, each form sent empty or with a wrong value comes back with a summary at the top that
takes the focus and lists every field's own message as a link to that field, the same message
beside the field (tied to it by aria-describedby), nothing chosen for the user — and nothing
stored."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from tests import factories
from tests.e2e.accounts import PASSWORD, account
from tests.e2e.demo_data import load_demo, tax_adviser
from tests.iso20022 import assert_valid_pain001
from voucher_app.domain.actors import Role
from voucher_app.persistence.models import Programme, Provider, Redemption, Sme, User
from voucher_app.services import demo
from voucher_app.wiring import current

TITLE = {"zh": "有问题需要处理", "en": "There is a problem"}
CHOOSE = {"zh": "请选择…", "en": "Choose…"}


@pytest.fixture(params=["zh", "en"])
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def phone(browser: Browser, language: str) -> Iterator[Page]:
    """A fresh phone-sized profile whose browser asks for the language under test."""
    locale = "zh-CN" if language == "zh" else "en-US"
    context = browser.new_context(locale=locale, viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    opened = context.new_page()
    yield opened
    context.close()


def sign_in_as(page: Page, live_url: str, username: str) -> None:
    """Sign in through the sign-in page, whichever its language."""
    page.goto(f"{live_url}/sign-in")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r".*/sign-in.*"))


def count(app: Flask, model: type) -> int:
    with app.app_context(), current().database.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(model)).scalar_one()


def assert_summary(page: Page, language: str, expected: dict[str, str]) -> None:
    """The summary has the focus and lists exactly `expected` (field id → message), in order,
    each a link to its field; each field shows its message and points at it."""
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text(TITLE[language])
    links = summary.locator("a")
    expect(links).to_have_count(len(expected))
    for index, (target, message) in enumerate(expected.items()):
        link = links.nth(index)
        expect(link).to_have_text(message)
        expect(link).to_have_attribute("href", f"#{target}")
        field = page.locator(f"#{target}")
        expect(field).to_have_count(1)
        own = field.get_attribute("id")
        group = own.rsplit("-", 1)[0] if own and own.endswith("-0") else own
        expect(page.locator(f"#{group}-errors")).to_contain_text(message)
        described = field if group == own else page.locator(f"fieldset:has(#{target})")
        expect(described).to_have_attribute(
            "aria-describedby", re.compile(rf"(^|\s){group}-errors(\s|$)")
        )


def assert_unchosen(page: Page, language: str, *selects: str) -> None:
    for name in selects:
        select_ = page.locator(f"select#{name}")
        expect(select_).to_have_value("")
        expect(select_.locator("option").first).to_have_text(CHOOSE[language])


REGISTRATION_EMPTY = {
    "zh": {
        "uscc": "请输入统一社会信用代码",
        "name": "请输入企业名称",
        "industry": "请选择所属行业",
        "employees": "请输入从业人数",
        "revenue": "请输入上年营业收入",
        "assets": "请输入资产总额",
        "home_center": "请选择服务中心",
        "address": "请按营业执照填写注册地址",
        "contact_phone": "请输入联系电话",
        "legal_rep_name": "请输入法定代表人姓名",
        "legal_rep_id_number": "请输入法定代表人的证件号码",
        "username": "请填写账号的用户名",
        "password": "请设置密码",
        "repeat": "请再次输入密码",
    },
    "en": {
        "uscc": "Enter the unified social credit code.",
        "name": "Enter the enterprise's name.",
        "industry": "Choose the industry.",
        "employees": "Enter the number of employees.",
        "revenue": "Enter last year's operating revenue.",
        "assets": "Enter the total assets.",
        "home_center": "Choose the service center.",
        "address": "Enter the registered address, as on the licence.",
        "contact_phone": "Enter a contact phone number.",
        "legal_rep_name": "Enter the legal representative's name.",
        "legal_rep_id_number": "Enter the legal representative's ID number.",
        "username": "Choose a user name for the account.",
        "password": "Choose a password.",
        "repeat": "Type the password again.",
    },
}
WRONG_CODE = {
    "zh": "统一社会信用代码共 18 位。",
    "en": "A unified social credit code has 18 characters.",
}
WRONG_EMPLOYEES = {
    "zh": "从业人数应为整数，例如 25",
    "en": "Write the number of employees as a whole number, such as 25.",
}


def test_registration_preselects_nothing_and_says_each_fields_problem(
    app: Flask, runner: FlaskCliRunner, live_url: str, phone: Page, language: str
) -> None:
    load_demo(app, runner)
    smes, users = count(app, Sme), count(app, User)
    phone.goto(f"{live_url}/register")
    assert_unchosen(phone, language, "industry", "home_center", "relation")
    expect(phone.locator(".error-summary")).to_have_count(0)

    phone.locator("#register-form button[type=submit]").click()
    assert_summary(phone, language, REGISTRATION_EMPTY[language])
    assert_unchosen(phone, language, "industry", "home_center")
    # The link puts the focus in its field.
    phone.locator(".error-summary a[href='#home_center']").click()
    expect(phone.locator("#home_center")).to_be_focused()

    # A short code and a word for a number, every other field right: the code's own reason at
    # the code field (checked with the rest, not only once they pass), the number's at its own.
    phone.locator("#uscc").fill(factories.uscc(78, "440106")[:17])
    phone.locator("#name").fill("广州市试填科技有限公司")
    phone.locator("#industry").select_option("software_it")
    phone.locator("#employees").fill("-3")
    phone.locator("#revenue").fill("3,000,000")
    phone.locator("#assets").fill("5000000")
    phone.locator("#home_center").select_option("440106")
    phone.locator("#address").fill("广州市天河区天河路 2 号")
    phone.locator("#contact_phone").fill("020 3800 0000")
    phone.locator("#legal_rep_name").fill("黄试填")
    phone.locator("#legal_rep_id_number").fill("44030519900101123X")
    phone.locator("#username").fill("clerk.trial")
    phone.locator("#password").fill("a long enough passphrase")
    phone.locator("#repeat").fill("a long enough passphrase")
    phone.locator("#register-form button[type=submit]").click()
    assert_summary(
        phone, language, {"uscc": WRONG_CODE[language], "employees": WRONG_EMPLOYEES[language]}
    )
    expect(phone.locator("#name")).to_have_value("广州市试填科技有限公司")  # what was typed stays
    assert (count(app, Sme), count(app, User)) == (smes, users)


APPLICATION_EMPTY = {
    "zh": {
        "uscc": "请输入统一社会信用代码",
        "name": "请输入服务机构名称",
        "service_categories-0": "请至少选择一个服务类别",
        "contact_name": "请输入联系人姓名",
        "contact_phone": "请输入联系电话",
        "contact_email": "请输入联系邮箱",
        "address": "请输入服务地址",
        "bank_name": "请输入开户行名称",
        "bank_account_name": "请输入户名（与银行登记一致）",
        "bank_account_number": "请输入银行账号",
        "bank_cnaps": "请输入开户行联行号（CNAPS）",
        "center": "请选择服务中心",
        "legal_rep_name": "请输入法定代表人姓名",
        "legal_rep_id_number": "请输入法定代表人的证件号码",
        "username": "请填写账号的用户名",
        "password": "请设置密码",
        "repeat": "请再次输入密码",
    },
    "en": {
        "uscc": "Enter the unified social credit code.",
        "name": "Enter the provider's name.",
        "service_categories-0": "Choose at least one service category.",
        "contact_name": "Enter the contact person's name.",
        "contact_phone": "Enter a contact phone number.",
        "contact_email": "Enter a contact e-mail address.",
        "address": "Enter the address where you serve your clients.",
        "bank_name": "Enter the bank branch that holds the account.",
        "bank_account_name": "Enter the account name, as the bank has it.",
        "bank_account_number": "Enter the account number.",
        "bank_cnaps": "Enter the CNAPS code of the account's branch.",
        "center": "Choose the service center.",
        "legal_rep_name": "Enter the legal representative's name.",
        "legal_rep_id_number": "Enter the legal representative's ID number.",
        "username": "Choose a user name for the account.",
        "password": "Choose a password.",
        "repeat": "Type the password again.",
    },
}
WRONG_EMAIL = {
    "zh": "邮箱格式不正确，应类似 name@example.com",
    "en": "Write the e-mail address like name@example.com.",
}


def test_a_provider_application_preselects_nothing_and_says_each_fields_problem(
    app: Flask, runner: FlaskCliRunner, live_url: str, phone: Page, language: str
) -> None:
    load_demo(app, runner)
    providers, users = count(app, Provider), count(app, User)
    phone.goto(f"{live_url}/providers/apply")
    assert_unchosen(phone, language, "center", "relation")
    expect(phone.locator("input[name=service_categories]:checked")).to_have_count(0)
    phone.locator("form.stack button[type=submit].primary").click()
    assert_summary(phone, language, APPLICATION_EMPTY[language])

    phone.locator("#contact_email").fill("not an address")
    phone.locator("#uscc").fill("91440106MA5XXXXXX")
    phone.locator("form.stack button[type=submit].primary").click()
    expected = dict(APPLICATION_EMPTY[language])
    expected["uscc"] = WRONG_CODE[language]
    expected["contact_email"] = WRONG_EMAIL[language]
    assert_summary(phone, language, expected)
    assert (count(app, Provider), count(app, User)) == (providers, users)


DESK_EMPTY = {
    "zh": {
        "human_code": "请扫描二维码，或输入券码。",
        "passcode": "输入券码时，还需要企业提供的核验码。",
        "product_id": "请选择已提供的服务项目",
        "invoice_number": "请输入发票号码",
        "invoiced": "请输入发票金额",
        "delivered_on": "请输入服务完成日期",
    },
    "en": {
        "human_code": "Scan the QR code, or type the voucher code.",
        "passcode": "With a typed code, the SME's passcode too.",
        "product_id": "Choose the service that was delivered.",
        "invoice_number": "Enter the invoice number.",
        "invoiced": "Enter the invoiced amount.",
        "delivered_on": "Enter the date the service was delivered.",
    },
}
WRONG_INVOICED = {
    "zh": "发票金额应为以元为单位的金额，例如 3000 或 3,000.50",
    "en": "Write the invoiced amount in yuan, such as 3000 or 3,000.50.",
}


def test_the_desk_preselects_no_service_and_says_each_fields_problem(
    app: Flask, runner: FlaskCliRunner, live_url: str, phone: Page, language: str
) -> None:
    load_demo(app, runner)
    provider, _product = tax_adviser(app)
    desk = account(app, Role.PROVIDER, provider=provider)
    redemptions = count(app, Redemption)
    sign_in_as(phone, live_url, desk.username)
    phone.goto(f"{live_url}/provider/{provider}")
    assert_unchosen(phone, language, "product_id", "product-category")
    phone.locator("#redeem-form button[type=submit]").click()
    assert_summary(phone, language, DESK_EMPTY[language])
    assert_unchosen(phone, language, "product_id")

    phone.locator("#human_code").fill("ABCD-EFGH")
    phone.locator("#passcode").fill("123456")
    phone.locator("#product_id").select_option(index=1)
    phone.locator("#invoice_number").fill("GZ-2026-9")
    phone.locator("#invoiced").fill("three thousand")
    phone.locator("#delivered_on").fill("2026-03-01")
    phone.locator("#redeem-form button[type=submit]").click()
    assert_summary(phone, language, {"invoiced": WRONG_INVOICED[language]})
    assert count(app, Redemption) == redemptions


FUNDING_EMPTY = {
    "zh": {
        "account_name": "请输入户名（与银行登记一致）",
        "account_number": "请输入银行账号",
        "bank_name": "请输入开户行名称",
        "cnaps": "请输入开户行联行号（CNAPS）",
    },
    "en": {
        "account_name": "Enter the account name, as the bank has it.",
        "account_number": "Enter the account number.",
        "bank_name": "Enter the bank branch that holds the account.",
        "cnaps": "Enter the CNAPS code of the account's branch.",
    },
}
WRONG_NUMBER = {"zh": "账号应为 8 至 32 位数字", "en": "An account number has 8 to 32 digits."}


def test_the_funding_account_form_says_each_fields_problem_and_keeps_the_account(
    app: Flask, runner: FlaskCliRunner, live_url: str, phone: Page, language: str
) -> None:
    programme = load_demo(app, runner)
    admin = account(app, Role.CENTER_ADMIN, center="440000")
    sign_in_as(phone, live_url, admin.username)
    phone.goto(f"{live_url}/center/programmes/{programme}/funding-account")
    current_account = phone.locator("#current-account")
    expect(current_account).to_contain_text(demo.FUNDING_ACCOUNT.account_number)
    phone.locator("#funding-form button[type=submit]").click()
    assert_summary(phone, language, FUNDING_EMPTY[language])

    phone.locator("#account_name").fill("广东省中小企业发展促进中心")
    phone.locator("#account_number").fill("1234")
    phone.locator("#bank_name").fill("中国银行广州分行")
    phone.locator("#cnaps").fill("104581000019")
    phone.locator("#funding-form button[type=submit]").click()
    assert_summary(phone, language, {"account_number": WRONG_NUMBER[language]})
    with app.app_context(), current().database.engine.connect() as connection:
        kept = connection.execute(select(Programme.funding_account_number)).scalar_one()
    assert kept == demo.FUNDING_ACCOUNT.account_number

    phone.locator("#account_number").fill("4400 1234 5678 9012")
    phone.locator("#funding-form button[type=submit]").click()
    expect(phone.locator(".flash.success")).to_be_visible()
    expect(current_account).to_contain_text("4400123456789012")


def test_a_newcomer_follows_the_pages_from_the_demo_to_a_valid_pain001(
    app: Flask, runner: FlaskCliRunner, live_url: str, page: Page
) -> None:
    """As `make run` loads it (the demo and its accounts), the province's finance officer
    signs in, follows the menu to settlement, batches the approved redemption and downloads a
    pain.001 the official schema accepts, on the first try."""
    for args in (["demo", "load"], ["demo", "accounts"]):
        assert runner.invoke(args=args).exit_code == 0
    page.goto(f"{live_url}/sign-in")
    page.get_by_label("用户名").fill("finance.guangdong")
    page.get_by_label("密码").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.locator("details.menu > summary").click()  # on a phone the menu is folded
    page.get_by_role("navigation").get_by_role("link", name="结算").click()
    expect(page.locator("#funding-heading")).to_be_visible()
    expect(page.locator(".funding-account")).to_contain_text(demo.FUNDING_ACCOUNT.account_number)
    programme = page.get_by_label("服务券项目")
    expect(programme).to_have_value("")
    programme.select_option(index=1)
    page.get_by_role("button", name="将已批准的兑付申请生成付款批次").click()
    expect(page.locator(".flash.success")).to_be_visible()
    with page.expect_download() as downloading:
        page.get_by_role("button", name="下载 pain.001").first.click()
    path = downloading.value.path()
    assert path is not None
    with open(path, "rb") as handle:
        assert_valid_pain001(handle.read())
