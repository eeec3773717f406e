"""The verifiable expert draw (专家抽取): commit before the bid deadline, reveal after it, anyone recomputes.

An evaluation committee is an odd number of at least five experts (招标投标法 第三十七条: 评标委员会
成员人数为五人以上单数). The operator draws it in rounds: round 1 for the lot, then a replacement
round (补抽) for each expert who declines or must withdraw. Every round is recorded the same way,
and mobile_contract/EXPERT_DRAW.md says the same for integrators:

- commitment = SHA-256(secret as UTF-8), lowercase hex, recorded and published before the bid
  deadline (a replacement round: before its reveal). The secret is 32 to 128 printable ASCII
  characters without spaces (64 hex characters from a CSPRNG is the intended form).
- receipts_digest = SHA-256 of the receipts of the bids standing at the deadline (SealedBid
  status submitted, decrypted, invalid or platform_fault; the receipt is the lowercase-hex SHA-256
  of the sealed bid), sorted ascending and joined by "\\n" (ASCII, no trailing newline); lowercase hex. With no
  bid it is the SHA-256 of the empty string.
- seed = HMAC-SHA256(key = secret as UTF-8, message = receipts_digest as ASCII), lowercase hex.
  Nobody knows it in advance: the operator does not know the receipts, bidders do not know the
  secret, and the commitment keeps the operator to one secret.
- eligible = the ids of the experts, ascending, who at the reveal are active, were in the pool
  when the round was committed (nobody is added after the commitment), list the round's
  specialty, are not employed by the tenderer, its agency or any organisation that registered for
  or bid on the lot (any status), and were not drawn for the lot in an earlier round (回避); nor, as
  the expert pool keeps them out at the reveal (domain/experts, plugged in at domain/wiring): suspended
  at the reveal, busy on the lot's sitting day (its availability calendar), or having declared a
  conflict with one of those organisations (a former employer, a relative's employer, a named entity).
- selected = select(seed, eligible, size): each id ranked by HMAC-SHA256(key = the seed's 32
  bytes, message = the id in decimal ASCII) as lowercase hex, ties by id; the `size` lowest, in
  rank order.

Names stay secret from bidders until the lot is awarded; operators and supervisors see them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.access import scope
from domain.accounts.models import Expert
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import InvalidInput, NotFound, PermissionDenied, raises
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock
from domain.evaluation import notices
from domain.evaluation.errors import CommitmentTooLate as CommitmentTooLate
from domain.evaluation.errors import CommitteeSitting as CommitteeSitting
from domain.evaluation.errors import DrawExists as DrawExists
from domain.evaluation.errors import DrawPending as DrawPending
from domain.evaluation.errors import NoCommittee as NoCommittee
from domain.evaluation.errors import NotEnoughExperts as NotEnoughExperts
from domain.evaluation.errors import NotOnCommittee as NotOnCommittee
from domain.evaluation.errors import RevealTooEarly as RevealTooEarly
from domain.evaluation.errors import SecretMismatch as SecretMismatch
from domain.evaluation.models import Evaluation, ExpertDraw
from domain.evaluation.states import DRAW
from domain.evaluation.states import DrawStatus as DrawStatus
from domain.publication.models import Lot, Project
from domain.publication.procedures import NEGOTIATED, SEALED, Procedure
from domain.publication.states import LotStatus
from domain.registration.models import Registration
from domain.registration.services import bid_deadline
from domain.tendering.models import SealedBid
from domain.tendering.services import BidStatus, NotSealedTender

MIN_SIZE = 5
MAX_SIZE = 99
MIN_PANEL_EXPERTS = 2  # 政府采购法 第三十八条: a panel of three, two thirds experts
MAX_REASON = 500
STANDING_BIDS = (
    BidStatus.SUBMITTED.value,
    BidStatus.DECRYPTED.value,
    BidStatus.INVALID.value,
    BidStatus.PLATFORM_FAULT.value,  # a bid stood at the deadline whatever became of it at the opening
)
NAMES_PUBLIC = frozenset({LotStatus.AWARDED.value, LotStatus.CONTRACTED.value, LotStatus.COMPLETED.value})
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_SECRET = re.compile(r"^[\x21-\x7e]{32,128}$")


@dataclass(frozen=True, kw_only=True)
class ExpertDrawCommitted(DomainEvent):
    """Public: that a round was committed, and to what. Never an expert."""

    type = "expert_draw.committed"
    object_type = "ExpertDraw"
    lot_id: int
    round: int
    specialty: str
    size: int
    commitment: str
    replaces: int


@dataclass(frozen=True, kw_only=True)
class ExpertDrawRevealed(DomainEvent):
    """Public: the inputs of the draw. Never an expert."""

    type = "expert_draw.revealed"
    object_type = "ExpertDraw"
    lot_id: int
    round: int
    secret: str
    receipts_digest: str
    seed: str
    eligible: int
    selected: int


AUDIENCE = Audience(roles=(Role.OPERATOR.value, Role.SUPERVISOR.value), public=True)


# ---------------------------------------------------------------- the documented functions


def commitment_of(secret: str) -> str:
    """SHA-256 of the secret as UTF-8, lowercase hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def receipts_digest_of(receipts: Iterable[str]) -> str:
    """SHA-256 of the sorted receipts (lowercase hex) joined by newlines, lowercase hex."""
    return hashlib.sha256("\n".join(sorted(r.lower() for r in receipts)).encode("ascii")).hexdigest()


def seed_of(secret: str, receipts_digest: str) -> str:
    """HMAC-SHA256 keyed with the secret (UTF-8) over the receipts digest (ASCII), lowercase hex."""
    return hmac.new(secret.encode(), receipts_digest.encode("ascii"), hashlib.sha256).hexdigest()


def rank_of(seed: str, expert_id: int) -> str:
    """HMAC-SHA256 keyed with the seed's bytes over the id in decimal ASCII, lowercase hex."""
    return hmac.new(bytes.fromhex(seed), str(expert_id).encode("ascii"), hashlib.sha256).hexdigest()


def select(seed: str, eligible_ids: Sequence[int], size: int) -> list[int]:
    """The `size` eligible ids of lowest rank, in rank order; the order of the input does not matter."""
    if size < 1:
        raise InvalidInput(field="size")
    ids = set(eligible_ids)
    if len(ids) < size:
        raise NotEnoughExperts(eligible=len(ids), size=size)
    return sorted(ids, key=lambda i: (rank_of(seed, i), i))[:size]


def check_size(size: int, procedure: Procedure | None = None) -> int:
    """A committee size the law allows: odd, at least five (and at most MAX_SIZE). A negotiation's or consultation's
    experts sit on a panel with the purchaser's representatives: at least two here, the panel's own rule
    (procedures.panel_rule: odd, 3 or 5 at least, two thirds experts) is checked when the negotiation starts."""
    if procedure in NEGOTIATED:
        if size < MIN_PANEL_EXPERTS or size > MAX_SIZE:
            raise InvalidInput(field="size")
        return size
    # 招标投标法 第三十七条: 评标委员会成员人数为五人以上单数
    if size < MIN_SIZE or size > MAX_SIZE or size % 2 == 0:
        raise InvalidInput(field="size")
    return size


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the eligibility rule reads of an expert."""

    id: int
    specialties: tuple[str, ...]
    employer_id: int | None
    is_active: bool
    created_at: datetime

    @classmethod
    def of(cls, expert: Expert) -> Candidate:
        return cls(expert.id, tuple(expert.specialties), expert.employer_id, expert.is_active, expert.created_at)


def eligible_of(
    pool: Iterable[Candidate], specialty: str, conflicted: set[int], drawn_before: set[int], committed_at: datetime
) -> list[int]:
    """Ids, ascending, of the active experts in the pool at the commitment who list the specialty,
    work for none of the conflicted organisations and were not drawn for the lot before (回避)."""
    return sorted(
        c.id
        for c in pool
        if c.is_active
        and c.created_at <= committed_at
        and specialty in c.specialties
        and (c.employer_id is None or c.employer_id not in conflicted)
        and c.id not in drawn_before
    )


def committee(draws: Iterable[ExpertDraw]) -> list[int]:
    """The standing committee: each revealed round, in order, replaces its `replaces` by its `selected`."""
    members: list[int] = []
    for d in sorted(draws, key=lambda d: d.round):
        if d.status != DrawStatus.REVEALED.value:
            continue
        gone = set(d.replaces or [])
        members = [m for m in members if m not in gone] + list(d.selected or [])
    return members


# ---------------------------------------------------------------- services


def _operator(actor: Actor) -> int:
    if actor.user_id is None or not actor.has(Role.OPERATOR):
        raise PermissionDenied()
    return actor.user_id


def _commitment(value: str) -> str:
    text = value.strip().lower()
    if not _HEX64.match(text):
        raise InvalidInput(field="commitment")
    return text


def _specialty(value: str) -> str:
    text = value.strip()
    if not 0 < len(text) <= 64:
        raise InvalidInput(field="specialty")
    return text


async def _lot(lot_id: int) -> tuple[Lot, Project]:
    lot = await Lot.get_or_none(id=lot_id).prefetch_related("project")
    if lot is None or lot.status == LotStatus.DRAFT.value:
        raise NotFound()
    if Procedure(lot.procedure) not in SEALED or bid_deadline(lot) is None:
        raise NotSealedTender()
    return lot, lot.project


async def _conflicted(lot: Lot, project: Project) -> set[int]:
    """Organisations whose employees may not evaluate the lot: tenderer, agency, registrants, bidders."""
    orgs = {project.tenderer_id, *([project.agency_id] if project.agency_id else [])}
    orgs |= set(await Registration.filter(lot_id=lot.id).values_list("organisation_id", flat=True))
    orgs |= set(await SealedBid.filter(lot_id=lot.id).values_list("organisation_id", flat=True))
    return {int(o) for o in orgs}


# (lot, its conflicted organisations, the candidates' ids, now) -> the ids the expert pool keeps out of the draw
Exclusion = Callable[[Lot, set[int], list[int], datetime], Awaitable[set[int]]]
_exclusions: list[Exclusion] = []


def plug_exclusion(exclusion: Exclusion) -> None:
    """domain/experts names the experts it keeps out: suspended, busy that day, declared conflicts (domain/wiring)."""
    _exclusions[:] = [exclusion]


async def _eligible(lot: Lot, project: Project, specialty: str, committed_at: datetime, drawn: set[int]) -> list[int]:
    pool = [Candidate.of(e) for e in await Expert.filter(is_active=True, created_at__lte=committed_at)]
    conflicted = await _conflicted(lot, project)
    kept_out: set[int] = set()
    for exclusion in _exclusions:
        kept_out |= await exclusion(lot, conflicted, [c.id for c in pool if specialty in c.specialties], clock.now())
    return eligible_of([c for c in pool if c.id not in kept_out], specialty, conflicted, drawn, committed_at)


def _drawn(draws: Iterable[ExpertDraw]) -> set[int]:
    return {int(i) for d in draws for i in (d.selected or [])}


@raises(CommitmentTooLate, DrawExists, NotEnoughExperts, NotSealedTender)
@use_case("expert_draw.commit", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def commit(
    actor: Actor, lot_id: int, specialty: str, size: int, commitment: str, idempotency_key: str | None = None
) -> ExpertDraw:
    """Records the lot's first draw as a commitment to a secret, strictly before the bid deadline;
    one first draw per lot, and only when enough experts are eligible so far."""
    user_id = _operator(actor)
    field = _specialty(specialty)
    digest = _commitment(commitment)
    lot, project = await _lot(lot_id)
    check_size(size, Procedure(lot.procedure))

    async def create() -> dict[str, Any]:
        now = clock.now()
        locked = await lock(Lot.filter(id=lot.id)).get()
        facts = {"lot_status": locked.status, "now": now, "deadline": bid_deadline(locked), "size": size}
        DRAW.precheck("commit", by=actor, **facts, drawn=False, eligible=size)  # no query once too late
        drawn = await ExpertDraw.exists(lot_id=lot.id)
        DRAW.precheck("commit", by=actor, **facts, drawn=drawn, eligible=size)
        eligible = await _eligible(locked, project, field, now, set())
        committed = DRAW.fire(None, "commit", by=actor, **facts, drawn=drawn, eligible=len(eligible))
        draw = await ExpertDraw.create(
            lot_id=lot.id,
            round=1,
            specialty=field,
            size=size,
            commitment=digest,
            committed_by=user_id,
            committed_at=now,
            status=committed.value,
        )
        await events.record(
            ExpertDrawCommitted(
                object_id=str(draw.id),
                lot_id=lot.id,
                round=1,
                specialty=field,
                size=size,
                commitment=digest,
                replaces=0,
                audience=AUDIENCE,
            ),
            actor,
        )
        return {"id": draw.id}

    request = {"lot": lot.id, "specialty": field, "size": size, "commitment": digest}
    result, _ = await run_once(actor, idempotency_key, "expert_draw.commit", request, create)
    return await ExpertDraw.get(id=result["id"])


@raises()
async def find(lot_id: int, round_no: int) -> int:
    """The id of a lot's round; NotFound when there is none."""
    draw = await ExpertDraw.get_or_none(lot_id=lot_id, round=round_no)
    if draw is None:
        raise NotFound()
    return int(draw.id)


@raises(RevealTooEarly, SecretMismatch, NotEnoughExperts, DrawPending, NotSealedTender)
@use_case("expert_draw.reveal", "ExpertDraw", lambda actor, draw_id, *a, **k: str(draw_id))
async def reveal(actor: Actor, draw_id: int, secret: str, idempotency_key: str | None = None) -> ExpertDraw:
    """Publishes the secret, after the bid deadline and only if it matches the commitment, and draws the
    round from the seed it gives with the bid receipts; revealing again with the secret changes nothing."""
    _operator(actor)
    if not _SECRET.match(secret):
        raise InvalidInput(field="secret")

    async def draw_round() -> dict[str, Any]:
        draw = await lock(ExpertDraw.filter(id=draw_id)).first()
        if draw is None:
            raise NotFound()
        matches = hmac.compare_digest(commitment_of(secret), draw.commitment)
        if draw.status == DrawStatus.REVEALED.value and matches:
            return {"id": draw.id}
        lot, project = await _lot(draw.lot_id)
        now = clock.now()
        facts = {"now": now, "deadline": bid_deadline(lot), "matches": matches}
        DRAW.precheck("reveal", by=actor, **facts, pending=False)  # no query before the deadline
        earlier = await ExpertDraw.filter(lot_id=lot.id, round__lt=draw.round)
        pending = any(d.status != DrawStatus.REVEALED.value for d in earlier)
        revealed = DRAW.fire(draw.status, "reveal", by=actor, **facts, pending=pending)
        receipts = await SealedBid.filter(lot_id=lot.id, status__in=STANDING_BIDS).values_list(
            "ciphertext_sha256", flat=True
        )
        digest = receipts_digest_of(str(r) for r in receipts)
        seed = seed_of(secret, digest)
        eligible = await _eligible(lot, project, draw.specialty, draw.committed_at, _drawn(earlier))
        selected = select(seed, eligible, draw.size)
        draw.update_from_dict(
            {
                "secret": secret,
                "receipts_digest": digest,
                "seed": seed,
                "eligible": eligible,
                "selected": selected,
                "status": revealed.value,
                "revealed_at": now,
            }
        )
        await draw.save()
        await events.record(
            ExpertDrawRevealed(
                object_id=str(draw.id),
                lot_id=lot.id,
                round=draw.round,
                secret=secret,
                receipts_digest=digest,
                seed=seed,
                eligible=len(eligible),
                selected=len(selected),
                audience=AUDIENCE,
            ),
            actor,
        )
        await notices.open_for(draw)  # each selected expert is told: a text, a voice call (notices.py)
        return {"id": draw.id}

    request = {"draw": draw_id, "commitment": commitment_of(secret)}
    result, _ = await run_once(actor, idempotency_key, "expert_draw.reveal", request, draw_round)
    return await ExpertDraw.get(id=result["id"])


@raises(NoCommittee, CommitteeSitting, DrawPending, NotOnCommittee, NotEnoughExperts, NotSealedTender)
@use_case("expert_draw.replace", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def replace(
    actor: Actor,
    lot_id: int,
    expert_ids: list[int],
    reason: str,
    commitment: str,
    idempotency_key: str | None = None,
) -> ExpertDraw:
    """Commits a replacement round (补抽) for members of the standing committee, drawn like the first
    (its own commitment and reveal) from the same specialty, excluding everyone drawn for the lot before."""
    user_id = _operator(actor)
    leaving = list(dict.fromkeys(expert_ids))
    if not leaving or len(leaving) != len(expert_ids):
        raise InvalidInput(field="expertIds")
    why = reason.strip()
    if not 0 < len(why) <= MAX_REASON:
        raise InvalidInput(field="reason")
    digest = _commitment(commitment)
    lot, project = await _lot(lot_id)

    async def create() -> dict[str, Any]:
        now = clock.now()
        locked = await lock(Lot.filter(id=lot.id)).get()
        passing = {"rounds": 1, "last_revealed": True, "sitting": False, "on_committee": True}
        size = {"eligible": len(leaving), "size": len(leaving)}
        DRAW.precheck("replace", by=actor, lot_status=locked.status, **passing, **size)  # no query on a closed lot
        draws = await ExpertDraw.filter(lot_id=lot.id).order_by("round")
        standing = committee(draws)
        facts = {
            "lot_status": locked.status,
            "rounds": len(draws),
            "last_revealed": bool(draws) and draws[-1].status == DrawStatus.REVEALED.value,
            "sitting": bool(draws) and await Evaluation.exists(lot_id=lot.id),
            "on_committee": set(leaving) <= set(standing),
        }
        DRAW.precheck("replace", by=actor, **facts, **size)
        first = draws[0]
        eligible = await _eligible(locked, project, first.specialty, now, _drawn(draws))
        committed = DRAW.fire(None, "replace", by=actor, **facts, eligible=len(eligible), size=len(leaving))
        replaced = [m for m in standing if m in set(leaving)]
        draw = await ExpertDraw.create(
            lot_id=lot.id,
            round=draws[-1].round + 1,
            specialty=first.specialty,
            size=len(replaced),
            commitment=digest,
            committed_by=user_id,
            committed_at=now,
            replaces=replaced,
            reason=why,
            status=committed.value,
        )
        await events.record(
            ExpertDrawCommitted(
                object_id=str(draw.id),
                lot_id=lot.id,
                round=draw.round,
                specialty=draw.specialty,
                size=draw.size,
                commitment=digest,
                replaces=len(replaced),
                audience=AUDIENCE,
            ),
            actor,
        )
        return {"id": draw.id}

    request = {"lot": lot.id, "experts": sorted(leaving), "reason": why, "commitment": digest}
    result, _ = await run_once(actor, idempotency_key, "expert_draw.replace", request, create)
    return await ExpertDraw.get(id=result["id"])


# ---------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class Disclosure:
    """Whether the caller sees which experts a draw is about (ids and names), and their names."""

    experts_shown: bool
    names: dict[int, str]


async def lot_draws(actor: Actor, lot_id: int) -> tuple[list[ExpertDraw], Disclosure]:
    """A lot's draws in round order, to anyone: the inputs and results always, the experts (ids, names, the
    reasons for replacements) to operators and the supervisors of the lot's category, and to everyone once the
    lot is awarded, so that nobody can approach the committee while it evaluates."""
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None or lot.status == LotStatus.DRAFT.value:
        raise NotFound()
    draws = list(await ExpertDraw.filter(lot_id=lot.id).order_by("round"))
    if not (lot.status in NAMES_PUBLIC or await scope.keeps_lot(actor, lot.id)):
        return draws, Disclosure(experts_shown=False, names={})
    ids = {int(i) for d in draws for i in (*(d.eligible or []), *(d.replaces or []))}
    rows = await Expert.filter(id__in=ids).values_list("id", "name") if ids else []
    return draws, Disclosure(experts_shown=True, names={int(i): str(n) for i, n in rows})


async def committee_lots(expert_id: int) -> list[Lot]:
    """The lots whose standing evaluation committee has this expert, newest first."""
    rounds = await ExpertDraw.filter(status=DrawStatus.REVEALED.value).values_list("lot_id", "selected")
    drawn_for = {int(lot_id) for lot_id, selected in rounds if expert_id in (selected or [])}
    if not drawn_for:
        return []
    draws: dict[int, list[ExpertDraw]] = {}
    for d in await ExpertDraw.filter(lot_id__in=drawn_for):
        draws.setdefault(d.lot_id, []).append(d)
    sitting = [lot_id for lot_id, ds in draws.items() if expert_id in committee(ds)]
    return list(await Lot.filter(id__in=sitting).order_by("-id")) if sitting else []
