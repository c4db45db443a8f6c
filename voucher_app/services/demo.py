"""Demo data for a fresh database: Guangdong's centers, a funded programme with its funding
account, allocated down the hierarchy (with a claw-back and a reversal), SMEs of every size
class, approved and pending providers with catalogues and bank details that route, issued
vouchers, and redemptions of them — one approved and rated (ready for a finance officer to batch and
download as pain.001), one rejected, one waiting for the SME.

Everything goes through the same services as real use, so the demo ledger verifies like a real
one. The ledger's first twelve entries are the budget's; the vouchers' follow, then the
redemptions'. The programme runs for the current calendar year, so the demo claims whenever it
is loaded.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from argon2 import PasswordHasher
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select

from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.bank import BankDetails
from voucher_app.domain.calendar import local_date
from voucher_app.domain.errors import DatabaseNotEmpty, UserExists
from voucher_app.domain.money import parse_yuan
from voucher_app.domain.programmes import BudgetMove, ProgrammeTerms
from voucher_app.domain.providers import ProviderDecision
from voucher_app.domain.signals import Thresholds
from voucher_app.domain.sme import SizeClass, wan
from voucher_app.ledger.checkpoints import CheckpointSigner
from voucher_app.ledger.tables import JournalEntry
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import Center
from voucher_app.persistence.uow import read_only
from voucher_app.services import (
    centers,
    ledger,
    programmes,
    providers,
    redemptions,
    settlement,
    smes,
    tracking,
    users,
    vouchers,
)
from voucher_app.services.providers import ProductTerms, ProductView, ProviderApplication
from voucher_app.services.redemptions import Service, VoucherProof
from voucher_app.services.smes import SmeDeclaration
from voucher_app.services.users import NewUser
from voucher_app.services.vouchers import VoucherSigner, VoucherView

PROVINCE_ADMIN = Actor("demo-province-admin", Role.CENTER_ADMIN)
CENTER_STAFF = Actor("demo-center-staff", Role.CENTER_STAFF)
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


#: One SME of each size class (the programme takes small and micro ones):
#: (code, name, industry, employees, revenue and assets in 万元, home center).
_SME_ROWS = [
    ("91440305MA5DE0001R", "深圳市南山区云帆软件有限公司", "software_it", 8, 30, 20, "440305"),
    ("91440106MA5DE00021", "广州市天河区禾田贸易有限公司", "retail", 25, 800, 300, "440106"),
    ("91440112MA5DE0003R", "广州市黄埔区精工模具厂", "industry", 12, 250, 180, "440112"),
    ("91440604MA5DE00044", "佛山市禅城区陶瓷制造有限公司", "industry", 420, 9_000, 6_000, "440604"),
    ("91440306MA5DE0005L", "深圳市宝安区联合电子集团", "industry", 2_500, 80_000, 60_000, "440306"),
]
SMES = [
    SmeDeclaration(code, name, industry, staff, wan(revenue), wan(assets), center)
    for code, name, industry, staff, revenue, assets, center in _SME_ROWS
]
VOUCHER_HOLDERS = [SMES[0].uscc, SMES[0].uscc, SMES[1].uscc, SMES[2].uscc]
BUDGET_ENTRIES = 12
#: Redemptions of the vouchers, so every page and report has one in each state:
#: (voucher, provider, product, invoiced yuan, what happens to it).
REDEMPTIONS = [
    (0, 0, 0, "3000", "approved and rated"),  # ¥1,500 owed to the Guangzhou tax adviser
    (2, 1, 0, "6000", "rejected"),  # the value is back on the voucher
    (3, 0, 1, "8000", "waiting for the SME"),
]
REDEMPTION_ENTRIES = 5  # three redemptions, an approval, a rejection
ENTRIES = BUDGET_ENTRIES + len(VOUCHER_HOLDERS) + REDEMPTION_ENTRIES
PROVIDER_DESK = Actor("demo-provider-desk", Role.PROVIDER)
DEMO_APPROVAL = "企业为本中心长期服务对象，新近迁入本系统；已电话回访确认服务完成"
SME_CLERK = Actor("demo-sme-clerk", Role.SME)


def _provider(
    uscc: str, name: str, categories: tuple[str, ...], center: str, contact: str, *, address: str
) -> ProviderApplication:
    digits = "".join(character for character in uscc if character.isdigit())
    return ProviderApplication(
        uscc=uscc,
        name=name,
        service_categories=categories,
        contact_name=contact,
        contact_phone="+86 20 8888 0000",
        contact_email="service@example.cn",
        address=address,
        bank_name="中国工商银行广州天河支行",
        bank_account_name=name,
        bank_account_number=f"3602000109{digits[-9:]}",
        bank_cnaps=f"102581{digits[-6:]}",
        center=center,
    )


#: The account the demo programme pays providers from (the pain.001 files' debtor).
FUNDING_ACCOUNT = BankDetails(
    bank_name="中国工商银行广州第一支行",
    account_name="广东省中小企业发展促进中心服务券专户",
    account_number="3602000109200123456",
    cnaps="102581000013",
    bic="ICBKCNBJGDG",
)


PROVIDERS: list[tuple[ProviderApplication, bool, list[ProductTerms]]] = [
    (
        _provider(
            "91440106MA9DE0001N",
            "广州天河财税咨询有限公司",
            ("accounting_tax", "management_consulting"),
            "440106",
            "陈会计",
            address="广州市天河区天河路 100 号 12 楼",
        ),
        True,
        [
            ProductTerms(
                "小微企业年度汇算清缴代理",
                "accounting_tax",
                parse_yuan("3000"),
                "按企业所得税汇算清缴规程办理并出具鉴证报告",
                30,
                "一次性收费，含两次上门服务",
            ),
            ProductTerms(
                "财务内控诊断",
                "management_consulting",
                parse_yuan("8000"),
                "依据《小企业内部控制规范》出具诊断报告",
                20,
                "按项目收费",
            ),
        ],
    ),
    (
        _provider(
            "91440305MA9DE0002M",
            "深圳南山知识产权代理有限公司",
            ("intellectual_property", "legal"),
            "440305",
            "林律师",
            address="深圳市南山区科技园南区 8 栋 3 楼",
        ),
        True,
        [
            ProductTerms(
                "发明专利申请代理",
                "intellectual_property",
                parse_yuan("6000"),
                "按《专利审查指南》撰写申请文件并代理答复",
                180,
                "官费另计",
            ),
        ],
    ),
    (
        _provider(
            "91440604MA9DE0003R",
            "佛山数智转型服务有限公司",
            ("digital_transformation",),
            "440604",
            "黄工程师",
            address="佛山市禅城区季华五路 22 号",
        ),
        False,
        [],
    ),
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


def load_demo(
    uow: UnitOfWork,
    signer: CheckpointSigner,
    voucher_signer: VoucherSigner,
    limits: Thresholds | None = None,
) -> DemoSummary:
    """The demo's centers, programme, SMEs, providers, vouchers and claims; `limits`: the fraud
    signals' thresholds its claims are scored by (None: not scored)."""
    if not is_empty(uow):
        raise DatabaseNotEmpty("demo data only goes into an empty database")
    imported = centers.import_centers(uow, centers.guangdong_centers())
    pid = _budget(uow)
    for declaration in SMES:
        smes.register_sme(uow, declaration, CENTER_STAFF)
    catalogue = _providers(uow)
    issued = [
        vouchers.claim_voucher(
            uow, programme_id=pid, sme_uscc=uscc, actor=CENTER_STAFF, signer=voucher_signer
        )
        for uscc in VOUCHER_HOLDERS
    ]
    _redemptions(
        uow,
        issued,
        catalogue,
        {voucher_signer.kid: voucher_signer.private_key.public_key()},
        limits,
    )
    ledger.sequence_log(uow)
    checkpoint = ledger.sign_checkpoint(uow, signer)
    return DemoSummary(
        imported.created, ENTRIES, str(pid), checkpoint.tree_size if checkpoint else None
    )


def _budget(uow: UnitOfWork) -> uuid.UUID:
    """The programme, funded and allocated: the ledger's first `BUDGET_ENTRIES` entries."""
    year = local_date(uow.clock.now()).year
    programme = programmes.create_programme(
        uow,
        ProgrammeTerms(
            name=f"{year}年广东省中小微企业服务券 (Guangdong SME service vouchers {year})",
            owner_center="440000",
            period_start=date(year, 1, 1),
            period_end=date(year, 12, 31),
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
    settlement.set_funding_account(uow, pid, FUNDING_ACCOUNT, PROVINCE_ADMIN)
    programmes.fund_programme(uow, pid, amount_fen=parse_yuan("10000000"), actor=PROVINCE_ADMIN)
    mistaken = None
    for source, target, yuan in ALLOCATIONS:
        actor = CITY_ADMINS.get(source, PROVINCE_ADMIN)
        entry = programmes.allocate(
            uow,
            pid,
            BudgetMove(from_center=source, to_center=target, amount_fen=parse_yuan(yuan)),
            actor=actor,
        )
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
        BudgetMove(from_center="440604", to_center="440600", amount_fen=parse_yuan("150000")),
        actor=CITY_ADMINS["440600"],
    )
    return pid


def _providers(uow: UnitOfWork) -> list[list[ProductView]]:
    """Register the providers; return each approved one's products."""
    catalogue = []
    for application, approved, products in PROVIDERS:
        provider = providers.apply_provider(uow, application, CENTER_STAFF)
        if not approved:
            continue
        providers.decide_provider(uow, provider.id, ProviderDecision.APPROVE, CENTER_STAFF)
        catalogue.append(
            [providers.add_product(uow, provider.id, terms, CENTER_STAFF) for terms in products]
        )
    return catalogue


def _redemptions(
    uow: UnitOfWork,
    issued: list[VoucherView],
    catalogue: list[list[ProductView]],
    keys: dict[str, Ed25519PublicKey],
    limits: Thresholds | None,
) -> None:
    today = local_date(uow.clock.now())
    for number, (voucher, provider, product, yuan, fate) in enumerate(REDEMPTIONS, start=1):
        offered = catalogue[provider][product]
        redemption = redemptions.submit_redemption(
            uow,
            provider_id=offered.provider_id,
            proof=VoucherProof(token=issued[voucher].token),
            service=Service(
                f"DEMO-{today.year}-{number:04d}", parse_yuan(yuan), today, product_id=offered.id
            ),
            actor=PROVIDER_DESK,
            public_keys=keys,
        )
        if fate == "approved and rated":
            redemptions.confirm_redemption(uow, redemption.id, SME_CLERK, limits)
            # The demo's SMEs registered a moment ago: the reviewer says why that is no worry.
            redemptions.approve_redemption(
                uow, redemption.id, CENTER_STAFF, reason=DEMO_APPROVAL, limits=limits
            )
            tracking.rate_service(uow, redemption.id, 5, "报告按时出具，讲解清楚", SME_CLERK)
        elif fate == "rejected":
            redemptions.reject_redemption(
                uow, redemption.id, "发票金额与服务合同不一致，请更正后重新提交", CENTER_STAFF
            )


# --- accounts for trying the pages (development only: the command refuses production) ------

#: Everyone's password in a demo, printed by `make run` (the command refuses production).
DEMO_PASSWORD = "guangdong-demo-2026"  # noqa: S105 - published on purpose, for a demo


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: Role
    center: str | None = None
    sme: str | None = None
    provider_uscc: str | None = None


DEMO_ACCOUNTS = (
    DemoAccount("sme.yunfan", Role.SME, sme=SMES[0].uscc),
    DemoAccount("desk.tianhe", Role.PROVIDER, provider_uscc=PROVIDERS[0][0].uscc),
    DemoAccount("reviewer.shenzhen", Role.CENTER_STAFF, center="440300"),
    DemoAccount("admin.shenzhen", Role.CENTER_ADMIN, center="440300"),
    DemoAccount("finance.guangdong", Role.CENTER_FINANCE, center="440000"),
    DemoAccount("auditor.guangdong", Role.AUDITOR, center="440000"),
    DemoAccount("admin.demo", Role.ADMIN),
)


def load_demo_accounts(uow: UnitOfWork, hasher: PasswordHasher) -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet (password `DEMO_PASSWORD`); answer
    the ones created."""
    created = []
    for demo_account in DEMO_ACCOUNTS:
        provider = (
            providers.public_id_by_code(uow, demo_account.provider_uscc)
            if demo_account.provider_uscc
            else None
        )
        spec = NewUser(
            demo_account.username,
            DEMO_PASSWORD,
            demo_account.role,
            center=demo_account.center,
            sme=demo_account.sme,
            provider=provider,
        )
        try:
            users.create_user(uow, spec, hasher, CENTER_STAFF)
        except UserExists:  # loaded before
            continue
        created.append(demo_account)
    return created
