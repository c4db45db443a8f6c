"""The voucher QR images as printed by default (`voucher_app.signing.qr`): an SVG at 4 user units
and a PNG at 8 pixels a module, both with the standard four-module quiet zone, and a PNG with no
transparent pixels (black on white, so it scans on a dark page)."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

from tests.unit.test_voucher_qr import TOKEN, png_size
from voucher_app.signing.qr import qr_code, qr_png, qr_svg


def png_chunks(png: bytes) -> dict[bytes, bytes]:
    """Chunk type -> data (the last of each type), read after the 8-byte signature."""
    chunks: dict[bytes, bytes] = {}
    position = 8
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        chunks[kind] = png[position + 8 : position + 8 + length]
        position += 12 + length
    return chunks


def modules_with_quiet_zone() -> int:
    version = qr_code(TOKEN).version
    assert isinstance(version, int)  # a QR symbol, not a Micro QR ("M1".."M4")
    return version * 4 + 17 + 2 * 4  # ISO/IEC 18004: 4·version + 17, + 4 each side


def test_the_default_svg_is_four_css_pixels_a_module_with_a_four_module_quiet_zone() -> None:
    root = ET.fromstring(qr_svg(TOKEN))
    side = modules_with_quiet_zone() * 4
    assert (root.get("width"), root.get("height")) == (f"{side}px", f"{side}px")
    assert root.get("viewBox") == f"0 0 {side} {side}"


def test_the_default_png_is_eight_pixels_a_module_with_a_four_module_quiet_zone() -> None:
    side = modules_with_quiet_zone() * 8
    assert png_size(qr_png(TOKEN)) == (side, side)


def test_the_png_is_opaque_black_on_white() -> None:
    chunks = png_chunks(qr_png(TOKEN, scale=1))
    assert b"tRNS" not in chunks  # no transparent colour
    assert b"PLTE" not in chunks
    _width, _height, bit_depth, colour_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (bit_depth, colour_type) == (1, 0)  # one-bit greyscale: black and white only
