"""Lots brought to their results: the committee's candidates written straight after a real opening (as
domain/evaluation/scoring writes them with its report), with security in place for the bidders where a
test needs deposits and guarantees to follow the result."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.common import clock
from domain.common.clock import ManualClock
from domain.deposits import services as deposits
from domain.deposits.models import DepositAccount
from domain.guarantees.models import Guarantee
from domain.publication.models import Lot, Project
from domain.registration.models import Registration
from domain.results.models import Candidate
from domain.tendering.models import SealedBid
from tests.domain.factories import organisation
from tests.support.tendering import Tender, evaluating_tender


async def make_candidates(lot_id: int, n: int = 3, scores: list[int | None] | None = None) -> list[Candidate]:
    """Up to n candidates among the decrypted bids, lowest price first (ties: the earlier bid)."""
    bids = await SealedBid.filter(lot_id=lot_id, status="decrypted").order_by("price_fen", "id")
    made = []
    for rank, bid in enumerate(bids[:n], start=1):
        made.append(
            await Candidate.create(
                lot_id=lot_id,
                rank=rank,
                organisation_id=bid.organisation_id,
                sealed_bid_id=bid.id,
                price_fen=int(bid.price_fen or 0),
                score_centi=scores[rank - 1] if scores else None,
                created_at=clock.now(),
            )
        )
    return made


async def evaluated_lot(
    manual_clock: ManualClock,
    prices: list[int],
    *,
    decrypted: int | None = None,
    scores: list[int | None] | None = None,
    config: dict[str, Any] | None = None,
) -> tuple[Tender, list[Candidate]]:
    """An EVALUATING tender whose committee reported: one bidder per price, candidates by price."""
    tender = await evaluating_tender(manual_clock, prices, decrypted=decrypted, committee_size=5, config=config)
    return tender, await make_candidates(tender.lot.id, scores=scores)


async def pay_deposits(lot_id: int) -> list[DepositAccount]:
    """Every registration of the lot gets a paid deposit account (as the bank's callback would leave it)."""
    lot = await Lot.get(id=lot_id)
    paid = []
    for reg in await Registration.filter(lot_id=lot_id).order_by("id"):
        account = await deposits.open_account(reg, lot)
        account.status, account.paid_fen, account.paid_at = "paid", account.amount_due_fen or 1, clock.now()
        await account.save()
        paid.append(account)
    return paid


async def issue_guarantees(lot_id: int) -> list[Guarantee]:
    """Every registration of the lot gets an issued guarantee (as the guarantor's letter would leave it)."""
    lot = await Lot.get(id=lot_id)
    project = await Project.get(id=lot.project_id)
    guarantor = await organisation(kinds=["guarantor"])
    now = clock.now()
    made = []
    for reg in await Registration.filter(lot_id=lot_id).order_by("id"):
        made.append(
            await Guarantee.create(
                lot_id=lot_id,
                registration_id=reg.id,
                applicant_id=reg.organisation_id,
                guarantor_id=guarantor.id,
                beneficiary_id=project.tenderer_id,
                amount_fen=1_000_00,
                valid_until=now + timedelta(days=180),
                status="issued",
                letter_no=f"BH-{lot_id}-{reg.id}",
                applied_by=0,
                applied_at=now,
                decided_at=now,
                next_check_at=now + timedelta(days=180),
                created_at=now,
                updated_at=now,
            )
        )
    return made
