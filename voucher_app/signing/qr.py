"""The QR code printed or shown on a voucher: it carries the voucher's signed token.

A provider's scanner reads the token and verifies it offline against the published JWK Set
(`jws`); the human code is the fallback when the QR cannot be scanned. Error correction level M
(about 15% of the symbol may be damaged) suits a token of a few hundred characters: H would
make the symbol much denser for the same print size. The level is fixed rather than boosted, so
every voucher's QR is made the same way; a token (at most 287 bytes) makes a symbol of version
12 at most, 65 modules a side. The light modules are painted white, not left transparent, so
the code also scans on a dark page, and the quiet zone is the standard four modules.

On a screen a module is drawn `MODULE_PX` CSS pixels or more, the least a phone's camera reads
from another phone's screen: 292 px for the largest symbol, narrower than any phone. The SVG has
a `viewBox` as well as its size, so print styles may scale it to paper without losing a module.
"""

from __future__ import annotations

import io

import segno

ERROR_CORRECTION = "M"
QUIET_ZONE = 4
MODULE_PX = 4
DARK = "#000"
LIGHT = "#fff"


def qr_code(token: str) -> segno.QRCode:
    """The QR symbol (never a Micro QR) that carries `token`, at error correction level M."""
    if not token:
        raise ValueError("a QR code needs a token to carry")
    return segno.make_qr(token, error=ERROR_CORRECTION, boost_error=False)


def qr_svg(token: str, *, scale: int = MODULE_PX) -> str:
    """An SVG document of the QR code, without an XML declaration so it can also be inlined
    in HTML: `scale` CSS pixels a module, quiet zone included, with a `viewBox` of the same
    size so that it also scales."""
    buffer = io.BytesIO()
    qr_code(token).save(
        buffer,
        kind="svg",
        scale=scale,
        border=QUIET_ZONE,
        dark=DARK,
        light=LIGHT,
        xmldecl=False,
        svgns=True,
        unit="px",
        svgclass="qr-code",
        lineclass=None,
    )
    return buffer.getvalue().decode("utf-8")


def qr_png(token: str, scale: int = 8) -> bytes:
    """A PNG image of the QR code, `scale` pixels per module."""
    buffer = io.BytesIO()
    qr_code(token).save(buffer, kind="png", scale=scale, border=QUIET_ZONE, dark=DARK, light=LIGHT)
    return buffer.getvalue()
