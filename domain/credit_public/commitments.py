"""Credit commitments (信用承诺书, 信用承诺制): an organisation signs the platform's versioned commitment text for a lot
when it registers and with its bid, with its certificate where it has one; a breach found later (the winner declines
the award, does not sign the contract or hand in its performance security; a false statement a supervisor finds)
creates a bad credit record linked to the commitment, published for its period."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.certificates import errors as certificate_errors
from domain.certificates import signatures
from domain.certificates.models import BoundCertificate
from domain.common import clock, events
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock
from domain.credit import commitment_texts
from domain.credit.models import CreditCommitment, CreditRecord
from domain.credit.services import CreditRecorded
from domain.credit_public import publicity
from domain.credit_public.errors import CommitmentAlreadyBreached, CommitmentVersionOutdated
from domain.publication.models import Lot, Project
from domain.publication.states import LotStatus
from domain.registration import services as registration
from domain.results.sequence import AwardWithdrawn
from domain.results.states import WITHDRAWAL_GROUNDS, WithdrawalReason

ACT = "credit.commit"
MAX_TEXT = 4000


class Stage(StrEnum):
    REGISTRATION = "registration"  # signed when the organisation registers for the lot
    BID = "bid"  # signed with each bid (a replaced bid signs again)


# the texts and the rule of their versions live below registration (domain/credit/commitment_texts), which checks them
CommitmentText = commitment_texts.CommitmentText
TEXTS = commitment_texts.TEXTS
in_force = commitment_texts.in_force

# the grounds of a withdrawn award that break the commitment (第三条): the winner's own failure, not force majeure,
# a complaint or a punishment (those are recorded where they are decided)
BREACHING = frozenset(
    {WithdrawalReason.DECLINED, WithdrawalReason.CONTRACT_NOT_SIGNED, WithdrawalReason.SECURITY_NOT_SUBMITTED}
)
BREACH_CATEGORY = "违反信用承诺"


def content(lot_trade_code: str, stage: Stage, text: CommitmentText) -> dict[str, Any]:
    """The canonical content the signer signs (mobile_contract/SIGNATURES.md, act credit.commit)."""
    return {"act": ACT, "lotTradeCode": lot_trade_code, "stage": stage.value, "textSha256": text.sha256, "v": 1}


@dataclass(frozen=True, kw_only=True)
class CommitmentSigned(DomainEvent):
    type = "credit.commitment_signed"
    object_type = "CreditCommitment"
    lot_id: int
    organisation_id: int
    stage: str
    version: int


@dataclass(frozen=True, kw_only=True)
class CommitmentBreached(DomainEvent):
    type = "credit.commitment_breached"
    object_type = "CreditCommitment"
    lot_id: int
    organisation_id: int
    record_id: int
    reason: str


async def _has_certificate(actor: Actor) -> bool:
    return await BoundCertificate.filter(
        user_id=actor.user_id, organisation_id=actor.org_id, not_after__gt=clock.now()
    ).exists()


@raises(CommitmentVersionOutdated, *certificate_errors.SIGNATURE_ERRORS)
@use_case("credit.commitment_sign", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def sign(
    actor: Actor,
    lot_id: int,
    stage: str,
    version: int,
    signed: signatures.Signed | None = None,
    idempotency_key: str | None = None,
) -> CreditCommitment:
    """Records the organisation's commitment for the lot at this stage on the text in force now (the version given must
    be it), signed with its certificate when its user has one bound (required then); signing again (a replaced bid, a
    new version in force) renews it."""
    if actor.org_id is None or actor.user_id is None or not actor.has(Role.BIDDER):
        raise PermissionDenied()
    try:
        stage_ = Stage(stage)
    except ValueError:
        raise InvalidInput(field="stage") from None
    text = in_force(clock.now())
    if version != text.version:  # signed against the version in force when it is signed
        raise CommitmentVersionOutdated(current=text.version)
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None or lot.status == LotStatus.DRAFT.value:
        raise NotFound()
    if lot.status != LotStatus.OPEN.value:
        raise InvalidTransition(state=lot.status)
    if stage_ is Stage.BID and await registration.active(lot_id, actor.org_id) is None:
        raise PermissionDenied()  # a bid needs a registration first
    verified = await signatures.check(
        actor, content(lot.trade_code, stage_, text), signed, required=await _has_certificate(actor)
    )
    org_id = actor.org_id
    request = {"lot": lot_id, "stage": stage_.value, "version": version, "signed": bool(signed)}

    written: list[CreditCommitment] = []  # the row as the committed transaction left it: the answer, not read again

    async def change() -> dict[str, Any]:
        written.clear()
        now = clock.now()
        row = await lock(CreditCommitment.filter(organisation_id=org_id, lot_id=lot_id, stage=stage_.value)).first()
        if row is None:
            row = await CreditCommitment.create(
                organisation_id=org_id,
                lot_id=lot_id,
                stage=stage_.value,
                version=text.version,
                text_sha256=text.sha256,
                signed_by=actor.user_id,
                signed_at=now,
            )
            stored = verified is None  # the insert wrote every value; only a signature's id is left to write
        else:
            row.version, row.text_sha256, row.signed_by, row.signed_at = text.version, text.sha256, actor.user_id, now
            stored = False
        if verified is not None:
            row.signature_id = (await signatures.record(actor, verified, "CreditCommitment", row.id, lot_id)).id
        if not stored:
            await row.save()
        await events.record(
            CommitmentSigned(
                object_id=str(row.id),
                lot_id=lot_id,
                organisation_id=org_id,
                stage=stage_.value,
                version=text.version,
                audience=Audience(orgs=(org_id,), roles=("operator", "supervisor")),
            ),
            actor,
        )
        written.append(row)
        return {"id": row.id}

    result, replayed = await run_once(actor, idempotency_key, "credit.commitment_sign", request, change)
    if not replayed and written and written[-1].id == result["id"]:
        return written[-1]
    return await CreditCommitment.get(id=result["id"])  # a replay: the row as it is now, as before


async def _category(lot_id: int) -> str | None:
    found = await Project.filter(lots__id=lot_id).values_list("category", flat=True)
    return str(found[0]) if found else None


async def _breach(
    actor: Actor, row: CreditCommitment, description: str, source: str, severity: publicity.Severity
) -> CreditRecord:
    """The bad record of a breach, linked to the commitment and published with its lot; inside a transaction."""
    now = clock.now()
    record = await CreditRecord.create(
        organisation_id=row.organisation_id,
        kind="bad",
        category=BREACH_CATEGORY,
        description=description,
        source=source,
        recorded_by=actor.user_id or 0,
        recorded_at=now,
    )
    row.breached_at, row.breach_record_id = now, record.id
    await row.save(update_fields=["breached_at", "breach_record_id"])
    await publicity.publish(
        organisation_id=row.organisation_id,
        severity=severity,
        title=BREACH_CATEGORY,
        summary=f"{description}（{source}）",
        decided_at=now,
        record_id=record.id,
        lot_id=row.lot_id,
        category=await _category(row.lot_id),
    )
    keepers = Audience(orgs=(row.organisation_id,), roles=("operator", "supervisor"))
    await events.record(
        CreditRecorded(object_id=str(record.id), organisation_id=row.organisation_id, kind="bad", audience=keepers),
        actor,
    )
    await events.record(
        CommitmentBreached(
            object_id=str(row.id),
            lot_id=row.lot_id,
            organisation_id=row.organisation_id,
            record_id=record.id,
            reason=description,
            audience=keepers,
        ),
        actor,
    )
    return record


async def breach_on_award_withdrawn(event: AwardWithdrawn) -> None:
    """A winner whose award was withdrawn for its own failure (放弃中标, no contract, no performance security) broke
    the commitment it signed for the lot: a bad record linked to it (once; a repeat of the event changes nothing)."""
    try:
        ground = WithdrawalReason(event.reason)
    except ValueError:
        return
    if ground not in BREACHING:
        return
    rows = await lock(
        CreditCommitment.filter(lot_id=event.lot_id, organisation_id=event.organisation_id).order_by("-signed_at")
    )
    if not rows or any(r.breached_at is not None for r in rows):
        return
    found = WITHDRAWAL_GROUNDS[ground]
    await _breach(SYSTEM, rows[0], f"{found.zh}，违反所签署的信用承诺书", found.basis, publicity.Severity.GENERAL)


@raises(CommitmentAlreadyBreached)
@use_case("credit.commitment_breach", "CreditCommitment", lambda actor, commitment_id, *a, **k: commitment_id)
async def report_false_statement(
    actor: Actor, commitment_id: int, description: str, serious: bool = False, idempotency_key: str | None = None
) -> CreditCommitment:
    """A supervisor of the lot's category records that the commitment was false (虚假承诺): a bad record linked to it,
    published for the period of its severity."""
    text = required_text(description, "description", MAX_TEXT)
    row = await CreditCommitment.get_or_none(id=commitment_id)
    if row is None or not actor.has(Role.SUPERVISOR, Role.OPERATOR):
        raise NotFound()
    category = await _category(row.lot_id)
    if not actor.has(Role.OPERATOR) and category not in actor.supervised_categories:
        raise NotFound()
    if not actor.has(Role.SUPERVISOR):
        raise PermissionDenied()  # the supervisor decides a false statement (行政监督)
    request = {"id": commitment_id, "description": text, "serious": serious}

    async def change() -> dict[str, Any]:
        locked = await lock(CreditCommitment.filter(id=commitment_id)).get()
        if locked.breached_at is not None:
            raise CommitmentAlreadyBreached()
        severity = publicity.Severity.SERIOUS if serious else publicity.Severity.GENERAL
        await _breach(actor, locked, f"虚假承诺：{text}", "行政监督部门认定", severity)
        return {"id": locked.id}

    result, _ = await run_once(actor, idempotency_key, "credit.commitment_breach", request, change)
    return await CreditCommitment.get(id=result["id"])


@raises()
async def commitments_of(actor: Actor, lot_id: int | None = None) -> list[CreditCommitment]:
    """The caller's organisation's commitments, newest first (of one lot when given)."""
    if actor.org_id is None:
        raise PermissionDenied()
    query = CreditCommitment.filter(organisation_id=actor.org_id)
    if lot_id is not None:
        query = query.filter(lot_id=lot_id)
    return await query.order_by("-signed_at")


@raises()
async def commitments_of_lot(actor: Actor, lot_id: int) -> list[CreditCommitment]:
    """Every commitment signed for a lot: operators and supervisors of its category."""
    category = await _category(lot_id)
    if not (actor.has(Role.OPERATOR) or (actor.has(Role.SUPERVISOR) and category in actor.supervised_categories)):
        raise NotFound()
    return await CreditCommitment.filter(lot_id=lot_id).order_by("id")
