"""Sequential award (招标投标法实施条例 第五十五条): when the winner declines (放弃中标), cannot perform for force
majeure, does not sign the contract in time or hand in its performance security, or is found to have broken the
law (a complaint upheld) or is under joint credit punishment, its award is withdrawn on that ground, on the
record; the tenderer then awards the next candidate in the committee's rank order, with a new result notice
(中标结果公告), the award notice to the new winner and result notices to the others, and a new 30-day contract
deadline. When no candidate remains the lot fails (流标) at once: its deposits and guarantees are let go by the
lot's result (domain/deposits, domain/guarantees), and the tenderer re-tenders or cancels (cancellation.py).

The withdrawn winner's own security is not let go by the withdrawal: the tenderer may claim it where 第七十四条
says so (guarantee claim, deposit kept by an operator); otherwise it goes with the lot's result like everyone's.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.access import scope
from domain.common import clock, events
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import InvalidInput, InvalidTransition, NotFound, raises, required_text
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.queries import column
from domain.common.storage import lock
from domain.credit import services as credit
from domain.publication.announcements import announce
from domain.publication.models import Lot, Project
from domain.publication.projects import managed_project, move_lot
from domain.publication.states import AnnouncementType, LotStatus
from domain.results import services as results
from domain.results.errors import (
    AwardStands,
    CandidateNotNext,
    CandidatesMissing,
    CandidateWithdrawn,
    WithdrawalUnfounded,
)
from domain.results.models import Award, AwardWithdrawal, Candidate
from domain.results.states import CONTRACT_DAYS, TABLE, WITHDRAWAL_GROUNDS, AwardStatus, WithdrawalReason

MAX_DETAIL = 2000

# (lot id, complaint id or None) -> whether a complaint on the lot (that one) was upheld; complaints sits above
# results in the layers and plugs it in at domain/wiring
UpheldCheck = Callable[[int, int | None], Awaitable[bool]]
_upheld_checks: list[UpheldCheck] = []


def plug_upheld(check: UpheldCheck) -> None:
    _upheld_checks[:] = [check]


@dataclass(frozen=True, kw_only=True)
class AwardWithdrawn(DomainEvent):
    """To the withdrawn winner, the tenderer (and its agency) and the keepers: the award left its winner; `failed`
    when no candidate remains."""

    type = "result.award_withdrawn"
    object_type = "Award"
    lot_id: int
    organisation_id: int
    rank: int
    reason: str
    basis: str
    failed: bool


def _next_rank(candidates: list[Candidate], withdrawn: set[int]) -> int | None:
    return next((c.rank for c in candidates if c.rank not in withdrawn), None)


async def _withdrawn_ranks(lot_id: int) -> set[int]:
    return set(await column(AwardWithdrawal.filter(lot_id=lot_id).values_list("rank", flat=True), int))


async def _upheld(lot_id: int, complaint_id: int | None) -> bool:
    return bool(_upheld_checks) and await _upheld_checks[0](lot_id, complaint_id)


@raises(WithdrawalUnfounded)
@use_case("result.withdraw", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def withdraw(
    actor: Actor,
    lot_id: int,
    reason: str,
    detail: str,
    complaint_id: int | None = None,
    idempotency_key: str | None = None,
) -> Award:
    """The award leaves its winner on a ground of 实施条例 第五十五条, checked against the record (the winner itself
    may only decline or invoke force majeure); with no candidate left the lot fails at once. Audited, notified."""
    try:
        ground = WithdrawalReason(reason)
    except ValueError:
        raise InvalidInput(field="reason") from None
    text = required_text(detail, "detail", MAX_DETAIL)
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None:
        raise NotFound()
    current = await Award.get_or_none(lot_id=lot_id)
    by_winner = current is not None and actor.org_id is not None and actor.org_id == current.organisation_id
    project = await Project.get(id=lot.project_id) if by_winner else await managed_project(actor, lot.project_id)
    if current is None:
        raise InvalidTransition(state=lot.status)
    request = {"lot": lot_id, "reason": ground.value, "detail": text, "complaint": complaint_id}

    async def change() -> dict[str, Any]:
        locked = await lock(Lot.filter(id=lot_id)).get()
        made = await lock(Award.filter(lot_id=lot_id)).get()
        facts = {
            "lot_status": locked.status,
            "open": made.contract_recorded_at is None,
            "reason": ground.value,
            "by_winner": by_winner and made.organisation_id == actor.org_id,
            "overdue": made.contract_overdue_at is not None,
            "upheld": ground is WithdrawalReason.COMPLAINT_UPHELD and await _upheld(lot_id, complaint_id),
            "punished": ground is WithdrawalReason.CREDIT_BLOCKED and await credit.is_punished(made.organisation_id),
        }
        if made.candidate_id is None:  # an auction's or listing's winner: no ranked candidate to move on to
            raise InvalidTransition(state=made.status)
        status = TABLE.fire(made.status, "withdraw", by=actor, **facts)
        await _leave(actor, project, made, status, ground, text, complaint_id)
        return {"award_id": made.id}

    result, _ = await run_once(actor, idempotency_key, "result.withdraw", request, change)
    return await Award.get(id=result["award_id"])


async def _leave(
    actor: Actor,
    project: Project,
    made: Award,
    status: AwardStatus,
    ground: WithdrawalReason,
    text: str,
    complaint_id: int | None,
) -> None:
    """The locked award leaves its winner (status: where the withdrawal step put it): on the record, the lot failed
    when no candidate remains, the event to the winner, the managers and the keepers."""
    lot_id = made.lot_id
    candidate = await Candidate.get(id=made.candidate_id)
    now = clock.now()
    row = await AwardWithdrawal.create(
        lot_id=lot_id,
        award_id=made.id,
        candidate_id=candidate.id,
        rank=candidate.rank,
        organisation_id=made.organisation_id,
        price_fen=made.price_fen,
        confirmation_no=made.confirmation_no,
        awarded_at=made.awarded_at,
        reason=ground.value,
        detail=text,
        complaint_id=complaint_id if ground is WithdrawalReason.COMPLAINT_UPHELD else None,
        withdrawn_by=actor.user_id,
        withdrawn_at=now,
    )
    withdrawn = await _withdrawn_ranks(lot_id)
    next_rank = _next_rank(await results._candidates(lot_id), withdrawn)
    failed = next_rank is None
    if failed:
        status = TABLE.fire(status, "fail", by=actor, next_rank=None)
        row.failed = True
        await row.save(update_fields=["failed"])
        await move_lot(actor, lot_id, {LotStatus.AWARDED}, LotStatus.FAILED)
    made.status, made.next_check_at, made.updated_at = status.value, None, now
    await made.save(update_fields=["status", "next_check_at", "updated_at"])
    await events.record(
        AwardWithdrawn(
            object_id=str(made.id),
            lot_id=lot_id,
            organisation_id=row.organisation_id,
            rank=row.rank,
            reason=ground.value,
            basis=WITHDRAWAL_GROUNDS[ground].basis,
            failed=failed,
            audience=Audience(orgs=(row.organisation_id, *results._managers(project)), roles=results.KEEPERS),
        ),
        actor,
    )


async def withdraw_overdue(made: Award, now: datetime) -> None:
    """Chronograph step (from results.flag_contract_overdue, the award locked): the lot's grace after the overdue
    flag passed with no contract, so the system withdraws the award on the ground contract_not_signed
    (招标投标法 第四十六条, 实施条例 第五十五条、第七十四条); the tenderer then awards the next candidate, or the lot
    fails when none remains. An auction's or listing's award (no ranked candidate) stays flagged."""
    if made.candidate_id is None:
        made.next_check_at = None
        await made.save(update_fields=["next_check_at"])
        return
    lot = await lock(Lot.filter(id=made.lot_id)).get()
    project = await Project.get(id=lot.project_id)
    grace = int(lot.config.get("contract_grace_days") or 0)
    facts = {
        "now": now,
        "contract_overdue_at": made.contract_overdue_at,
        "grace_days": grace,
        "lot_status": lot.status,
        "open": made.contract_recorded_at is None,
        "half_signed": await results.half_signed_contract(made),
    }
    status = TABLE.fire(made.status, "withdraw_overdue", by=SYSTEM, **facts)
    text = (
        f"中标人自中标通知书发出之日起 {CONTRACT_DAYS} 日内及其后 {grace} 日宽限期内未订立书面合同，"
        "平台依规则撤销其中标资格"
    )
    await _leave(SYSTEM, project, made, status, WithdrawalReason.CONTRACT_NOT_SIGNED, text, None)


@raises(AwardStands, CandidateWithdrawn, CandidateNotNext, CandidatesMissing)
@use_case("result.award_next", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def award_next(
    actor: Actor, lot_id: int, candidate_rank: int | None = None, idempotency_key: str | None = None
) -> Award:
    """Awards the next candidate in rank order once the award was withdrawn (a named candidate must be that
    one): a new result notice citing the withdrawal, the award and result notices, a new 30-day deadline."""
    await results._managed_lot(actor, lot_id)
    chosen: Candidate | None = None
    if candidate_rank is not None:
        chosen = await Candidate.get_or_none(rank=candidate_rank, lot_id=lot_id)
        if chosen is None:
            raise InvalidInput(field="candidateRank")
    request = {"lot": lot_id, "candidate": candidate_rank}

    async def decide() -> dict[str, Any]:
        locked = await lock(Lot.filter(id=lot_id)).get()
        made = await lock(Award.filter(lot_id=lot_id)).first()
        if made is None:
            raise InvalidTransition(state=locked.status)
        candidates = await results._candidates(lot_id)
        withdrawn = await _withdrawn_ranks(lot_id)
        next_rank = _next_rank(candidates, withdrawn)
        facts = {
            "lot_status": locked.status,
            "chosen_rank": chosen.rank if chosen else None,
            "withdrawn_ranks": withdrawn,
            "next_rank": next_rank,
        }
        status = TABLE.fire(made.status, "award_next", by=actor, **facts)
        winner = next(c for c in candidates if c.rank == next_rank)
        last = await AwardWithdrawal.filter(lot_id=lot_id).order_by("-id").first()
        assert last is not None  # the award is withdrawn
        names = await results._names([winner.organisation_id, last.organisation_id])
        winner_name = names.get(winner.organisation_id, "")
        now = clock.now()
        due = now + timedelta(days=CONTRACT_DAYS)
        confirmation_no = f"CJ{locked.trade_code}-{winner.rank}"
        ground = WITHDRAWAL_GROUNDS[WithdrawalReason(last.reason)]
        body = (
            f"<p>{html.escape(locked.name)}（交易标识码 {locked.trade_code}）原中标人"
            f"{html.escape(names.get(last.organisation_id, ''))}（排名第 {last.rank} 名）因{ground.zh}，"
            f"不再作为中标人（{ground.basis}）。</p>"
            f"<p>招标人按照评标委员会提出的中标候选人名单排序，依法确定排名第 {winner.rank} 名的中标候选人为中标人"
            "（《招标投标法实施条例》第五十五条）：</p>"
            f"<p>中标人：{html.escape(winner_name)}；中标价：人民币 {results._yuan(winner.price_fen)} 元。</p>"
            f"<p>成交确认书编号：{confirmation_no}。</p>"
            f"<p>招标人与中标人应当自中标通知书发出之日起 {CONTRACT_DAYS} 日内订立书面合同。</p>"
        )
        ann = await announce(actor, locked, AnnouncementType.RESULT, f"{locked.name}中标结果公告（依次确定）", body)
        made.candidate_id, made.organisation_id, made.price_fen = winner.id, winner.organisation_id, winner.price_fen
        made.confirmation_no, made.status = confirmation_no, status.value
        made.awarded_by, made.awarded_at, made.confirmed_by, made.confirmed_at = actor.user_id, now, None, None
        made.contract_due_at, made.contract_overdue_at, made.next_check_at, made.updated_at = due, None, due, now
        await made.save()
        last.next_announcement_id = ann.id
        await last.save(update_fields=["next_announcement_id"])
        await events.record(
            results.LotAwarded(
                object_id=str(made.id),
                lot_id=lot_id,
                organisation_id=winner.organisation_id,
                price_fen=winner.price_fen,
                confirmation_no=confirmation_no,
                announcement_id=ann.id,
                contract_due_at=due,
                audience=Audience(orgs=(winner.organisation_id,), roles=results.KEEPERS),
            ),
            actor,
        )
        # the non-candidates' security went at the first award, the candidates' (this winner's too) stays until the
        # contract; a withdrawn winner's stays until the lot's result, so that
        # the tenderer may claim it where 第七十四条 says so (a guarantee claim, a deposit kept by an operator)
        await results.notify_others(actor, made, candidates, winner_name, release=False)
        return {"award_id": made.id}

    result, _ = await run_once(actor, idempotency_key, "result.award_next", request, decide)
    return await Award.get(id=result["award_id"])


@dataclass(frozen=True, slots=True)
class WithdrawalLine:
    withdrawal: AwardWithdrawal
    bidder: str
    ground_zh: str
    basis: str


async def withdrawals_of(actor: Actor, lot_id: int) -> list[WithdrawalLine]:
    """The winners that left the lot's award, oldest first: public like the result notices that name them; the
    free-text detail only for the lot's keepers and the withdrawn winner (the caller filters it)."""
    rows = list(await AwardWithdrawal.filter(lot_id=lot_id).order_by("id"))
    names = await results._names([r.organisation_id for r in rows])
    return [
        WithdrawalLine(
            r,
            names.get(r.organisation_id, ""),
            WITHDRAWAL_GROUNDS[WithdrawalReason(r.reason)].zh,
            WITHDRAWAL_GROUNDS[WithdrawalReason(r.reason)].basis,
        )
        for r in rows
    ]


async def sees_detail(actor: Actor, lot_id: int, organisation_id: int) -> bool:
    """The lot's keepers (its tenderer, agency, operators, supervisors of its category) and the winner itself."""
    if actor.org_id is not None and actor.org_id == organisation_id:
        return True
    if actor.has(Role.OPERATOR) or await scope.keeps_lot(actor, lot_id):
        return True
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None or actor.org_id is None:
        return False
    project = await Project.get(id=lot.project_id)
    return actor.org_id in results._managers(project)
