"""Who may hand in a file for an object, and who may fetch it: one rule per purpose, decided here alone."""

from __future__ import annotations

from datetime import datetime

from domain.access import scope
from domain.common import clock
from domain.common.actors import Actor, Role
from domain.common.errors import InvalidTransition, NotFound, PermissionDenied
from domain.complaints.models import Complaint, Objection
from domain.documents.errors import BidFileSealed
from domain.documents.models import Document
from domain.documents.purposes import Purpose
from domain.guarantees.models import Guarantee
from domain.publication.errors import AnnouncementImmutable
from domain.publication.models import Announcement, Lot, Project
from domain.publication.states import AnnouncementStatus, LotStatus
from domain.registration import services as registration
from domain.tendering.errors import BidDeadlinePassed
from domain.tendering.models import SealedBid


def _manages(actor: Actor, project: Project) -> bool:
    return actor.has(Role.OPERATOR) or (
        actor.org_id is not None and actor.org_id in (project.tenderer_id, project.agency_id)
    )


def _supervises(actor: Actor, project: Project) -> bool:
    return scope.keeps_project(actor, project)


def _bid_deadline(lot: Lot) -> datetime | None:
    value = lot.config.get("bid_deadline")
    return datetime.fromisoformat(value) if value else None


async def _lot(lot_id: int) -> tuple[Lot, Project]:
    lot = await Lot.get_or_none(id=lot_id).prefetch_related("project")
    if lot is None:
        raise NotFound()
    return lot, lot.project


async def may_upload(actor: Actor, purpose: Purpose, owner_id: int) -> int | None:
    """Checks the caller may hand in a file of this purpose for the object; returns the object's lot, if any.
    An object the caller may not see is NotFound, never a hint that it exists."""
    if actor.user_id is None:
        raise PermissionDenied()
    if purpose.name == "announcement_attachment":
        ann = await Announcement.get_or_none(id=owner_id).prefetch_related("project")
        if ann is None or not _manages(actor, ann.project):
            raise NotFound()
        if ann.status != AnnouncementStatus.DRAFT.value:
            raise AnnouncementImmutable(state=ann.status)  # a published notice never changes
        return ann.lot_id
    if purpose.name in ("tender_document", "contract", "cancellation_document"):
        lot, project = await _lot(owner_id)
        if not _manages(actor, project) and not (purpose.name == "contract" and await _won(actor, lot.id)):
            raise NotFound()
        if purpose.name == "tender_document" and lot.status not in (LotStatus.DRAFT.value, LotStatus.OPEN.value):
            raise InvalidTransition(state=lot.status)
        return int(lot.id)
    if purpose.name == "bid_file":
        lot, _ = await _lot(owner_id)
        if actor.org_id is None or not actor.has(Role.BIDDER) or lot.status == LotStatus.DRAFT.value:
            raise NotFound()
        deadline, now = _bid_deadline(lot), clock.now()
        if lot.status != LotStatus.OPEN.value or deadline is None or now >= deadline:
            raise BidDeadlinePassed(deadline=deadline or now)  # as the sealed bid itself is refused
        if await registration.active(lot.id, actor.org_id) is None:
            raise PermissionDenied()
        return int(lot.id)
    if purpose.name == "complaint_evidence":
        complaint = await Complaint.get_or_none(id=owner_id)
        if complaint is None or complaint.organisation_id != actor.org_id:
            raise NotFound()
        return complaint.lot_id
    if purpose.name == "objection_evidence":
        objection = await Objection.get_or_none(id=owner_id)
        if objection is None or objection.organisation_id != actor.org_id:
            raise NotFound()
        return objection.lot_id
    if purpose.name == "guarantee_letter":
        guarantee = await Guarantee.get_or_none(id=owner_id)
        if guarantee is None or guarantee.guarantor_id != actor.org_id or not actor.has(Role.GUARANTOR):
            raise NotFound()
        return guarantee.lot_id
    if purpose.name in ("organisation_licence", "credit_repair_evidence"):
        if actor.org_id != owner_id:
            raise NotFound()
        return None
    if purpose.name == "expert_qualification":  # a person's own certificates, for its expert application
        if actor.user_id != owner_id:
            raise NotFound()
        return None
    if purpose.name in NEGOTIATION_FILES:
        from domain.negotiation import services as negotiation

        return await negotiation.may_add_file(actor, purpose.name, owner_id)
    raise PermissionDenied()


def public(doc: Document, lot_status: str | None, announcement_status: str | None) -> bool:
    """Whether anyone, anonymous callers and kiosks included, may fetch the document."""
    if doc.scan_status not in ("clean", "unscanned"):
        return False
    if doc.purpose == "announcement_attachment":
        return announcement_status == AnnouncementStatus.PUBLISHED.value
    if doc.purpose == "tender_document":
        return lot_status not in (None, LotStatus.DRAFT.value)
    if doc.purpose == "cancellation_document":  # published with the termination announcement
        return lot_status == LotStatus.TERMINATED.value
    return False


async def may_download(actor: Actor, doc: Document) -> None:
    """Checks the caller may fetch the document now; NotFound (or BidFileSealed to the bidder) otherwise."""
    if doc.purpose == "announcement_attachment":
        ann = await Announcement.get(id=doc.owner_id).prefetch_related("project")
        if public(doc, None, ann.status) or _manages(actor, ann.project) or _supervises(actor, ann.project):
            return
        raise NotFound()
    if doc.purpose in ("tender_document", "contract", "cancellation_document"):
        lot, project = await _lot(doc.owner_id)
        if doc.purpose in ("tender_document", "cancellation_document") and public(doc, lot.status, None):
            return
        if _manages(actor, project) or _supervises(actor, project):
            return
        if doc.purpose == "contract" and await _won(actor, lot.id):
            return
        raise NotFound()
    if doc.purpose == "bid_file":
        # the ciphertext: nobody before the opening, the bidder's own organisation sees only that it is sealed
        if actor.org_id is not None and actor.org_id == doc.organisation_id:
            raise BidFileSealed()
        raise NotFound()
    if doc.purpose == "bid_file_opened":
        await _may_read_opened_bid(actor, doc)
        return
    if doc.purpose == "complaint_evidence":
        complaint = await Complaint.get(id=doc.owner_id)
        lot, project = await _lot(complaint.lot_id)
        if actor.org_id is not None and actor.org_id in (
            complaint.organisation_id,
            project.tenderer_id,
            project.agency_id,
        ):
            return
        if _supervises(actor, project):
            return
        raise NotFound()
    if doc.purpose == "credit_repair_evidence":  # the applicant and the officials deciding its repair, no one else
        if actor.org_id == doc.owner_id or actor.has(Role.OPERATOR, Role.SUPERVISOR):
            return
        raise NotFound()
    if doc.purpose == "organisation_licence":
        if actor.org_id == doc.owner_id or actor.has(Role.OPERATOR, Role.SUPERVISOR):
            return
        if await _reviews_bidder(actor, doc.owner_id):
            return
        raise NotFound()
    if doc.purpose == "expert_qualification":  # the applicant and the operators reviewing it
        if actor.user_id == doc.owner_id or actor.has(Role.OPERATOR):
            return
        raise NotFound()
    if doc.purpose == "objection_evidence":
        objection = await Objection.get(id=doc.owner_id)
        _, project = await _lot(objection.lot_id)
        parties = (objection.organisation_id, project.tenderer_id, project.agency_id)
        if (actor.org_id is not None and actor.org_id in parties) or _supervises(actor, project):
            return
        raise NotFound()
    if doc.purpose == "guarantee_letter":
        # the guarantor, the bidder it guarantees, the beneficiary (the tenderer) and the category's supervisors
        guarantee = await Guarantee.get(id=doc.owner_id)
        _, project = await _lot(guarantee.lot_id)
        named = (guarantee.guarantor_id, guarantee.applicant_id, guarantee.beneficiary_id, project.agency_id)
        if (actor.org_id is not None and actor.org_id in named) or _supervises(actor, project):
            return
        raise NotFound()
    if doc.purpose == "statistics_report":  # the supervisor organisation it was made for and operators, no one else
        if actor.client_id is None and (
            actor.has(Role.OPERATOR)
            or (actor.has(Role.SUPERVISOR) and actor.org_id is not None and actor.org_id == doc.organisation_id)
        ):
            return
        raise NotFound()
    if doc.purpose == "invoice":  # the buyer organisation and operators only
        if (actor.org_id is not None and actor.org_id == doc.organisation_id) or actor.has(Role.OPERATOR):
            return
        raise NotFound()
    if doc.purpose in RECORDS:
        await _may_read_record(actor, doc)
        return
    if doc.purpose == "witness_record":  # the lot's keepers (operators, the category's supervisors), its witness unit
        assert doc.lot_id is not None
        _, project = await _lot(doc.lot_id)
        if _supervises(actor, project) or (actor.org_id is not None and actor.org_id == doc.organisation_id):
            return
        raise NotFound()
    if doc.purpose in NEGOTIATION_FILES:
        from domain.negotiation import services as negotiation

        await negotiation.may_read_file(actor, doc.purpose, doc.owner_id)
        return
    raise NotFound()


NEGOTIATION_FILES = frozenset({"negotiation_document", "final_offer_file"})
RECORDS = frozenset({"opening_record", "evaluation_report", "award_notice", "lot_archive"})


async def _may_read_record(actor: Actor, doc: Document) -> None:
    """The lot's records: operators and the category's supervisors always; the opening record also to the lot's
    bidders and its tenderer (it was read out to them); the report to the tenderer and the committee; the award
    notice to the tenderer and the winner; the archive to operators and supervisors alone."""
    from domain.evaluation.scoring import members_of
    from domain.results.models import Award

    lot, project = await _lot(doc.owner_id)
    if _supervises(actor, project):
        return
    if doc.purpose == "lot_archive":
        raise NotFound()
    tenderer = actor.org_id is not None and actor.org_id in (project.tenderer_id, project.agency_id)
    if doc.purpose == "opening_record" and (
        tenderer or (actor.org_id is not None and await SealedBid.exists(lot_id=lot.id, organisation_id=actor.org_id))
    ):
        return
    if doc.purpose == "evaluation_report" and (
        tenderer or (actor.expert_id is not None and actor.expert_id in await members_of(lot.id))
    ):
        return
    if doc.purpose == "award_notice" and (
        tenderer or (actor.org_id is not None and await Award.exists(lot_id=lot.id, organisation_id=actor.org_id))
    ):
        return
    raise NotFound()


async def _reviews_bidder(actor: Actor, org_id: int) -> bool:
    """Whether the caller sits on the committee of a lot under evaluation that has a valid bid of the organisation:
    post-qualification (资格后审) judges the bidder with its licences open (domain/evaluation/qualification.py)."""
    from domain.evaluation.models import Evaluation

    if actor.expert_id is None or not actor.has(Role.EXPERT):
        return False
    lots = await SealedBid.filter(organisation_id=org_id, status="decrypted").values_list("lot_id", flat=True)
    evaluations = await Evaluation.filter(lot_id__in=list(lots), status="scoring") if lots else []
    return any(actor.expert_id in [int(m) for m in e.committee] for e in evaluations)


async def _won(actor: Actor, lot_id: int) -> bool:
    """Whether the caller's organisation was awarded the lot (the other party to its contract)."""
    from domain.results.models import Award

    return actor.org_id is not None and await Award.exists(lot_id=lot_id, organisation_id=actor.org_id)


async def _may_read_opened_bid(actor: Actor, doc: Document) -> None:
    """A decrypted bid file: the bidder itself, the lot's evaluation committee, operators and supervisors of
    the lot's category; never another bidder."""
    from domain.evaluation.scoring import members_of

    lot, project = await _lot(int(doc.lot_id or 0))
    if actor.org_id is not None and actor.org_id == doc.organisation_id:
        return
    if _supervises(actor, project):
        return
    if actor.expert_id is not None and actor.has(Role.EXPERT) and actor.expert_id in await members_of(lot.id):
        return
    raise NotFound()


async def sealed_bid_names(lot_id: int, org_id: int, sha256: str) -> bool:
    """Whether the organisation's decrypted bid on the lot names a file with this ciphertext SHA-256."""
    bid = await SealedBid.filter(lot_id=lot_id, organisation_id=org_id, status="decrypted").first()
    return bid is not None and any(d.get("sha256") == sha256 for d in bid.documents or [])
