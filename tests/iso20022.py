"""Checking the project's bank files against schemas it did not write.

The official ISO 20022 schemas live in the shared reference folder beside the checkout
(`../shared/reference/iso20022/`, see its README); a test that validates against that copy cannot
pass because of an edit to the copy the package ships. Where the shared folder is absent (a lone
checkout), the vendored copy stands in.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

REPO_ROOT = Path(__file__).resolve().parent.parent
_SHARED_ROOTS = (REPO_ROOT.parent / "shared", Path("/work/shared"))
PAIN001_XSD = ("reference", "iso20022", "xsd", "pain.001.001.09.xsd")
VENDORED_PAIN001_XSD = REPO_ROOT / "voucher_app" / "settlement" / "xsd" / "pain.001.001.09.xsd"


def shared_reference(*parts: str) -> Path | None:
    """The shared file at `parts` (e.g. "reference", "iso20022", …), or None where it is absent."""
    for root in _SHARED_ROOTS:
        path = root.joinpath(*parts)
        if path.is_file():
            return path
    return None


@cache
def _pain001_schema() -> etree.XMLSchema:
    path = shared_reference(*PAIN001_XSD) or VENDORED_PAIN001_XSD
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(path), parser))


def assert_valid_pain001(content: bytes) -> None:
    """Fail, listing the schema's complaints, unless `content` is a valid pain.001.001.09."""
    schema = _pain001_schema()
    document = etree.fromstring(content)
    if not schema.validate(document):
        complaints = "\n".join(f"line {e.line}: {e.message}" for e in schema.error_log)
        raise AssertionError(f"not a valid pain.001.001.09 document:\n{complaints}")
