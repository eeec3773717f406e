"""Open Contracting Data Standard 1.1: a lot's published announcements as releases and a record.

One lot is one contracting process, `ocid = {prefix}-{lot trade code}`, and every published
announcement of the lot is one release, in publication order. Announcements of the lot's project
that name no lot (`lot_id` is None) concern every lot of the project, so each lot's process carries
them too; they record no lot status, so their releases leave `tender.status` as it was.

Each release is a snapshot of what was public once that announcement was out: the parties, the
tender (status as the lot stood right after the announcement, `Announcement.lot_status`) and the
block of the stage the announcement belongs to, with the announcement's attachments as documents.

Choices the codelists leave open, so that a reader of the data can rely on them:
- PalmTrade's tenderer (招标人/采购人) is OCDS's buyer, and its procuring entity when no agency
  runs the procedure; an agency (招标代理机构) is the procuring entity. OCDS's role `tenderer` means
  a bidder and is never used for them. In sales (挂牌, 网络竞价) the organisation sells and is paid
  by the winner: it is the payee (and the procuring entity without an agency), not a buyer.
- A change notice (变更/澄清公告) takes its tag from the notice it corrects: a corrected tender
  is `tenderAmendment`, a corrected award `awardUpdate`, and so on; it also adds an `amendments`
  entry (amendsReleaseID = the corrected notice's release) to that stage's block.
- 中标候选人公示 is an award in status `pending` ("proposed, but not yet in force", awardStatus);
  the result notice makes the same award `active`. A termination after a candidate publicity
  cancels that award as well (`awardCancellation`).
- Attachments carry their SHA-256 in `description` ("SHA-256: <hex>"): OCDS 1.1 has no hash field
  in core and no registered extension for one, and a description keeps the release valid.
- Awards name their supplier and value from the results themselves: the candidate ranked first
  (中标候选人公示, 招标投标法实施条例 第五十五条: the award goes to it) for the pending award, the
  Award row (中标结果) for the active one, the winner and hammer price of a sold online auction
  (竞得人, 成交价). The contract's value is the amount recorded with it. The supplier is a party
  with role `supplier` from the release that first names it; in a sale the winner pays the seller,
  so it is also `payer` (OCDS has no role for the buyer of an asset, and `buyer` is the procurer).
- Amounts: `amount` is yuan as a JSON number, exact for every price the platform accepts (integer
  fen <= 10^15: at most 15 significant digits, which a binary double round-trips), `currency` CNY.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

from tortoise.expressions import Q

from domain.accounts.models import Organisation
from domain.auctions.models import Auction, AuctionEntry
from domain.common.catalogue import Category
from domain.common.clock import SHANGHAI, to_shanghai
from domain.common.errors import NotFound
from domain.publication.models import Announcement, AnnouncementAttachment, Lot, Project
from domain.publication.procedures import SALES, Procedure
from domain.publication.states import AnnouncementStatus, AnnouncementType, LotStatus
from domain.results.models import Award, AwardWithdrawal, Candidate, Contract, ContractChange, ContractPayment

# Not a registered prefix. OCDS publishers register one (`ocds-` and six characters) with the Open
# Contracting Partnership and pass it as `prefix`; until then this marks the data as unofficial.
PLACEHOLDER_PREFIX = "ocds-xxxxxx"
PAGE_SIZE = 200

_A = AnnouncementType

# releaseTag codelist (closed, OCDS 1.1)
_TAG: dict[AnnouncementType, str] = {
    _A.TENDER: "tender",
    _A.QUALIFICATION_RESULT: "tenderUpdate",
    _A.CANDIDATE_PUBLICITY: "award",
    _A.RESULT: "award",
    _A.CONTRACT: "contract",
    _A.PERFORMANCE: "implementation",
    _A.TERMINATION: "tenderCancellation",
    _A.COMPLAINT_DECISION: "tenderUpdate",
    _A.CONTRACT_CHANGE: "contractAmendment",
}
# the tag of a change notice, by the type of the notice it corrects
_CHANGE_TAG: dict[AnnouncementType, str] = {
    _A.TENDER: "tenderAmendment",
    _A.QUALIFICATION_RESULT: "tenderUpdate",
    _A.CANDIDATE_PUBLICITY: "awardUpdate",
    _A.RESULT: "awardUpdate",
    _A.CONTRACT: "contractUpdate",
    _A.PERFORMANCE: "implementationUpdate",
    _A.TERMINATION: "tenderUpdate",
    _A.COMPLAINT_DECISION: "tenderUpdate",
    _A.CONTRACT_CHANGE: "contractAmendment",
}
# documentType codelist (open, OCDS 1.1), by the type of the notice (a change: of what it corrects)
_DOCUMENT_TYPE: dict[AnnouncementType, str] = {
    _A.TENDER: "tenderNotice",
    _A.QUALIFICATION_RESULT: "shortlistedFirms",
    _A.CANDIDATE_PUBLICITY: "evaluationReports",
    _A.RESULT: "awardNotice",
    _A.CONTRACT: "contractNotice",
    _A.PERFORMANCE: "physicalProgressReport",
    _A.TERMINATION: "cancellationDetails",
    _A.COMPLAINT_DECISION: "complaints",
    _A.CONTRACT_CHANGE: "contractAnnexe",
}
# tenderStatus codelist (closed): planning, planned, active, cancelled, unsuccessful, complete, withdrawn
_TENDER_STATUS: dict[LotStatus, str] = {
    LotStatus.DRAFT: "planning",
    LotStatus.OPEN: "active",
    LotStatus.EVALUATING: "active",
    LotStatus.PUBLICITY: "active",  # candidates publicised, the award not yet in force
    LotStatus.AWARDED: "complete",
    LotStatus.CONTRACTED: "complete",
    LotStatus.COMPLETED: "complete",
    LotStatus.FAILED: "unsuccessful",  # 流标
    LotStatus.TERMINATED: "cancelled",
}
# method codelist (closed): open, selective, limited, direct.
# - 邀请招标: only invited bidders that meet the qualification conditions may bid (招标投标法 第十七条:
#   three or more capable, creditworthy invitees; 政府采购: from a prequalified list) -> selective.
# - 竞争性谈判 and 询价: the purchaser may pick the suppliers it invites (written recommendations are
#   one of the sources, 财政部令第74号 第十二条) -> limited, "suppliers of its choice".
# - 挂牌 and 网络竞价 are announced to everyone eligible -> open.
_METHOD: dict[Procedure, tuple[str, str]] = {
    Procedure.OPEN_TENDER: ("open", "公开招标"),
    Procedure.INVITED_TENDER: ("selective", "邀请招标"),
    Procedure.COMPETITIVE_NEGOTIATION: ("limited", "竞争性谈判"),
    Procedure.COMPETITIVE_CONSULTATION: ("limited", "竞争性磋商"),
    Procedure.INQUIRY: ("limited", "询价"),
    Procedure.LISTING: ("open", "挂牌"),
    Procedure.ONLINE_AUCTION: ("open", "网络竞价"),
    Procedure.REVERSE_AUCTION: ("open", "反向竞价"),
}
# procurementCategory codelist (closed): goods, works, services. Government procurement buys all
# three, and rights, property and assets are sold, not procured: those carry no category.
_CATEGORY: dict[Category, str] = {
    Category.ENGINEERING_CONSTRUCTION: "works",
    Category.MEDICAL_CONSUMABLES: "goods",
}
# org-id.guide lists China's market-entity register as CN-SAIC (State Administration for Industry and
# Commerce, now SAMR), whose identifiers are the unified social credit codes it assigns; org-id.guide
# has no "CN-USCC" list. Source: the org-id.guide list (IATI OrganisationRegistrationAgency codelist,
# code CN-SAIC). Codes assigned by other registration departments (first character of the code, GB
# 32100-2015: 1 机构编制, 5 民政, ...) are not in that register, and no list covers them: their
# identifier carries the code without a scheme.
_SAIC_SCHEME = "CN-SAIC"
_SAIC_DEPARTMENT = "9"  # GB 32100-2015 registration department code of 工商 (market regulation)
# arrays replaced whole when merging, although their objects have ids (wholeListMerge in the schema)
_WHOLE_LIST_MERGE = frozenset({"additionalIdentifiers", "additionalClassifications"})
# top-level fields the merge omits (omitWhenMerged in the schema)
_OMIT_WHEN_MERGED = frozenset({"id", "date", "tag"})
_MAX_CORRECTION_CHAIN = 50
# what a release needs of an announcement (not its bodies, up to 500 kB each)
_ANNOUNCEMENT_FIELDS = ("id", "project_id", "lot_id", "type", "title", "lot_status", "corrects_id", "published_at")


def ocid(prefix: str, lot: Lot) -> str:
    return f"{prefix}-{lot.trade_code}"


def yuan(fen: int) -> int | float:
    """Integer fen as yuan for JSON: an int when whole, else the float whose text is the exact decimal."""
    whole, cents = divmod(fen, 100)
    if cents == 0:
        return whole
    if abs(fen) > 10**15:
        raise ValueError("amounts above 10^15 fen are not exact as JSON numbers")
    return float(Decimal(fen) / 100)


def _when(value: datetime) -> str:
    """RFC 3339 with the offset, as people in Qingdao read it (+08:00)."""
    return to_shanghai(value).isoformat()


def _published(ann: Announcement) -> str:
    assert ann.published_at is not None, "only published announcements are released"
    return _when(ann.published_at)


# ---------------------------------------------------------------- loading, one page of lots at a time


@dataclass
class _Process:
    lot: Lot
    project: Project
    announcements: list[Announcement] = field(default_factory=list)


@dataclass(frozen=True)
class _Outcome:
    """Who a lot's award names and at what price (fen), per stage; the contract's amount once recorded."""

    proposed: tuple[int, int] | None = None  # (organisation id, price) of the candidate ranked first
    awarded: tuple[int, int] | None = None  # (organisation id, price) of the award or the auction's winner
    contract_fen: int | None = None
    # the winners that left the award, in order (实施条例 第五十五条): the k-th result notice named the k-th of them
    withdrawn: tuple[tuple[int, int], ...] = ()
    contract: Contract | None = None
    changes: dict[int, ContractChange] = field(default_factory=dict)  # by the announcement that published it
    payments: tuple[ContractPayment, ...] = ()


@dataclass
class _Page:
    processes: list[_Process]
    attachments: dict[int, list[AnnouncementAttachment]]
    orgs: dict[int, Organisation]
    stages: dict[int, AnnouncementType]  # announcement id -> its stage (never CHANGE)
    outcomes: dict[int, _Outcome] = field(default_factory=dict)  # lot id -> what its results say


async def _outcomes(lot_ids: list[int]) -> dict[int, _Outcome]:
    """The first candidates, awards, withdrawals, contracts and sold auctions of the lots, in eight queries."""
    proposed = {c.lot_id: (c.organisation_id, c.price_fen) for c in await Candidate.filter(lot_id__in=lot_ids, rank=1)}
    awarded: dict[int, tuple[int, int]] = {}
    contracts: dict[int, int] = {}
    for made in await Award.filter(lot_id__in=lot_ids):
        awarded[made.lot_id] = (made.organisation_id, made.price_fen)
        if made.contract_amount_fen is not None:
            contracts[made.lot_id] = made.contract_amount_fen
    sold = await Auction.filter(lot_id__in=lot_ids, phase="sold", winner_entry_id__isnull=False)
    entries = {e.id: e for e in await AuctionEntry.filter(id__in=[a.winner_entry_id for a in sold])}
    for auction in sold:
        entry = entries.get(auction.winner_entry_id or 0)
        if entry is not None and auction.current_price_fen is not None:
            awarded.setdefault(auction.lot_id, (entry.organisation_id, auction.current_price_fen))
    withdrawn: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for w in await AwardWithdrawal.filter(lot_id__in=lot_ids).order_by("id"):
        withdrawn[w.lot_id].append((w.organisation_id, w.price_fen))
    signed = {c.lot_id: c for c in await Contract.filter(lot_id__in=lot_ids, announcement_id__isnull=False)}
    changes: dict[int, dict[int, ContractChange]] = defaultdict(dict)
    for ch in await ContractChange.filter(lot_id__in=list(signed), announcement_id__isnull=False):
        changes[ch.lot_id][int(ch.announcement_id or 0)] = ch
    payments: dict[int, list[ContractPayment]] = defaultdict(list)
    for pay in await ContractPayment.filter(lot_id__in=list(signed)).order_by("paid_on", "id"):
        payments[pay.lot_id].append(pay)
    return {
        lot_id: _Outcome(
            proposed.get(lot_id),
            awarded.get(lot_id),
            contracts.get(lot_id),
            tuple(withdrawn.get(lot_id, ())),
            signed.get(lot_id),
            changes.get(lot_id, {}),
            tuple(payments.get(lot_id, ())),
        )
        for lot_id in {*proposed, *awarded}
    }


async def _load(lots: Sequence[Lot]) -> _Page:
    """The lots' projects, published announcements, attachments, parties and results, in ten queries.

    (More only when a change notice corrects one outside these lots: one query per link of that chain.)
    """
    projects = {p.id: p for p in await Project.filter(id__in=sorted({lot.project_id for lot in lots}))}
    # a bad-conduct record (不良行为记录公告) is about a party, not a stage of the contracting process
    published = Announcement.filter(status=AnnouncementStatus.PUBLISHED.value).exclude(type=_A.BAD_CONDUCT.value)
    anns = (
        await published.filter(
            Q(lot_id__in=[lot.id for lot in lots]) | Q(lot_id__isnull=True, project_id__in=list(projects))
        )
        .order_by("published_at", "id")
        .only(*_ANNOUNCEMENT_FIELDS)
    )
    attachments: dict[int, list[AnnouncementAttachment]] = defaultdict(list)
    for att in await AnnouncementAttachment.filter(announcement_id__in=[a.id for a in anns]).order_by("id"):
        attachments[att.announcement_id].append(att)
    outcomes = await _outcomes([lot.id for lot in lots])
    org_ids = {o for p in projects.values() for o in (p.tenderer_id, p.agency_id) if o}
    org_ids |= {named[0] for out in outcomes.values() for named in (out.proposed, out.awarded) if named}
    org_ids |= {org for out in outcomes.values() for org, _ in out.withdrawn}
    orgs = {o.id: o for o in await Organisation.filter(id__in=sorted(org_ids))}
    kinds = {a.id: AnnouncementType(a.type) for a in anns}
    corrects = {a.id: a.corrects_id for a in anns}
    missing = {c for c in corrects.values() if c and c not in kinds}
    for _ in range(_MAX_CORRECTION_CHAIN):
        if not missing:
            break
        for i, kind, target in await Announcement.filter(id__in=sorted(missing)).values_list(
            "id", "type", "corrects_id"
        ):
            kinds[i], corrects[i] = AnnouncementType(kind), target
        missing = {c for c in corrects.values() if c and c not in kinds}
    processes = [
        _Process(
            lot=lot,
            project=projects[lot.project_id],
            announcements=[
                a for a in anns if a.lot_id == lot.id or (a.lot_id is None and a.project_id == lot.project_id)
            ],
        )
        for lot in lots
    ]
    stages = {a.id: _stage_of(a.id, kinds, corrects) for a in anns}
    return _Page(processes=processes, attachments=attachments, orgs=orgs, stages=stages, outcomes=outcomes)


def _stage_of(
    ann_id: int, kinds: Mapping[int, AnnouncementType], corrects: Mapping[int, int | None]
) -> AnnouncementType:
    """The stage a notice belongs to: its type, or for a change notice the type of what it (finally) corrects."""
    current = ann_id
    for _ in range(_MAX_CORRECTION_CHAIN):
        target = corrects.get(current)
        if kinds[current] is not _A.CHANGE or target is None or target not in kinds:
            break
        current = target
    kind = kinds[current]
    return _A.TENDER if kind is _A.CHANGE else kind  # a change of nothing known amends the tender


# ---------------------------------------------------------------- building releases


def _identifier(org: Organisation) -> dict[str, Any]:
    ident: dict[str, Any] = {"id": org.credit_code, "legalName": org.name}
    if org.credit_code.startswith(_SAIC_DEPARTMENT):
        ident = {"scheme": _SAIC_SCHEME, **ident}
    return ident


def _party_id(org: Organisation) -> str:
    ident = _identifier(org)
    return f"{ident['scheme']}-{ident['id']}" if "scheme" in ident else str(ident["id"])


def _parties(process: _Process, page: _Page) -> tuple[list[dict[str, Any]], dict[str, Any] | None, dict[str, Any]]:
    """(parties, buyer reference, procuring entity reference) of a process."""
    project = process.project
    selling = Procedure(process.lot.procedure) in SALES
    tenderer = page.orgs.get(project.tenderer_id)
    agency = page.orgs.get(project.agency_id) if project.agency_id else None
    parties: list[dict[str, Any]] = []
    buyer = procuring = None
    if tenderer is not None:
        roles = ["payee"] if selling else ["buyer"]
        if agency is None:
            roles.append("procuringEntity")
        parties.append(
            {"id": _party_id(tenderer), "name": tenderer.name, "identifier": _identifier(tenderer), "roles": roles}
        )
        ref = {"id": _party_id(tenderer), "name": tenderer.name}
        buyer = None if selling else ref
        procuring = ref if agency is None else None
    if agency is not None:
        parties.append(
            {
                "id": _party_id(agency),
                "name": agency.name,
                "identifier": _identifier(agency),
                "roles": ["procuringEntity"],
            }
        )
        procuring = {"id": _party_id(agency), "name": agency.name}
    return parties, buyer, procuring or {}


def _tender(process: _Process, ann: Announcement, procuring: dict[str, Any]) -> dict[str, Any]:
    lot = process.lot
    method, details = _METHOD[Procedure(lot.procedure)]
    tender: dict[str, Any] = {"id": lot.trade_code, "title": lot.name}
    if ann.lot_status is not None:
        tender["status"] = _TENDER_STATUS[LotStatus(ann.lot_status)]
    if procuring:
        tender["procuringEntity"] = procuring
    tender["value"] = {"amount": yuan(lot.estimated_price_fen), "currency": "CNY"}
    tender["procurementMethod"] = method
    tender["procurementMethodDetails"] = details
    category = _CATEGORY.get(Category(process.project.category))
    if category is not None:
        tender["mainProcurementCategory"] = category
    if lot.eligibility:
        tender["eligibilityCriteria"] = "\n".join(rule["text"] for rule in lot.eligibility)
    deadline = lot.config.get("bid_deadline")
    if deadline:
        tender["tenderPeriod"] = {"endDate": _when(datetime.fromisoformat(deadline))}
    return tender


def _documents(ann: Announcement, kind: AnnouncementType, page: _Page) -> list[dict[str, Any]]:
    published = _published(ann)
    docs = []
    for att in page.attachments.get(ann.id, []):
        doc: dict[str, Any] = {
            "id": str(att.id),
            "documentType": _DOCUMENT_TYPE[kind],
            "title": att.name,
            "description": f"SHA-256: {att.sha256}",
            "format": att.content_type,
            "language": "zh",
        }
        doc["datePublished"] = published
        docs.append(doc)
    return docs


@dataclass
class _Progress:
    """What the releases of a process so far have made public."""

    award_open: bool = False  # an award is pending or active
    supplier: int | None = None  # the organisation an award has named
    results: int = 0  # result notices so far: the k-th awards the k-th winner (sequential award)
    award_id: str = ""  # the award in force


def _value(fen: int) -> dict[str, Any]:
    return {"amount": yuan(fen), "currency": "CNY"}


def _supplier_party(org: Organisation, selling: bool) -> dict[str, Any]:
    roles = ["supplier", "payer"] if selling else ["supplier"]
    return {"id": _party_id(org), "name": org.name, "identifier": _identifier(org), "roles": roles}


def _release(process: _Process, ann: Announcement, page: _Page, prefix: str, progress: _Progress) -> dict[str, Any]:
    """The release of one announcement; `progress` moves on with what it makes public."""
    lot = process.lot
    process_id = ocid(prefix, lot)
    is_change = ann.type == _A.CHANGE
    stage = page.stages[ann.id]
    tags = [_CHANGE_TAG[stage] if is_change else _TAG[stage]]
    release_id = f"{process_id}-{ann.id}"
    parties, buyer, procuring = _parties(process, page)
    release: dict[str, Any] = {
        "ocid": process_id,
        "id": release_id,
        "date": _published(ann),
        "language": "zh",
        "tag": tags,
        "initiationType": "tender",
        "parties": parties,
    }
    if buyer is not None:
        release["buyer"] = buyer
    tender = _tender(process, ann, procuring)
    release["tender"] = tender
    documents = _documents(ann, stage, page)
    amendment = None
    if is_change:
        amendment = {
            "id": str(ann.id),
            "date": release["date"],
            "description": ann.title,
            "releaseID": release_id,
        }
        if ann.corrects_id is not None:
            amendment["amendsReleaseID"] = f"{process_id}-{ann.corrects_id}"
    contract_id = f"{lot.trade_code}-contract"
    award_id = progress.award_id or f"{lot.trade_code}-award"
    outcome = page.outcomes.get(lot.id, _Outcome())
    target: dict[str, Any] = tender
    earlier: dict[str, Any] | None = None
    if stage in (_A.CANDIDATE_PUBLICITY, _A.RESULT):
        deal = outcome.proposed if stage is _A.CANDIDATE_PUBLICITY else outcome.awarded or outcome.proposed
        if stage is _A.RESULT and not is_change:
            # 实施条例 第五十五条: a later result notice awards the next candidate; the award before it is cancelled
            progress.results += 1
            if progress.results > 1:
                earlier = {"id": award_id, "status": "cancelled"}
                award_id = f"{lot.trade_code}-award-{progress.results}"
            if progress.results <= len(outcome.withdrawn):
                deal = outcome.withdrawn[progress.results - 1]
            progress.award_id = award_id
        award: dict[str, Any] = {"id": award_id, "title": lot.name}
        if not is_change:
            award["status"] = "pending" if stage is _A.CANDIDATE_PUBLICITY else "active"
            if stage is _A.RESULT:
                award["date"] = release["date"]
            progress.award_open = True
            supplier = page.orgs.get(deal[0]) if deal else None
            if deal and supplier is not None:
                award["value"] = _value(deal[1])
                award["suppliers"] = [{"id": _party_id(supplier), "name": supplier.name}]
                progress.supplier = supplier.id
        release["awards"] = [award] if earlier is None else [earlier, award]
        if earlier is not None:
            tags.append("awardCancellation")
        target = award
    elif stage in (_A.CONTRACT, _A.PERFORMANCE, _A.CONTRACT_CHANGE):
        contract: dict[str, Any] = {"id": contract_id, "awardID": award_id, "title": lot.name}
        made = outcome.contract
        if not is_change and stage is _A.CONTRACT:
            contract["status"] = "active"
            if outcome.contract_fen is not None:
                contract["value"] = _value(outcome.contract_fen)
            if made is not None and made.signed_on is not None:
                contract["dateSigned"] = _when(datetime.combine(made.signed_on, datetime.min.time(), SHANGHAI))
        if not is_change and stage is _A.CONTRACT_CHANGE and made is not None:
            _contract_change(contract, ann, made, outcome, release["date"], f"{process_id}-{ann.id}")
        if not is_change and stage is _A.PERFORMANCE and ann.lot_status == LotStatus.COMPLETED:
            contract["status"] = "terminated"  # contractStatus: "in force, and has now come to a close"
        release["contracts"] = [contract]
        target = contract
        if stage is _A.PERFORMANCE:
            target = contract.setdefault("implementation", {})
            if not is_change and made is not None:
                _implementation(target, ann, made, outcome, page, process)
    elif stage is _A.TERMINATION and not is_change and progress.award_open:
        release["awards"] = [{"id": award_id, "status": "cancelled"}]
        tags.append("awardCancellation")
        progress.award_open = False
    named = page.orgs.get(progress.supplier) if progress.supplier is not None else None
    if named is not None and all(p["id"] != _party_id(named) for p in parties):
        parties.append(_supplier_party(named, Procedure(lot.procedure) in SALES))
    if documents:
        target["documents"] = documents
    if amendment is not None:
        holder = release["contracts"][0] if stage is _A.PERFORMANCE else target
        holder["amendments"] = [amendment]
    return release


def _contract_change(
    contract: dict[str, Any], ann: Announcement, made: Contract, outcome: _Outcome, date: str, release_id: str
) -> None:
    """A 合同变更公告 amends the contract (value after it); a 合同终止公告 closes it."""
    change = outcome.changes.get(ann.id)
    if change is not None:
        contract["value"] = _value(change.after_fen)
        contract["amendments"] = [
            {
                "id": f"{contract['id']}-change-{change.seq}",
                "date": date,
                "rationale": f"{change.rationale}（{change.basis}）",
                "description": ann.title,
                "releaseID": release_id,
            }
        ]
    elif made.termination_announcement_id == ann.id:
        contract["status"] = "terminated"


def _implementation(
    target: dict[str, Any], ann: Announcement, made: Contract, outcome: _Outcome, page: _Page, process: _Process
) -> None:
    """What the performance record makes public: the payments recorded by then (transactions) and the acceptance
    (验收) as a delivery milestone."""
    assert ann.published_at is not None
    supplier = page.orgs.get(made.organisation_id)
    buyer = page.orgs.get(process.project.tenderer_id)
    selling = Procedure(process.lot.procedure) in SALES
    payer, payee = (supplier, buyer) if selling else (buyer, supplier)
    transactions = []
    for pay in outcome.payments:
        if pay.recorded_at > ann.published_at:
            continue
        item: dict[str, Any] = {
            "id": f"{process.lot.trade_code}-payment-{pay.id}",
            "date": _when(datetime.combine(pay.paid_on, datetime.min.time(), SHANGHAI)),
            "value": _value(pay.amount_fen),
        }
        if payer is not None:
            item["payer"] = {"id": _party_id(payer), "name": payer.name}
        if payee is not None:
            item["payee"] = {"id": _party_id(payee), "name": payee.name}
        transactions.append(item)
    if transactions:
        target["transactions"] = transactions
    if made.accepted_on is not None and made.accepted_at is not None and made.accepted_at <= ann.published_at:
        target["milestones"] = [
            {
                "id": f"{process.lot.trade_code}-acceptance",
                "title": "履约验收",
                "type": "delivery",
                "status": "met" if made.acceptance_passed else "notMet",
                "dateMet": _when(datetime.combine(made.accepted_on, datetime.min.time(), SHANGHAI)),
            }
        ]


def _releases(process: _Process, page: _Page, prefix: str) -> list[dict[str, Any]]:
    progress = _Progress()
    return [_release(process, ann, page, prefix, progress) for ann in process.announcements]


# ---------------------------------------------------------------- merging (OCDS 1.1 merge rules)


def _is_identified(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(i, dict) and "id" in i for i in items)


def _merge_into(target: dict[str, Any], source: Mapping[str, Any]) -> None:
    for key, value in source.items():
        if value is None:  # a null removes the field
            target.pop(key, None)
        elif isinstance(value, dict):
            current = target.get(key)
            if not isinstance(current, dict):
                current = target[key] = {}
            _merge_into(current, value)
        elif isinstance(value, list) and key not in _WHOLE_LIST_MERGE and _is_identified(value):
            current = target.get(key)
            if not (isinstance(current, list) and _is_identified(current)):
                current = target[key] = []
            by_id = {item["id"]: item for item in current}
            for item in value:
                existing = by_id.get(item["id"])
                if existing is None:
                    existing = by_id[item["id"]] = {}
                    current.append(existing)
                _merge_into(existing, item)
        else:
            target[key] = json.loads(json.dumps(value)) if isinstance(value, list) else value


def compile_releases(releases: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The compiled release: releases merged in date order (ties in the order given), the latest value winning.

    Objects merge field by field, a null removes a field, arrays of objects that all have an `id`
    merge by id (except wholeListMerge fields), other arrays are replaced; `id`, `date` and `tag`
    are not merged: the result has tag ["compiled"], the latest date and id `{ocid}-{date}`.
    """
    if not releases:
        raise ValueError("nothing to compile")
    ordered = sorted(releases, key=lambda r: datetime.fromisoformat(r["date"]))
    compiled: dict[str, Any] = {}
    for release in ordered:
        _merge_into(compiled, {k: v for k, v in release.items() if k not in _OMIT_WHEN_MERGED})
    last = ordered[-1]
    return {
        "ocid": last["ocid"],
        "id": f"{last['ocid']}-{last['date']}",
        "date": last["date"],
        "tag": ["compiled"],
        **{k: v for k, v in compiled.items() if k != "ocid"},
    }


# ---------------------------------------------------------------- public entry points


async def _process_releases(lot_id: int, prefix: str) -> list[dict[str, Any]]:
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None:
        raise NotFound()
    page = await _load([lot])
    if not page.processes[0].announcements:
        raise NotFound()
    return _releases(page.processes[0], page, prefix)


async def releases(lot_id: int, prefix: str = PLACEHOLDER_PREFIX) -> list[dict[str, Any]]:
    """One OCDS 1.1 release per published announcement of the lot (and of its project), in publication order.

    A lot with nothing published is not public: NotFound.
    """
    return await _process_releases(lot_id, prefix)


def _record(process_releases: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "ocid": process_releases[0]["ocid"],
        "releases": process_releases,
        "compiledRelease": compile_releases(process_releases),
    }


async def record(lot_id: int, prefix: str = PLACEHOLDER_PREFIX) -> dict[str, Any]:
    """The OCDS record of a lot: its releases embedded, and their compiled release."""
    return _record(await _process_releases(lot_id, prefix))


async def export_all(prefix: str, write: Callable[[dict[str, Any]], None], page_size: int = PAGE_SIZE) -> int:
    """Writes the record of every lot with a published announcement, by lot id, a page of lots at a time.

    Memory stays bounded by the page: each page is read with a fixed number of queries. Returns the
    number of records written.
    """
    written = 0
    last_id = 0
    while True:
        lots = await Lot.filter(id__gt=last_id).order_by("id").limit(page_size)
        if not lots:
            return written
        last_id = lots[-1].id
        page = await _load(lots)
        for process in page.processes:
            if process.announcements:
                write(_record(_releases(process, page, prefix)))
                written += 1


def jsonl_writer(stream: IO[str]) -> Callable[[dict[str, Any]], None]:
    """A `write` for export_all: one record per line (JSON Lines), UTF-8 text as is."""

    def write(item: dict[str, Any]) -> None:
        stream.write(json.dumps(item, ensure_ascii=False, separators=(",", ":")))
        stream.write("\n")

    return write
