"""Sealed bids: submit, replace and withdraw until the deadline; a receipt for every submission.

The platform never holds a bid's key before the opening, so nothing it stores, logs, audits or
answers can reveal a price: it keeps the ciphertext, its SHA-256 and the server time. A bid needs
a standing registration and the lot's security in place; the bid deadline is judged on server time,
and a bid at or after it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.access import network
from domain.certificates import acts, signatures
from domain.certificates.errors import SIGNATURE_ERRORS, TwoFactorRequired
from domain.certificates.signatures import Signed
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import NotFound, PermissionDenied, raises
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock, lock_named, read_shared
from domain.publication.models import Lot
from domain.publication.procedures import SEALED, Procedure
from domain.publication.states import LotStatus
from domain.registration import commitments
from domain.registration import security as registration_security
from domain.registration import services as registration
from domain.registration.errors import CreditCommitmentRequired, CreditCommitmentStale
from domain.registration.errors import NotRegistered as NotRegistered
from domain.registration.security import GuaranteeValidityShortfall
from domain.tendering.errors import BidDeadlinePassed as BidDeadlinePassed
from domain.tendering.errors import NotSealedTender as NotSealedTender
from domain.tendering.errors import SecurityMissing as SecurityMissing
from domain.tendering.models import SealedBid
from domain.tendering.sealing import NotSealed, check_sealed
from domain.tendering.states import BID
from domain.tendering.states import BidStatus as BidStatus

# a bidder's bid before the deadline: sealed, or flagged by a change of the documents until it confirms it
STANDING = (BidStatus.SUBMITTED.value, BidStatus.UNCONFIRMED.value)


@dataclass(frozen=True, kw_only=True)
class SealedBidSubmitted(DomainEvent):
    """To the bidder only: the receipt. Never a price, never who else bid."""

    type = "sealed_bid.submitted"
    object_type = "SealedBid"
    lot_id: int
    sha256: str
    replaces: int | None


@dataclass(frozen=True, kw_only=True)
class SealedBidWithdrawn(DomainEvent):
    type = "sealed_bid.withdrawn"
    object_type = "SealedBid"
    lot_id: int
    sha256: str


def _deadline(lot: Lot) -> datetime | None:
    value = lot.config.get("bid_deadline")
    return datetime.fromisoformat(value) if value else None


async def _open_lot(actor: Actor, lot_id: int) -> Lot:
    if actor.user_id is None or actor.org_id is None or not actor.has(Role.BIDDER):
        raise PermissionDenied()
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None or lot.status == LotStatus.DRAFT.value:
        raise NotFound()
    if Procedure(lot.procedure) not in SEALED:
        raise NotSealedTender()
    return lot


def _times(lot: Lot, now: datetime) -> dict[str, Any]:
    return {"lot_status": lot.status, "now": now, "deadline": _deadline(lot)}


def check_bidder_authentication(actor: Actor, lot: Lot) -> None:
    """A lot may require bidders signed in with two factors (certificate plus SMS code)."""
    if lot.config.get("require_two_factor_for_bids") and not actor.two_factor:
        raise TwoFactorRequired()


@raises(
    NotSealed,
    BidDeadlinePassed,
    NotRegistered,
    CreditCommitmentRequired,
    CreditCommitmentStale,
    SecurityMissing,
    GuaranteeValidityShortfall,
    NotSealedTender,
    TwoFactorRequired,
    *SIGNATURE_ERRORS,
)
@use_case("sealed_bid.submit", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def submit(
    actor: Actor, lot_id: int, sealed: str, idempotency_key: str | None = None, signed: Signed | None = None
) -> SealedBid:
    """Stores a sealed bid (replacing the caller's previous one) and returns it as the receipt:
    the SHA-256 of the ciphertext and the server time; with the bidder's signature over it when given
    (required by a lot with require_signed_bids). A lot under 信用承诺制 needs the bid-stage credit commitment."""
    lot = await _open_lot(actor, lot_id)
    digest = check_sealed(sealed)
    check_bidder_authentication(actor, lot)
    verified = await signatures.check(
        actor, acts.bid_submit(lot.trade_code, sealed), signed, required=bool(lot.config.get("require_signed_bids"))
    )
    org_id, user_id = int(actor.org_id or 0), int(actor.user_id or 0)  # both checked by _open_lot
    written: list[SealedBid] = []  # the bid as the committed transaction left it, its lot in hand: the answer

    async def store() -> dict[str, Any]:
        written.clear()
        # the lot shared with the other bidders' submissions (a deadline move, the opening and every other change
        # of the lot wait for them all, and they for it), the bidder's own earlier bid by a lock of its own: one
        # submission per lot at a time made a deadline rush queue, and a queued bid was judged late by its wait
        # (the lot read with its lock, in one statement: held until the commit, it is the row a read after the
        # advisory lock would find)
        locked = await read_shared(Lot, lot.id)
        await lock_named(f"sealed_bid.submit:{lot.id}:{org_id}")
        now = clock.now()
        facts = _times(locked, now)
        BID.precheck("submit", by=actor, **facts, registered=True, security=True)  # no query once too late
        reg = await registration.active(lot.id, org_id)
        BID.precheck("submit", by=actor, **facts, registered=reg is not None, security=True)
        assert reg is not None
        await commitments.ensure_signed(locked.config, lot.id, org_id, commitments.BID)
        security = await registration.security_in_place(lot.id, org_id, now, lot=locked)  # not read again
        short = None if security else await registration_security.shortfall(lot.id, org_id, now)
        submitted = BID.fire(
            None, "submit", by=actor, **facts, registered=True, security=security, security_short=short
        )
        previous = await lock(SealedBid.filter(lot_id=lot.id, organisation_id=org_id, status__in=STANDING)).first()
        if previous is not None:
            previous.status, previous.ended_at = BID.fire(previous.status, "supersede", by=actor).value, now
            await previous.save()
        bid = await SealedBid.create(
            lot_id=lot.id,
            registration_id=reg.id,
            organisation_id=org_id,
            submitted_by=user_id,
            ciphertext=sealed,
            ciphertext_sha256=digest,
            size=len(sealed),
            status=submitted.value,
            submitted_at=now,
        )
        await network.record(actor, lot.id, "sealed_bid.submit")
        if verified is not None:
            await signatures.record(actor, verified, "SealedBid", bid.id, lot.id)
        await events.record(
            SealedBidSubmitted(
                object_id=str(bid.id),
                lot_id=lot.id,
                sha256=digest,
                replaces=previous.id if previous else None,
                audience=Audience(orgs=(org_id,), roles=()),
            ),
            actor,
        )
        bid.lot = locked  # the receipt's lot (receipts.content_of): the row read under the lock, not read again
        written.append(bid)
        return {"id": bid.id}

    request: dict[str, Any] = {"lot": lot.id, "sha256": digest}
    if verified is not None:
        request["signature"] = verified.signature
    result, replayed = await run_once(actor, idempotency_key, "sealed_bid.submit", request, store)
    if not replayed and written and written[-1].id == result["id"]:
        return written[-1]
    return await SealedBid.get(id=result["id"])  # a replay answers as the first request did: the row as it is now


@raises(BidDeadlinePassed, NotSealedTender)
@use_case("sealed_bid.withdraw", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def withdraw(actor: Actor, lot_id: int, idempotency_key: str | None = None) -> SealedBid:
    """Withdraws the caller's standing bid before the deadline."""
    lot = await _open_lot(actor, lot_id)
    org_id = actor.org_id

    async def change() -> dict[str, Any]:
        locked = await lock(Lot.filter(id=lot.id)).get()
        now = clock.now()
        facts = _times(locked, now)
        BID.precheck("withdraw", by=actor, **facts)
        bid = await lock(SealedBid.filter(lot_id=lot.id, organisation_id=org_id, status__in=STANDING)).first()
        if bid is None:
            raise NotFound()
        bid.status, bid.ended_at = BID.fire(bid.status, "withdraw", by=actor, **facts).value, now
        await bid.save()
        await events.record(
            SealedBidWithdrawn(
                object_id=str(bid.id),
                lot_id=lot.id,
                sha256=bid.ciphertext_sha256,
                audience=Audience(orgs=(org_id,) if org_id else (), roles=()),
            ),
            actor,
        )
        return {"id": bid.id}

    result, _ = await run_once(actor, idempotency_key, "sealed_bid.withdraw", {"lot": lot.id}, change)
    return await SealedBid.get(id=result["id"])


async def my_bids(actor: Actor, lot_id: int) -> list[SealedBid]:
    """The caller's submissions for a lot, newest first: receipts only."""
    if actor.org_id is None:
        raise PermissionDenied()
    return await SealedBid.filter(lot_id=lot_id, organisation_id=actor.org_id).order_by("-id")


async def standing_count(lot_id: int) -> int:
    """How many bids stand for the lot (one per bidder); what the deadline compares with min_bids."""
    return await SealedBid.filter(lot_id=lot_id, status=BidStatus.SUBMITTED.value).count()
