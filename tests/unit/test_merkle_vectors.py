"""The public RFC 9162 conformance vectors (transparency-dev/merkle `testdata/`): every file must
come out as its `wantErr` says. One test case per file, named by its path under the folder.

The folder is `/work/shared/vectors/rfc9162` next to the project (override with
VOUCHER_RFC9162_VECTORS). If it is absent the cases skip, unless VOUCHER_REQUIRE_VECTORS=1, in
which case they fail.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from voucher_app.ledger import merkle

FOLDER_ENV = "VOUCHER_RFC9162_VECTORS"
REQUIRE_ENV = "VOUCHER_REQUIRE_VECTORS"
DEFAULT_FOLDER = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "rfc9162"


def vector_folder() -> Path:
    configured = os.environ.get(FOLDER_ENV)
    return Path(configured) if configured else DEFAULT_FOLDER


def vector_params(kind: str) -> list[Any]:
    folder = vector_folder()
    files = sorted((folder / kind).rglob("*.json")) if folder.is_dir() else []
    if not files:
        return [pytest.param(None, id=f"{kind}-vectors-missing")]
    return [pytest.param(path, id=path.relative_to(folder).as_posix()) for path in files]


def load_vector(path: Path | None) -> dict[str, Any]:
    if path is None:
        reason = (
            f"no RFC 9162 vectors found under {vector_folder()} "
            f"(set {FOLDER_ENV} to the folder holding inclusion/ and consistency/)"
        )
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{reason}; {REQUIRE_ENV}=1 demands them", pytrace=False)
        pytest.skip(reason)
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data.get("wantErr"), bool), f"{path} has no boolean wantErr"
    return data


def b64(value: str | None) -> bytes:
    """A base64 field; empty string or null stand for no bytes."""
    return base64.b64decode(value, validate=True) if value else b""


def b64_list(values: list[str | None] | None) -> list[bytes]:
    return [b64(v) for v in values or []]


@pytest.mark.parametrize("path", vector_params("inclusion"))
def test_inclusion_vector_is_accepted_or_rejected_as_it_says(path: Path | None) -> None:
    vector = load_vector(path)
    args = (
        b64(vector["leafHash"]),
        vector["leafIdx"],
        vector["treeSize"],
        b64_list(vector["proof"]),
        b64(vector["root"]),
    )
    if vector["wantErr"]:
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(*args)
    else:
        merkle.verify_inclusion(*args)


@pytest.mark.parametrize("path", vector_params("consistency"))
def test_consistency_vector_is_accepted_or_rejected_as_it_says(path: Path | None) -> None:
    vector = load_vector(path)
    args = (
        vector["size1"],
        vector["size2"],
        b64_list(vector["proof"]),
        b64(vector["root1"]),
        b64(vector["root2"]),
    )
    if vector["wantErr"]:
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(*args)
    else:
        merkle.verify_consistency(*args)
