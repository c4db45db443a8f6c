"""The witnesses the log asks to cosign its checkpoints, its policy, and the asking itself.

The log is configured (config `WITNESSES_FILE`, TOML) with each witness's name, submission URL
and cosigning key, and a quorum:

    quorum = 2

    [[witness]]
    name = "czt.gd.example/witness"           # the Department of Finance
    url = "https://witness.czt.gd.example/"
    vkey = "czt.gd.example/witness+1a2b3c4d+BPq…"

After each checkpoint it sends every witness `POST <url>/add-checkpoint` with the consistency
proof from the size that witness holds for it (c2sp.org/tlog-witness), learns that size from a
409 when it does not know it, and keeps the cosignatures it gets; a checkpoint with fewer than
`quorum` is still published, and reported as short of the quorum.
"""

from __future__ import annotations

import http.client
import re
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from voucher_app.domain.errors import InvalidWitnessPolicy
from voucher_app.signing.note import COSIGNATURE, NoteError, Verifier, parse_vkey
from voucher_app.witness.protocol import SIZE_CONTENT_TYPE

TIMEOUT_SECONDS = 10
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")
MAX_ANSWER = 64 * 1024


@dataclass(frozen=True)
class Witness:
    name: str
    url: str  # its submission prefix
    verifier: Verifier  # its cosigning key (signature type 0x04)

    @property
    def add_checkpoint_url(self) -> str:
        return self.url.rstrip("/") + "/add-checkpoint"


@dataclass(frozen=True)
class WitnessPolicy:
    witnesses: tuple[Witness, ...] = ()
    quorum: int = 0

    @property
    def verifiers(self) -> list[Verifier]:
        return [w.verifier for w in self.witnesses]


def read_policy(text: str, source: str = "the witnesses file") -> WitnessPolicy:
    """The policy a witnesses file sets; `InvalidWitnessPolicy` naming what is wrong."""
    try:
        data = tomllib.loads(text)
        witnesses = tuple(
            Witness(str(w["name"]), str(w["url"]), parse_vkey(str(w["vkey"]), COSIGNATURE))
            for w in data.get("witness", [])
        )
        quorum = data.get("quorum", len(witnesses))
    except (tomllib.TOMLDecodeError, KeyError, TypeError, NoteError) as exc:
        raise InvalidWitnessPolicy(f"{source}: {exc}") from exc
    names = [w.name for w in witnesses]
    if len(set(names)) != len(names):
        raise InvalidWitnessPolicy(f"{source}: a witness is listed twice")
    if any(w.name != w.verifier.name for w in witnesses):
        raise InvalidWitnessPolicy(f"{source}: each witness's vkey carries its own name")
    if not isinstance(quorum, int) or not 0 <= quorum <= len(witnesses):
        raise InvalidWitnessPolicy(
            f"{source}: the quorum is a whole number from 0 to the {len(witnesses)} witnesses"
        )
    return WitnessPolicy(witnesses, quorum)


def policy_from_file(path: Path | None) -> WitnessPolicy:
    """The policy in `path`; no file configured: no witnesses, and a quorum of 0."""
    if path is None:
        return WitnessPolicy()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidWitnessPolicy(f"cannot read {path}: {exc}") from exc
    return read_policy(text, str(path))


@dataclass(frozen=True)
class Answer:
    """A witness's HTTP answer; status 0 when it could not be reached."""

    status: int
    content_type: str
    body: str

    @property
    def held_size(self) -> int | None:
        """On a 409 over the old size, the size the witness holds (`text/x.tlog.size`)."""
        if self.status != 409 or not self.content_type.startswith(SIZE_CONTENT_TYPE):
            return None
        text = self.body.strip()
        return int(text) if _SIZE.fullmatch(text) else None


Post = Callable[[str, bytes], Answer]


def http_post(url: str, body: bytes) -> Answer:
    """POST `body` to `url` as a witness client does; any failure to connect is status 0."""
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - configured URL
    request.add_header("Content-Type", "text/plain; charset=utf-8")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            text = response.read(MAX_ANSWER).decode("utf-8", "replace")
            return Answer(response.status, response.headers.get_content_type(), text)
    except urllib.error.HTTPError as error:
        text = error.read(MAX_ANSWER).decode("utf-8", "replace")
        return Answer(error.code, error.headers.get_content_type(), text)
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, OSError) as exc:
        return Answer(0, "", f"unreachable: {exc}")
