"""Demo data for a fresh database: Guangdong's centers and a funded programme with allocations.

Later issues add SMEs, providers and vouchers here. The data goes through the same services as
real use, so the demo ledger verifies like a real one; it includes a clawback and a reversal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.errors import DatabaseNotEmpty
from voucher_app.domain.money import parse_yuan
from voucher_app.domain.programmes import ProgrammeTerms
from voucher_app.domain.sme import SizeClass
from voucher_app.ledger.checkpoints import CheckpointSigner
from voucher_app.persistence.models import Center, JournalEntry
from voucher_app.persistence.uow import UnitOfWork, read_only
from voucher_app.services import centers, ledger, programmes

PROVINCE_ADMIN = Actor("demo-province-admin", Role.CENTER_ADMIN)
CITY_ADMINS = {
    "440100": Actor("demo-guangzhou-admin", Role.CENTER_ADMIN),
    "440300": Actor("demo-shenzhen-admin", Role.CENTER_ADMIN),
    "440600": Actor("demo-foshan-admin", Role.CENTER_ADMIN),
}

#: (from, to, yuan): the province funds three cities, which pass budget to some districts.
ALLOCATIONS = [
    ("440000", "440100", "3000000"),
    ("440000", "440300", "3000000"),
    ("440000", "440600", "1500000"),
    ("440000", "440200", "500000"),
    ("440100", "440106", "800000"),
    ("440100", "440112", "600000"),
    ("440300", "440305", "900000"),
    ("440300", "440306", "700000"),
    ("440600", "440604", "400000"),
]


@dataclass(frozen=True)
class DemoSummary:
    centers: int
    entries: int
    programme: str
    checkpoint_size: int | None


@read_only
def is_empty(uow: UnitOfWork) -> bool:
    session = uow.session
    count = session.scalar(select(func.count()).select_from(Center)) or 0
    count += session.scalar(select(func.count()).select_from(JournalEntry)) or 0
    return count == 0


def load_demo(uow: UnitOfWork, signer: CheckpointSigner) -> DemoSummary:
    if not is_empty(uow):
        raise DatabaseNotEmpty("demo data only goes into an empty database")
    imported = centers.import_centers(uow, centers.guangdong_centers())
    programme = programmes.create_programme(
        uow,
        ProgrammeTerms(
            name="2026年广东省中小微企业服务券 (Guangdong SME service vouchers 2026)",
            owner_center="440000",
            period_start=date(2026, 1, 1),
            period_end=date(2026, 12, 31),
            total_budget_fen=parse_yuan("20000000"),
            subsidy_rate_bp=5000,
            sme_cap_fen=parse_yuan("20000"),
            voucher_face_value_fen=parse_yuan("5000"),
            voucher_validity_days=90,
            partial_spending=True,
            service_categories=(
                "management_consulting",
                "legal",
                "accounting_tax",
                "training",
                "digital_transformation",
                "intellectual_property",
            ),
            accepted_sizes=(SizeClass.SMALL, SizeClass.MICRO),
        ),
        PROVINCE_ADMIN,
    )
    pid = programme.id
    programmes.fund_programme(uow, pid, amount_fen=parse_yuan("10000000"), actor=PROVINCE_ADMIN)
    entries = 1
    mistaken = None
    for source, target, yuan in ALLOCATIONS:
        actor = CITY_ADMINS.get(source, PROVINCE_ADMIN)
        entry = programmes.allocate(
            uow, pid, from_center=source, to_center=target, amount_fen=parse_yuan(yuan), actor=actor
        )
        entries += 1
        if target == "440200":
            mistaken = entry
    # Shaoguan's allocation was entered against the wrong programme plan: reversed, as an
    # auditor would expect a correction to appear, never as an edit.
    assert mistaken is not None
    ledger.reverse_entry(uow, mistaken.id, PROVINCE_ADMIN)
    # Foshan returns part of Chancheng's unspent budget to the city.
    programmes.claw_back(
        uow,
        pid,
        from_center="440604",
        to_center="440600",
        amount_fen=parse_yuan("150000"),
        actor=CITY_ADMINS["440600"],
    )
    entries += 2
    ledger.sequence_log(uow)
    checkpoint = ledger.sign_checkpoint(uow, signer)
    return DemoSummary(
        imported.created, entries, str(pid), checkpoint.tree_size if checkpoint else None
    )
