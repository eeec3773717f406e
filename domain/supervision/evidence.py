"""A lot's evidence package for supervisors: everything the record of the lot holds, signed by the platform.

The package is a compact JWS (RFC 7515), ES256, signed with the platform's current signing key (the key
that signs access tokens, published at /.well-known/jwks.json), header
{"alg": "ES256", "kid": ..., "typ": "palmtrade-evidence+json"}. Its payload is canonical JSON (sorted
keys, no spaces, UTF-8) with:
- format ("palmtrade.evidence/1"), generatedAt, generatedBy, chainHead (the audit chain's last seq and hash);
- lot: identity, category, region, estimate, status, configuration;
- auditTrail: every audit entry of the lot and of its objects (registrations, deposits, guarantees, sealed
  bids, opening, draws, evaluation, award, announcements, objections, complaints, alerts) with all the
  fields its hash covers, prevHash and hash;
- announcements (SHA-256 of each body and attachments), opening (record lines, objections), expertDraws
  (commitment, secret, receipts digest, seed, eligible, selected), bidReceipts (SHA-256 of each sealed
  bid as submitted), auctionBids, signatures (each signed act: the canonical content, the signature, the
  certificate as base64 DER, their SHA-256 and the verification at the time of the act), evaluationSignatures
  (each member's signature of its score sheet and of the report: by certificate, or a face verification's
  attested result bound to the content's SHA-256), witnessRecords (见证: entries, content SHA-256, signature id).

To verify, offline: check the JWS signature against the platform's JWKS (keep the JWKS of the day with
the package, keys retire), then recompute the hash of each audit entry with domain.audit.services.entry_hash
(SHA-256 over canonical JSON of [seq, eventId, at (UTC ISO 8601 with microseconds), actor, actorUserId,
actorOrgId, action, objectType, objectId, outcome, digest, prevHash]) and compare it with its `hash`;
the hashes can also be checked against the live chain (auditVerify). Each signature verifies with the public
key of its certificate over the UTF-8 bytes of its `content` (mobile_contract/SIGNATURES.md). `verify_package`
does all three checks.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from domain.access import scope
from domain.accounts.models import Organisation
from domain.accounts.tokens import KeyRing
from domain.auctions.models import Auction, AuctionBid, Listing
from domain.audit.models import AuditEntry
from domain.audit.services import entry_hash
from domain.certificates import signatures
from domain.certificates.models import ActSignature
from domain.common import clock, ecdsa, events
from domain.common.actors import Actor
from domain.common.errors import DomainError, NotFound
from domain.common.events import Audience, DomainEvent, canonical_json
from domain.complaints.models import Complaint, Objection
from domain.credit.models import CreditCommitment, LotCreditIncentive, SecurityRelief
from domain.deposits.models import DepositAccount
from domain.documents.models import Document, Upload
from domain.evaluation import signing as evaluation_signing
from domain.evaluation import witnesses
from domain.evaluation.models import Evaluation, ExpertDraw
from domain.evaluation.records import EvaluationSignature, WitnessAssignment, WitnessRecord
from domain.experts.models import ExpertAppraisal, ExpertConflictReport, ExpertFee
from domain.guarantees.models import Guarantee
from domain.negotiation.models import FinalOffer, Negotiation, NegotiationSupplier
from domain.publication.models import Announcement, AnnouncementAttachment, Clarification, Lot, Project, Question
from domain.registration.models import Registration
from domain.results.models import Award, Contract
from domain.supervision.models import CollusionAlert
from domain.tendering.models import Opening, OpeningObjection, SealedBid

FORMAT = "palmtrade.evidence/1"
TYP = "palmtrade-evidence+json"
ALGORITHMS = ["ES256"]

# the objects of a lot whose audit entries belong to its evidence: (object type, model with a lot_id)
LOT_OBJECTS: list[tuple[str, Any]] = [
    ("Registration", Registration),
    ("DepositAccount", DepositAccount),
    ("Guarantee", Guarantee),
    ("SealedBid", SealedBid),
    ("Opening", Opening),
    ("ExpertDraw", ExpertDraw),
    ("Evaluation", Evaluation),
    ("Award", Award),
    ("Contract", Contract),
    ("Auction", Auction),
    ("Listing", Listing),
    ("Announcement", Announcement),
    ("Objection", Objection),
    ("Complaint", Complaint),
    ("CollusionAlert", CollusionAlert),
    ("ActSignature", ActSignature),
    ("Document", Document),
    ("Upload", Upload),
    ("Question", Question),
    ("Clarification", Clarification),
    ("Negotiation", Negotiation),
    ("FinalOffer", FinalOffer),
    ("NegotiationSupplier", NegotiationSupplier),
    ("LotCreditIncentive", LotCreditIncentive),
    ("SecurityRelief", SecurityRelief),
    ("ExpertAppraisal", ExpertAppraisal),
    ("ExpertConflictReport", ExpertConflictReport),
    ("ExpertFee", ExpertFee),
    ("EvaluationSignature", EvaluationSignature),
    ("WitnessAssignment", WitnessAssignment),
    ("WitnessRecord", WitnessRecord),
    ("CreditCommitment", CreditCommitment),
]


class EvidenceInvalid(DomainError):
    code = "EVIDENCE_INVALID"
    message_zh = "证据包校验失败：{reason}"
    message_en = "The evidence package does not verify: {reason}"
    exposed: ClassVar[dict[str, str]] = {"reason": "str"}


@dataclass(frozen=True, kw_only=True)
class EvidenceExported(DomainEvent):
    """Supervision leaves marks (监督留痕): who took a lot's evidence, and its SHA-256."""

    type = "supervision.evidence_exported"
    object_type = "Lot"
    lot_id: int
    sha256: str
    audit_entries: int


@dataclass(frozen=True, slots=True)
class Package:
    jws: str
    sha256: str
    kid: str
    generated_at: datetime
    audit_entries: int


async def visible_lot(actor: Actor, lot_id: int) -> tuple[Lot, Project]:
    """The lot, for operators and the supervisors of its category; NotFound for anyone else."""
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None:
        raise NotFound()
    project = await Project.get(id=lot.project_id)
    if scope.keeps_project(actor, project):
        return lot, project
    raise NotFound()


async def lot_audit(lot_id: int) -> QuerySet[AuditEntry]:
    """The audit entries of a lot and of every object that belongs to it."""
    condition = Q(object_type="Lot", object_id=str(lot_id))
    for object_type, model in LOT_OBJECTS:
        ids = [str(i) for i in await model.filter(lot_id=lot_id).values_list("id", flat=True)]
        if ids:
            condition |= Q(object_type=object_type, object_id__in=ids)
    return AuditEntry.filter(condition)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="microseconds") if value else None


def _entry(e: AuditEntry) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "eventId": str(e.event_id),
        "at": _iso(e.at),
        "actor": e.actor,
        "actorUserId": e.actor_user_id,
        "actorOrgId": e.actor_org_id,
        "action": e.action,
        "objectType": e.object_type,
        "objectId": e.object_id,
        "outcome": e.outcome,
        "digest": e.digest,
        "prevHash": e.prev_hash,
        "hash": e.hash,
    }


async def bundle(actor: Actor, lot: Lot, project: Project) -> dict[str, Any]:
    """The unsigned content of a lot's evidence package."""
    entries = await (await lot_audit(lot.id)).order_by("seq")
    head = await AuditEntry.all().order_by("-seq").first()
    announcements = []
    for a in await Announcement.filter(lot_id=lot.id).order_by("id"):
        files = await AnnouncementAttachment.filter(announcement_id=a.id).order_by("id")
        announcements.append(
            {
                "id": a.id,
                "type": a.type,
                "status": a.status,
                "title": a.title,
                "publishedAt": _iso(a.published_at),
                "bodySha256": hashlib.sha256(a.body_html.encode()).hexdigest(),
                "attachments": [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in files],
            }
        )
    bids = await SealedBid.filter(lot_id=lot.id).order_by("id")
    names = {o.id: o.name for o in await Organisation.filter(id__in=sorted({b.organisation_id for b in bids}))}
    opening = await Opening.get_or_none(lot_id=lot.id)
    opening_record = None
    if opening is not None:
        objections = await OpeningObjection.filter(opening_id=opening.id).order_by("id")
        opening_record = {
            "status": opening.status,
            "deadline": _iso(opening.deadline),
            "startedAt": _iso(opening.started_at),
            "windowEndsAt": _iso(opening.window_ends_at),
            "closedAt": _iso(opening.closed_at),
            "bids": opening.bids,
            "lines": [
                {
                    "organisationId": b.organisation_id,
                    "bidder": names.get(b.organisation_id, ""),
                    "status": b.status,
                    "priceFen": b.price_fen,
                    "documents": b.documents or [],
                    "decryptedAt": _iso(b.decrypted_at),
                    "decryptError": b.decrypt_error,
                }
                for b in bids
                if b.status in ("decrypted", "invalid", "platform_fault")
            ],
            "objections": [
                {"organisationId": o.organisation_id, "text": o.text, "raisedAt": _iso(o.raised_at), "answer": o.answer}
                for o in objections
            ],
        }
    draws = [
        {
            "round": d.round,
            "specialty": d.specialty,
            "size": d.size,
            "commitment": d.commitment,
            "committedAt": _iso(d.committed_at),
            "secret": d.secret,
            "receiptsDigest": d.receipts_digest,
            "seed": d.seed,
            "eligible": d.eligible,
            "selected": d.selected,
            "replaces": d.replaces,
        }
        for d in await ExpertDraw.filter(lot_id=lot.id).order_by("round")
    ]
    auction = await Auction.get_or_none(lot_id=lot.id)
    auction_bids = []
    if auction is not None:
        auction_bids = [
            {"seq": b.seq, "bidderNo": b.bidder_no, "amountFen": b.amount_fen, "placedAt": _iso(b.placed_at)}
            for b in await AuctionBid.filter(auction_id=auction.id).order_by("seq")
        ]
    return {
        "format": FORMAT,
        "generatedAt": _iso(clock.now()),
        "generatedBy": actor.label,
        "chainHead": {"seq": head.seq, "hash": head.hash} if head else None,
        "lot": {
            "id": lot.id,
            "tradeCode": lot.trade_code,
            "name": lot.name,
            "project": project.name,
            "procedure": lot.procedure,
            "category": project.category,
            "regionCode": project.region_code,
            "estimatedPriceFen": lot.estimated_price_fen,
            "status": lot.status,
            "config": lot.config,
        },
        "auditTrail": [_entry(e) for e in entries],
        "announcements": announcements,
        "opening": opening_record,
        "expertDraws": draws,
        # a sealed bid by its SHA-256, never its size: before the opening a length would hint at the price
        "bidReceipts": [
            {
                "id": b.id,
                "organisationId": b.organisation_id,
                "sha256": b.ciphertext_sha256,
                "status": b.status,
                "submittedAt": _iso(b.submitted_at),
                "endedAt": _iso(b.ended_at),
            }
            for b in bids
        ],
        "auctionBids": auction_bids,
        # electronic signatures on the lot's acts: content, signature and certificate, to verify offline
        "signatures": [signatures.as_evidence(s) for s in await ActSignature.filter(lot_id=lot.id).order_by("id")],
        # the committee's signatures of its sheets and report (certificate or attested face verification)
        "evaluationSignatures": [
            evaluation_signing.as_evidence(s) for s in await EvaluationSignature.filter(lot_id=lot.id).order_by("id")
        ],
        # witness records (见证), their signatures among `signatures`
        "witnessRecords": [witnesses.as_evidence(r) for r in await WitnessRecord.filter(lot_id=lot.id).order_by("id")],
        # every file of the lot by its SHA-256 (a sealed bid file's size is left out: it is not shown before the
        # opening, and its hash binds it)
        "documents": [
            {
                "id": d.id,
                "purpose": d.purpose,
                "ownerType": d.owner_type,
                "ownerId": d.owner_id,
                "name": d.name,
                "sha256": d.sha256,
                **({} if d.purpose == "bid_file" else {"size": d.size}),
                "kind": d.kind,
                "version": d.version,
                "supersededBy": d.superseded_by_id,
                "scanStatus": d.scan_status,
                "createdAt": _iso(d.created_at),
            }
            for d in await Document.filter(lot_id=lot.id).order_by("id")
        ],
    }


async def package(actor: Actor, lot_id: int, keyring: KeyRing) -> Package:
    """The lot's evidence, signed with the platform's current signing key; the export itself is audited."""
    from tortoise.transactions import in_transaction

    lot, project = await visible_lot(actor, lot_id)
    content = await bundle(actor, lot, project)
    now = clock.now()
    token, kid = await sign(content, keyring, TYP)
    sha = hashlib.sha256(token.encode()).hexdigest()
    async with in_transaction():
        await events.record(
            EvidenceExported(
                object_id=str(lot.id),
                lot_id=lot.id,
                sha256=sha,
                audit_entries=len(content["auditTrail"]),
                audience=Audience(users=(actor.user_id,) if actor.user_id else (), roles=()),
            ),
            actor,
        )
    return Package(jws=token, sha256=sha, kid=kid, generated_at=now, audit_entries=len(content["auditTrail"]))


async def sign(content: dict[str, Any], keyring: KeyRing, typ: str) -> tuple[str, str]:
    """Canonical JSON signed as a compact JWS (ES256) with the platform's current signing key; (token, kid)."""
    kid = keyring.signing_kid(clock.now())
    key = keyring.private_key(kid)
    token = jws.serialize_compact(
        {"alg": "ES256", "kid": kid, "typ": typ}, canonical_json(content), key, registry=ecdsa.ES256
    )
    return token, kid


def verify_package(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """The content of a package whose signature verifies against the JWKS and whose audit entries each
    hash to their recorded hash; EvidenceInvalid naming the first failure otherwise."""
    try:
        keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        decoded = jws.deserialize_compact(token, keys, registry=ecdsa.ES256)
    except (JoseError, ValueError, TypeError, KeyError) as err:
        raise EvidenceInvalid(reason=f"signature: {type(err).__name__}") from None
    if decoded.headers().get("typ") != TYP:
        raise EvidenceInvalid(reason="not an evidence package")
    try:
        content = json.loads(decoded.payload)
    except ValueError:
        raise EvidenceInvalid(reason="payload is not JSON") from None
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise EvidenceInvalid(reason="unknown format")
    for e in content.get("auditTrail", []):
        expected = entry_hash(
            seq=e["seq"],
            event_id=e["eventId"],
            at=datetime.fromisoformat(e["at"]),
            actor=e["actor"],
            actor_user_id=e["actorUserId"],
            actor_org_id=e["actorOrgId"],
            action=e["action"],
            object_type=e["objectType"],
            object_id=e["objectId"],
            outcome=e["outcome"],
            digest=e["digest"],
            prev_hash=e["prevHash"],
        )
        if expected != e["hash"]:
            raise EvidenceInvalid(reason=f"audit entry {e['seq']} does not match its hash")
    for item in content.get("signatures", []):
        try:
            signatures.verify_evidence(item)
        except DomainError:
            raise EvidenceInvalid(reason=f"signature {item.get('id')} does not verify") from None
    for item in content.get("evaluationSignatures", []):
        try:
            evaluation_signing.verify_evidence(item)
        except DomainError:
            raise EvidenceInvalid(reason=f"evaluation signature {item.get('id')} does not verify") from None
    return content


async def matches_chain(content: dict[str, Any]) -> int | None:
    """The first audit entry of a package that is not on the live chain as recorded; None when all are."""
    entries = content.get("auditTrail", [])
    stored = {e.seq: e.hash for e in await AuditEntry.filter(seq__in=[e["seq"] for e in entries])}
    for e in entries:
        if stored.get(e["seq"]) != e["hash"]:
            return int(e["seq"])
    return None
