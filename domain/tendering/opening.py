"""The remote opening (不见面开标): the deadline, the decryption window, the record, objections on the spot.

When a sealed tender is published its opening is scheduled for the bid deadline. At the deadline
the chronograph counts the standing bids: fewer than the lot's min_bids (3 by default) and the lot
fails (流标): nothing is opened, and a termination announcement follows. Otherwise the lot moves to
evaluation and the decryption window opens (decryption_window_minutes, 60 by default): each bidder
hands over its key, the server decrypts and checks the inner document, and the bidder and price
join the opening record, which the bidders, the tenderer and operators watch live. When the window
closes, bids never decrypted are invalid (撤销: the bidder did not decrypt) and the record becomes
public. A bidder may object on the spot; the tenderer answers in the record.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from domain.access import network, scope
from domain.accounts.models import Organisation
from domain.certificates import acts, signatures
from domain.certificates.errors import SIGNATURE_ERRORS, CertificateSignatureInvalid
from domain.certificates.signatures import Signed
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import DomainError, NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock, lock_shared
from domain.publication.announcements import announce
from domain.publication.errors import LotSuspended
from domain.publication.models import Lot, Project
from domain.publication.procedures import SEALED, Procedure
from domain.publication.projects import ensure_not_suspended, managed_project, move_lot
from domain.publication.states import LotStatus
from domain.registration import security as registration_security
from domain.registration import services as registration
from domain.registration.security import GuaranteeValidityShortfall
from domain.tendering import clarifications
from domain.tendering.errors import SecurityMissing
from domain.tendering.models import Opening, OpeningObjection, SealedBid
from domain.tendering.sealing import BadBidDocument, CannotDecrypt, open_sealed
from domain.tendering.services import BidStatus
from domain.tendering.states import BID, OPENING
from domain.tendering.states import OpeningStatus as OpeningStatus

SYSTEM = Actor(client_id="system", roles=frozenset({Role.OPERATOR}))


class DecryptionClosed(DomainError):
    code = "DECRYPTION_CLOSED"
    message_zh = "当前不在解密时间内"
    message_en = "Decryption is not open now"


class NoBidToDecrypt(DomainError):
    code = "NO_BID_TO_DECRYPT"
    message_zh = "您在本标段没有待解密的投标文件"
    message_en = "You have no bid to decrypt for this lot"


class ObjectionNotAllowed(DomainError):
    code = "OBJECTION_NOT_ALLOWED"
    message_zh = "只有本标段投标人可在开标过程中提出异议"
    message_en = "Only bidders of this lot may object during the opening"


@dataclass(frozen=True, kw_only=True)
class OpeningStarted(DomainEvent):
    type = "opening.started"
    object_type = "Opening"
    lot_id: int
    bids: int
    window_ends_at: datetime


@dataclass(frozen=True, kw_only=True)
class OpeningFailed(DomainEvent):
    """流标: fewer bids than the lot needs; no bid is opened."""

    type = "opening.failed"
    object_type = "Opening"
    lot_id: int
    bids: int
    min_bids: int


@dataclass(frozen=True, kw_only=True)
class BidDecrypted(DomainEvent):
    """A line of the opening record, for those watching the opening."""

    type = "opening.bid_decrypted"
    object_type = "Opening"
    lot_id: int
    bidder: str
    price_fen: int
    documents: int
    decrypted_at: datetime


@dataclass(frozen=True, kw_only=True)
class OpeningClosed(DomainEvent):
    type = "opening.closed"
    object_type = "Opening"
    lot_id: int
    decrypted: int
    invalid: int


@dataclass(frozen=True, kw_only=True)
class ObjectionRaised(DomainEvent):
    type = "opening.objection_raised"
    object_type = "Opening"
    lot_id: int
    objection_id: int


@dataclass(frozen=True, kw_only=True)
class ObjectionAnswered(DomainEvent):
    type = "opening.objection_answered"
    object_type = "Opening"
    lot_id: int
    objection_id: int


def _at(config: dict[str, Any], name: str) -> datetime | None:
    value = config.get(name)
    return datetime.fromisoformat(value) if value else None


async def schedule(lot_id: int) -> Opening | None:
    """The opening of a newly published sealed tender, due at its bid deadline (idempotent)."""
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None or Procedure(lot.procedure) not in SEALED:
        return None
    deadline = _at(lot.config, "bid_deadline")
    if deadline is None:
        return None
    existing = await Opening.get_or_none(lot_id=lot_id)
    if existing is not None:
        return existing
    now = clock.now()
    return await Opening.create(
        lot_id=lot_id,
        status=OpeningStatus.SCHEDULED.value,
        deadline=deadline,
        next_check_at=deadline,
        created_at=now,
        updated_at=now,
    )


async def _watchers(lot: Lot) -> Audience:
    """Who an opening event is addressed to: the tenderer (and agency) and the keepers. Bidders
    follow the opening through openingUpdates, which checks once that they bid; listing every
    bidder here made each of thousands of decryptions read and write all of them."""
    project = await Project.get(id=lot.project_id)
    return Audience(
        orgs=tuple(o for o in (project.tenderer_id, project.agency_id) if o),
        roles=(Role.OPERATOR.value, Role.SUPERVISOR.value),
    )


async def advance(opening: Opening, now: datetime) -> None:
    """The time-driven steps of a locked opening: start or fail at the deadline, close after the window.
    While the lot is suspended nothing moves: the opening is parked until `resume` re-plans it."""
    lot = await Lot.get(id=opening.lot_id)
    try:
        await ensure_not_suspended(lot)
    except LotSuspended:
        if opening.next_check_at is not None:
            opening.next_check_at, opening.updated_at = None, now
            await opening.save()
        return
    if opening.status == OpeningStatus.SCHEDULED.value and now >= opening.deadline and lot.status != LotStatus.OPEN:
        opening.status = OPENING.fire(opening.status, "void", by=SYSTEM, lot_status=lot.status).value
        opening.closed_at, opening.next_check_at = now, None
    elif opening.status == OpeningStatus.SCHEDULED.value and now >= opening.deadline:
        await clarifications.lapse_unconfirmed(lot.id, now)  # flagged by a change and never confirmed: not opened
        await mark_unsecured(lot.id, opening.deadline)
        standing = await SealedBid.filter(lot_id=lot.id, status=BidStatus.SUBMITTED.value).count()
        opening.bids = standing
        min_bids = int(lot.config.get("min_bids", 3))
        if standing < min_bids:
            # 招标投标法 第二十八条: fewer than three bidders, the tender is held again; nothing is opened
            opening.status = OPENING.fire(opening.status, "fail", by=SYSTEM, bids=standing, min_bids=min_bids).value
            opening.closed_at, opening.next_check_at = now, None
            await move_lot(SYSTEM, lot.id, {LotStatus.OPEN}, LotStatus.FAILED)
            await events.record(
                OpeningFailed(
                    object_id=str(opening.id),
                    lot_id=lot.id,
                    bids=standing,
                    min_bids=min_bids,
                    audience=Audience(public=True),
                ),
                SYSTEM,
            )
        else:
            window = timedelta(minutes=int(lot.config.get("decryption_window_minutes", 60)))
            # at the deadline, or when a suspension that held it past the deadline was lifted (resume)
            start = max(opening.deadline, opening.started_at or opening.deadline)
            opening.status = OPENING.fire(opening.status, "start", by=SYSTEM, bids=standing, min_bids=min_bids).value
            opening.started_at = start
            opening.window_ends_at = start + window
            opening.next_check_at = opening.window_ends_at
            await move_lot(SYSTEM, lot.id, {LotStatus.OPEN}, LotStatus.EVALUATING)
            await events.record(
                OpeningStarted(
                    object_id=str(opening.id),
                    lot_id=lot.id,
                    bids=standing,
                    window_ends_at=opening.window_ends_at,
                    audience=await _watchers(lot),
                ),
                SYSTEM,
            )
    elif (
        opening.status == OpeningStatus.DECRYPTING.value
        and opening.window_ends_at is not None
        and now >= opening.window_ends_at
    ):
        invalid = await SealedBid.filter(lot_id=lot.id, status=BidStatus.SUBMITTED.value).update(
            status=BidStatus.INVALID.value, decrypt_error="not decrypted in the window", ended_at=now
        )
        decrypted = await SealedBid.filter(lot_id=lot.id, status=BidStatus.DECRYPTED.value).count()
        opening.status = OPENING.fire(opening.status, "close", by=SYSTEM).value
        opening.closed_at, opening.next_check_at = now, None
        await events.record(
            OpeningClosed(
                object_id=str(opening.id),
                lot_id=lot.id,
                decrypted=decrypted,
                invalid=invalid,
                audience=Audience(public=True),
            ),
            SYSTEM,
        )
    else:
        return
    opening.updated_at = now
    await opening.save()


SHORTFALLS: dict[str, type[DomainError]] = {e.code: e for e in (SecurityMissing, GuaranteeValidityShortfall)}


async def mark_unsecured(lot_id: int, deadline: datetime) -> int:
    """Records, on each bid standing at the deadline, a security not in place then, with the refusal a new bid would
    have met (GUARANTEE_VALIDITY_SHORT for a guarantee the moved deadline left short and nobody extended). Such a bid
    was sealed while its security covered; it keeps its place, counts for min_bids and is opened, and the opening record
    and the committee see it opened without security (招标投标法实施条例 第二十六条: the security lasts as long as the
    bid; the committee rejects a bid without it, 第五十一条). Returns how many were marked."""
    marked = 0
    for bid in await SealedBid.filter(lot_id=lot_id, status=BidStatus.SUBMITTED.value):
        if await registration.security_in_place(lot_id, bid.organisation_id, deadline):
            continue
        why = await registration_security.shortfall(lot_id, bid.organisation_id, deadline) or SecurityMissing()
        params = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in why.params.items()}
        bid.security_shortfall = {"code": why.code, "params": params}
        await bid.save(update_fields=["security_shortfall"])
        marked += 1
    return marked


def shortfall_of(bid: SealedBid) -> DomainError | None:
    """The reason recorded at the opening why the bid stood without security; None when it was secured."""
    found = bid.security_shortfall
    if not found or found.get("code") not in SHORTFALLS:
        return None
    cls = SHORTFALLS[found["code"]]
    exposed = cls.exposed
    params = {
        k: datetime.fromisoformat(v) if exposed.get(k) == "datetime" and isinstance(v, str) else v
        for k, v in (found.get("params") or {}).items()
    }
    return cls(**params)


async def _fire(opening: Opening, now: datetime) -> None:
    locked = await lock(Opening.filter(id=opening.id)).get()
    await advance(locked, now)
    opening.next_check_at = locked.next_check_at


async def resume(lot_id: int, suspended_at: datetime, lifted_at: datetime) -> None:
    """Re-plans the opening of a lot whose suspension was lifted (in the caller's transaction): an
    opening held past its deadline starts now with its whole decryption window; a window the
    suspension interrupted is extended by the time it was suspended."""
    opening = await lock(Opening.filter(lot_id=lot_id)).first()
    if opening is None:
        return
    if opening.status == OpeningStatus.SCHEDULED.value:
        if lifted_at > opening.deadline:
            opening.started_at = lifted_at  # advance starts the window here rather than at the deadline
        opening.next_check_at = max(opening.deadline, lifted_at)
    elif opening.status == OpeningStatus.DECRYPTING.value and opening.window_ends_at is not None:
        held = lifted_at - max(suspended_at, opening.started_at or suspended_at)
        if held > timedelta(0):
            opening.window_ends_at += held
        opening.next_check_at = opening.window_ends_at
    else:
        return
    opening.updated_at = lifted_at
    await opening.save()


async def _decrypting(lot_id: int, now: datetime) -> Opening:
    """The opening, in its decryption window, held so that it cannot close under this submission.

    Submissions share the row (FOR SHARE), so thousands of bidders decrypt at once; the close
    takes it exclusively and waits for them. Only when a step is due does a submission take the
    exclusive lock itself and apply it.
    """
    opening = await Opening.get_or_none(lot_id=lot_id)
    if opening is None:
        raise NotFound()
    await ensure_not_suspended(await Lot.get(id=lot_id))  # no decryption while suspended
    due = (opening.status == OpeningStatus.SCHEDULED.value and now >= opening.deadline) or (
        opening.status == OpeningStatus.DECRYPTING.value
        and opening.window_ends_at is not None
        and now >= opening.window_ends_at
    )
    if due:
        opening = await lock(Opening.filter(id=opening.id)).get()
        await advance(opening, now)
    else:
        await lock_shared(Opening, opening.id)
        opening = await Opening.get(id=opening.id)
    if opening.status != OpeningStatus.DECRYPTING.value:
        raise DecryptionClosed()
    return opening


def key_thumbprint(key_jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint of a symmetric JWK: base64url(SHA-256 of {"k":...,"kty":"oct"}); empty when it
    is no such key."""
    if not isinstance(key_jwk, dict) or key_jwk.get("kty") != "oct" or not isinstance(key_jwk.get("k"), str):
        return ""
    digest = hashlib.sha256(json.dumps({"k": key_jwk["k"], "kty": "oct"}, separators=(",", ":")).encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def _key_signature(actor: Actor, lot_id: int, key_jwk: dict[str, Any], signed: Signed | None) -> Any:
    """The bidder's verified signature over the key handed over for its standing bid (None when unsigned
    and the lot does not require signed bids)."""
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None:
        raise NoBidToDecrypt()
    required = bool(lot.config.get("require_signed_bids"))
    if signed is None and not required:
        return None
    bid = await SealedBid.filter(lot_id=lot_id, organisation_id=actor.org_id, status=BidStatus.SUBMITTED.value).first()
    if bid is None:
        raise NoBidToDecrypt()
    content = acts.bid_decrypt(lot.trade_code, bid.ciphertext_sha256, key_thumbprint(key_jwk))
    return await signatures.check(actor, content, signed, required=required), bid.id


@raises(DecryptionClosed, NoBidToDecrypt, CannotDecrypt, BadBidDocument, *SIGNATURE_ERRORS)
@use_case("opening.decrypt", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def submit_key(actor: Actor, lot_id: int, key_jwk: dict[str, Any], signed: Signed | None = None) -> SealedBid:
    """Decrypts the caller's standing bid with its key, inside the window; the price joins the record.
    A key that does not decrypt is refused and may be submitted again until the window closes. With the
    bidder's signature over the key's thumbprint when given (required by a lot with require_signed_bids)."""
    from tortoise.transactions import in_transaction

    if actor.org_id is None:
        raise PermissionDenied()
    checked = await _key_signature(actor, lot_id, key_jwk, signed)
    async with in_transaction():
        now = clock.now()
        opening = await _decrypting(lot_id, now)
        bid = await lock(
            SealedBid.filter(lot_id=lot_id, organisation_id=actor.org_id, status=BidStatus.SUBMITTED.value)
        ).first()
        lot = await Lot.get(id=lot_id)
        if bid is None:
            # a phone that resends its key after losing the answer: the bid this key opened, once more
            return await _decrypted_by(lot, actor.org_id, key_jwk)
        opened = open_sealed(bid.ciphertext, key_jwk, lot.trade_code)
        bid.status, bid.decrypted_at = BID.fire(bid.status, "decrypt").value, now
        bid.price_fen, bid.documents = opened.price_fen, opened.documents
        bid.opened_key = {"kty": "oct", "k": key_jwk["k"]}  # its bid files are opened with it (domain/documents)
        await bid.save(update_fields=["status", "decrypted_at", "price_fen", "documents", "opened_key"])
        await network.record(actor, lot_id, "opening.decrypt")
        if checked is not None:
            verified, signed_bid = checked
            if signed_bid != bid.id:  # replaced between the check and now: the signature is not this bid's
                raise CertificateSignatureInvalid()
            await signatures.record(actor, verified, "SealedBid", bid.id, lot_id)
        org = await Organisation.get(id=bid.organisation_id)
        await events.record(
            BidDecrypted(
                object_id=str(opening.id),
                lot_id=lot_id,
                bidder=org.name,
                price_fen=opened.price_fen,
                documents=len(opened.documents),
                decrypted_at=now,
                audience=await _watchers(lot),
            ),
            actor,
        )
    return bid


async def _decrypted_by(lot: Lot, org_id: int, key_jwk: dict[str, Any]) -> SealedBid:
    """The organisation's bid already decrypted with this very key; NoBidToDecrypt otherwise."""
    done = await SealedBid.filter(lot_id=lot.id, organisation_id=org_id, status=BidStatus.DECRYPTED.value).first()
    if done is None:
        raise NoBidToDecrypt()
    try:
        open_sealed(done.ciphertext, key_jwk, lot.trade_code)
    except DomainError as err:
        raise NoBidToDecrypt() from err
    return done


@raises(DecryptionClosed, ObjectionNotAllowed)
@use_case("opening.object", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def raise_objection(actor: Actor, lot_id: int, text: str, idempotency_key: str | None = None) -> OpeningObjection:
    """A bidder of the lot objects on the spot, during the decryption window. With an idempotency key,
    a phone that resends after losing the answer gets the same objection, not a second one."""
    body = required_text(text, "text", 2000)
    if actor.org_id is None or actor.user_id is None:
        raise PermissionDenied()
    org_id, user_id = actor.org_id, actor.user_id

    async def create() -> dict[str, Any]:
        opening = await Opening.get_or_none(lot_id=lot_id)
        if opening is None or opening.status != OpeningStatus.DECRYPTING.value:
            raise DecryptionClosed()
        if not await SealedBid.exists(lot_id=lot_id, organisation_id=org_id):
            raise ObjectionNotAllowed()
        objection = await OpeningObjection.create(
            opening_id=opening.id, organisation_id=org_id, raised_by=user_id, text=body, raised_at=clock.now()
        )
        lot = await Lot.get(id=lot_id)
        await events.record(
            ObjectionRaised(
                object_id=str(opening.id), lot_id=lot_id, objection_id=objection.id, audience=await _watchers(lot)
            ),
            actor,
        )
        return {"id": objection.id}

    result, _ = await run_once(actor, idempotency_key, "opening.object", {"lot": lot_id, "text": body}, create)
    return await OpeningObjection.get(id=result["id"])


@raises()
@use_case("opening.answer", "Lot", lambda actor, objection_id, *a, **k: str(objection_id))
async def answer_objection(actor: Actor, objection_id: int, answer: str) -> OpeningObjection:
    """The tenderer (or its agency) answers an objection; the answer goes into the record."""
    body = required_text(answer, "answer", 2000)
    objection = await OpeningObjection.get_or_none(id=objection_id).prefetch_related("opening")
    if objection is None:
        raise NotFound()
    lot = await Lot.get(id=objection.opening.lot_id)
    await managed_project(actor, lot.project_id)
    objection.answer, objection.answered_by, objection.answered_at = body, actor.user_id, clock.now()
    await objection.save()
    await events.record(
        ObjectionAnswered(
            object_id=str(objection.opening_id),
            lot_id=lot.id,
            objection_id=objection.id,
            audience=await _watchers(lot),
        ),
        actor,
    )
    return objection


@dataclass(frozen=True, kw_only=True)
class PlatformFaultRecorded(DomainEvent):
    """撤回: a bid could not be decrypted because of the platform, recorded by an operator with the reason."""

    type = "opening.platform_fault"
    object_type = "Opening"
    lot_id: int
    organisation_id: int
    reason: str


class NothingToExcuse(DomainError):
    code = "NO_UNDECRYPTED_BID"
    message_zh = "该投标人没有未解密的投标文件"
    message_en = "This bidder has no undecrypted bid"


@raises(NothingToExcuse)
@use_case("opening.platform_fault", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def record_platform_fault(actor: Actor, lot_id: int, organisation_id: int, reason: str) -> SealedBid:
    """An operator records that a bid was not decrypted because of the platform (撤回), during the
    window or after it closed; the bid is then not counted as the bidder's failure (撤销)."""
    from tortoise.transactions import in_transaction

    if not actor.has(Role.OPERATOR):
        raise PermissionDenied()
    text = required_text(reason, "reason", 500)
    async with in_transaction():
        opening = await lock(Opening.filter(lot_id=lot_id)).first()
        if opening is None or opening.status not in (OpeningStatus.DECRYPTING.value, OpeningStatus.CLOSED.value):
            raise NotFound()
        bid = await lock(
            SealedBid.filter(
                lot_id=lot_id,
                organisation_id=organisation_id,
                status__in=[BidStatus.SUBMITTED.value, BidStatus.INVALID.value],
            )
        ).first()
        if bid is None:
            raise NothingToExcuse()
        bid.status = BID.fire(bid.status, "excuse", by=actor).value
        bid.decrypt_error = "platform fault (撤回)"
        bid.ended_at = bid.ended_at or clock.now()
        await bid.save(update_fields=["status", "decrypt_error", "ended_at"])
        lot = await Lot.get(id=lot_id)
        watchers = await _watchers(lot)
        await events.record(
            PlatformFaultRecorded(
                object_id=str(opening.id),
                lot_id=lot_id,
                organisation_id=organisation_id,
                reason=text,
                audience=Audience(orgs=(*watchers.orgs, organisation_id), roles=watchers.roles),
            ),
            actor,
        )
    return bid


@dataclass(frozen=True, slots=True)
class Record:
    opening: Opening
    lines: list[tuple[SealedBid, str]]  # decrypted or invalid bids with the bidder name
    objections: list[OpeningObjection]


class RecordNotVisible(DomainError):
    code = "OPENING_RECORD_NOT_VISIBLE"
    message_zh = "开标记录在开标结束后公开；开标过程中仅本标段投标人、招标人可见"
    message_en = "The opening record is public once the opening closes; until then only its bidders and tenderer see it"
    exposed: ClassVar[dict[str, str]] = {}


_attendees: list[Callable[[Actor, int], Awaitable[bool]]] = []


def plug_attendee(check: Callable[[Actor, int], Awaitable[bool]]) -> None:
    """Lets others watch a lot's opening too (witnesses assigned to it); idempotent."""
    if check not in _attendees:
        _attendees.append(check)


async def may_watch(actor: Actor, lot: Lot) -> bool:
    """Who watches the opening while it runs: operators, the supervisors of the lot's category, its tenderer
    (and agency), its bidders and its assigned witnesses."""
    project = await Project.get(id=lot.project_id)
    if scope.keeps_project(actor, project):
        return True
    if actor.org_id is None:
        return False
    for attends in _attendees:  # 见证: the witnesses assigned to the lot, read-only (plugged at domain/wiring)
        if await attends(actor, lot.id):
            return True
    return actor.org_id in (project.tenderer_id, project.agency_id) or await SealedBid.exists(
        lot_id=lot.id, organisation_id=actor.org_id
    )


async def record(actor: Actor, lot_id: int) -> Record:
    """The opening record: public once closed; during the window only to its bidders, tenderer and operators."""
    opening = await Opening.get_or_none(lot_id=lot_id)
    lot = await Lot.get_or_none(id=lot_id)
    if opening is None or lot is None or opening.status == OpeningStatus.SCHEDULED.value:
        raise NotFound()
    if opening.status == OpeningStatus.DECRYPTING.value and not await may_watch(actor, lot):
        raise RecordNotVisible()
    shown = [BidStatus.DECRYPTED.value, BidStatus.INVALID.value, BidStatus.PLATFORM_FAULT.value]
    bids = await SealedBid.filter(lot_id=lot_id, status__in=shown).order_by("decrypted_at", "id")
    names = {o.id: o.name for o in await Organisation.filter(id__in=[b.organisation_id for b in bids])}
    objections = await OpeningObjection.filter(opening_id=opening.id).order_by("id")
    return Record(opening=opening, lines=[(b, names.get(b.organisation_id, "")) for b in bids], objections=objections)


async def announce_failure(lot_id: int) -> bool:
    """Publishes the termination announcement of a lot that failed at its deadline (idempotent)."""
    from domain.publication.models import Announcement

    opening = await Opening.get_or_none(lot_id=lot_id)
    if opening is None or opening.status != OpeningStatus.FAILED.value:
        return False
    if await Announcement.exists(lot_id=lot_id, type="termination", status="published"):
        return False
    lot = await Lot.get(id=lot_id)
    when = clock.to_shanghai(opening.deadline).strftime("%Y年%m月%d日 %H:%M")
    await announce(
        SYSTEM,
        lot,
        "termination",
        f"{lot.name}流标公告",
        f"<p>{lot.name}（交易标识码 {lot.trade_code}）于投标截止时间{when}共收到投标文件 {opening.bids} 份，"
        f"少于 {lot.config.get('min_bids', 3)} 份，依法不予开标，本次招标失败（流标）。</p>",
    )
    return True
