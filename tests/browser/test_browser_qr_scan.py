"""The SME's QR code as a person sees it, read by what others made.

A phone-size screenshot of the SME's own page is all these tests take from our side: an
independent decoder (zxing-cpp, not the segno that drew the code nor the qr-scanner the desk
uses) must read the token from it, and the token it reads must redeem through the API. Then the
same screenshot is played to the service desk as its camera (Chromium's fake capture device
reading a Y4M video made from it) and the provider redeems through the camera, as at a real desk
where the SME holds up a phone.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from pathlib import Path

import zxingcpp
from flask import Flask
from flask.testing import FlaskCliRunner
from PIL import Image
from playwright.sync_api import Browser, FloatRect, Page, Playwright, ViewportSize, expect

from tests import factories
from tests.browser.conftest import CHROMIUM, FLAGS
from tests.browser.steps import sign_in
from tests.e2e.accounts import account, bearer
from tests.e2e.demo_data import load_demo, new_voucher, tax_adviser
from voucher_app.domain.actors import Role
from voucher_app.domain.calendar import local_date
from voucher_app.services import programmes, vouchers
from voucher_app.services.vouchers import VoucherView
from voucher_app.signing.qr import MODULE_PX, QUIET_ZONE, qr_code
from voucher_app.wiring import current

PHONE: ViewportSize = {"width": 390, "height": 844}
#: A desk camera's frame: qr-scanner reads a centred square of two thirds of its shorter side.
FRAME = (800, 600)
SERVICE = "小微企业年度汇算清缴代理 · ¥3,000.00"


def sme_page_screenshot(
    app: Flask, live_url: str, page: Page, voucher: VoucherView
) -> tuple[bytes, FloatRect]:
    """What the SME's phone shows with the voucher's QR code on screen: the screenshot (one
    image pixel a CSS pixel) and where the QR code is in it."""
    clerk = account(app, Role.SME, sme=voucher.sme_uscc)
    sign_in(page, live_url, clerk.username)
    expect(page).to_have_url(f"{live_url}/sme/{voucher.sme_uscc}")
    qr = page.locator(f"#v-{voucher.id} .qr svg")
    qr.scroll_into_view_if_needed()
    box = qr.bounding_box()
    assert box is not None
    return page.screenshot(), box


def read_qr_codes(png: bytes) -> list[str]:
    """The texts of the QR codes zxing-cpp finds in an image."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return [barcode.text for barcode in found if barcode.format == zxingcpp.BarcodeFormat.QRCode]


def test_the_qr_code_on_the_smes_phone_decodes_with_zxing_and_its_token_redeems(
    app: Flask, runner: FlaskCliRunner, live_url: str, page: Page
) -> None:
    voucher = new_voucher(app, load_demo(app, runner))
    screenshot, box = sme_page_screenshot(app, live_url, page, voucher)

    modules = qr_code(voucher.token).symbol_size(scale=1, border=QUIET_ZONE)[0]
    assert box["width"] / modules >= MODULE_PX  # never scaled down below 4 px a module
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]  # wholly on screen
    version = qr_code(voucher.token).version
    assert isinstance(version, int) and version <= 12

    assert read_qr_codes(screenshot) == [voucher.token]

    provider, product = tax_adviser(app)
    desk = bearer(app, Role.PROVIDER, provider=provider)
    answer = app.test_client().post(
        f"/api/v1/providers/{provider}/redemptions",
        headers={**desk, "Idempotency-Key": str(uuid.uuid4())},
        json={
            "token": read_qr_codes(screenshot)[0],
            "product_id": str(product),
            "invoice_number": "GZ-2026-ZXING",
            "invoiced_fen": 200_000,
            "delivered_on": local_date(datetime.now(UTC)).isoformat(),
        },
    )
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["voucher_code"] == voucher.human_code
    with app.app_context():
        left = vouchers.get_voucher(current().uow(), voucher.id).remaining_fen
    assert left == voucher.face_value_fen - 100_000


def y4m_video(frame: Image.Image, path: Path, frames: int = 30) -> Path:
    """A YUV4MPEG2 video (4:2:0, the format Chromium's fake camera plays) of `frame` held still."""
    width, height = frame.size
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + planes)
    return path


def camera_pointed_at(screenshot: bytes, box: FloatRect) -> Image.Image:
    """What the desk's camera sees when the SME holds the phone up: the screenshot as it is,
    the QR code in the middle of the frame, the rest of the phone cut off at the frame's edge."""
    frame = Image.new("RGB", FRAME, (96, 96, 96))
    phone = Image.open(io.BytesIO(screenshot)).convert("RGB")
    centre_x, centre_y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    frame.paste(phone, (round(FRAME[0] / 2 - centre_x), round(FRAME[1] / 2 - centre_y)))
    return frame


def camera_browser(playwright: Playwright, video: Path) -> Browser:
    """Chromium whose camera plays `video` and which grants pages the camera unasked."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            *FLAGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )


def test_the_desk_redeems_through_its_camera_pointed_at_the_smes_phone(
    app: Flask,
    runner: FlaskCliRunner,
    live_url: str,
    page: Page,
    tmp_path: Path,
    playwright: Playwright,
) -> None:
    voucher = new_voucher(app, load_demo(app, runner))
    screenshot, box = sme_page_screenshot(app, live_url, page, voucher)
    video = y4m_video(camera_pointed_at(screenshot, box), tmp_path / "camera.y4m")
    provider, _product = tax_adviser(app)
    desk = account(app, Role.PROVIDER, provider=provider)

    with_camera = camera_browser(playwright, video)
    try:
        context = with_camera.new_context(locale="zh-CN", viewport=PHONE, permissions=["camera"])
        context.set_default_timeout(15_000)
        counter = context.new_page()
        sign_in(counter, live_url, desk.username)
        counter.locator("#scan-camera").click()
        expect(counter.locator("#scan-result")).to_have_text(
            f"已读取服务券 {voucher.human_code}：请在下方填写服务信息。"
        )
        counter.get_by_label("服务项目").select_option(label=SERVICE)
        counter.get_by_label("发票号码").fill("GZ-2026-CAMERA")
        counter.get_by_label("发票金额（元）").fill("2000")
        counter.get_by_label("服务完成日期").fill(local_date(datetime.now(UTC)).isoformat())
        counter.get_by_role("button", name="提交兑付申请").click()
        expect(counter.locator(".flash.success")).to_contain_text(voucher.human_code)
    finally:
        with_camera.close()
    with app.app_context():
        left = vouchers.get_voucher(current().uow(), voucher.id).remaining_fen
    assert left == voucher.face_value_fen - 100_000


def test_the_printed_voucher_card_carries_a_qr_code_that_scans(
    app: Flask, runner: FlaskCliRunner, live_url: str, page: Page
) -> None:
    programme = load_demo(app, runner)
    voucher = new_voucher(app, programme)
    clerk = account(app, Role.SME, sme=voucher.sme_uscc)
    sign_in(page, live_url, clerk.username)
    page.get_by_role("link", name="打印此服务券").click()
    expect(page).to_have_url(f"{live_url}/sme/vouchers/{voucher.id}/print")
    card = page.locator(".voucher-card")
    expect(card.locator(".human-code")).to_have_text(voucher.human_code)
    expect(card).to_contain_text("¥5,000.00")
    with app.app_context():
        name = programmes.get_programme(current().uow(), programme).name
    expect(card.locator("h1")).to_have_text(name)

    page.emulate_media(media="print")
    expect(page.locator("header.site")).to_be_hidden()
    assert read_qr_codes(card.screenshot()) == [voucher.token]


def test_another_smes_clerk_cannot_open_the_printable_voucher(
    app: Flask, runner: FlaskCliRunner, live_url: str, page: Page
) -> None:
    voucher = new_voucher(app, load_demo(app, runner))
    with app.app_context():
        neighbour = factories.sme(current().uow(), 8).uscc
    other = account(app, Role.SME, sme=neighbour)
    sign_in(page, live_url, other.username)
    answer = page.goto(f"{live_url}/sme/vouchers/{voucher.id}/print")
    assert answer is not None and answer.status == 403
    expect(page.locator("body")).not_to_contain_text(voucher.human_code)
