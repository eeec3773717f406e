"""Why a ranked candidate's security is still held after the award, and until when (for the bidder's deposit and
guarantee views).

At a tender's award only the security of the bidders that are no ranked candidate is let go; the winner's and the
other candidates' stay, since the award may pass to the next candidate in rank (招标投标法实施条例 第五十五条), until
the contract is signed, and are then due back within 5 days (第五十七条); a failure or cancellation of the lot lets
them go too (services.notify_others, deposits.refund_all_but, guarantees.release_all_but).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.deposits.services import REFUND_DAYS
from domain.publication.models import Lot
from domain.publication.states import LotStatus
from domain.results.models import Award, AwardWithdrawal, Candidate

RULE_ZH = (
    "作为中标候选人，投标保证金（保函）保留至合同签订；合同签订后 {days} 日内退还（解除），标段流标或终止时随之退还"
)
RULE_EN = (
    "Held as a ranked candidate until the contract is signed; due back (released) within {days} days after it, or "
    "when the lot fails or is cancelled"
)


@dataclass(frozen=True, slots=True)
class CandidateHold:
    """A ranked candidate's security held after the award: its rank, the winner's contract deadline, and by when the
    security is due back at the latest if the contract is signed on that deadline."""

    rank: int
    winner: bool
    contract_due_at: datetime
    release_due_by: datetime

    def rule(self, locale: str = "zh") -> str:
        return (RULE_EN if locale.startswith("en") else RULE_ZH).format(days=REFUND_DAYS)


async def candidate_hold(lot_id: int, org_id: int) -> CandidateHold | None:
    """The hold on the organisation's security as a ranked candidate of an awarded lot whose contract is not yet
    signed; None when it is no candidate (a withdrawn winner included) or the lot is past that point (the security is
    then due back by rule)."""
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None or lot.status != LotStatus.AWARDED.value:
        return None
    award = await Award.get_or_none(lot_id=lot_id)
    ranked = await Candidate.filter(lot_id=lot_id, organisation_id=org_id).order_by("rank").first()
    if award is None or ranked is None or award.contract_recorded_at is not None:
        return None
    if await AwardWithdrawal.filter(lot_id=lot_id, organisation_id=org_id).exists():
        return None  # a winner whose award was withdrawn is no candidate any more: its security waits on other grounds
    return CandidateHold(
        rank=ranked.rank,
        winner=award.organisation_id == org_id,
        contract_due_at=award.contract_due_at,
        release_due_by=award.contract_due_at + timedelta(days=REFUND_DAYS),
    )
