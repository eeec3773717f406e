"""Data-quality rules over every lot (数据质量核查): missing required fields, dates out of order, amounts that do not
agree between the result and the contract, codes that do not validate. Checked nightly for every lot and before each
message to the provincial platform; a lot with a blocking finding has its messages held (domain/provincial/exchange).

Each finding names its rule, explains itself in Chinese and English and links the object at fault (its type and id);
a lot checked again replaces its findings, so the report is the last check's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from tortoise.transactions import in_transaction

from domain.accounts.models import Organisation
from domain.common import clock
from domain.common.actors import Actor, Role
from domain.common.errors import PermissionDenied
from domain.common.ids import is_valid_uscc
from domain.common.queries import column
from domain.provincial.models import QualityFinding
from domain.publication.identifiers import is_valid_trade_code, lot_code
from domain.publication.industries import INDUSTRY_CATEGORY
from domain.publication.models import Announcement, Lot, Project
from domain.publication.states import AnnouncementStatus, AnnouncementType, LotStatus
from domain.results.models import Award, Contract, ContractChange
from domain.tendering.models import Opening


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    blocking: bool  # a blocking finding holds the lot's messages to the province
    title_zh: str
    title_en: str


RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("DQ-REQ-001", True, "必填字段缺失", "A required field is missing"),
        # not blocking: the industry is optional while projects made before it was asked have none; holding would
        # stop the real-time exchange of every such lot for an item whose code table no province has confirmed yet
        # (one source), and a message is mapped when it is queued, so a hold would not add the industry to it
        Rule(
            "DQ-REQ-002",
            False,
            "工程建设项目缺少招标项目类型",
            "An engineering project has no 招标项目类型 (industry)",
        ),
        Rule("DQ-DATE-001", False, "投标截止时间晚于定标时间", "The tender period ends after the award"),
        Rule("DQ-DATE-002", False, "开标早于投标截止时间", "The opening started before the bid deadline"),
        Rule("DQ-DATE-003", False, "合同签订早于定标", "The contract was signed before the award"),
        Rule(
            "DQ-DATE-004",
            False,
            "招标公告发布晚于投标截止时间",
            "The tender notice was published after the bid deadline",
        ),
        Rule(
            "DQ-AMT-001",
            True,
            "合同金额与中标金额不一致且无合同变更记录",
            "The contract amount differs from the awarded amount with no recorded change",
        ),
        Rule("DQ-CODE-001", True, "统一社会信用代码校验不通过", "A unified social credit code does not validate"),
        Rule("DQ-CODE-002", True, "项目或标段交易标识码校验不通过", "A project or lot trade code does not validate"),
    )
}


@dataclass(frozen=True, slots=True)
class Found:
    rule: str
    object_type: str
    object_id: int
    zh: str
    en: str


def _deadline(lot: Lot) -> datetime | None:
    value = (lot.config or {}).get("bid_deadline")
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _day(at: datetime) -> date:
    return clock.to_shanghai(at).date()


def _t(at: datetime | date) -> str:
    return at.isoformat() if isinstance(at, date) and not isinstance(at, datetime) else clock.shanghai_text(at)


async def findings_of(lot: Lot) -> list[Found]:
    """What every rule finds on the lot now (nothing stored)."""
    project = await Project.get(id=lot.project_id)
    award = await Award.get_or_none(lot_id=lot.id)
    contract = await Contract.get_or_none(lot_id=lot.id)
    orgs = {
        o.id: o
        for o in await Organisation.filter(
            id__in=[i for i in (project.tenderer_id, award.organisation_id if award else None) if i is not None]
        )
    }
    found: list[Found] = []

    def add(rule: str, object_type: str, object_id: int, zh: str, en: str) -> None:
        found.append(Found(rule, object_type, object_id, zh, en))

    # required fields: what the provincial data sets need (domain/provincial/spec.py) and the lot's own
    missing: list[tuple[str, str, int, str]] = []
    for name, value in (("项目名称 / project name", project.name), ("行政区划 / region code", project.region_code)):
        if not str(value or "").strip():
            missing.append((name, "Project", project.id, ""))
    if not lot.name.strip():
        missing.append(("标段名称 / lot name", "Lot", lot.id, ""))
    if lot.estimated_price_fen <= 0:
        missing.append(("估算价 / estimated price", "Lot", lot.id, ""))
    tenderer = orgs.get(project.tenderer_id)
    if tenderer is None or not tenderer.credit_code:
        missing.append(("招标人统一社会信用代码 / tenderer credit code", "Project", project.id, ""))
    tender = await Announcement.filter(
        lot_id=lot.id, type=AnnouncementType.TENDER.value, status=AnnouncementStatus.PUBLISHED.value
    ).first()
    if tender is not None and _deadline(lot) is None:
        missing.append(("投标截止时间 / bid deadline", "Lot", lot.id, ""))
    if award is not None and (award.organisation_id not in orgs or not orgs[award.organisation_id].name.strip()):
        missing.append(("中标人 / winner", "Award", award.id, ""))
    if contract is not None and (
        not contract.contract_no.strip() or (contract.status != "drafted" and contract.signed_on is None)
    ):
        missing.append(("合同编号或签订日期 / contract number or signing day", "Contract", contract.id, ""))
    for name, object_type, object_id, _ in missing:
        zh, en = name.split(" / ")
        add("DQ-REQ-001", object_type, object_id, f"缺少必填字段：{zh}", f"Missing required field: {en}")
    if project.category == INDUSTRY_CATEGORY and not project.industry:
        add(
            "DQ-REQ-002",
            "Project",
            project.id,
            f"工程建设项目 {project.trade_code} 未填写招标项目类型（TENDER_PROJECT_TYPE，如 A01 房屋建筑），"
            "报送省级平台的数据缺少该项",
            f"The engineering project {project.trade_code} has no 招标项目类型 (TENDER_PROJECT_TYPE, e.g. A01): the "
            "provincial platform receives its messages without it",
        )

    # dates in order
    deadline = _deadline(lot)
    if deadline is not None and award is not None and deadline > award.awarded_at:
        add(
            "DQ-DATE-001",
            "Award",
            award.id,
            f"投标截止时间 {_t(deadline)} 晚于定标时间 {_t(award.awarded_at)}",
            f"The bid deadline {deadline.isoformat()} is after the award at {award.awarded_at.isoformat()}",
        )
    opening = await Opening.get_or_none(lot_id=lot.id)
    if (
        deadline is not None
        and opening is not None
        and opening.started_at is not None
        and opening.started_at < deadline
    ):
        add(
            "DQ-DATE-002",
            "Lot",
            lot.id,
            f"开标时间 {_t(opening.started_at)} 早于投标截止时间 {_t(deadline)}",
            f"The opening started at {opening.started_at.isoformat()}, before the bid deadline {deadline.isoformat()}",
        )
    if (
        award is not None
        and contract is not None
        and contract.signed_on is not None
        and (contract.signed_on < _day(award.awarded_at))
    ):
        add(
            "DQ-DATE-003",
            "Contract",
            contract.id,
            f"合同签订日期 {contract.signed_on.isoformat()} 早于定标日期 {_day(award.awarded_at).isoformat()}",
            f"The contract was signed on {contract.signed_on.isoformat()}, before the award on "
            f"{_day(award.awarded_at).isoformat()}",
        )
    if (
        tender is not None
        and tender.published_at is not None
        and deadline is not None
        and tender.published_at > deadline
    ):
        add(
            "DQ-DATE-004",
            "Announcement",
            tender.id,
            f"招标公告发布时间 {_t(tender.published_at)} 晚于投标截止时间 {_t(deadline)}",
            f"The tender notice was published at {tender.published_at.isoformat()}, after the bid deadline "
            f"{deadline.isoformat()}",
        )

    # amounts: the contract is the award's price unless a change in effect moved it (政府采购法 第四十六条)
    if award is not None and contract is not None:
        changes = await ContractChange.filter(contract_id=contract.id, status="effective").order_by("seq")
        expected = changes[-1].after_fen if changes else award.price_fen
        if contract.original_fen != award.price_fen or contract.amount_fen != expected:
            add(
                "DQ-AMT-001",
                "Contract",
                contract.id,
                f"合同金额 {contract.amount_fen / 100:.2f} 元与中标金额 {award.price_fen / 100:.2f} 元不一致，"
                "且无生效的合同变更",
                f"The contract amount {contract.amount_fen / 100:.2f} yuan differs from the awarded "
                f"{award.price_fen / 100:.2f} yuan with no change in effect",
            )
    if award is not None and award.contract_amount_fen is not None and award.contract_amount_fen != award.price_fen:
        add(
            "DQ-AMT-001",
            "Award",
            award.id,
            f"登记的合同金额 {award.contract_amount_fen / 100:.2f} 元与中标金额 {award.price_fen / 100:.2f} 元不一致",
            f"The recorded contract amount {award.contract_amount_fen / 100:.2f} yuan differs from the awarded "
            f"{award.price_fen / 100:.2f} yuan",
        )

    # codes: GB 32100-2015 check character; the unified trade code (domain/publication/identifiers)
    for org in orgs.values():
        if org.credit_code and not is_valid_uscc(org.credit_code):
            add(
                "DQ-CODE-001",
                "Organisation",
                org.id,
                f"{org.name} 的统一社会信用代码 {org.credit_code} 校验位不正确",
                f"The unified social credit code {org.credit_code} of {org.name} fails its check character",
            )
    if not is_valid_trade_code(project.trade_code):
        add(
            "DQ-CODE-002",
            "Project",
            project.id,
            f"项目交易标识码 {project.trade_code} 校验不通过",
            f"The project trade code {project.trade_code} does not validate",
        )
    if not is_valid_trade_code(lot.trade_code) or lot.trade_code != lot_code(project.trade_code, lot.lot_no):
        add(
            "DQ-CODE-002",
            "Lot",
            lot.id,
            f"标段交易标识码 {lot.trade_code} 校验不通过或与项目编号不符",
            f"The lot trade code {lot.trade_code} does not validate or does not belong to its project's code",
        )
    return found


async def check_lot(lot_id: int) -> list[QualityFinding]:
    """Checks the lot against every rule and keeps what was found in place of the last check's findings."""
    lot = await Lot.get(id=lot_id)
    category = (await Project.get(id=lot.project_id)).category
    found = await findings_of(lot)
    now = clock.now()
    async with in_transaction():
        await QualityFinding.filter(lot_id=lot_id).delete()
        return [
            await QualityFinding.create(
                lot_id=lot_id,
                category=category,
                rule=f.rule,
                blocking=RULES[f.rule].blocking,
                object_type=f.object_type,
                object_id=f.object_id,
                detail={"zh": f.zh, "en": f.en},
                found_at=now,
            )
            for f in found
        ]


async def blocking(lot_id: int) -> list[QualityFinding]:
    """The blocking findings of a fresh check of the lot (what holds its messages to the province)."""
    return [f for f in await check_lot(lot_id) if f.blocking]


@dataclass(frozen=True, slots=True)
class Check:
    """What a check of one lot found, against what the check before it had left standing."""

    lot_id: int
    findings: list[QualityFinding]
    was_blocked: bool  # the lot had a blocking finding before this check

    @property
    def blocked(self) -> bool:
        return any(f.blocking for f in self.findings)

    @property
    def newly_blocked(self) -> bool:
        return self.blocked and not self.was_blocked

    @property
    def cleared(self) -> bool:
        return self.was_blocked and not self.blocked


async def check_lot_against_last(lot_id: int) -> Check:
    """Checks the lot again (check_lot) and says whether its blocking findings appeared or cleared since the last
    check, whichever made it (the nightly run, an operator, the check before a send)."""
    was_blocked = await QualityFinding.exists(lot_id=lot_id, blocking=True)
    return Check(lot_id, await check_lot(lot_id), was_blocked)


@dataclass(frozen=True, slots=True)
class Run:
    """One run over every lot: how many were checked, the findings standing, the lots newly blocked and cleared."""

    lots: int
    findings: int
    newly_blocked: list[int]
    cleared: list[int]


async def check_all(now: datetime, batch: int = 500) -> Run:
    """The nightly run: every lot past its draft, checked again."""
    lots, total, last = 0, 0, 0
    newly_blocked: list[int] = []
    cleared: list[int] = []
    while True:
        ids = await column(
            Lot.filter(id__gt=last)
            .exclude(status=LotStatus.DRAFT.value)
            .order_by("id")
            .limit(batch)
            .values_list("id", flat=True),
            int,
        )
        if not ids:
            return Run(lots, total, newly_blocked, cleared)
        for lot_id in ids:
            check = await check_lot_against_last(lot_id)
            lots, total = lots + 1, total + len(check.findings)
            if check.newly_blocked:
                newly_blocked.append(lot_id)
            elif check.cleared:
                cleared.append(lot_id)
        last = ids[-1]


def _reader(actor: Actor) -> None:
    if Role.OPERATOR not in actor.roles and Role.SUPERVISOR not in actor.roles:
        raise PermissionDenied()


async def report(
    actor: Actor, *, rule: str | None = None, category: str | None = None, lot_id: int | None = None, limit: int = 500
) -> list[QualityFinding]:
    """The standing findings, newest lots first, for operators and (read-only) the supervisors of their categories."""
    _reader(actor)
    query = QualityFinding.all()
    if Role.OPERATOR not in actor.roles:
        query = query.filter(category__in=sorted(actor.supervised_categories))
    if rule:
        query = query.filter(rule=rule)
    if category:
        query = query.filter(category=category)
    if lot_id is not None:
        query = query.filter(lot_id=lot_id)
    return list(await query.order_by("-lot_id", "rule", "id").limit(limit))
