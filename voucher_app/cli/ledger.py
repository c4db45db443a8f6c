"""`flask --app wsgi ledger …`: sequence, sign, verify, export and restore the ledger, and
reverse an entry.

ledger  sequence | checkpoint | cosign | verify | export | export-tiles | import-tail | reverse
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import click
from flask.cli import AppGroup

from voucher_app.cli.common import cli_actor, domain_errors
from voucher_app.ledger import published
from voucher_app.services import ledger, witnessing
from voucher_app.wiring import current

ledger_group = AppGroup("ledger", help="Sequence, sign, verify and export the ledger.")


@ledger_group.command("sequence")
@domain_errors
def ledger_sequence() -> None:
    """Move committed entries into the Merkle log now."""
    click.echo(f"{ledger.sequence_log(current().uow())} entries sequenced")


@ledger_group.command("checkpoint")
@domain_errors
def ledger_checkpoint() -> None:
    """Sequence, then sign a checkpoint of the current tree if it grew."""
    parts = current()
    ledger.sequence_log(parts.uow())
    signed = ledger.sign_checkpoint(parts.uow(), parts.checkpoint_signer())
    if signed is None:
        click.echo("no new entries since the last checkpoint")
    else:
        click.echo(signed.note, nl=False)


@ledger_group.command("cosign")
@domain_errors
def ledger_cosign() -> None:
    """Ask the configured witnesses (VOUCHER_WITNESSES_FILE) to cosign the latest checkpoint;
    exit 1 when it is short of the quorum."""
    parts = current()
    for outcome in witnessing.cosign_checkpoint(parts.uow(), parts.witnesses):
        state = "cosigned" if outcome.cosigned else f"refused ({outcome.status})"
        click.echo(f"{outcome.witness}: {state}: {outcome.message}")
    standing = witnessing.standing(parts.uow(), parts.witnesses)
    if standing is None:
        click.echo("no witnesses configured (VOUCHER_WITNESSES_FILE), or no checkpoint yet")
        return
    click.echo(
        f"checkpoint {standing.tree_size}: {len(standing.cosigners)} cosignature(s), "
        f"quorum {standing.quorum}" + ("" if standing.met else ": SHORT OF THE QUORUM")
    )
    if not standing.met:
        sys.exit(1)


@ledger_group.command("verify")
@domain_errors
def ledger_verify() -> None:
    """Recompute leaves, roots, signatures, balances and invariants, and check the log against
    its published checkpoint; exit 1 on the first fault."""
    parts = current()
    verifiers = parts.ledger_verifiers()
    gap = ledger.behind_published(parts.uow())
    if gap is not None:
        click.echo(
            f"FAIL {published.describe_gap(*gap)}: "
            "restore a newer dump or `ledger import-tail DIR`",
            err=True,
        )
    if sys.stdout.isatty():
        with click.progressbar(length=1, label="verifying", show_pos=True) as bar:

            def progress(done: int, total: int) -> None:
                bar.length = max(total, 1)
                bar.update(done - bar.pos)

            report = ledger.verify_ledger(parts.uow(), verifiers, progress)
    else:
        report = ledger.verify_ledger(parts.uow(), verifiers)
    if report.failure is not None:
        click.echo(f"FAIL {report.failure}", err=True)
    if gap is not None or report.failure is not None:
        sys.exit(1)
    size = report.latest.size if report.latest else 0
    unsigned = report.entries - size
    click.echo(
        f"OK: {report.entries} entries, {len(report.checkpoints)} checkpoints "
        f"(latest covers {size}), balances agree"
        + (f"; {unsigned} entries not yet under a checkpoint" if unsigned else "")
    )


@ledger_group.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@domain_errors
def ledger_export(directory: Path) -> None:
    """Write entries.jsonl, leaf-hashes.bin, checkpoints/ and ledger.vkey to DIRECTORY."""
    parts = current()
    vkeys = [v.vkey for v in parts.ledger_verifiers()]
    count = ledger.export_ledger(parts.uow(), directory, vkeys)
    click.echo(f"exported {count} entries to {directory}")


@ledger_group.command("export-tiles")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@domain_errors
def ledger_export_tiles(directory: Path) -> None:
    """Bring DIRECTORY, the log as C2SP tlog-tiles that any static web server can serve, up to
    the latest checkpoint; only the tiles that changed are written."""
    parts = current()
    done = ledger.export_tiles(parts.uow(), directory, parts.ledger_verifiers())
    click.echo(
        f"{directory} holds the log's tiles at checkpoint {done.tree_size} "
        f"(was {done.previous_size}): {done.written} files written"
    )


@ledger_group.command("import-tail")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@domain_errors
def ledger_import_tail(directory: Path) -> None:
    """Restore the published entries a restored log lacks from DIRECTORY, a `ledger export`
    (or a mirror's copy) taken before the restore."""
    parts = current()
    done = ledger.import_tail(parts.uow(), directory, parts.ledger_verifiers())
    if done.start == done.end:
        click.echo(f"the log reaches its published checkpoint ({done.end} entries): nothing to do")
        return
    click.echo(
        f"entries {done.start} to {done.end - 1} restored from {directory} "
        f"({done.written} written, {done.requeued} already held); the log again reaches its "
        f"published checkpoint of {done.end}\n"
        "The ledger is whole again. The business rows of those entries (vouchers, redemptions, "
        "batches, report figures) are not in an export: they lag until a newer dump is restored."
    )


@ledger_group.command("reverse")
@click.argument("entry_id", type=click.UUID)
@domain_errors
def ledger_reverse(entry_id: uuid.UUID) -> None:
    """Post the exact negation of entry ENTRY_ID."""
    posted = ledger.reverse_entry(current().uow(), entry_id, cli_actor())
    click.echo(f"reversal {posted.id} posted")
