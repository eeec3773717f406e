"""Credit rating (信用评价): a score and a grade per organisation, computed from its records by a published rule table.

The rule table is data (CreditRatingRules, public, versioned, never edited once published): a base score, the weight of
a record by its kind and category, the weight of a joint punishment in force and of one that ended, the half-life by
which a record's weight decays with its age, the age after which it no longer counts, and the lowest score of each
grade. Version 1 is built in (DEFAULT_RULES) until an operator publishes another. A rating is recomputed when a record
or a punishment of the organisation changes (reactions in domain/wiring.py) and daily by the chronograph (a new rule
version, records growing old); each change of score, grade or rule version is kept for supervisors. Seed plans: Yunnan
(十一, 十二: 信用评价 and its mutual recognition), Wuhan 二(三)3 and Qingdao 三(三)2 (守信联合激励和失信联合惩戒).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from tortoise.transactions import in_transaction

from domain.accounts.models import Organisation
from domain.common import clock, events
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import InvalidInput, NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock
from domain.credit.models import (
    CreditPublication,
    CreditRating,
    CreditRatingChange,
    CreditRatingRules,
    CreditRecord,
    JointPunishment,
)
from domain.credit.services import CreditRecorded, PunishmentLifted, PunishmentListed

KINDS = ("good", "bad")
# a record or punishment whose publication was withdrawn for an approved credit repair (信用修复) no longer counts; the
# reason is credit_public.publicity.Withdrawal.REPAIRED (a layer above: tests/domain/credit/test_rating.py checks it)
REPAIRED = "repaired"


class RepairDecision(Protocol):
    """What a re-rating reads of credit_public.repair.RepairDecided."""

    @property
    def type(self) -> str: ...
    @property
    def organisation_id(self) -> int: ...
    @property
    def status(self) -> str: ...


MAX_WEIGHTS = 200

# The first rule table, in force until an operator publishes version 2. A clean entity scores 80 (grade B); a
# commendation lifts it to A, a breach of contract brings it to C, a punishment in force to D.
DEFAULT_RULES: dict[str, Any] = {
    "base": 80,
    "halfLifeDays": 365,
    "maxAgeDays": 1825,
    "defaultWeights": {"good": 5, "bad": -10},
    "weights": [
        {"kind": "good", "category": "表彰", "weight": 10},
        {"kind": "good", "category": "履约优良", "weight": 5},
        {"kind": "bad", "category": "违约", "weight": -15},
        {"kind": "bad", "category": "提供虚假材料", "weight": -30},
        {"kind": "bad", "category": "串通投标", "weight": -40},
        {"kind": "bad", "category": "违反信用承诺", "weight": -20},
    ],
    "punishmentInForce": -80,
    "punishmentEnded": -20,
    "grades": [
        {"grade": "A", "minScore": 90},
        {"grade": "B", "minScore": 75},
        {"grade": "C", "minScore": 60},
        {"grade": "D", "minScore": 0},
    ],
}
DEFAULT_PUBLISHED_AT = datetime(2026, 1, 1, tzinfo=UTC)
GRADES = ("A", "B", "C", "D")


@dataclass(frozen=True, kw_only=True)
class CreditRatingRulesPublished(DomainEvent):
    type = "credit_rating.rules_published"
    object_type = "CreditRatingRules"
    version: int


@dataclass(frozen=True, kw_only=True)
class CreditRatingChanged(DomainEvent):
    type = "credit_rating.changed"
    object_type = "CreditRating"
    organisation_id: int
    score: int
    grade: str
    rules_version: int
    trigger: str


@dataclass(frozen=True, slots=True)
class RuleTable:
    version: int
    rules: dict[str, Any]
    note: str
    published_at: datetime


@dataclass(frozen=True, slots=True)
class Contribution:
    """One record's part in a score: its weight by the rules, the decay for its age, and the points it counts."""

    source: str  # record | punishment
    id: int
    kind: str  # good | bad | punishment
    category: str
    at: datetime
    weight: int
    factor: float
    points: float
    source_platform: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "id": self.id,
            "kind": self.kind,
            "category": self.category,
            "at": self.at.astimezone(UTC).isoformat(),
            "weight": self.weight,
            "factor": round(self.factor, 6),
            "points": round(self.points, 4),
            "sourcePlatform": self.source_platform,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Contribution:
        return cls(
            source=str(d["source"]),
            id=int(d["id"]),
            kind=str(d["kind"]),
            category=str(d["category"]),
            at=datetime.fromisoformat(str(d["at"])),
            weight=int(d["weight"]),
            factor=float(d["factor"]),
            points=float(d["points"]),
            source_platform=d.get("sourcePlatform"),
        )


@dataclass(frozen=True, slots=True)
class Rating:
    organisation_id: int
    score: int
    grade: str
    rules_version: int
    computed_at: datetime
    contributions: tuple[Contribution, ...]


# ---------------------------------------------------------------- the rule table


def _int(value: Any, field: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(field=field)
    return value


def validate_rules(rules: dict[str, Any]) -> dict[str, Any]:
    """The rule table as stored, or InvalidInput naming the first field at fault."""
    if not isinstance(rules, dict):
        raise InvalidInput(field="rules")
    defaults = rules.get("defaultWeights") or {}
    weights = rules.get("weights") or []
    grades = rules.get("grades") or []
    if not isinstance(defaults, dict) or not isinstance(weights, list) or not isinstance(grades, list):
        raise InvalidInput(field="rules")
    if len(weights) > MAX_WEIGHTS:
        raise InvalidInput(field="weights")
    clean_weights, seen = [], set()
    for w in weights:
        if not isinstance(w, dict) or w.get("kind") not in KINDS:
            raise InvalidInput(field="weights")
        category = required_text(str(w.get("category") or ""), "weights", 64)
        if (w["kind"], category) in seen:
            raise InvalidInput(field="weights")
        seen.add((w["kind"], category))
        clean_weights.append(
            {"kind": w["kind"], "category": category, "weight": _int(w.get("weight"), "weights", -100, 100)}
        )
    clean_grades = []
    last = 101
    for g in grades:
        if not isinstance(g, dict) or g.get("grade") not in GRADES:
            raise InvalidInput(field="grades")
        floor = _int(g.get("minScore"), "grades", 0, 100)
        if floor >= last:
            raise InvalidInput(field="grades")
        last = floor
        clean_grades.append({"grade": g["grade"], "minScore": floor})
    if (
        not clean_grades
        or clean_grades[-1]["minScore"] != 0
        or len({g["grade"] for g in clean_grades}) != len(clean_grades)
    ):
        raise InvalidInput(field="grades")
    return {
        "base": _int(rules.get("base"), "base", 0, 100),
        "halfLifeDays": _int(rules.get("halfLifeDays"), "halfLifeDays", 1, 3650),
        "maxAgeDays": _int(rules.get("maxAgeDays"), "maxAgeDays", 1, 3650),
        "defaultWeights": {
            "good": _int(defaults.get("good"), "goodDefaultWeight", -100, 100),
            "bad": _int(defaults.get("bad"), "badDefaultWeight", -100, 100),
        },
        "weights": clean_weights,
        "punishmentInForce": _int(rules.get("punishmentInForce"), "punishmentInForceWeight", -100, 0),
        "punishmentEnded": _int(rules.get("punishmentEnded"), "punishmentEndedWeight", -100, 0),
        "grades": clean_grades,
    }


BUILT_IN = RuleTable(
    1, validate_rules(DEFAULT_RULES), "内置初始版本 / the built-in first version", DEFAULT_PUBLISHED_AT
)


async def rules(version: int | None = None) -> RuleTable:
    """The rule table of a version (None: the one in force); NotFound for a version never published."""
    if version == 1:
        return BUILT_IN
    query = CreditRatingRules.all() if version is None else CreditRatingRules.filter(version=version)
    row = await query.order_by("-version").first()
    if row is None:
        if version is None:
            return BUILT_IN
        raise NotFound()
    return RuleTable(row.version, dict(row.rules), row.note, row.published_at)


async def versions() -> list[RuleTable]:
    """Every published version, newest first (the built-in version 1 last)."""
    rows = await CreditRatingRules.all().order_by("-version")
    return [*(RuleTable(r.version, dict(r.rules), r.note, r.published_at) for r in rows), BUILT_IN]


@raises()
@use_case("credit_rating.rules_publish", "CreditRatingRules")
async def publish_rules(
    actor: Actor, table: dict[str, Any], note: str, idempotency_key: str | None = None
) -> RuleTable:
    """Publishes the next version of the rating rules (operators): in force at once, every rating recomputed by the
    chronograph's next daily run; earlier versions stay readable."""
    if not actor.has(Role.OPERATOR) or actor.user_id is None:
        raise PermissionDenied()
    clean = validate_rules(table)
    why = required_text(note, "note", 2000)

    async def create() -> dict[str, Any]:
        async with in_transaction():
            newest = await lock(CreditRatingRules.all().order_by("-version")).first()
            version = max(newest.version if newest else 1, 1) + 1
            row = await CreditRatingRules.create(
                version=version, rules=clean, note=why, published_by=actor.user_id, published_at=clock.now()
            )
            await events.record(
                CreditRatingRulesPublished(
                    object_id=str(row.id),
                    version=version,
                    audience=Audience(roles=(Role.OPERATOR.value, Role.SUPERVISOR.value)),
                ),
                actor,
            )
        return {"version": version}

    result, _ = await run_once(
        actor, idempotency_key, "credit_rating.rules_publish", {"rules": clean, "note": why}, create
    )
    return await rules(int(result["version"]))


# ---------------------------------------------------------------- computing


def _weight(table: dict[str, Any], kind: str, category: str) -> int:
    for w in table["weights"]:
        if w["kind"] == kind and w["category"] == category:
            return int(w["weight"])
    return int(table["defaultWeights"].get(kind, 0))


def _factor(table: dict[str, Any], at: datetime, now: datetime) -> float | None:
    """The decay of a record of that date: halves every half-life; None when it is too old to count (or future)."""
    age_days = (now - at).total_seconds() / 86400
    if age_days < 0:
        return None
    if age_days > table["maxAgeDays"]:
        return None
    return float(0.5 ** (age_days / table["halfLifeDays"]))


def grade_of(table: dict[str, Any], score: int) -> str:
    for g in table["grades"]:
        if score >= g["minScore"]:
            return str(g["grade"])
    return str(table["grades"][-1]["grade"])


def score_of(
    table: dict[str, Any], records: list[CreditRecord], punishments: list[JointPunishment], now: datetime
) -> tuple[int, str, tuple[Contribution, ...]]:
    """The score, the grade and each counted record's contribution: pure, from the rules and the records."""
    parts: list[Contribution] = []
    for r in records:
        factor = _factor(table, r.recorded_at, now)
        if factor is None:
            continue
        weight = _weight(table, r.kind, r.category)
        parts.append(
            Contribution(
                "record", r.id, r.kind, r.category, r.recorded_at, weight, factor, weight * factor, r.source_platform
            )
        )
    for p in punishments:
        if p.starts_at > now:
            continue
        ended = p.lifted_at or (p.ends_at if p.ends_at is not None and p.ends_at <= now else None)
        if ended is None:
            weight, factor = int(table["punishmentInForce"]), 1.0
            at = p.starts_at
        else:
            decayed = _factor(table, ended, now)
            if decayed is None:
                continue
            weight, factor, at = int(table["punishmentEnded"]), decayed, ended
        parts.append(
            Contribution(
                "punishment", p.id, "punishment", p.reason[:64], at, weight, factor, weight * factor, p.source_platform
            )
        )
    score = max(0, min(100, round(table["base"] + sum(c.points for c in parts))))
    parts.sort(key=lambda c: (-abs(c.points), c.source, c.id))
    return score, grade_of(table, score), tuple(parts)


async def compute(organisation_id: int, now: datetime | None = None) -> Rating:
    """The organisation's rating now by the rules in force, without storing it."""
    at = now or clock.now()
    table = await rules()
    records = await CreditRecord.filter(organisation_id=organisation_id)
    punishments = await JointPunishment.filter(organisation_id=organisation_id)
    repaired = await CreditPublication.filter(organisation_id=organisation_id, withdrawn_reason=REPAIRED).values_list(
        "record_id", "punishment_id"
    )
    if repaired:
        records = [r for r in records if r.id not in {rec for rec, _ in repaired}]
        punishments = [p for p in punishments if p.id not in {pun for _, pun in repaired}]
    score, grade, parts = score_of(table.rules, records, punishments, at)
    return Rating(organisation_id, score, grade, table.version, at, parts)


async def recompute(organisation_id: int, trigger: str, now: datetime | None = None) -> CreditRating | None:
    """Stores the organisation's current rating; a change of score, grade or rule version enters its history and the
    audit trail. In the caller's transaction (a reaction's, or the daily run's)."""
    if not await Organisation.exists(id=organisation_id):
        return None
    rating = await compute(organisation_id, now)
    contributions = [c.as_json() for c in rating.contributions]
    row = await lock(CreditRating.filter(organisation_id=organisation_id)).first()
    changed = row is None or (row.score, row.grade, row.rules_version) != (
        rating.score,
        rating.grade,
        rating.rules_version,
    )
    if row is None:
        row = await CreditRating.create(
            organisation_id=organisation_id,
            score=rating.score,
            grade=rating.grade,
            rules_version=rating.rules_version,
            contributions=contributions,
            computed_at=rating.computed_at,
        )
    else:
        row.update_from_dict(
            {
                "score": rating.score,
                "grade": rating.grade,
                "rules_version": rating.rules_version,
                "contributions": contributions,
                "computed_at": rating.computed_at,
            }
        )
        await row.save()
    if changed:
        await CreditRatingChange.create(
            organisation_id=organisation_id,
            score=rating.score,
            grade=rating.grade,
            rules_version=rating.rules_version,
            trigger=trigger[:48],
            computed_at=rating.computed_at,
        )
        await events.record(
            CreditRatingChanged(
                object_id=str(row.id),
                organisation_id=organisation_id,
                score=rating.score,
                grade=rating.grade,
                rules_version=rating.rules_version,
                trigger=trigger[:48],
                audience=Audience(orgs=(organisation_id,), roles=(Role.OPERATOR.value, Role.SUPERVISOR.value)),
            ),
            SYSTEM,
        )
    return row


async def recompute_all(now: datetime) -> int:
    """The daily run: every organisation with a record, a punishment or a rating, rated again (rules published since,
    records decaying). Returns how many were rated."""
    ids: set[int] = set()
    ids.update(await CreditRecord.all().distinct().values_list("organisation_id", flat=True))  # type: ignore[arg-type]
    ids.update(await JointPunishment.all().distinct().values_list("organisation_id", flat=True))  # type: ignore[arg-type]
    ids.update(await CreditRating.all().values_list("organisation_id", flat=True))  # type: ignore[arg-type]
    for org_id in sorted(ids):
        async with in_transaction():
            await recompute(org_id, "daily", now)
    return len(ids)


# ---------------------------------------------------------------- reading


def _may_see(actor: Actor, organisation_id: int) -> bool:
    return actor.has(Role.OPERATOR, Role.SUPERVISOR) or (actor.org_id is not None and actor.org_id == organisation_id)


async def rating_of(actor: Actor, organisation_id: int) -> Rating:
    """The organisation's rating and why: for the organisation itself, operators and supervisors; NotFound otherwise.
    The stored rating when there is one (as the last recomputation left it), else computed now."""
    if not _may_see(actor, organisation_id) or not await Organisation.exists(id=organisation_id):
        raise NotFound()
    row = await CreditRating.get_or_none(organisation_id=organisation_id)
    if row is None:
        return await compute(organisation_id)
    parts = tuple(Contribution.from_json(c) for c in row.contributions)
    return Rating(organisation_id, row.score, row.grade, row.rules_version, row.computed_at, parts)


async def history_of(actor: Actor, organisation_id: int, limit: int = 100) -> list[CreditRatingChange]:
    """Every change of the organisation's rating, newest first: operators and supervisors only."""
    if not actor.has(Role.OPERATOR, Role.SUPERVISOR):
        raise PermissionDenied()
    return await CreditRatingChange.filter(organisation_id=organisation_id).order_by("-computed_at", "-id").limit(limit)


# ---------------------------------------------------------------- reactions (wired in domain/wiring.py)


async def rerate_on_record(event: CreditRecorded) -> None:
    """A record added (here or imported) rates its organisation again."""
    await recompute(event.organisation_id, event.type)


async def rerate_on_punishment(event: PunishmentListed | PunishmentLifted) -> None:
    """A punishment listed or lifted (here or imported) rates its organisation again."""
    await recompute(event.organisation_id, event.type)


async def rerate_on_repair(event: RepairDecision) -> None:
    """A credit repair decided (credit_public.repair.RepairDecided): an approved one stops its record counting."""
    if event.status == "approved":
        await recompute(event.organisation_id, event.type)
