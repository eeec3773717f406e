"""Credit rating (信用评价) and a lot's credit incentives (守信激励): the public rule table, an entity's rating and why,
the supervisors' history; the incentives a draft lot sets and the security relief a bidder was granted."""

from datetime import datetime
from typing import Annotated, Any, TypeAlias

import strawberry
from strawberry.types import Info

from domain.common.errors import NotFound
from domain.credit import rating
from domain.credit.models import CreditRatingChange as CreditRatingChangeModel
from domain.credit.models import SecurityRelief as SecurityReliefModel
from domain.registration import incentives
from schema import fields
from schema.describe import describe_values
from schema.errors import mutation, result_union
from schema.permissions import IsOperator, IsSupervisorOrOperator, IsUser
from schema.relay import int_id, to_global_id
from schema.scalars import Fen

IncentiveKindType: TypeAlias = incentives.IncentiveKind
strawberry.enum(IncentiveKindType, name="CreditIncentiveKind", description="What a credit incentive grants.")
describe_values(
    IncentiveKindType,
    {
        "SECURITY_WAIVER": "免交保证金: no bid security (deposit or guarantee) is asked of the grade.",
        "SECURITY_REDUCTION": "减免保证金: the security is reduced by `percent` for the grade.",
        "TIE_BREAK_PRIORITY": "同等条件下优先: the grade ranks first among tied bids, where allowed.",
    },
)


@strawberry.type(description="The weight a record of one kind and category carries in the score.")
class CreditRatingWeight:
    kind: str = strawberry.field(description="good or bad")
    category: str = strawberry.field(description="The record's category, as recorded (e.g. 违约, 表彰).")
    weight: int = strawberry.field(description="Points added (negative: taken) by a fresh record.")


@strawberry.type(description="The lowest score of a grade.")
class CreditGradeFloor:
    grade: str = strawberry.field(description="A, B, C or D.")
    min_score: int = strawberry.field(description="The lowest score (0-100) of the grade.")


@strawberry.type(description="A published version of the credit rating rules: public, never changed once published.")
class CreditRatingRuleTable:
    version: int = strawberry.field(description="The version (1: built in).")
    published_at: datetime = strawberry.field(description="When it was published (in force from then).")
    note: str = strawberry.field(description="What changed, in words.")
    base: int = strawberry.field(description="The score of an entity with no record.")
    half_life_days: int = strawberry.field(description="A record's weight halves every this many days.")
    max_age_days: int = strawberry.field(description="A record older than this no longer counts.")
    good_default_weight: int = strawberry.field(description="The weight of a good record of an unlisted category.")
    bad_default_weight: int = strawberry.field(description="The weight of a bad record of an unlisted category.")
    punishment_in_force_weight: int = strawberry.field(description="The weight of a joint punishment in force.")
    punishment_ended_weight: int = strawberry.field(
        description="The weight of a punishment that ended or was lifted (decaying from its end)."
    )
    weights: list[CreditRatingWeight] = strawberry.field(description="The weight of each listed category.")
    grades: list[CreditGradeFloor] = strawberry.field(description="The grades, best first, with their lowest score.")

    @classmethod
    def of(cls, t: rating.RuleTable) -> "CreditRatingRuleTable":
        r = t.rules
        return cls(
            version=t.version,
            published_at=t.published_at,
            note=t.note,
            base=r["base"],
            half_life_days=r["halfLifeDays"],
            max_age_days=r["maxAgeDays"],
            good_default_weight=r["defaultWeights"]["good"],
            bad_default_weight=r["defaultWeights"]["bad"],
            punishment_in_force_weight=r["punishmentInForce"],
            punishment_ended_weight=r["punishmentEnded"],
            weights=[
                CreditRatingWeight(kind=w["kind"], category=w["category"], weight=w["weight"]) for w in r["weights"]
            ],
            grades=[CreditGradeFloor(grade=g["grade"], min_score=g["minScore"]) for g in r["grades"]],
        )


@strawberry.type(description="One record's part in a score, and why.")
class CreditContribution:
    record_id: strawberry.ID = strawberry.field(
        description="Global id of the CreditRecord or JointPunishment that counts."
    )
    source: str = strawberry.field(description="record or punishment")
    kind: str = strawberry.field(description="good, bad or punishment")
    category: str = strawberry.field(description="The record's category (a punishment: its reason).")
    at: datetime = strawberry.field(description="The date its age is counted from (a punishment that ended: its end).")
    weight: int = strawberry.field(description="Its weight by the rule table.")
    factor: float = strawberry.field(description="The decay for its age: 1 when fresh, halving every half-life.")
    points: float = strawberry.field(description="weight x factor: what it adds to the base score.")
    source_platform: str | None = strawberry.field(
        description="The partner platform it was imported from; null: recorded here."
    )


@strawberry.type(description="An organisation's credit score and grade, with every record that counts.")
class CreditRating:
    organisation_id: strawberry.ID = strawberry.field(description="Global id of the organisation.")
    score: int = strawberry.field(description="0-100.")
    grade: str = strawberry.field(description="A, B, C or D by the rule table.")
    rules_version: int = strawberry.field(description="The rule table version it was computed by.")
    computed_at: datetime = strawberry.field(description="When it was computed.")
    contributions: list[CreditContribution] = strawberry.field(
        description="Each counted record with its weight, decay and points, largest first."
    )

    @classmethod
    def of(cls, r: rating.Rating) -> "CreditRating":
        return cls(
            organisation_id=strawberry.ID(to_global_id("Organisation", r.organisation_id)),
            score=r.score,
            grade=r.grade,
            rules_version=r.rules_version,
            computed_at=r.computed_at,
            contributions=[
                CreditContribution(
                    record_id=strawberry.ID(
                        to_global_id("CreditRecord" if c.source == "record" else "JointPunishment", c.id)
                    ),
                    source=c.source,
                    kind=c.kind,
                    category=c.category,
                    at=c.at,
                    weight=c.weight,
                    factor=c.factor,
                    points=c.points,
                    source_platform=c.source_platform,
                )
                for c in r.contributions
            ],
        )


@strawberry.type(description="A change of an organisation's rating.")
class CreditRatingChange:
    score: int = strawberry.field(description="The new score.")
    grade: str = strawberry.field(description="The new grade.")
    rules_version: int = strawberry.field(description="The rule table version.")
    trigger: str = strawberry.field(
        description="What caused it: the event (credit.recorded, punishment.listed...) or daily."
    )
    computed_at: datetime = strawberry.field(description="When.")

    @classmethod
    def from_model(cls, m: CreditRatingChangeModel) -> "CreditRatingChange":
        return cls(
            score=m.score, grade=m.grade, rules_version=m.rules_version, trigger=m.trigger, computed_at=m.computed_at
        )


@strawberry.type(description="A credit incentive of a lot: what one grade is granted.")
class CreditIncentiveRule:
    grade: str = strawberry.field(description="A, B, C or D.")
    kind: IncentiveKindType = strawberry.field(description="What is granted.")
    percent: int = strawberry.field(description="The reduction of the security in percent (a waiver: 100).")


@strawberry.type(description="A credit incentive applied to the caller's registration: the security it owes.")
class SecurityRelief:
    grade: str = strawberry.field(description="The grade at registration.")
    score: int = strawberry.field(description="The score at registration.")
    rules_version: int = strawberry.field(description="The rule table version the grade was computed by.")
    kind: IncentiveKindType = strawberry.field(description="Waiver or reduction.")
    percent: int = strawberry.field(description="The reduction in percent (a waiver: 100).")
    base_fen: Fen = strawberry.field(description="The lot's security, in fen.")
    amount_due_fen: Fen = strawberry.field(description="What the bidder owes, in fen (0: waived).")
    granted_at: datetime = strawberry.field(description="When it was granted (at registration).")

    @classmethod
    def from_model(cls, m: SecurityReliefModel) -> "SecurityRelief":
        return cls(
            grade=m.grade,
            score=m.score,
            rules_version=m.rules_version,
            kind=IncentiveKindType(m.kind),
            percent=m.percent,
            base_fen=Fen(m.base_fen),
            amount_due_fen=Fen(m.amount_due_fen),
            granted_at=m.granted_at,
        )


def _rules(items: list[incentives.Rule]) -> list[CreditIncentiveRule]:
    return [CreditIncentiveRule(grade=r.grade, kind=r.kind, percent=r.percent) for r in items]


@strawberry.type
class CreditRatingQueries:
    @fields.field(description="The credit rating rules of a version (default: the one in force); public (公开).")
    async def credit_rating_rules(
        self,
        version: Annotated[
            int | None, strawberry.argument(description="A published version; null: the one in force.")
        ] = None,
    ) -> CreditRatingRuleTable | None:
        try:
            return CreditRatingRuleTable.of(await rating.rules(version))
        except NotFound:
            return None

    @fields.field(description="Every published version of the credit rating rules, newest first; public.")
    async def credit_rating_rule_versions(self) -> list[CreditRatingRuleTable]:
        return [CreditRatingRuleTable.of(t) for t in await rating.versions()]

    @fields.field(
        description="The caller organisation's credit rating and the records behind it.",
        permission_classes=[IsUser],
    )
    async def my_credit_rating(self, info: Info) -> CreditRating | None:
        actor = info.context.actor
        if actor.org_id is None:
            return None
        return CreditRating.of(await rating.rating_of(actor, actor.org_id))

    @fields.field(description="An organisation's credit rating: operators and supervisors (null for anyone else).")
    async def organisation_credit_rating(
        self,
        info: Info,
        organisation_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the organisation.")],
    ) -> CreditRating | None:
        try:
            return CreditRating.of(
                await rating.rating_of(info.context.actor, int_id(organisation_id, "Organisation", "organisationId"))
            )
        except NotFound:
            return None

    @fields.field(
        description="Every change of an organisation's rating, newest first: operators and supervisors.",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def credit_rating_history(
        self,
        info: Info,
        organisation_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the organisation.")],
    ) -> list[CreditRatingChange]:
        rows = await rating.history_of(info.context.actor, int_id(organisation_id, "Organisation", "organisationId"))
        return [CreditRatingChange.from_model(r) for r in rows]

    @fields.field(
        description="A lot's credit incentives (守信激励): public once the lot is published, a draft's to its managers."
    )
    async def lot_credit_incentives(
        self,
        info: Info,
        lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")],
    ) -> list[CreditIncentiveRule] | None:
        try:
            return _rules(await incentives.visible_rules(info.context.actor, int_id(lot_id, "Lot", "lotId")))
        except NotFound:
            return None

    @fields.field(
        description="The security relief the caller organisation was granted on a lot at registration, if any.",
        permission_classes=[IsUser],
    )
    async def my_security_relief(
        self,
        info: Info,
        lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")],
    ) -> SecurityRelief | None:
        row = await incentives.relief_of(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        return None if row is None else SecurityRelief.from_model(row)


@strawberry.input(description="The weight of records of one kind and category.")
class CreditRatingWeightInput:
    kind: str = strawberry.field(description="good or bad")
    category: str = strawberry.field(description="The category as records carry it (up to 64 characters).")
    weight: int = strawberry.field(description="-100 to 100.")


@strawberry.input(description="The lowest score of a grade.")
class CreditGradeFloorInput:
    grade: str = strawberry.field(description="A, B, C or D.")
    min_score: int = strawberry.field(description="0-100; strictly decreasing, the last 0.")


@strawberry.input(description="The next version of the credit rating rules.")
class CreditRatingRulesPublishInput:
    base: int = strawberry.field(description="The score of an entity with no record (0-100).")
    half_life_days: int = strawberry.field(description="A record's weight halves every this many days (1-3650).")
    max_age_days: int = strawberry.field(description="A record older than this no longer counts (1-3650).")
    good_default_weight: int = strawberry.field(description="The weight of a good record of an unlisted category.")
    bad_default_weight: int = strawberry.field(description="The weight of a bad record of an unlisted category.")
    punishment_in_force_weight: int = strawberry.field(description="The weight of a punishment in force (-100-0).")
    punishment_ended_weight: int = strawberry.field(description="The weight of a punishment that ended (-100-0).")
    weights: list[CreditRatingWeightInput] = strawberry.field(description="The weight of each listed category.")
    grades: list[CreditGradeFloorInput] = strawberry.field(description="The grades, best first.")
    note: str = strawberry.field(description="What changed and why, in words (published with the table).")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )

    def table(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "halfLifeDays": self.half_life_days,
            "maxAgeDays": self.max_age_days,
            "defaultWeights": {"good": self.good_default_weight, "bad": self.bad_default_weight},
            "weights": [{"kind": w.kind, "category": w.category, "weight": w.weight} for w in self.weights],
            "punishmentInForce": self.punishment_in_force_weight,
            "punishmentEnded": self.punishment_ended_weight,
            "grades": [{"grade": g.grade, "minScore": g.min_score} for g in self.grades],
        }


@strawberry.type(description="Published: in force at once; ratings follow at the next daily run or record change.")
class CreditRatingRulesPublished:
    rules: CreditRatingRuleTable = strawberry.field(description="The version as published.")


CreditRatingRulesPublishResult = result_union(
    "CreditRatingRulesPublishResult", CreditRatingRulesPublished, [rating.publish_rules]
)


@strawberry.input(description="What one grade is granted.")
class CreditIncentiveRuleInput:
    grade: str = strawberry.field(description="A, B, C or D.")
    kind: IncentiveKindType = strawberry.field(description="What is granted.")
    percent: int | None = strawberry.field(
        default=None, description="SECURITY_REDUCTION: the reduction in percent (1-99); ignored otherwise."
    )


@strawberry.input(
    description="Set a draft lot's credit incentives (part of its documents); an empty list removes them."
)
class LotCreditIncentivesSetInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of a draft lot the caller manages.")
    rules: list[CreditIncentiveRuleInput] = strawberry.field(
        description="One security rule and one tie-break rule per grade at most."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Set.")
class LotCreditIncentivesSet:
    rules: list[CreditIncentiveRule] = strawberry.field(description="The lot's incentives as they now stand.")


LotCreditIncentivesSetResult = result_union(
    "LotCreditIncentivesSetResult", LotCreditIncentivesSet, [incentives.set_incentives]
)


@strawberry.type
class CreditRatingMutations:
    @mutation(
        CreditRatingRulesPublishResult,
        description="Publish the next version of the credit rating rules.",
        permission_classes=[IsOperator],
    )
    async def credit_rating_rules_publish(
        self,
        info: Info,
        input: Annotated[CreditRatingRulesPublishInput, strawberry.argument(description="The rule table and a note.")],
    ) -> CreditRatingRulesPublished:
        table = await rating.publish_rules(info.context.actor, input.table(), input.note, input.idempotency_key)
        return CreditRatingRulesPublished(rules=CreditRatingRuleTable.of(table))

    @mutation(
        LotCreditIncentivesSetResult,
        description="Set the credit incentives (守信激励) of a draft lot.",
        permission_classes=[IsUser],
    )
    async def lot_credit_incentives_set(
        self,
        info: Info,
        input: Annotated[LotCreditIncentivesSetInput, strawberry.argument(description="The lot and its incentives.")],
    ) -> LotCreditIncentivesSet:
        items = [{"grade": r.grade, "kind": r.kind.value, "percent": r.percent} for r in input.rules]
        rules = await incentives.set_incentives(
            info.context.actor, int_id(input.lot_id, "Lot", "lotId"), items, input.idempotency_key
        )
        return LotCreditIncentivesSet(rules=_rules(rules))
