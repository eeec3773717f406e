"""After the evaluation: candidate publicity, the award, its confirmation, the contract and performance records.

The committee's report leaves up to three ranked candidates on an EVALUATING lot. The tenderer (or its
agency) publishes them (中标候选人公示) for the lot's candidate_publicity_days; only when that window has
ended on server time, and nothing pauses the lot (an objection still unanswered, later a complaint),
may it award the lot to the first candidate: the result announcement (中标结果公告) names the winner, the
price and the confirmation number (成交确认书), the winner gets its award notice (中标通知书) and every
other bidder with a valid bid its result notice; the deposits and guarantees of the bidders that are no ranked
candidate are let go at once, the other candidates' stay (for a sequential award, sequence.py) until the contract.
The winner acknowledges the confirmation; the contract must be recorded within 30 days of the award
(the chronograph flags it to the tenderer and the supervisors when it is not), which publishes the
contract announcement and lets the winner's and the candidates' security go too, due back within 5 days (实施条例
第五十七条; the deposits and guarantees consumers of the lot's status);
the performance record (履约信息) completes the lot.

Every step runs in one transaction with its announcement and its events, takes an idempotency key
where a retry could act twice, and refuses with a typed error otherwise.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.expressions import Q

from domain.access import scope
from domain.accounts.models import Organisation
from domain.common import clock, events
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.models import OutboxEvent
from domain.common.money import Money
from domain.common.queries import column
from domain.common.storage import lock
from domain.deposits import services as deposits
from domain.guarantees import release as guarantee_release
from domain.publication.announcements import announce
from domain.publication.models import Announcement, Lot, Project
from domain.publication.procedures import SALES, Procedure
from domain.publication.projects import managed_project
from domain.publication.states import AnnouncementStatus, AnnouncementType, LotStatus
from domain.results.errors import AlreadyConfirmed as AlreadyConfirmed
from domain.results.errors import CandidatesMissing as CandidatesMissing
from domain.results.errors import ContractAmountMismatch as ContractAmountMismatch
from domain.results.errors import LotPaused as LotPaused
from domain.results.errors import PublicityNotOver as PublicityNotOver
from domain.results.finality import EvaluationReportNotFinal, ensure_report_final
from domain.results.models import Award, Candidate, Contract
from domain.results.states import CONTRACT, PUBLICITY, TABLE, ContractStatus
from domain.results.states import CONTRACT_DAYS as CONTRACT_DAYS
from domain.results.states import AwardStatus as AwardStatus
from domain.tendering.models import Opening, OpeningObjection, SealedBid
from domain.tendering.services import BidStatus

MAX_PRICE_FEN = 10**15
MAX_SUMMARY = 2000
KEEPERS = (Role.OPERATOR.value, Role.SUPERVISOR.value)
# bids that took part in the opening: their bidders hear of the publicity
_BIDDING = (BidStatus.DECRYPTED.value, BidStatus.INVALID.value, BidStatus.PLATFORM_FAULT.value)
_EVENT_NAMESPACE = uuid.UUID("8d3c2f0e-61a4-4b7e-9c25-0f4e7a1b9d36")


# ---------------------------------------------------------------- what pauses an award


@dataclass(frozen=True, slots=True)
class Pause:
    """Why a lot may not be awarded now: a stable key and the words for people."""

    reason: str
    zh: str
    en: str


AwardBlocker = Callable[[int], Awaitable[Pause | str | None]]
_blockers: list[AwardBlocker] = []


def register_award_blocker(fn: AwardBlocker) -> AwardBlocker:
    """Adds a check run before every award: fn(lot_id) returns why the lot is paused, or None.
    Usable as a decorator; registering the same function twice keeps one."""
    if fn not in _blockers:
        _blockers.append(fn)
    return fn


def unregister_award_blocker(fn: AwardBlocker) -> None:
    """Removes a check added by register_award_blocker (nothing when it is not there)."""
    if fn in _blockers:
        _blockers.remove(fn)


async def pause_of(lot_id: int) -> Pause | None:
    """The first reason that pauses the lot's award, or None."""
    for blocker in list(_blockers):
        found = await blocker(lot_id)
        if found:
            return found if isinstance(found, Pause) else Pause(reason=found, zh=found, en=found)
    return None


async def unanswered_opening_objection(lot_id: int) -> Pause | None:
    """招标投标法实施条例 第四十四条、第五十四条: an objection is answered before the tender goes on."""
    opening = await Opening.get_or_none(lot_id=lot_id)
    if opening is None:
        return None
    waiting = await OpeningObjection.filter(opening_id=opening.id, answered_at__isnull=True).count()
    if not waiting:
        return None
    return Pause(
        reason="opening_objection_unanswered",
        zh=f"开标异议 {waiting} 件尚未答复",
        en=f"{waiting} objection(s) raised at the opening not answered yet",
    )


# ---------------------------------------------------------------- events


@dataclass(frozen=True, kw_only=True)
class CandidatesPublished(DomainEvent):
    """The candidate publicity is out: public, and each bidder of the lot is told."""

    type = "result.candidates_published"
    object_type = "Lot"
    lot_id: int
    announcement_id: int
    candidates: int
    publicity_ends_at: datetime


@dataclass(frozen=True, kw_only=True)
class LotAwarded(DomainEvent):
    """To the winner: the award notice (中标通知书)."""

    type = "result.awarded"
    object_type = "Award"
    lot_id: int
    organisation_id: int
    price_fen: int
    confirmation_no: str
    announcement_id: int
    contract_due_at: datetime


@dataclass(frozen=True, kw_only=True)
class LotNotAwarded(DomainEvent):
    """To one other bidder with a valid bid: the result notice (结果通知书)."""

    type = "result.not_awarded"
    object_type = "Award"
    lot_id: int
    organisation_id: int
    rank: int | None
    winner: str
    price_fen: int


@dataclass(frozen=True, kw_only=True)
class ResultConfirmed(DomainEvent):
    type = "result.confirmed"
    object_type = "Award"
    lot_id: int
    organisation_id: int
    confirmation_no: str
    confirmed_at: datetime


@dataclass(frozen=True, kw_only=True)
class ContractRecorded(DomainEvent):
    type = "result.contract_recorded"
    object_type = "Award"
    lot_id: int
    contract_no: str
    amount_fen: int
    signed_on: str
    announcement_id: int
    late: bool


@dataclass(frozen=True, kw_only=True)
class ContractOverdue(DomainEvent):
    """To the tenderer and the supervisors: no contract recorded within 30 days of the award."""

    type = "result.contract_overdue"
    object_type = "Award"
    lot_id: int
    organisation_id: int
    contract_due_at: datetime
    category: str


@dataclass(frozen=True, kw_only=True)
class PerformanceRecorded(DomainEvent):
    type = "result.performance_recorded"
    object_type = "Award"
    lot_id: int
    completed_on: str
    announcement_id: int


# ---------------------------------------------------------------- helpers


def _yuan(fen: int) -> str:
    return Money(fen).yuan_text()


def _when(at: datetime) -> str:
    return clock.to_shanghai(at).strftime("%Y年%m月%d日 %H:%M")


def _score(centi: int | None) -> str:
    return "—" if centi is None else f"{centi // 100}.{centi % 100:02d}"


def _managers(project: Project) -> tuple[int, ...]:
    return tuple(o for o in (project.tenderer_id, project.agency_id) if o)


async def _managed_lot(actor: Actor, lot_id: int) -> tuple[Lot, Project]:
    """A lot of a project the actor manages (tenderer, its agency, operator); else NotFound."""
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None:
        raise NotFound()
    return lot, await managed_project(actor, lot.project_id)


async def _published(lot_id: int, kind: AnnouncementType) -> Announcement | None:
    return (
        await Announcement.filter(lot_id=lot_id, type=kind.value, status=AnnouncementStatus.PUBLISHED.value)
        .order_by("-published_at")
        .first()
    )


async def _names(org_ids: list[int]) -> dict[int, str]:
    return {o.id: o.name for o in await Organisation.filter(id__in=org_ids)}


async def _candidates(lot_id: int) -> list[Candidate]:
    return list(await Candidate.filter(lot_id=lot_id).order_by("rank"))


def _today() -> date:
    return clock.today()


# ---------------------------------------------------------------- candidate publicity


@raises(CandidatesMissing, EvaluationReportNotFinal)
@use_case("result.publish_candidates", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def publish_candidates(actor: Actor, lot_id: int, idempotency_key: str | None = None) -> Announcement:
    """Publishes the candidate publicity (中标候选人公示) of an evaluated lot, once: rank, bidder, price and
    score of each candidate and the publicity period; the lot is then in publicity."""
    await _managed_lot(actor, lot_id)

    async def publish() -> dict[str, Any]:
        locked = await lock(Lot.filter(id=lot_id)).get()
        existing = await _published(lot_id, AnnouncementType.CANDIDATE_PUBLICITY)
        if existing is not None:
            return {"announcement_id": existing.id}
        PUBLICITY.fire(locked.status, "publish_candidates", by=actor, candidates=1)  # no query on a lot not evaluating
        candidates = await _candidates(lot_id)
        PUBLICITY.fire(locked.status, "publish_candidates", by=actor, candidates=len(candidates))
        await ensure_report_final(locked)  # 实施条例 第五十三条: the report signed by every member first
        names = await _names([c.organisation_id for c in candidates])
        now = clock.now()
        # 招标投标法实施条例 第五十四条: candidates publicised for at least 3 days (the lot's setting, bounded)
        days = int(locked.config["candidate_publicity_days"])
        rows = "".join(
            f"<tr><td>{c.rank}</td><td>{html.escape(names.get(c.organisation_id, ''))}</td>"
            f"<td>{_yuan(c.price_fen)}</td><td>{_score(c.score_centi)}</td></tr>"
            for c in candidates
        )
        body = (
            f"<p>{html.escape(locked.name)}（交易标识码 {locked.trade_code}）评标工作已经结束，"
            "根据评标委员会的评标报告，现将中标候选人公示如下：</p>"
            "<table><thead><tr><th>排名</th><th>中标候选人</th><th>投标报价（元）</th><th>评标得分</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            f"<p>公示期：{_when(now)}至{_when(now + timedelta(days=days))}（{days} 日）。</p>"
            "<p>投标人或者其他利害关系人对评标结果有异议的，应当在公示期间向招标人提出。</p>"
        )
        title = f"{locked.name}中标候选人公示"
        ann = await announce(actor, locked, AnnouncementType.CANDIDATE_PUBLICITY, title, body)
        assert ann.publicity_ends_at is not None  # set by publishing a candidate publicity
        await events.record(
            CandidatesPublished(
                object_id=str(lot_id),
                lot_id=lot_id,
                announcement_id=ann.id,
                candidates=len(candidates),
                publicity_ends_at=ann.publicity_ends_at,
                audience=Audience(public=True),
            ),
            actor,
        )
        return {"announcement_id": ann.id}

    result, _ = await run_once(actor, idempotency_key, "result.publish_candidates", {"lot": lot_id}, publish)
    return await Announcement.get(id=result["announcement_id"])


# ---------------------------------------------------------------- the award


@raises(PublicityNotOver, LotPaused, CandidatesMissing, EvaluationReportNotFinal)
@use_case("result.award", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def award(actor: Actor, lot_id: int, idempotency_key: str | None = None) -> Award:
    """Awards the lot to its first candidate once the publicity has ended on server time and nothing
    pauses it: result announcement, Award with its confirmation number, award and result notices, and
    the deposits and guarantees of the bidders that are no ranked candidate let go; all in one transaction."""
    await _managed_lot(actor, lot_id)

    async def decide() -> dict[str, Any]:
        lot = await lock(Lot.filter(id=lot_id)).get()
        facts: dict[str, Any] = {"lot_status": lot.status, "awarded": await Award.exists(lot_id=lot_id)}
        publicity = await _published(lot_id, AnnouncementType.CANDIDATE_PUBLICITY)
        now = clock.now()
        facts |= {"publicity_ends_at": publicity.publicity_ends_at if publicity else None, "now": now}
        TABLE.precheck("award", by=actor, **facts, pause=None, candidates=1)  # before the blockers' queries
        pause = await pause_of(lot_id)
        candidates = await _candidates(lot_id)
        awarded = TABLE.fire(None, "award", by=actor, **facts, pause=pause, candidates=len(candidates))
        await ensure_report_final(lot)
        # 第五十五条: the tenderer awards the candidate ranked first
        winner = candidates[0]
        project = await Project.get(id=lot.project_id)
        names = await _names([winner.organisation_id, project.tenderer_id])
        winner_name = names.get(winner.organisation_id, "")
        confirmation_no = f"CJ{lot.trade_code}"
        due = now + timedelta(days=CONTRACT_DAYS)
        body = (
            f"<p>{html.escape(lot.name)}（交易标识码 {lot.trade_code}）中标候选人公示期已满，"
            "招标人依法确定中标人如下：</p>"
            f"<p>中标人：{html.escape(winner_name)}；中标价：人民币 {_yuan(winner.price_fen)} 元。</p>"
            f"<p>成交确认书编号：{confirmation_no}。</p>"
            f"<p>招标人与中标人应当自中标通知书发出之日起 {CONTRACT_DAYS} 日内订立书面合同。</p>"
        )
        ann = await announce(actor, lot, AnnouncementType.RESULT, f"{lot.name}中标结果公告", body)
        made = await Award.create(
            lot_id=lot_id,
            candidate_id=winner.id,
            organisation_id=winner.organisation_id,
            price_fen=winner.price_fen,
            confirmation_no=confirmation_no,
            status=awarded.value,
            awarded_by=actor.user_id,
            awarded_at=now,
            contract_due_at=due,
            next_check_at=due,
            updated_at=now,
        )
        await events.record(
            LotAwarded(
                object_id=str(made.id),
                lot_id=lot_id,
                organisation_id=winner.organisation_id,
                price_fen=winner.price_fen,
                confirmation_no=confirmation_no,
                announcement_id=ann.id,
                contract_due_at=due,
                audience=Audience(orgs=(winner.organisation_id,), roles=KEEPERS),
            ),
            actor,
        )
        await notify_others(actor, made, candidates, winner_name)
        return {"award_id": made.id}

    result, _ = await run_once(actor, idempotency_key, "result.award", {"lot": lot_id}, decide)
    return await Award.get(id=result["award_id"])


async def notify_others(
    actor: Actor, made: Award, candidates: list[Candidate], winner_name: str, *, release: bool = True
) -> None:
    """The result notice to every other bidder with a valid bid; with `release`, the security of the bidders that are
    no ranked candidate is let go, the winner's and the other candidates' stays until the contract."""
    lot_id = made.lot_id
    ranks = {c.organisation_id: c.rank for c in candidates}
    others = await column(
        SealedBid.filter(lot_id=lot_id, status=BidStatus.DECRYPTED.value).values_list("organisation_id", flat=True),
        int,
    )
    for org_id in sorted({int(o) for o in others} - {made.organisation_id}):
        await events.record(
            LotNotAwarded(
                object_id=str(made.id),
                lot_id=lot_id,
                organisation_id=org_id,
                rank=ranks.get(org_id),
                winner=winner_name,
                price_fen=made.price_fen,
                audience=Audience(orgs=(org_id,), roles=()),
            ),
            actor,
        )
    if release:
        # 实施条例 第五十五条、第五十七条: the other ranked candidates may still be awarded in turn, so their security
        # stays, as the winner's, until the contract is signed (or the lot fails or is cancelled)
        ranked = [c.organisation_id for c in candidates]
        await deposits.refund_all_but(lot_id, made.organisation_id, keep_also=ranked)
        await guarantee_release.release_all_but(lot_id, made.organisation_id, keep_also=ranked)


@raises(AlreadyConfirmed)
@use_case("result.confirm", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def confirm(actor: Actor, lot_id: int, idempotency_key: str | None = None) -> Award:
    """The winner acknowledges the result confirmation (成交确认书), once."""
    if actor.org_id is None or actor.user_id is None:
        raise PermissionDenied()

    async def acknowledge() -> dict[str, Any]:
        made = await lock(Award.filter(lot_id=lot_id)).first()
        if made is None:
            raise NotFound()
        if made.organisation_id != actor.org_id:
            raise PermissionDenied()
        TABLE.precheck("confirm", by=actor, confirmed_at=made.confirmed_at)
        now = clock.now()
        made.confirmed_by, made.confirmed_at, made.updated_at = actor.user_id, now, now
        if TABLE.allows(made.status, "confirm", by=actor, confirmed_at=None):  # not once the contract is recorded
            made.status = TABLE.fire(made.status, "confirm", by=actor, confirmed_at=None).value
        await made.save()
        project = await Project.get(id=(await Lot.get(id=lot_id)).project_id)
        await events.record(
            ResultConfirmed(
                object_id=str(made.id),
                lot_id=lot_id,
                organisation_id=made.organisation_id,
                confirmation_no=made.confirmation_no,
                confirmed_at=now,
                audience=Audience(orgs=(made.organisation_id, *_managers(project)), roles=KEEPERS),
            ),
            actor,
        )
        return {"award_id": made.id}

    result, _ = await run_once(actor, idempotency_key, "result.confirm", {"lot": lot_id}, acknowledge)
    return await Award.get(id=result["award_id"])


# ---------------------------------------------------------------- contract and performance


async def conclude_contract(
    actor: Actor, lot: Lot, made: Award | None, number: str, amount_fen: int, signed_on: date
) -> Announcement:
    """In the caller's transaction, with the lot and award locked: the award is contracted and the contract
    announcement published (政府采购法实施条例 第五十条: within 2 working days of signing; here at once); the lot is
    contracted, so the winner's deposit falls due for refund within 5 days and its guarantee is released."""
    facts = {
        "lot_status": lot.status,
        "open": made is not None and made.contract_recorded_at is None,
        "day": signed_on,
        "today": _today(),
        "not_before": clock.to_shanghai(made.awarded_at).date() if made else None,
        "amount_fen": amount_fen,
        "price_fen": made.price_fen if made else 0,
    }
    TABLE.precheck("record_contract", by=actor, **facts)
    assert made is not None  # still_open
    contracted = TABLE.fire(made.status, "record_contract", by=actor, **facts)
    project = await Project.get(id=lot.project_id)
    names = await _names([made.organisation_id, project.tenderer_id])
    # a sale (挂牌, 拍卖): the transferor and the buyer (竞得人) sign the transfer contract
    selling = Procedure(lot.procedure) in SALES
    seller_side, buyer_side = ("出让人/转让方", "竞得人/受让方") if selling else ("采购人/招标人", "中标人")
    body = (
        f"<p>{html.escape(lot.name)}（交易标识码 {lot.trade_code}）合同已签订。</p>"
        f"<p>合同编号：{html.escape(number)}；{seller_side}：{html.escape(names.get(project.tenderer_id, ''))}；"
        f"{buyer_side}：{html.escape(names.get(made.organisation_id, ''))}；"
        f"合同金额：人民币 {_yuan(amount_fen)} 元；签订日期：{signed_on.isoformat()}。</p>"
        f"<p>成交确认书编号：{made.confirmation_no}。</p>"
    )
    ann = await announce(actor, lot, AnnouncementType.CONTRACT, f"{lot.name}合同公告", body)
    now = clock.now()
    made.contract_no, made.contract_amount_fen, made.contract_signed_on = number, amount_fen, signed_on
    made.contract_recorded_at, made.next_check_at, made.updated_at = now, None, now
    made.status = contracted.value
    await made.save()
    await events.record(
        ContractRecorded(
            object_id=str(made.id),
            lot_id=lot.id,
            contract_no=number,
            amount_fen=amount_fen,
            signed_on=signed_on.isoformat(),
            announcement_id=ann.id,
            late=made.contract_overdue_at is not None,
            audience=Audience(orgs=(made.organisation_id, *_managers(project)), roles=KEEPERS),
        ),
        actor,
    )
    return ann


def recorded_contract(made: Award, announcement_id: int, by: int | None) -> dict[str, Any]:
    """The fields of the contract object of a contract recorded by record_contract (as migration 0031 backfills)."""
    assert made.contract_no is not None
    assert made.contract_amount_fen is not None
    now = clock.now()
    return {
        "lot_id": made.lot_id,
        "award_id": made.id,
        "organisation_id": made.organisation_id,
        "contract_no": made.contract_no,
        "original_fen": made.contract_amount_fen,
        "amount_fen": made.contract_amount_fen,
        "document_ids": [],
        "documents_sha256": [],
        "status": ContractStatus.ACTIVE.value,
        "drafted_by": by,
        "drafted_at": made.contract_recorded_at or now,
        "signed_on": made.contract_signed_on,
        "announcement_id": announcement_id,
        "origin": "recorded",
        "updated_at": now,
    }


async def award_sale(lot: Lot, organisation_id: int, price_fen: int, confirmation_no: str) -> Award | None:
    """In the caller's transaction, with the result announcement of a sold online auction, reverse auction or listing:
    the award to its winner at the hammer price (no candidate ranking), so that the contract (政府采购合同; 国有建设用地
    使用权出让合同 after the 成交确认书; 产权交易合同) is drafted, signed by both parties and recorded as a tender's is,
    with the same 30-day deadline and overdue flag (政府采购法 第四十六条). Once per lot: None when awarded already."""
    if await Award.exists(lot_id=lot.id):
        return None
    now = clock.now()
    due = now + timedelta(days=CONTRACT_DAYS)
    return await Award.create(
        lot_id=lot.id,
        candidate_id=None,
        organisation_id=organisation_id,
        price_fen=price_fen,
        confirmation_no=confirmation_no,
        status=AwardStatus.AWARDED.value,
        awarded_by=None,
        awarded_at=now,
        contract_due_at=due,
        next_check_at=due,
        updated_at=now,
    )


@raises(ContractAmountMismatch)
@use_case("result.record_contract", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def record_contract(
    actor: Actor,
    lot_id: int,
    contract_no: str,
    amount_fen: int,
    signed_on: date,
    idempotency_key: str | None = None,
) -> Award:
    """Records a contract signed off the platform and publishes the contract announcement; the lot is contracted, so
    the winner's deposit falls due for refund within 5 days and its guarantee is released. It becomes the lot's
    contract (origin "recorded"), whose changes, acceptance and payments follow as a platform-signed one's."""
    number = required_text(contract_no, "contractNo", 64)
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or not 0 < amount_fen <= MAX_PRICE_FEN:
        raise InvalidInput(field="amountFen")
    await _managed_lot(actor, lot_id)
    request = {"lot": lot_id, "no": number, "amount": amount_fen, "signed_on": str(signed_on)}

    async def record() -> dict[str, Any]:
        lot = await lock(Lot.filter(id=lot_id)).get()
        made = await lock(Award.filter(lot_id=lot_id)).first()
        drafted = await Contract.get_or_none(lot_id=lot_id)
        if drafted is not None:  # a contract drafted on the platform is concluded by both signatures only
            raise InvalidTransition(state=drafted.status)
        ann = await conclude_contract(actor, lot, made, number, amount_fen, signed_on)
        assert made is not None  # conclude_contract refuses a lot without an award
        await Contract.create(**recorded_contract(made, ann.id, actor.user_id))
        return {"award_id": made.id}

    result, _ = await run_once(actor, idempotency_key, "result.record_contract", request, record)
    return await Award.get(id=result["award_id"])


@raises()
@use_case("result.record_performance", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def record_performance(
    actor: Actor, lot_id: int, summary: str, completed_on: date, idempotency_key: str | None = None
) -> Award:
    """Publishes the performance record (履约信息) of a contracted lot, once; the lot is completed."""
    text = required_text(summary, "summary", MAX_SUMMARY)
    await _managed_lot(actor, lot_id)
    request = {"lot": lot_id, "summary": text, "completed_on": str(completed_on)}

    async def record() -> dict[str, Any]:
        lot = await lock(Lot.filter(id=lot_id)).get()
        made = await lock(Award.filter(lot_id=lot_id)).first()
        facts = {
            "lot_status": lot.status,
            "open": made is not None and made.performance_recorded_at is None,
            "day": completed_on,
            "today": _today(),
            "not_before": made.contract_signed_on if made else None,
        }
        TABLE.precheck("record_performance", by=actor, **facts)
        assert made is not None  # still_open
        completed = TABLE.fire(made.status, "record_performance", by=actor, **facts)
        number = html.escape(made.contract_no or "")
        body = (
            f"<p>{html.escape(lot.name)}（交易标识码 {lot.trade_code}）合同（编号 {number}）"
            f"已于{completed_on.isoformat()}履行完毕。</p><p>{html.escape(text)}</p>"
        )
        ann = await announce(actor, lot, AnnouncementType.PERFORMANCE, f"{lot.name}履约信息", body)
        now = clock.now()
        made.performance_recorded_at, made.status, made.updated_at = now, completed.value, now
        await made.save()
        contract = await lock(Contract.filter(lot_id=lot_id)).first()
        if contract is not None and CONTRACT.allows(contract.status, "complete", by=actor):
            contract.status = CONTRACT.fire(contract.status, "complete", by=actor).value
            contract.updated_at = now
            await contract.save(update_fields=["status", "updated_at"])
        await events.record(
            PerformanceRecorded(
                object_id=str(made.id),
                lot_id=lot_id,
                completed_on=completed_on.isoformat(),
                announcement_id=ann.id,
                audience=Audience(public=True),
            ),
            actor,
        )
        return {"award_id": made.id}

    result, _ = await run_once(actor, idempotency_key, "result.record_performance", request, record)
    return await Award.get(id=result["award_id"])


# ---------------------------------------------------------------- the contract deadline


async def half_signed_contract(made: Award) -> bool:
    """Whether the award's winner has a contract on the lot that one party signed and the other not yet."""
    return await Contract.filter(
        Q(buyer_signed_at__isnull=False) | Q(supplier_signed_at__isnull=False),
        lot_id=made.lot_id,
        organisation_id=made.organisation_id,
        signed_on__isnull=True,
    ).exists()


async def flag_contract_overdue(made: Award, now: datetime) -> None:
    """Chronograph transition: no contract recorded by contract_due_at is flagged once, to the tenderer
    and the supervisors of the lot's category; where the lot set a grace (contract_grace_days), an award still
    without a contract that long after the flag is withdrawn by the system (sequence.withdraw_overdue), unless one
    party has signed the contract already: the system then leaves it alone (the other signature records the contract;
    the tenderer may still withdraw the flagged award itself)."""
    current = await lock(Award.filter(id=made.id)).get()
    due: datetime | None = None
    if current.contract_recorded_at is None:
        lot = await Lot.get(id=current.lot_id)
        grace = int(lot.config.get("contract_grace_days") or 0)
        half_signed = await half_signed_contract(current)
        facts = {
            "now": now,
            "contract_due_at": current.contract_due_at,
            "flagged": current.contract_overdue_at is not None,
            "contract_overdue_at": current.contract_overdue_at,
            "grace_days": grace,
            "lot_status": lot.status,
            "open": True,
            "half_signed": half_signed,
        }
        step = TABLE.due(current.status, **facts)
        if step is not None and step.name == "withdraw_overdue":
            from domain.results import sequence  # sequence builds on this module

            await sequence.withdraw_overdue(current, now)
            made.next_check_at = None
            return
        if step is None:
            due = current.contract_due_at  # not yet: look again then
            if current.contract_overdue_at is not None:  # flagged: look again when its grace ends, if it has one
                end = current.contract_overdue_at + timedelta(days=grace)
                waiting = current.status in (AwardStatus.AWARDED.value, AwardStatus.CONFIRMED.value)
                due = end if grace > 0 and waiting and end > now else None
        else:
            current.status = TABLE.fire(current.status, step.name, by=SYSTEM, **facts).value
            current.contract_overdue_at, current.updated_at = now, now
            due = now + timedelta(days=grace) if grace > 0 else None
            project = await Project.get(id=lot.project_id)
            event_id = uuid.uuid5(_EVENT_NAMESPACE, f"result.contract_overdue:{current.id}")
            if not await OutboxEvent.exists(event_id=event_id):
                await events.record(
                    ContractOverdue(
                        object_id=str(current.id),
                        lot_id=lot.id,
                        organisation_id=current.organisation_id,
                        contract_due_at=current.contract_due_at,
                        category=project.category,
                        audience=Audience(orgs=_managers(project), roles=KEEPERS),
                    ),
                    SYSTEM,
                    event_id=event_id,
                )
    current.next_check_at = due
    await current.save()
    made.next_check_at = due


# ---------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class CandidateLine:
    candidate: Candidate
    bidder: str


@dataclass(frozen=True, slots=True)
class Confirmation:
    """The result confirmation (成交确认书) as a document."""

    award: Award
    lot: Lot
    project: Project
    winner: str
    tenderer: str


@dataclass(frozen=True, slots=True)
class ResultView:
    lot: Lot
    publicity: Announcement | None
    candidates: list[CandidateLine]
    award: Award | None
    winner: str | None
    confirmation: Confirmation | None
    keeper: bool  # the caller sees the supervisory facts (contract overdue)


def _keeper(actor: Actor, project: Project) -> bool:
    """The tenderer (and its agency), operators, supervisors of the lot's category."""
    if scope.keeps_project(actor, project):
        return True
    return actor.org_id is not None and actor.org_id in _managers(project)


async def lot_result(actor: Actor, lot_id: int) -> ResultView:
    """A lot's results as the caller may see them: candidates once publicised (before, to its keepers),
    the award once announced, the confirmation to the winner and the keepers."""
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None or lot.status == LotStatus.DRAFT.value:
        raise NotFound()
    project = await Project.get(id=lot.project_id)
    keeper = _keeper(actor, project)
    publicity = await _published(lot_id, AnnouncementType.CANDIDATE_PUBLICITY)
    candidates = await _candidates(lot_id) if publicity is not None or keeper else []
    made = await Award.get_or_none(lot_id=lot_id)
    ids = [c.organisation_id for c in candidates] + ([made.organisation_id] if made else [])
    names = await _names([*ids, project.tenderer_id])
    confirmation = None
    if made is not None and (keeper or actor.org_id == made.organisation_id):
        confirmation = Confirmation(
            award=made,
            lot=lot,
            project=project,
            winner=names.get(made.organisation_id, ""),
            tenderer=names.get(project.tenderer_id, ""),
        )
    return ResultView(
        lot=lot,
        publicity=publicity,
        candidates=[CandidateLine(c, names.get(c.organisation_id, "")) for c in candidates],
        award=made,
        winner=names.get(made.organisation_id, "") if made else None,
        confirmation=confirmation,
        keeper=keeper,
    )


async def bidders_of(lot_id: int) -> list[int]:
    """Organisations whose bid took part in the lot's opening."""
    rows = await column(
        SealedBid.filter(lot_id=lot_id, status__in=_BIDDING).values_list("organisation_id", flat=True), int
    )
    return sorted({int(o) for o in rows})
