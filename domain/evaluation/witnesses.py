"""Witnesses (见证): people of a witness organisation (a trading centre's witness unit or an accredited third party,
created by operators) whom an operator assigns to a lot. An assigned witness attends the lot's remote opening and
evaluation read-only (the opening as its bidders watch it, the evaluation as its tenderer reads it, never a vote),
enters observations and anomalies in its witness record as they happen, and signs the record with its certificate
(an act like any other signed act, domain/certificates/signatures.py: bound to the witness, valid now, over the
record's canonical content). A signed record is closed; it enters the audit chain and the lot's evidence package,
and the chronograph renders it to PDF as a file of the lot of its own (domain/documents/records.py, purpose
witness_record, its SHA-256 on the audit chain), listed in the lot's electronic archive (domain/supervision/archive.py).

The signed content: {"act": "witness.record", "lotTradeCode", "entries": [{"seq", "stage", "kind", "text", "at"}],
"v": 1}, canonical JSON as every signed act.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC
from enum import StrEnum
from typing import Any, ClassVar

from domain.access import scope
from domain.accounts.models import User
from domain.accounts.states import OrgKind, OrgStatus
from domain.certificates import errors as cert_errors
from domain.certificates import signatures
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import DomainError, NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, DomainEvent, canonical_json, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock
from domain.evaluation.records import WitnessAssignment, WitnessRecord
from domain.publication.models import Lot
from domain.publication.states import LotStatus

ACT = "witness.record"
VERSION = 1
MAX_TEXT = 2000
MAX_ENTRIES = 500


class WitnessStage(StrEnum):
    OPENING = "opening"
    EVALUATION = "evaluation"
    OTHER = "other"


class EntryKind(StrEnum):
    OBSERVATION = "observation"
    ANOMALY = "anomaly"


class RecordStatus(StrEnum):
    OPEN = "open"
    SIGNED = "signed"


class NotAWitness(DomainError):
    code = "NOT_A_WITNESS"
    message_zh = "该用户不属于已审核的见证机构"
    message_en = "The user does not belong to an approved witness organisation"


class WitnessRecordClosed(DomainError):
    code = "WITNESS_RECORD_CLOSED"
    message_zh = "见证记录已签章，不能再修改"
    message_en = "The witness record is signed and closed"


class WitnessRecordEmpty(DomainError):
    code = "WITNESS_RECORD_EMPTY"
    message_zh = "见证记录没有任何记载，不能签章"
    message_en = "The witness record has no entry to sign"


class WitnessRecordFull(DomainError):
    code = "WITNESS_RECORD_FULL"
    message_zh = "见证记录条目已达上限（{limit} 条）"
    message_en = "The witness record holds at most {limit} entries"
    exposed: ClassVar[dict[str, str]] = {"limit": "int"}


@dataclass(frozen=True, kw_only=True)
class WitnessAssigned(DomainEvent):
    type = "witness.assigned"
    object_type = "WitnessAssignment"
    lot_id: int
    user_id: int
    organisation_id: int


@dataclass(frozen=True, kw_only=True)
class WitnessObserved(DomainEvent):
    """An entry of a witness record: its digest on the chain, its text in the record."""

    type = "witness.observed"
    object_type = "WitnessRecord"
    lot_id: int
    seq: int
    stage: str
    kind: str
    entry_sha256: str


@dataclass(frozen=True, kw_only=True)
class WitnessRecordSigned(DomainEvent):
    type = "witness.record_signed"
    object_type = "WitnessRecord"
    lot_id: int
    entries: int
    anomalies: int
    content_sha256: str
    signature_id: int


KEEPERS = (Role.OPERATOR.value, Role.SUPERVISOR.value)


def _witness(actor: Actor) -> int:
    if actor.user_id is None or actor.org_id is None or not actor.has(Role.WITNESS):
        raise PermissionDenied()
    return actor.user_id


async def assigned(actor: Actor, lot_id: int) -> bool:
    """The actor is a witness assigned to the lot."""
    if actor.user_id is None or not actor.has(Role.WITNESS):
        return False
    return await WitnessAssignment.exists(lot_id=lot_id, user_id=actor.user_id)


async def _lot(lot_id: int) -> Lot:
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None or lot.status == LotStatus.DRAFT.value:
        raise NotFound()
    return lot


@raises(NotAWitness)
@use_case("witness.assign", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def assign(actor: Actor, lot_id: int, user_id: int, idempotency_key: str | None = None) -> WitnessAssignment:
    """Assigns a user of an approved witness organisation to the lot (operators); assigning again returns the same
    assignment. The witness's record of the lot is opened with it."""
    if not actor.has(Role.OPERATOR) or actor.user_id is None:
        raise PermissionDenied()
    lot = await _lot(lot_id)
    user = await User.filter(id=user_id, is_active=True).select_related("organisation").first()
    if user is None:
        raise NotFound()
    org = user.organisation
    if org.status != OrgStatus.APPROVED.value or OrgKind.WITNESS.value not in (org.kinds or []):
        raise NotAWitness()

    async def create() -> dict[str, Any]:
        existing = await WitnessAssignment.get_or_none(lot_id=lot.id, user_id=user.id)
        if existing is not None:
            return {"id": existing.id}
        now = clock.now()
        made = await WitnessAssignment.create(
            lot_id=lot.id, user_id=user.id, organisation_id=org.id, assigned_by=actor.user_id, assigned_at=now
        )
        await WitnessRecord.create(
            lot_id=lot.id, user_id=user.id, organisation_id=org.id, entries=[], status="open", created_at=now
        )
        await events.record(
            WitnessAssigned(
                object_id=str(made.id),
                lot_id=lot.id,
                user_id=user.id,
                organisation_id=org.id,
                audience=Audience(users=(user.id,), roles=KEEPERS),
            ),
            actor,
        )
        return {"id": made.id}

    result, _ = await run_once(actor, idempotency_key, "witness.assign", {"lot": lot.id, "user": user.id}, create)
    return await WitnessAssignment.get(id=result["id"])


async def _my_record(actor: Actor, lot_id: int) -> WitnessRecord:
    user_id = _witness(actor)
    record = await WitnessRecord.get_or_none(lot_id=lot_id, user_id=user_id)
    if record is None:
        raise NotFound()
    return record


@raises(WitnessRecordClosed, WitnessRecordFull)
@use_case("witness.observe", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def observe(
    actor: Actor,
    lot_id: int,
    stage: WitnessStage,
    kind: EntryKind,
    text: str,
    idempotency_key: str | None = None,
) -> WitnessRecord:
    """Adds an observation or an anomaly to the witness's open record of the lot, stamped with the server's time."""
    record = await _my_record(actor, lot_id)
    body = required_text(text, "text", MAX_TEXT)

    async def add() -> dict[str, Any]:
        locked = await lock(WitnessRecord.filter(id=record.id)).get()
        if locked.status != RecordStatus.OPEN.value:
            raise WitnessRecordClosed()
        entries = list(locked.entries or [])
        if len(entries) >= MAX_ENTRIES:
            raise WitnessRecordFull(limit=MAX_ENTRIES)
        seq = len(entries) + 1
        entry: dict[str, Any] = {
            "seq": seq,
            "stage": stage.value,
            "kind": kind.value,
            "text": body,
            "at": clock.now().astimezone(UTC).isoformat(timespec="seconds"),
        }
        locked.entries = [*entries, entry]
        await locked.save(update_fields=["entries"])
        await events.record(
            WitnessObserved(
                object_id=str(locked.id),
                lot_id=locked.lot_id,
                seq=seq,
                stage=stage.value,
                kind=kind.value,
                entry_sha256=events.digest(entry),
                audience=Audience(roles=KEEPERS),
            ),
            actor,
        )
        return {"id": locked.id}

    request = {"lot": lot_id, "stage": stage.value, "kind": kind.value, "text": body}
    await run_once(actor, idempotency_key, "witness.observe", request, add)
    return await WitnessRecord.get(id=record.id)


def content(trade_code: str, record: WitnessRecord) -> dict[str, Any]:
    return {"act": ACT, "lotTradeCode": trade_code, "entries": list(record.entries or []), "v": VERSION}


async def to_sign(actor: Actor, lot_id: int) -> str:
    """The exact text the witness signs: its record as it stands."""
    record = await _my_record(actor, lot_id)
    lot = await _lot(lot_id)
    return canonical_json(content(lot.trade_code, record)).decode()


@raises(*cert_errors.SIGNATURE_ERRORS, WitnessRecordClosed, WitnessRecordEmpty)
@use_case("witness.sign", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def sign(actor: Actor, lot_id: int, signed: signatures.Signed) -> WitnessRecord:
    """Signs and closes the witness's record with its certificate (bound to the witness, valid now, over exactly the
    record's content); nothing changes on a refusal."""
    record = await _my_record(actor, lot_id)
    lot = await _lot(lot_id)
    if record.status != RecordStatus.OPEN.value:
        raise WitnessRecordClosed()
    if not record.entries:
        raise WitnessRecordEmpty()
    signed_content = content(lot.trade_code, record)
    verified = await signatures.check(actor, signed_content, signed, required=True)
    assert verified is not None
    text = canonical_json(signed_content).decode()

    async def close() -> dict[str, Any]:
        locked = await lock(WitnessRecord.filter(id=record.id)).get()
        if locked.status != RecordStatus.OPEN.value:
            raise WitnessRecordClosed()
        if canonical_json(content(lot.trade_code, locked)).decode() != text:
            raise WitnessRecordClosed()  # an entry came in after the text was signed
        row = await signatures.record(actor, verified, "WitnessRecord", locked.id, lot.id)
        locked.status, locked.signature_id, locked.signed_at = RecordStatus.SIGNED.value, row.id, clock.now()
        locked.content_sha256 = hashlib.sha256(text.encode()).hexdigest()
        await locked.save(update_fields=["status", "signature_id", "signed_at", "content_sha256"])
        await events.record(
            WitnessRecordSigned(
                object_id=str(locked.id),
                lot_id=lot.id,
                entries=len(locked.entries),
                anomalies=sum(1 for e in locked.entries if e.get("kind") == EntryKind.ANOMALY.value),
                content_sha256=locked.content_sha256,
                signature_id=row.id,
                audience=Audience(roles=KEEPERS),
            ),
            actor,
        )
        return {"id": locked.id}

    await run_once(actor, None, "witness.sign", {"lot": lot.id}, close)
    return await WitnessRecord.get(id=record.id)


async def records(actor: Actor, lot_id: int) -> list[WitnessRecord]:
    """A lot's witness records: all of them for operators and the supervisors of its category, its own for a
    witness assigned to it; NotFound to anyone else."""
    lot = await _lot(lot_id)
    if await scope.keeps_lot(actor, lot.id):
        return list(await WitnessRecord.filter(lot_id=lot.id).order_by("id"))
    if await assigned(actor, lot.id):
        return list(await WitnessRecord.filter(lot_id=lot.id, user_id=actor.user_id))
    raise NotFound()


async def my_lots(actor: Actor) -> list[WitnessAssignment]:
    """The lots the witness is assigned to, newest first."""
    user_id = _witness(actor)
    return list(await WitnessAssignment.filter(user_id=user_id).order_by("-id"))


def as_evidence(record: WitnessRecord) -> dict[str, Any]:
    """A witness record as the evidence package carries it (its signature is among the package's signatures)."""
    return {
        "id": record.id,
        "userId": record.user_id,
        "organisationId": record.organisation_id,
        "status": record.status,
        "entries": record.entries,
        "contentSha256": record.content_sha256,
        "signatureId": record.signature_id,
        "signedAt": record.signed_at.astimezone(UTC).isoformat() if record.signed_at else None,
    }
