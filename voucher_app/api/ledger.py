"""Ledger routes: the public, read-only checkpoint, verifier key, entries and proofs (DESIGN
§4), and the admins' reversal of an entry."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from voucher_app.api.programmes import EntrySchema
from voucher_app.domain.errors import NoLedgerKey
from voucher_app.domain.policy import Action
from voucher_app.http.auth import signed_in
from voucher_app.http.policy import requires
from voucher_app.ledger.journal import PostedEntry
from voucher_app.services import ledger, witnessing
from voucher_app.wiring import current

blp = Blueprint("ledger", __name__, description="The public, verifiable ledger")

#: Indexes and sizes are 64-bit in the database; anything larger is refused as invalid input.
MAX_INDEX = 2**63 - 1

_HASH = fields.String(metadata={"description": "base64 SHA-256 hash"})


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


class EntriesArgs(Schema):
    start = fields.Integer(required=True, validate=validate.Range(min=0, max=MAX_INDEX))
    end = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_INDEX))


class IndexedEntrySchema(Schema):
    index = fields.Integer(required=True)
    entry = fields.Dict(
        required=True,
        metadata={"description": "The entry; its RFC 8785 bytes are the Merkle leaf data"},
    )
    leaf_hash = _HASH


class EntriesSchema(Schema):
    tree_size = fields.Integer(required=True)
    entries = fields.List(fields.Nested(IndexedEntrySchema), required=True)


class InclusionArgs(Schema):
    index = fields.Integer(required=True, validate=validate.Range(min=0, max=MAX_INDEX))
    tree_size = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_INDEX))


class InclusionSchema(Schema):
    index = fields.Integer(required=True)
    tree_size = fields.Integer(required=True)
    leaf_hash = _HASH
    proof = fields.List(_HASH, required=True)


class ConsistencyArgs(Schema):
    first = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_INDEX))
    second = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_INDEX))


class ConsistencySchema(Schema):
    first = fields.Integer(required=True)
    second = fields.Integer(required=True)
    proof = fields.List(_HASH, required=True)


_TEXT = {"content": {"text/plain": {"schema": {"type": "string"}}}}


@blp.route("/checkpoint")
class LatestCheckpoint(MethodView):
    @blp.doc(
        responses={
            "200": {
                "description": "The latest signed checkpoint note, with the cosignatures of the "
                "witnesses that cosigned it (c2sp.org/tlog-cosignature)",
                **_TEXT,
            }
        }
    )
    @requires(Action.READ_PUBLIC)
    def get(self) -> Response:
        response = Response(witnessing.cosigned_note(current().uow()), mimetype="text/plain")
        response.headers["Cache-Control"] = "no-cache"
        return response


_OCTETS = {"content": {"application/octet-stream": {"schema": {"type": "string"}}}}
#: Tiles and entry bundles never change once the log has their nodes: cache them for a year.
IMMUTABLE = "public, max-age=31536000, immutable"


@blp.route("/tile/<path:path>")
class TileResource(MethodView):
    @blp.doc(
        summary="A hash tile or entry bundle of the log (C2SP tlog-tiles)",
        description="Paths as c2sp.org/tlog-tiles defines them below this prefix, e.g. "
        "`tile/0/000`, `tile/1/000.p/17`, `tile/entries/x001/234.p/5`.",
        responses={"200": {"description": "The tile's bytes", **_OCTETS}},
    )
    @requires(Action.READ_PUBLIC)
    def get(self, path: str) -> Response:
        data = ledger.tile_resource(current().uow(), f"tile/{path}")
        response = Response(data, mimetype="application/octet-stream")
        response.headers["Cache-Control"] = IMMUTABLE
        return response


@blp.route("/vkey")
class VerifierKey(MethodView):
    @blp.doc(responses={"200": {"description": "Signed-note verifier keys, one per line", **_TEXT}})
    @requires(Action.READ_PUBLIC)
    def get(self) -> Response:
        vkeys = [v.vkey for v in current().ledger_verifiers()]
        if not vkeys:
            raise NoLedgerKey("the ledger has no signing key yet")
        return Response("".join(f"{v}\n" for v in reversed(vkeys)), mimetype="text/plain")


@blp.route("/entries")
class Entries(MethodView):
    @blp.arguments(EntriesArgs, location="query")
    @blp.response(200, EntriesSchema)
    @requires(Action.READ_PUBLIC)
    def get(self, args: dict[str, int]) -> dict[str, Any]:
        """Entries at log indexes [start, end), at most 1000 per page."""
        page = ledger.entries_page(current().uow(), args["start"], args["end"])
        return {
            "tree_size": page.tree_size,
            "entries": [
                {"index": index, "entry": document, "leaf_hash": _b64(leaf)}
                for index, document, leaf in page.entries
            ],
        }


@blp.route("/proofs/inclusion")
class InclusionProof(MethodView):
    @blp.arguments(InclusionArgs, location="query")
    @blp.response(200, InclusionSchema)
    @requires(Action.READ_PUBLIC)
    def get(self, args: dict[str, int]) -> dict[str, Any]:
        """RFC 9162 inclusion proof of the leaf at `index` in the tree of `tree_size` leaves."""
        leaf, proof = ledger.inclusion_proof(current().uow(), args["index"], args["tree_size"])
        return {**args, "leaf_hash": _b64(leaf), "proof": [_b64(h) for h in proof]}


@blp.route("/proofs/consistency")
class ConsistencyProof(MethodView):
    @blp.arguments(ConsistencyArgs, location="query")
    @blp.response(200, ConsistencySchema)
    @requires(Action.READ_PUBLIC)
    def get(self, args: dict[str, int]) -> dict[str, Any]:
        """RFC 9162 consistency proof between the trees of `first` and `second` leaves."""
        proof = ledger.consistency_proof(current().uow(), args["first"], args["second"])
        return {**args, "proof": [_b64(h) for h in proof]}


@blp.route("/entries/<uuid:entry_id>/reverse")
class Reverse(MethodView):
    @blp.response(201, EntrySchema)
    @requires(Action.ADMINISTER)
    def post(self, entry_id: uuid.UUID) -> PostedEntry:
        """Post the exact negation of a journal entry, naming it: how the ledger corrects a
        mistake (admins only; an entry is reversed once, and a reversal never)."""
        return ledger.reverse_entry(
            current().uow(),
            entry_id,
            signed_in().actor,
        )
