"""The invitation list of an invited tender (邀请招标): who may register and bid, and their invitation letters.

招标投标法 第十七条: a tenderer using invited tender sends invitations (投标邀请书) to at least three specific legal
persons or other organisations able to perform the project and of good credit. Here the tenderer (or its agency) lists
them on the lot, before or after the lot is published and until the bid deadline; the tender is not published with
fewer than three (a publication hold, plugged in at domain/wiring); only those invited may register (registration's
`invited` guard), so only they may bid. Each invitee is told once: at once when the lot is open, else when it opens.

A competitive negotiation or consultation keeps the same list (procedures.invitation_rule): each supplier invited by
announcement, a random draw from the supplier pool or a written recommendation of the purchaser or an expert
(财政部令第74号 第十二条; 财库〔2014〕214号 第六条), recorded with the invitation; only those invited register, respond
and negotiate. Its list grows until the response deadline (an announcement's respondents come after publication), so
its minimum is checked when the negotiation starts (domain/negotiation), not at publication.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.access import scope
from domain.accounts.models import Organisation
from domain.accounts.states import OrgKind, OrgStatus
from domain.common import clock, events
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import InvalidInput, NotFound, raises
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.queries import column
from domain.common.storage import lock
from domain.credit import services as credit
from domain.publication.events import LotStatusChanged
from domain.publication.models import Lot, Project
from domain.publication.procedures import InvitationMethod, Procedure, invitation_rule
from domain.publication.projects import manages
from domain.publication.states import LotStatus
from domain.registration.errors import InviteeNotABidder, NotAnInvitedTender, RegistrationClosed, TooFewInvitees
from domain.registration.models import Invitation

MIN_INVITEES = 3  # 招标投标法 第十七条: 三个以上
MAX_INVITEES = 100


@dataclass(frozen=True, kw_only=True)
class InvitationSent(DomainEvent):
    """The invitation letter (投标邀请书) reaches one invitee: to it and the lot's managers only."""

    type = "invitation.sent"
    object_type = "Lot"
    lot_id: int
    organisation_id: int


RECOMMENDERS = frozenset({"purchaser", "expert"})


def _invited_tender(lot: Lot) -> bool:
    return Procedure(lot.procedure) is Procedure.INVITED_TENDER


def _by_invitation(lot: Lot) -> bool:
    """Whether only invited organisations take part: an invited tender, a competitive negotiation or consultation."""
    return invitation_rule(Procedure(lot.procedure)) is not None


def _method(lot: Lot, method: str | None, recommended_by: str | None) -> tuple[str, str | None]:
    """How the organisations are invited, as the procedure allows (InvalidInput otherwise): an invited tender's
    letter by default; a negotiation's announcement, pool draw or recommendation (then by the purchaser or an
    expert)."""
    rule = invitation_rule(Procedure(lot.procedure))
    assert rule is not None
    allowed = {m.value for m in rule.methods}
    chosen = method if method is not None else (next(iter(allowed)) if len(allowed) == 1 else None)
    if chosen not in allowed:
        raise InvalidInput(field="method")
    if chosen == InvitationMethod.RECOMMENDATION.value:
        if recommended_by not in RECOMMENDERS:
            raise InvalidInput(field="recommendedBy")
        return chosen, recommended_by
    if recommended_by is not None:
        raise InvalidInput(field="recommendedBy")
    return str(chosen), None


async def admits(lot: Lot, org_id: int | None) -> bool:
    """Whether the organisation may register for the lot: any for an open procedure, the invited for an invited
    tender, a competitive negotiation or consultation."""
    if not _by_invitation(lot):
        return True
    return org_id is not None and await Invitation.exists(lot_id=lot.id, organisation_id=org_id)


async def _managed_lot(actor: Actor, lot_id: int) -> tuple[Lot, Project]:
    lot = await Lot.get_or_none(id=lot_id).prefetch_related("project")
    if lot is None or not await manages(actor, lot.project):
        raise NotFound()
    return lot, lot.project


async def _check_invitee(org_id: int, now: datetime) -> None:
    org = await Organisation.get_or_none(id=org_id)
    if org is None:
        raise InvalidInput(field="organisationIds")
    if (
        org.status != OrgStatus.APPROVED.value
        or OrgKind.BIDDER.value not in (org.kinds or [])
        or await credit.is_punished(org.id, now)
    ):
        raise InviteeNotABidder(name=org.name)


def _deadline(lot: Lot) -> datetime | None:
    value = lot.config.get("bid_deadline")
    return datetime.fromisoformat(value) if value else None


async def _send(lot: Lot, project: Project, invitation: Invitation, actor: Actor, now: datetime) -> None:
    invitation.sent_at = now
    await invitation.save(update_fields=["sent_at"])
    managers = tuple(o for o in (project.tenderer_id, project.agency_id) if o)
    await events.record(
        InvitationSent(
            object_id=str(lot.id),
            lot_id=lot.id,
            organisation_id=invitation.organisation_id,
            audience=Audience(orgs=(invitation.organisation_id, *managers), roles=(Role.OPERATOR.value,)),
        ),
        actor,
    )


@raises(NotAnInvitedTender, InviteeNotABidder, RegistrationClosed)
@use_case("invitation.create", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def invite(
    actor: Actor,
    lot_id: int,
    organisation_ids: list[int],
    idempotency_key: str | None = None,
    method: str | None = None,
    recommended_by: str | None = None,
) -> list[Invitation]:
    """Adds organisations to an invited tender's, negotiation's or consultation's list (an organisation invited twice
    stays once, as first invited), with how they were invited, while the lot is a draft or open before its bid
    deadline; each is an approved bidder not under joint punishment. Those added to an open lot are told at once, the
    others when it opens. Returns the whole list."""
    lot, project = await _managed_lot(actor, lot_id)
    if not _by_invitation(lot):
        raise NotAnInvitedTender()
    how, recommender = _method(lot, method, recommended_by)
    wanted = list(dict.fromkeys(organisation_ids))
    if not wanted or len(wanted) > MAX_INVITEES:
        raise InvalidInput(field="organisationIds")

    async def add() -> dict[str, Any]:
        now = clock.now()
        locked = await lock(Lot.filter(id=lot.id)).get()
        deadline = _deadline(locked)
        if locked.status not in (LotStatus.DRAFT.value, LotStatus.OPEN.value) or (
            locked.status == LotStatus.OPEN.value and deadline is not None and now >= deadline
        ):
            raise RegistrationClosed(opens_at=now, closes_at=deadline or now)
        for org_id in wanted:
            await _check_invitee(org_id, now)
        known = set(await column(Invitation.filter(lot_id=lot.id).values_list("organisation_id", flat=True), int))
        for org_id in wanted:
            if org_id in known:
                continue
            invitation = await Invitation.create(
                lot_id=lot.id,
                organisation_id=org_id,
                invited_by=actor.user_id,
                invited_at=now,
                method=how,
                recommended_by=recommender,
            )
            if locked.status == LotStatus.OPEN.value:
                await _send(locked, project, invitation, actor, now)
        return {"lot": lot.id}

    request = {"lot": lot.id, "organisations": sorted(wanted), "method": how, "by": recommender}
    await run_once(actor, idempotency_key, "invitation.create", request, add)
    return list(await Invitation.filter(lot_id=lot.id).order_by("id"))


async def lot_invitations(actor: Actor, lot_id: int) -> list[Invitation]:
    """A lot's invitation list: its tenderer and agency, operators and the supervisors of its category; NotFound for
    anyone else (the list names the bidders-to-be, 招标投标法 第二十二条)."""
    lot = await Lot.get_or_none(id=lot_id).prefetch_related("project")
    if lot is None or not (scope.keeps_project(actor, lot.project) or await manages(actor, lot.project)):
        raise NotFound()
    return list(await Invitation.filter(lot_id=lot.id).order_by("id"))


async def mine(actor: Actor) -> list[Invitation]:
    """The invitations the caller's organisation received (sent ones: the lot is open)."""
    if actor.org_id is None:
        return []
    return list(await Invitation.filter(organisation_id=actor.org_id, sent_at__isnull=False).order_by("-id"))


async def ensure_enough(owners: list[tuple[str, int]]) -> None:
    """A publication hold (domain/publication/holds): an invited tender's tender notice waits for three invitees."""
    for kind, owner_id in owners:
        if kind != "Lot":
            continue
        lot = await Lot.get_or_none(id=owner_id)
        if lot is None or not _invited_tender(lot):
            continue
        count = await Invitation.filter(lot_id=lot.id).count()
        if count < MIN_INVITEES:
            raise TooFewInvitees(count=count)


async def send_when_open(event: LotStatusChanged) -> None:
    """An invited tender that opened sends the letters of those invited while it was a draft (once each)."""
    if event.after != LotStatus.OPEN.value:
        return
    lot = await Lot.get_or_none(id=int(event.object_id)).prefetch_related("project")
    if lot is None or not _by_invitation(lot):
        return
    now = clock.now()
    for invitation in await lock(Invitation.filter(lot_id=lot.id, sent_at__isnull=True)):
        await _send(lot, lot.project, invitation, SYSTEM, now)
