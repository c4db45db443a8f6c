"""The QR code that carries a voucher's token (`voucher_app.signing.qr`)."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from voucher_app.domain.voucher_code import new_human_code
from voucher_app.signing.jws import VoucherPayload, sign_voucher
from voucher_app.signing.keyring import thumbprint
from voucher_app.signing.qr import MODULE_PX, QUIET_ZONE, qr_code, qr_png, qr_svg

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def a_token() -> str:
    key = Ed25519PrivateKey.from_private_bytes(bytes([1]) * 32)
    payload = VoucherPayload(
        human_code=new_human_code(1),
        sme_uscc="91110000600037341L",
        face_value_fen=2_000_000,
        exp=1_780_191_000,
    )
    return sign_voucher(payload, thumbprint(key.public_key()), key)


TOKEN = a_token()


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which follows the signature."""
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_the_qr_code_is_a_full_qr_symbol_at_error_correction_level_m() -> None:
    code = qr_code(TOKEN)
    assert code.is_micro is False
    assert code.error == "M"
    assert code.designator.endswith("-M")
    assert code.mode == "byte"


def test_a_short_token_is_not_boosted_above_level_m() -> None:
    assert qr_code("a.b.c").error == "M"


def test_qr_svg_is_well_formed_xml_whose_root_is_an_svg_element() -> None:
    svg = qr_svg(TOKEN)
    root = ET.fromstring(svg)
    assert root.tag == f"{{{SVG_NAMESPACE}}}svg"
    assert not svg.startswith("<?xml")  # so it can also be inlined in HTML
    assert any(path.get("d") for path in root.iter(f"{{{SVG_NAMESPACE}}}path"))


def test_qr_svg_paints_a_white_background_and_scales_with_the_quiet_zone() -> None:
    code = qr_code(TOKEN)
    side = code.symbol_size(scale=3, border=QUIET_ZONE)[0]
    root = ET.fromstring(qr_svg(TOKEN, scale=3))
    assert (root.get("width"), root.get("height")) == (f"{side}px", f"{side}px")
    assert root.get("viewBox") == f"0 0 {side} {side}"
    fills = {path.get("fill") for path in root.iter(f"{{{SVG_NAMESPACE}}}path")}
    assert "#fff" in fills


def test_on_a_screen_a_module_is_four_css_pixels_by_default() -> None:
    modules = qr_code(TOKEN).symbol_size(scale=1, border=QUIET_ZONE)[0]
    root = ET.fromstring(qr_svg(TOKEN))
    assert root.get("width") == f"{modules * MODULE_PX}px" and MODULE_PX == 4


def test_a_voucher_token_makes_a_qr_code_of_version_12_or_less() -> None:
    code = qr_code(TOKEN)
    assert isinstance(code.version, int) and code.version <= 12
    assert code.symbol_size(scale=MODULE_PX, border=QUIET_ZONE)[0] <= 292


def test_qr_png_starts_with_the_png_signature() -> None:
    png = qr_png(TOKEN)
    assert png.startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("scale", [1, 4, 8])
def test_qr_png_is_scale_pixels_per_module_including_the_quiet_zone(scale: int) -> None:
    modules = qr_code(TOKEN).symbol_size(scale=1, border=QUIET_ZONE)[0]
    assert png_size(qr_png(TOKEN, scale=scale)) == (modules * scale, modules * scale)


def test_the_same_token_always_gives_the_same_images() -> None:
    assert qr_svg(TOKEN) == qr_svg(a_token())
    assert qr_png(TOKEN) == qr_png(a_token())


def test_tokens_one_character_apart_give_different_images() -> None:
    other = TOKEN[:-1] + ("A" if TOKEN[-1] != "A" else "B")
    assert qr_svg(other) != qr_svg(TOKEN)
    assert qr_png(other) != qr_png(TOKEN)


def test_an_empty_token_is_refused() -> None:
    with pytest.raises(ValueError, match="token"):
        qr_svg("")
    with pytest.raises(ValueError, match="token"):
        qr_png("")


def test_an_empty_token_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match=r"^a QR code needs a token to carry$"):
        qr_code("")
