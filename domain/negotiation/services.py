"""Competitive negotiation (竞争性谈判) and consultation (竞争性磋商), from the opening to the candidates.

The suppliers' first responses are sealed bids opened at the remote opening (domain/tendering); the committee
is drawn as for a tender (domain/evaluation/draw.py). Then:

- the operator starts the negotiation: the panel is the drawn committee and the purchaser's representative (the
  tenderer's or its agency's users); the suppliers are those whose first response opened; round 1 is open;
- the panel negotiates with each supplier separately (政府采购法 第三十八条(四), 财政部令第74号 第三十一条): each
  document of a round is between the panel and one supplier, and no supplier ever reads another's (NotFound);
- the panel opens further rounds within the lot's negotiation_rounds_max, and after negotiation_rounds_min calls
  the final offers: every supplier seals one (最后报价, the sealed-bid format of domain/tendering/sealing.py) in the
  same window of final_offer_window_minutes (第三十三条; 财库〔2014〕214号 第二十一条); an offer outside it is
  FinalOfferOutsideWindow;
- when the window ends the suppliers hand their keys over for decryption_window_minutes; then the panel's experts
  hand in sheets (evaluation.scoring's sheets and ranking): lowest price for a negotiation (第三十五条), the
  comprehensive score for a consultation (214号 第二十三条、第二十四条: price score = lowest final offer / offer x
  price weight); the last sheet makes the report and up to three candidates (result_candidate, as the evaluation
  does), which domain/results publicises and awards. Too few final offers, or none compliant: the lot fails.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from domain.access import network, scope
from domain.accounts.models import User
from domain.certificates import acts, signatures
from domain.certificates.errors import SIGNATURE_ERRORS, TwoFactorRequired
from domain.certificates.signatures import Signed
from domain.common import clock, events
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import InvalidInput, NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, use_case
from domain.common.idempotency import run_once
from domain.common.queries import column
from domain.common.storage import lock
from domain.evaluation.draw import committee
from domain.evaluation.errors import CommitteeIncomplete, NotCommitteeMember, OpeningNotClosed
from domain.evaluation.errors import EvaluationFinished as EvaluationFinished
from domain.evaluation.errors import PointsOutOfRange as PointsOutOfRange
from domain.evaluation.errors import ReasonRequired as ReasonRequired
from domain.evaluation.errors import ScoreSheetMismatch as ScoreSheetMismatch
from domain.evaluation.models import ExpertDraw
from domain.evaluation.scoring import MAX_CANDIDATES, BidFacts, Judgement, check_sheet, rank
from domain.evaluation.states import DrawStatus
from domain.negotiation import events as ev
from domain.negotiation import files as negotiation_files
from domain.negotiation.errors import (
    FinalOfferOutsideWindow,
    FinalOffersNotCalled,
    NegotiationClosed,
    NegotiationNotStarted,
    NotNegotiated,
    NotNegotiating,
    NotOnPanel,
    NotPurchaserRepresentative,
    PanelComposition,
    PurchaserRecommendsTooMany,
    RoundClosed,
    RoundLimitReached,
    RoundsNotHeld,
    SupplierEliminated,
    TooFewInvited,
    TooFewSuppliers,
)
from domain.negotiation.models import (
    FinalOffer,
    Negotiation,
    NegotiationMessage,
    NegotiationScore,
    NegotiationSupplier,
)
from domain.negotiation.states import OFFER, TABLE, FinalOfferStatus, NegotiationStatus
from domain.publication import pauses
from domain.publication.announcements import announce
from domain.publication.errors import LotSuspended
from domain.publication.models import Lot, Project
from domain.publication.procedures import (
    NEGOTIATED,
    InvitationMethod,
    Procedure,
    evaluation_settings,
    invitation_rule,
    panel_rule,
)
from domain.publication.projects import ensure_not_suspended, move_lot
from domain.publication.states import LotStatus
from domain.registration.models import Invitation
from domain.results.models import Candidate
from domain.tendering.models import Opening, SealedBid
from domain.tendering.opening import DecryptionClosed, NoBidToDecrypt
from domain.tendering.sealing import BadBidDocument, CannotDecrypt, NotSealed, check_sealed, open_sealed
from domain.tendering.services import BidStatus, check_bidder_authentication

KEEPERS = (Role.OPERATOR.value, Role.SUPERVISOR.value)
MAX_REPRESENTATIVES = 10


class SupplierStatus:
    NEGOTIATING = "negotiating"
    ELIMINATED = "eliminated"


MAX_TEXT = 5000
MAX_DOCUMENTS = 50
MAX_PRICE_FEN = 10**15
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


# ---------------------------------------------------------------- who is who


async def _lot(lot_id: int) -> tuple[Lot, Project]:
    lot = await Lot.get_or_none(id=lot_id).prefetch_related("project")
    if lot is None or lot.status == LotStatus.DRAFT.value:
        raise NotFound()
    if Procedure(lot.procedure) not in NEGOTIATED:
        raise NotNegotiated()
    return lot, lot.project


def _managers(project: Project) -> tuple[int, ...]:
    return tuple(o for o in (project.tenderer_id, project.agency_id) if o)


def _represents_purchaser(actor: Actor, negotiation: Negotiation, project: Project) -> bool:
    """The purchaser's representative on the panel: a user of the tenderer named when the negotiation started."""
    return (
        actor.user_id is not None
        and actor.org_id is not None
        and actor.org_id == project.tenderer_id
        and actor.user_id in [int(u) for u in negotiation.representatives or []]
    )


def _expert_member(actor: Actor, negotiation: Negotiation) -> bool:
    return actor.expert_id is not None and actor.has(Role.EXPERT) and actor.expert_id in negotiation.committee


def on_panel(actor: Actor, negotiation: Negotiation, project: Project) -> bool:
    """财政部令第74号 第七条: the panel is the purchaser's representatives and the drawn experts."""
    return _represents_purchaser(actor, negotiation, project) or _expert_member(actor, negotiation)


def _supplier_of(actor: Actor, negotiation: Negotiation) -> int | None:
    """The caller's organisation when it is a supplier still negotiating, else None."""
    if actor.org_id is None or actor.user_id is None or not actor.has(Role.BIDDER):
        return None
    return actor.org_id if actor.org_id in negotiation.suppliers else None


async def _negotiation(lot: Lot, locked: bool = False) -> Negotiation:
    query = Negotiation.filter(lot_id=lot.id)
    found = await (lock(query) if locked else query).first()
    if found is None:
        raise NegotiationNotStarted()
    return found


async def _standing(negotiation: Negotiation, org_id: int) -> NegotiationSupplier | None:
    """The supplier's row, refusing an eliminated supplier (SupplierEliminated)."""
    row = await NegotiationSupplier.get_or_none(negotiation_id=negotiation.id, organisation_id=org_id)
    if row is not None and row.status == SupplierStatus.ELIMINATED:
        raise SupplierEliminated(round=row.eliminated_round or negotiation.round)
    return row


async def active_suppliers(negotiation: Negotiation) -> list[int]:
    """The suppliers not eliminated, in organisation order."""
    out = await column(
        NegotiationSupplier.filter(negotiation_id=negotiation.id, status=SupplierStatus.ELIMINATED).values_list(
            "organisation_id", flat=True
        ),
        int,
    )
    gone = {int(o) for o in out}
    return [int(o) for o in negotiation.suppliers if int(o) not in gone]


def _panel_audience(negotiation: Negotiation, project: Project, *orgs: int) -> Audience:
    return Audience(orgs=(*_managers(project), *orgs), roles=KEEPERS)


def _documents(value: Sequence[dict[str, str]] | None) -> list[dict[str, str]]:
    """Documents named by their file name and SHA-256 (the files go up through documentUploadStart, purpose
    negotiation_document, on the supplier's thread; post checks they are there)."""
    items = list(value or [])
    if len(items) > MAX_DOCUMENTS:
        raise InvalidInput(field="documents")
    checked = []
    for i, d in enumerate(items):
        name, sha = str(d.get("name", "")).strip(), str(d.get("sha256", "")).strip().lower()
        if not 0 < len(name) <= 200 or not _HEX64.fullmatch(sha):
            raise InvalidInput(field=f"documents.{i}")
        checked.append({"name": name, "sha256": sha})
    return checked


def _facts(negotiation: Negotiation, lot: Lot, now: datetime) -> dict[str, Any]:
    return {
        "round": negotiation.round,
        "rounds_min": negotiation.rounds_min,
        "rounds_max": negotiation.rounds_max,
        "called": negotiation.offers_open_at is not None,
        "opens_at": negotiation.offers_open_at,
        "closes_at": negotiation.offers_close_at,
        "now": now,
        "min_bids": int(lot.config.get("min_bids", 3)),
    }


# ---------------------------------------------------------------- the start


async def _representatives(project: Project, user_ids: Sequence[int]) -> list[int]:
    """The purchaser's representatives: distinct users of the tenderer itself (财政部令第74号 第七条: never the
    agency's staff), else NotPurchaserRepresentative."""
    wanted = sorted(dict.fromkeys(int(u) for u in user_ids))
    if len(wanted) > MAX_REPRESENTATIVES:
        raise InvalidInput(field="representativeIds")
    if not wanted:
        return []
    found = await column(
        User.filter(id__in=wanted, organisation_id=project.tenderer_id).values_list("id", flat=True), int
    )
    if len(set(found)) != len(wanted):
        raise NotPurchaserRepresentative()
    return wanted


async def invitation_list(lot: Lot) -> tuple[set[int], int, int]:
    """The invited organisations of a negotiated lot, and how many of them the purchaser and the experts
    recommended (registration's invitation list, domain/registration/invitations.py)."""
    rows = list(await Invitation.filter(lot_id=lot.id).order_by("id"))
    recommended = [r for r in rows if r.method == InvitationMethod.RECOMMENDATION.value]
    by_purchaser = sum(1 for r in recommended if r.recommended_by == "purchaser")
    return {int(r.organisation_id) for r in rows}, by_purchaser, len(recommended)


@raises(
    OpeningNotClosed,
    CommitteeIncomplete,
    PanelComposition,
    NotPurchaserRepresentative,
    TooFewInvited,
    PurchaserRecommendsTooMany,
    TooFewSuppliers,
    NotNegotiated,
)
@use_case("negotiation.start", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def start(
    actor: Actor,
    lot_id: int,
    idempotency_key: str | None = None,
    representatives: Sequence[int] = (),
) -> Negotiation:
    """Starts the negotiation of a lot whose opening closed and whose committee is complete. The panel is the drawn
    experts and the purchaser's representatives named here (users of the tenderer), composed as the procedure's
    panel rule requires (procedures.panel_rule); the suppliers are those on the lot's invitation list (at least
    min_bids, the purchaser recommending at most half of those recommended) whose first responses opened. The
    method, weights and round bounds are fixed from the lot's configuration; round 1 is open. Starting again
    returns the same negotiation."""
    if not actor.has(Role.OPERATOR) or (actor.user_id is None and not actor.is_system):
        raise PermissionDenied()
    lot, project = await _lot(lot_id)
    named = await _representatives(project, representatives)

    async def create() -> dict[str, Any]:
        locked = await lock(Lot.filter(id=lot.id)).get()
        existing = await Negotiation.get_or_none(lot_id=lot.id)
        if existing is not None:
            return {"id": existing.id}
        opening = await Opening.get_or_none(lot_id=lot.id)
        draws = list(await ExpertDraw.filter(lot_id=lot.id).order_by("round"))
        members = committee(draws)
        revealed = bool(draws) and all(d.status == DrawStatus.REVEALED.value for d in draws)
        invited, by_purchaser, recommended = await invitation_list(locked)
        suppliers = sorted(
            {
                int(o)
                for o in await column(
                    SealedBid.filter(lot_id=lot.id, status=BidStatus.DECRYPTED.value).values_list(
                        "organisation_id", flat=True
                    ),
                    int,
                )
            }
            & invited
        )
        procedure = Procedure(locked.procedure)
        rule, invitations = panel_rule(procedure), invitation_rule(procedure)
        assert rule is not None  # a negotiated procedure
        assert invitations is not None
        started = TABLE.fire(
            None,
            "start",
            by=actor,
            lot_status=locked.status,
            opening_status=opening.status if opening else None,
            committee_complete=revealed and len(members) == draws[0].size,
            panel_fault=rule.fault(len(members), len(named), locked.config),
            panel_minimum=rule.minimum(locked.config),
            panel_basis=rule.basis,
            experts=len(members),
            representatives=len(named),
            invited=len(invited),
            invitation_basis=invitations.basis,
            suppliers=len(suppliers),
            min_bids=int(locked.config.get("min_bids", 3)),
        )
        if invitations.purchaser_over_share(by_purchaser, recommended):
            raise PurchaserRecommendsTooMany(purchaser=by_purchaser, total=recommended)
        settings = evaluation_settings(Procedure(locked.procedure), locked.config)
        assert settings is not None  # a negotiated procedure
        now = clock.now()
        negotiation = await Negotiation.create(
            lot_id=lot.id,
            procedure=locked.procedure,
            status=started.value,
            method=settings.method.value,
            weights=settings.weights(),
            committee=members,
            representatives=named,
            suppliers=suppliers,
            round=1,
            rounds_min=int(locked.config.get("negotiation_rounds_min", 1)),
            rounds_max=int(locked.config.get("negotiation_rounds_max", 3)),
            started_at=now,
            updated_at=now,
        )
        await NegotiationSupplier.bulk_create(
            [
                NegotiationSupplier(
                    negotiation_id=negotiation.id,
                    lot_id=lot.id,
                    organisation_id=org,
                    status=SupplierStatus.NEGOTIATING,
                )
                for org in suppliers
            ]
        )
        await events.record(
            ev.NegotiationStarted(
                object_id=str(negotiation.id),
                lot_id=lot.id,
                suppliers=len(suppliers),
                members=len(members),
                audience=_panel_audience(negotiation, project, *suppliers),
            ),
            actor,
        )
        return {"id": negotiation.id}

    result, _ = await run_once(
        actor, idempotency_key, "negotiation.start", {"lot": lot.id, "representatives": named}, create
    )
    return await Negotiation.get(id=result["id"])


# ---------------------------------------------------------------- rounds


@raises(NegotiationNotStarted, NotOnPanel, RoundLimitReached, NegotiationClosed, NotNegotiated)
@use_case("negotiation.open_round", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def open_round(
    actor: Actor, lot_id: int, idempotency_key: str | None = None, *, closes_at: datetime | None = None
) -> Negotiation:
    """The panel opens the next round, within negotiation_rounds_max, closing at `closes_at` when given (the
    suppliers' responses are refused after it); every supplier still negotiating is told."""
    if closes_at is not None and (closes_at.tzinfo is None or closes_at <= clock.now()):
        raise InvalidInput(field="roundClosesAt")
    lot, project = await _lot(lot_id)

    async def change() -> dict[str, Any]:
        negotiation = await _negotiation(lot, locked=True)
        if not on_panel(actor, negotiation, project):
            raise NotOnPanel()
        if negotiation.status != NegotiationStatus.NEGOTIATING.value:
            raise NegotiationClosed()
        TABLE.fire(negotiation.status, "open_round", by=actor, **_facts(negotiation, lot, clock.now()))
        negotiation.round += 1
        negotiation.round_closes_at, negotiation.updated_at = closes_at, clock.now()
        await negotiation.save(update_fields=["round", "round_closes_at", "updated_at"])
        await events.record(
            ev.NegotiationRoundOpened(
                object_id=str(negotiation.id),
                lot_id=lot.id,
                round=negotiation.round,
                audience=_panel_audience(negotiation, project, *await active_suppliers(negotiation)),
            ),
            actor,
        )
        return {"id": negotiation.id}

    request = {"lot": lot.id, "closes_at": closes_at.isoformat() if closes_at else None}
    result, _ = await run_once(actor, idempotency_key, "negotiation.open_round", request, change)
    return await Negotiation.get(id=result["id"])


@raises(
    NegotiationNotStarted, NotOnPanel, NotNegotiating, NegotiationClosed, SupplierEliminated, NotNegotiated, RoundClosed
)
@use_case("negotiation.post", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def post(
    actor: Actor,
    lot_id: int,
    text: str,
    documents: Sequence[dict[str, str]] | None = None,
    organisation_id: int | None = None,
    price_fen: int | None = None,
    idempotency_key: str | None = None,
) -> NegotiationMessage:
    """A document of the current round between the panel and one supplier: the panel names the supplier; a
    supplier posts its revised response (with a revised, non-binding quotation when it gives one). Only that
    supplier and the panel may read it (政府采购法 第三十八条(四))."""
    body = required_text(text, "text", MAX_TEXT)
    files = _documents(documents)
    if price_fen is not None and (isinstance(price_fen, bool) or not 0 < price_fen <= MAX_PRICE_FEN):
        raise InvalidInput(field="priceFen")
    lot, project = await _lot(lot_id)

    async def create() -> dict[str, Any]:
        negotiation = await _negotiation(lot, locked=True)
        supplier = _supplier_of(actor, negotiation)
        if on_panel(actor, negotiation, project):
            if organisation_id is None or organisation_id not in negotiation.suppliers:
                raise NotNegotiating()
            if price_fen is not None:
                raise InvalidInput(field="priceFen")
            side, party = "panel", organisation_id
        elif supplier is not None:
            if organisation_id is not None and organisation_id != supplier:
                raise NotFound()
            side, party = "supplier", supplier
        else:
            raise NotFound()
        TABLE.fire(negotiation.status, "exchange", by=actor)
        closes = negotiation.round_closes_at
        # a round with its own deadline takes no response after it (held while the lot is suspended: the lift moves
        # the deadline by the time held, workflows.extend_windows_when_lifted)
        if side == "supplier" and closes is not None and clock.now() >= closes:
            raise RoundClosed(round=negotiation.round, closes_at=closes)
        row = await _standing(negotiation, party)
        if files:  # each file named was handed in on this supplier's thread (documentUploadStart)
            found = await negotiation_files.held(row.id, [d["sha256"] for d in files]) if row is not None else set()
            for i, d in enumerate(files):
                if d["sha256"] not in found:
                    raise InvalidInput(field=f"documents.{i}")
        message = await NegotiationMessage.create(
            negotiation_id=negotiation.id,
            lot_id=lot.id,
            round=negotiation.round,
            organisation_id=party,
            side=side,
            text=body,
            documents=files,
            price_fen=price_fen,
            author_user_id=actor.user_id,
            author_expert_id=actor.expert_id,
            created_at=clock.now(),
        )
        await events.record(
            ev.NegotiationMessagePosted(
                object_id=str(negotiation.id),
                lot_id=lot.id,
                round=negotiation.round,
                organisation_id=party,
                side=side,
                message_id=message.id,
                audience=Audience(orgs=(*_managers(project), party), roles=()),
            ),
            actor,
        )
        return {"id": message.id}

    request = {"lot": lot.id, "org": organisation_id, "text": body, "documents": files, "price": price_fen}
    result, _ = await run_once(actor, idempotency_key, "negotiation.post", request, create)
    return await NegotiationMessage.get(id=result["id"])


@raises(NegotiationNotStarted, NotOnPanel, NotNegotiating, NegotiationClosed, SupplierEliminated, NotNegotiated)
@use_case("negotiation.eliminate", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def eliminate(
    actor: Actor, lot_id: int, organisation_id: int, reason: str, idempotency_key: str | None = None
) -> NegotiationSupplier:
    """The panel eliminates a supplier between rounds, with its reason (财政部令第74号 第三十一条 and 214号 第二十条
    leave the rounds to the panel; the reason is on the record and the supplier is told): it may no longer post,
    nor offer, and is not called to the final offers."""
    why = required_text(reason, "reason", 1000)
    lot, project = await _lot(lot_id)

    async def change() -> dict[str, Any]:
        negotiation = await _negotiation(lot, locked=True)
        if not on_panel(actor, negotiation, project):
            raise NotOnPanel()
        if organisation_id not in [int(o) for o in negotiation.suppliers]:
            raise NotNegotiating()
        TABLE.fire(negotiation.status, "eliminate", by=actor)
        row = await _standing(negotiation, organisation_id)
        now = clock.now()
        if row is None:  # a negotiation started before suppliers had rows
            row = await NegotiationSupplier.create(
                negotiation_id=negotiation.id,
                lot_id=lot.id,
                organisation_id=organisation_id,
                status=SupplierStatus.NEGOTIATING,
            )
        row.status, row.eliminated_at, row.eliminated_round = SupplierStatus.ELIMINATED, now, negotiation.round
        row.eliminated_by_user, row.eliminated_by_expert, row.reason = actor.user_id, actor.expert_id, why
        await row.save()
        negotiation.updated_at = now
        await negotiation.save(update_fields=["updated_at"])
        await events.record(
            ev.SupplierEliminated(
                object_id=str(negotiation.id),
                lot_id=lot.id,
                organisation_id=organisation_id,
                round=negotiation.round,
                reason=why,
                audience=_panel_audience(negotiation, project, organisation_id),
            ),
            actor,
        )
        return {"id": row.id}

    request = {"lot": lot.id, "org": organisation_id, "reason": why}
    result, _ = await run_once(actor, idempotency_key, "negotiation.eliminate", request, change)
    return await NegotiationSupplier.get(id=result["id"])


async def suppliers_of(actor: Actor, lot_id: int) -> list[NegotiationSupplier]:
    """The negotiation's suppliers with their standing (and, when eliminated, the round and reason): to the panel,
    operators and the category's supervisors all of them, to a supplier its own row; NotFound to anyone else."""
    lot, project = await _lot(lot_id)
    negotiation = await Negotiation.get_or_none(lot_id=lot.id)
    if negotiation is None:
        raise NotFound()
    rows = NegotiationSupplier.filter(negotiation_id=negotiation.id).order_by("organisation_id")
    if on_panel(actor, negotiation, project) or scope.keeps_project(actor, project):
        return list(await rows)
    supplier = _supplier_of(actor, negotiation)
    if supplier is None:
        raise NotFound()
    return list(await rows.filter(organisation_id=supplier))


async def _thread_owner(actor: Actor, owner_id: int) -> tuple[NegotiationSupplier, Negotiation, Lot, bool]:
    """A supplier's thread as the files of domain/documents see it: the row, its negotiation and lot, and whether
    the caller is the panel or keeps the lot (True) or is that supplier (False); NotFound to anyone else, another
    supplier included."""
    row = await NegotiationSupplier.get_or_none(id=owner_id)
    if row is None:
        raise NotFound()
    lot = await Lot.get(id=row.lot_id).prefetch_related("project")
    project = lot.project
    negotiation = await Negotiation.get(id=row.negotiation_id)
    if on_panel(actor, negotiation, project) or scope.keeps_project(actor, project):
        return row, negotiation, lot, True
    if _supplier_of(actor, negotiation) == row.organisation_id:
        return row, negotiation, lot, False
    raise NotFound()


async def may_add_file(actor: Actor, purpose: str, owner_id: int) -> int:
    """Whether the caller may hand in a file for a supplier's thread (domain/documents); the lot. A round document
    (negotiation_document): the panel or that supplier while the rounds go on and the supplier stands; a final-offer
    file (final_offer_file): that supplier alone, inside the final-offer window (FinalOfferOutsideWindow)."""
    row, negotiation, lot, panel_or_keeper = await _thread_owner(actor, owner_id)
    project = lot.project
    if row.status == SupplierStatus.ELIMINATED:
        raise SupplierEliminated(round=row.eliminated_round or negotiation.round)
    if purpose == "negotiation_document":
        if panel_or_keeper and not on_panel(actor, negotiation, project):
            raise PermissionDenied()  # a keeper reads, it does not negotiate
        if negotiation.status != NegotiationStatus.NEGOTIATING.value:
            raise NegotiationClosed()
        return int(lot.id)
    if panel_or_keeper:
        raise PermissionDenied()  # only the supplier offers
    TABLE.precheck("submit_offer", by=actor, **_facts(negotiation, lot, clock.now()))
    TABLE.fire(negotiation.status, "submit_offer", by=actor, **_facts(negotiation, lot, clock.now()))
    return int(lot.id)


async def may_read_file(actor: Actor, purpose: str, owner_id: int) -> None:
    """Whether the caller may fetch a file of a supplier's thread: that supplier always; the panel, operators and
    the category's supervisors a round document at once and a final-offer file once the final-offer window closed
    (sealed till then, as the offer is); NotFound to anyone else, another supplier above all."""
    _, negotiation, _, panel_or_keeper = await _thread_owner(actor, owner_id)
    if (
        panel_or_keeper
        and purpose == "final_offer_file"
        and negotiation.status in (NegotiationStatus.NEGOTIATING.value, NegotiationStatus.FINAL_OFFERS.value)
    ):
        raise NotFound()


@raises(NotNegotiated)
async def thread(
    actor: Actor, lot_id: int, organisation_id: int | None
) -> tuple[Negotiation, NegotiationSupplier | None, list[NegotiationMessage]]:
    """The rounds between the panel and one supplier, in order: to the panel, operators and the category's
    supervisors for any supplier, to a supplier for itself alone; NotFound to anyone else."""
    lot, project = await _lot(lot_id)
    negotiation = await Negotiation.get_or_none(lot_id=lot.id)
    if negotiation is None:
        raise NotFound()
    if on_panel(actor, negotiation, project) or scope.keeps_project(actor, project):
        if organisation_id is None or organisation_id not in negotiation.suppliers:
            raise NotFound()
        party = organisation_id
    else:
        supplier = _supplier_of(actor, negotiation)
        if supplier is None or (organisation_id is not None and organisation_id != supplier):
            raise NotFound()
        party = supplier
    messages = await NegotiationMessage.filter(negotiation_id=negotiation.id, organisation_id=party).order_by("id")
    row = await NegotiationSupplier.get_or_none(negotiation_id=negotiation.id, organisation_id=party)
    return negotiation, row, list(messages)


@raises(NegotiationNotStarted, NotOnPanel, RoundsNotHeld, NegotiationClosed, NotNegotiated, LotSuspended)
@use_case("negotiation.call_final_offers", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def call_final_offers(actor: Actor, lot_id: int, idempotency_key: str | None = None) -> Negotiation:
    """The panel ends the rounds: every supplier still negotiating owes its sealed final offer (最后报价) from now
    until final_offer_window_minutes later (财政部令第74号 第三十三条; 财库〔2014〕214号 第二十一条)."""
    lot, project = await _lot(lot_id)

    async def change() -> dict[str, Any]:
        negotiation = await _negotiation(lot, locked=True)
        if not on_panel(actor, negotiation, project):
            raise NotOnPanel()
        if negotiation.status != NegotiationStatus.NEGOTIATING.value:
            raise NegotiationClosed()
        await ensure_not_suspended(lot)  # a supervisor's suspension holds the procedure (complaints/suspension)
        now = clock.now()
        called = TABLE.fire(negotiation.status, "call_final_offers", by=actor, **_facts(negotiation, lot, now))
        window = timedelta(minutes=int(lot.config.get("final_offer_window_minutes", 60)))
        negotiation.status = called.value
        negotiation.offers_open_at, negotiation.offers_close_at = now, now + window
        negotiation.next_check_at, negotiation.updated_at = now + window, now
        await negotiation.save()
        await events.record(
            ev.FinalOffersCalled(
                object_id=str(negotiation.id),
                lot_id=lot.id,
                opens_at=now,
                closes_at=now + window,
                audience=_panel_audience(negotiation, project, *await active_suppliers(negotiation)),
            ),
            actor,
        )
        return {"id": negotiation.id}

    result, _ = await run_once(actor, idempotency_key, "negotiation.call_final_offers", {"lot": lot.id}, change)
    return await Negotiation.get(id=result["id"])


# ---------------------------------------------------------------- final offers


@raises(
    NotSealed,
    NegotiationNotStarted,
    FinalOffersNotCalled,
    FinalOfferOutsideWindow,
    SupplierEliminated,
    NotNegotiated,
    LotSuspended,
    TwoFactorRequired,
    *SIGNATURE_ERRORS,
)
@use_case("negotiation.submit_final_offer", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def submit_final_offer(
    actor: Actor, lot_id: int, sealed: str, idempotency_key: str | None = None, signed: Signed | None = None
) -> FinalOffer:
    """Stores a supplier's sealed final offer inside the window, on server time (replacing its earlier one), and
    returns it as the receipt; outside the window FinalOfferOutsideWindow and nothing is stored. A lot's
    require_two_factor_for_bids and require_signed_bids hold for final offers as for bids (the act signed is the
    sealed bid's, over this ciphertext)."""
    lot, _ = await _lot(lot_id)
    digest = check_sealed(sealed)
    check_bidder_authentication(actor, lot)
    verified = await signatures.check(
        actor, acts.bid_submit(lot.trade_code, sealed), signed, required=bool(lot.config.get("require_signed_bids"))
    )

    async def store() -> dict[str, Any]:
        negotiation = await _negotiation(lot, locked=True)
        supplier = _supplier_of(actor, negotiation)
        if supplier is None:
            raise NotFound()
        await _standing(negotiation, supplier)
        await ensure_not_suspended(lot)
        now = clock.now()
        facts = _facts(negotiation, lot, now)
        TABLE.precheck("submit_offer", by=actor, **facts)
        TABLE.fire(negotiation.status, "submit_offer", by=actor, **facts)
        previous = await lock(
            FinalOffer.filter(
                negotiation_id=negotiation.id, organisation_id=supplier, status=FinalOfferStatus.SUBMITTED.value
            )
        ).first()
        if previous is not None:
            previous.status, previous.ended_at = OFFER.fire(previous.status, "supersede", by=actor).value, now
            await previous.save(update_fields=["status", "ended_at"])
        offer = await FinalOffer.create(
            negotiation_id=negotiation.id,
            lot_id=lot.id,
            organisation_id=supplier,
            submitted_by=int(actor.user_id or 0),
            ciphertext=sealed,
            ciphertext_sha256=digest,
            status=OFFER.fire(None, "submit", by=actor).value,
            submitted_at=now,
        )
        await network.record(actor, lot.id, "negotiation.final_offer")
        if verified is not None:
            await signatures.record(actor, verified, "FinalOffer", offer.id, lot.id)
        await events.record(
            ev.FinalOfferSubmitted(
                object_id=str(offer.id),
                lot_id=lot.id,
                sha256=digest,
                replaces=previous.id if previous else None,
                audience=Audience(orgs=(supplier,), roles=()),
            ),
            actor,
        )
        return {"id": offer.id}

    request: dict[str, Any] = {"lot": lot.id, "sha256": digest}
    if verified is not None:
        request["signature"] = verified.signature
    result, _ = await run_once(actor, idempotency_key, "negotiation.submit_final_offer", request, store)
    return await FinalOffer.get(id=result["id"])


@raises(
    NegotiationNotStarted,
    DecryptionClosed,
    NoBidToDecrypt,
    CannotDecrypt,
    BadBidDocument,
    TooFewSuppliers,
    NotNegotiated,
    LotSuspended,
)
@use_case("negotiation.decrypt_final_offer", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def decrypt_final_offer(actor: Actor, lot_id: int, key_jwk: dict[str, Any]) -> FinalOffer:
    """Opens the caller's final offer with its key inside the key window; the price joins the record."""
    lot, project = await _lot(lot_id)
    async with in_transaction():
        negotiation = await _negotiation(lot, locked=True)
        await ensure_not_suspended(lot)
        now = clock.now()
        await _advance(negotiation, lot, now)  # a window that ended is closed first
        if negotiation.status != NegotiationStatus.DECRYPTING.value:
            raise DecryptionClosed()
        supplier = _supplier_of(actor, negotiation)
        offer = None
        if supplier is not None:
            offer = await lock(
                FinalOffer.filter(
                    negotiation_id=negotiation.id, organisation_id=supplier, status=FinalOfferStatus.SUBMITTED.value
                )
            ).first()
        if offer is None:
            raise NoBidToDecrypt()
        opened = open_sealed(offer.ciphertext, key_jwk, lot.trade_code)
        offer.status = OFFER.fire(offer.status, "decrypt", by=actor).value
        TABLE.fire(negotiation.status, "decrypt_offer", by=actor)
        offer.decrypted_at, offer.price_fen, offer.documents = now, opened.price_fen, opened.documents
        await offer.save(update_fields=["status", "decrypted_at", "price_fen", "documents"])
        await events.record(
            ev.FinalOfferDecrypted(
                object_id=str(offer.id),
                lot_id=lot.id,
                organisation_id=offer.organisation_id,
                price_fen=opened.price_fen,
                audience=_panel_audience(negotiation, project, offer.organisation_id),
            ),
            actor,
        )
    return offer


async def _advance(negotiation: Negotiation, lot: Lot, now: datetime) -> None:
    """The time-driven steps of a locked negotiation: the final-offer window and then the key window end."""
    min_bids = int(lot.config.get("min_bids", 3))
    status = negotiation.status
    if (
        status == NegotiationStatus.FINAL_OFFERS.value
        and negotiation.offers_close_at
        and now >= negotiation.offers_close_at
    ):
        offers = await FinalOffer.filter(negotiation_id=negotiation.id, status=FinalOfferStatus.SUBMITTED.value).count()
        if TABLE.allows(status, "fail", by=SYSTEM, offers=offers, min_bids=min_bids):
            TABLE.fire(status, "fail", by=SYSTEM, offers=offers, min_bids=min_bids)
            await _fail(negotiation, lot, now, f"仅收到 {offers} 家供应商的最后报价，少于 {min_bids} 家")
            return
        window = timedelta(minutes=int(lot.config.get("decryption_window_minutes", 60)))
        negotiation.status = TABLE.fire(status, "close_offers", by=SYSTEM, offers=offers, min_bids=min_bids).value
        negotiation.decryption_ends_at = negotiation.offers_close_at + window
        negotiation.next_check_at = negotiation.decryption_ends_at
        await events.record(
            ev.FinalOffersClosed(
                object_id=str(negotiation.id),
                lot_id=lot.id,
                offers=offers,
                decryption_ends_at=negotiation.decryption_ends_at,
                audience=Audience(orgs=tuple(negotiation.suppliers), roles=KEEPERS),
            ),
            SYSTEM,
        )
    elif (
        status == NegotiationStatus.DECRYPTING.value
        and negotiation.decryption_ends_at is not None
        and now >= negotiation.decryption_ends_at
    ):
        invalid = await FinalOffer.filter(
            negotiation_id=negotiation.id, status=FinalOfferStatus.SUBMITTED.value
        ).update(status=FinalOfferStatus.INVALID.value, ended_at=now)
        offers = await FinalOffer.filter(negotiation_id=negotiation.id, status=FinalOfferStatus.DECRYPTED.value).count()
        if TABLE.allows(status, "fail", by=SYSTEM, offers=offers, min_bids=min_bids):
            TABLE.fire(status, "fail", by=SYSTEM, offers=offers, min_bids=min_bids)
            await _fail(negotiation, lot, now, f"仅 {offers} 家供应商的最后报价在规定时间内解密，少于 {min_bids} 家")
            return
        negotiation.status = TABLE.fire(status, "close_decryption", by=SYSTEM, offers=offers, min_bids=min_bids).value
        negotiation.next_check_at = None
        await events.record(
            ev.NegotiationScoringStarted(
                object_id=str(negotiation.id),
                lot_id=lot.id,
                offers=offers,
                invalid=invalid,
                audience=Audience(orgs=tuple(negotiation.suppliers), roles=KEEPERS),
            ),
            SYSTEM,
        )
    else:
        return
    negotiation.updated_at = now
    await negotiation.save()


async def fire_due(negotiation: Negotiation, now: datetime) -> None:
    """Chronograph transition: moves a due negotiation on (the final-offer window, the key window). A suspension of
    the lot holds it: nothing closes while suspended, and the lift gives the window back its held time
    (workflows.extend_windows_when_lifted)."""
    locked = await lock(Negotiation.filter(id=negotiation.id)).get()
    lot = await Lot.get(id=locked.lot_id)
    if await pauses.reason(lot.id) is not None:
        locked.next_check_at = None
        await locked.save(update_fields=["next_check_at"])
        negotiation.next_check_at = None
        return
    await _advance(locked, lot, now)
    if locked.next_check_at is not None and locked.next_check_at <= now:
        locked.next_check_at = None
        await locked.save(update_fields=["next_check_at"])
    negotiation.next_check_at = locked.next_check_at


async def _fail(negotiation: Negotiation, lot: Lot, now: datetime, why: str) -> None:
    """Too few final offers, or none compliant: the negotiation and the lot fail, announced by a termination."""
    negotiation.status = NegotiationStatus.FAILED.value
    negotiation.next_check_at, negotiation.updated_at = None, now
    await negotiation.save()
    await move_lot(SYSTEM, lot.id, {LotStatus.EVALUATING}, LotStatus.FAILED)
    await announce(
        SYSTEM,
        lot,
        "termination",
        f"{lot.name}终止公告",
        f"<p>{lot.name}（交易标识码 {lot.trade_code}）{why}，本次采购活动终止。</p>",
    )
    await events.record(
        ev.NegotiationReported(
            object_id=str(negotiation.id),
            lot_id=lot.id,
            candidates=0,
            failed=True,
            report_sha256=negotiation.report_sha256,
            audience=Audience(public=True),
        ),
        SYSTEM,
    )


# ---------------------------------------------------------------- the panel's sheets and the report


async def _valid_offers(negotiation_id: int) -> list[FinalOffer]:
    return list(
        await FinalOffer.filter(
            negotiation_id=negotiation_id, status=FinalOfferStatus.DECRYPTED.value, price_fen__not_isnull=True
        ).order_by("id")
    )


@dataclass(frozen=True, slots=True)
class OfferView:
    final_offer_id: int
    organisation_id: int
    price_fen: int
    documents: list[dict[str, str]]
    submitted_at: datetime


async def offers_for(actor: Actor, lot_id: int) -> list[OfferView]:
    """The decrypted final offers, once the key window closed: to the panel, operators and the category's
    supervisors; NotFound to anyone else."""
    lot, project = await _lot(lot_id)
    negotiation = await Negotiation.get_or_none(lot_id=lot.id)
    if negotiation is None or not (on_panel(actor, negotiation, project) or scope.keeps_project(actor, project)):
        raise NotFound()
    if negotiation.status not in (NegotiationStatus.SCORING.value, NegotiationStatus.REPORTED.value):
        raise NotFound()
    return [
        OfferView(
            o.id,
            o.organisation_id,
            int(o.price_fen or 0),
            [{"name": str(d["name"]), "sha256": str(d["sha256"])} for d in o.documents or []],
            o.submitted_at,
        )
        for o in await _valid_offers(negotiation.id)
    ]


@raises(
    NegotiationNotStarted,
    NotCommitteeMember,
    EvaluationFinished,
    ScoreSheetMismatch,
    PointsOutOfRange,
    ReasonRequired,
    NotNegotiated,
)
@use_case("negotiation.submit_sheet", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def submit_sheet(
    actor: Actor, lot_id: int, entries: Sequence[Judgement], idempotency_key: str | None = None
) -> Negotiation:
    """A panel expert's complete sheet over the decrypted final offers (replacing its previous one); the last
    expert's sheet makes the report and up to three candidates (成交候选人), or fails the lot, in one transaction."""
    if actor.expert_id is None or not actor.has(Role.EXPERT):
        raise PermissionDenied()
    expert_id = actor.expert_id
    lot, project = await _lot(lot_id)

    async def store() -> dict[str, Any]:
        negotiation = await _negotiation(lot, locked=True)
        members = [int(m) for m in negotiation.committee]
        TABLE.fire(negotiation.status, "submit_sheet", by=actor, member=expert_id in members)
        offers = await _valid_offers(negotiation.id)
        sheet = check_sheet(entries, [o.id for o in offers], negotiation.method, negotiation.weights)
        now = clock.now()
        await NegotiationScore.filter(negotiation_id=negotiation.id, expert_id=expert_id).delete()
        await NegotiationScore.bulk_create(
            [
                NegotiationScore(
                    negotiation_id=negotiation.id,
                    expert_id=expert_id,
                    final_offer_id=j.sealed_bid_id,
                    compliant=j.compliant,
                    reason=j.reason,
                    technical_centi=j.technical_centi,
                    commercial_centi=j.commercial_centi,
                    submitted_at=now,
                )
                for j in sheet
            ]
        )
        scored = await column(
            NegotiationScore.filter(negotiation_id=negotiation.id).distinct().values_list("expert_id", flat=True), int
        )
        submitted = len({int(e) for e in scored} & set(members))
        await events.record(
            ev.NegotiationSheetSubmitted(
                object_id=str(negotiation.id),
                lot_id=lot.id,
                expert_id=expert_id,
                submitted=submitted,
                members=len(members),
                audience=Audience(roles=KEEPERS),
            ),
            actor,
        )
        if submitted == len(members):
            await _report(negotiation, lot, project, offers, now)
        return {"id": negotiation.id}

    request = {
        "lot": lot.id,
        "entries": [[e.sealed_bid_id, e.compliant, e.reason, e.technical_centi, e.commercial_centi] for e in entries],
    }
    result, _ = await run_once(actor, idempotency_key, "negotiation.submit_sheet", request, store)
    return await Negotiation.get(id=result["id"])


async def _report(
    negotiation: Negotiation, lot: Lot, project: Project, offers: list[FinalOffer], now: datetime
) -> None:
    """The report from every expert's sheet (evaluation.scoring.rank over the final offers) and its candidates,
    fed to domain/results as the evaluation feeds them; or the lot's failure."""
    members = [int(m) for m in negotiation.committee]
    sheets: dict[int, list[Judgement]] = {m: [] for m in members}
    for s in await NegotiationScore.filter(negotiation_id=negotiation.id).order_by("id"):
        if s.expert_id in sheets:
            sheets[s.expert_id].append(
                Judgement(s.final_offer_id, s.compliant, s.reason, s.technical_centi, s.commercial_centi)
            )
    facts = [BidFacts(o.id, o.organisation_id, int(o.price_fen or 0), o.submitted_at) for o in offers]
    report = rank(facts, members, sheets, negotiation.method, negotiation.weights)
    lines = {line["sealed_bid_id"]: line for line in report["bids"]}
    chosen = report["ranking"][:MAX_CANDIDATES]
    responses = {
        b.organisation_id: b.id
        for b in await SealedBid.filter(lot_id=lot.id, status=BidStatus.DECRYPTED.value).order_by("id")
    }
    for position, offer_id in enumerate(chosen, start=1):
        line = lines[offer_id]
        await Candidate.create(
            lot_id=lot.id,
            rank=position,
            organisation_id=line["organisation_id"],
            sealed_bid_id=responses[line["organisation_id"]],  # the supplier's sealed response on the lot
            price_fen=line["price_fen"],  # its final offer (最后报价)
            score_centi=line["total_centi"],
            created_at=now,
        )
    negotiation.report, negotiation.report_sha256, negotiation.reported_at = report, events.digest(report), now
    if not chosen:
        TABLE.fire(negotiation.status, "reject_all", by=SYSTEM)
        await _fail(negotiation, lot, now, "经谈判（磋商）小组评审，所有最后报价均未实质性响应采购文件")
        return
    negotiation.status = TABLE.fire(negotiation.status, "report", by=SYSTEM).value
    negotiation.updated_at = now
    await negotiation.save()
    await events.record(
        ev.NegotiationReported(
            object_id=str(negotiation.id),
            lot_id=lot.id,
            candidates=len(chosen),
            failed=False,
            report_sha256=negotiation.report_sha256,
            audience=_panel_audience(negotiation, project),
        ),
        SYSTEM,
    )


# ---------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class View:
    negotiation: Negotiation
    panel: bool  # the caller sits on the panel or keeps the lot: it sees the suppliers and the report
    my_offer: FinalOffer | None
    candidates: list[Candidate]


async def view(actor: Actor, lot_id: int) -> View:
    """The negotiation as the caller may see it: the panel and keepers all of it, a supplier its stage, the
    window and its own final offer's receipt; NotFound to anyone else."""
    lot, project = await _lot(lot_id)
    negotiation = await Negotiation.get_or_none(lot_id=lot.id)
    if negotiation is None:
        raise NotFound()
    panel = on_panel(actor, negotiation, project) or scope.keeps_project(actor, project)
    supplier = _supplier_of(actor, negotiation)
    if not panel and supplier is None:
        raise NotFound()
    mine = None
    if supplier is not None:
        mine = (
            await FinalOffer.filter(negotiation_id=negotiation.id, organisation_id=supplier)
            .exclude(status=FinalOfferStatus.SUPERSEDED.value)
            .order_by("-id")
            .first()
        )
    candidates = []
    if panel and negotiation.status == NegotiationStatus.REPORTED.value:
        candidates = list(await Candidate.filter(lot_id=lot.id).order_by("rank"))
    return View(negotiation, panel, mine, candidates)
