"""Credit incentives (守信激励): what a lot grants bidders of good credit, by their credit grade.

A lot's documents may waive or reduce the bid security (投标保证金 or guarantee) for the grades they name, and give the
better grade priority in a tie where the documents may decide ties. The incentives are set by the lot's managers while
it is a draft (they are part of its documents, public once it is published) and applied at registration: the bidder's
grade by the rules in force then decides what it owes (a SecurityRelief, on the audit trail), and deposits, guarantees
and the security check read that amount through domain/registration/security (plugged in domain/wiring.py).

Basis: 国务院关于建立完善守信联合激励和失信联合惩戒制度加快推进社会诚信建设的指导意见 (国发〔2016〕33号: incentives for
entities of good credit in public-resource trading); the seed plans' 守信联合激励 (Qingdao 三(三)2, Wuhan 二(三)3,
Shandong 二(三)2). Tie-break priority only where the tender documents set the evaluation method (招标投标法 第四十条:
评标委员会按照招标文件确定的评标标准和方法评审); never in an auction or a listing (the price decides) nor in government
procurement (ties are ordered by the procurement rules, not by the purchaser's choice).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from domain.common import clock, events
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import DomainError, InvalidInput, NotFound, raises
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock
from domain.credit import rating
from domain.credit.models import LotCreditIncentive, SecurityRelief
from domain.publication.models import Lot, Project
from domain.publication.procedures import TENDERING, Procedure
from domain.publication.projects import manages
from domain.publication.states import LotStatus
from domain.registration.models import Registration

MAX_RULES = 12


class IncentiveKind(StrEnum):
    SECURITY_WAIVER = "security_waiver"  # 免交保证金
    SECURITY_REDUCTION = "security_reduction"  # 减免部分保证金
    TIE_BREAK_PRIORITY = "tie_break_priority"  # 同等条件下优先


SECURITY_KINDS = (IncentiveKind.SECURITY_WAIVER, IncentiveKind.SECURITY_REDUCTION)


class IncentivesLocked(DomainError):
    code = "CREDIT_INCENTIVES_LOCKED"
    message_zh = "信用激励措施属于交易文件内容，只能在标段发布前设置"
    message_en = "Credit incentives are part of the lot's documents: they can be set only before it is published"


class TieBreakNotAllowed(DomainError):
    code = "TIE_BREAK_PRIORITY_NOT_ALLOWED"
    message_zh = "该交易方式不允许以信用等级决定同分排序（{basis}）"
    message_en = "This procedure does not let credit decide ties ({basis})"
    exposed: ClassVar[dict[str, str]] = {"basis": "str"}


@dataclass(frozen=True, kw_only=True)
class LotCreditIncentivesSet(DomainEvent):
    type = "credit_incentive.set"
    object_type = "LotCreditIncentive"
    lot_id: int
    rules: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class SecurityRelieved(DomainEvent):
    type = "credit_incentive.security_relieved"
    object_type = "SecurityRelief"
    lot_id: int
    organisation_id: int
    grade: str
    kind: str
    base_fen: int
    amount_due_fen: int


@dataclass(frozen=True, slots=True)
class Rule:
    grade: str
    kind: IncentiveKind
    percent: int

    def as_json(self) -> dict[str, Any]:
        return {"grade": self.grade, "kind": self.kind.value, "percent": self.percent}

    def text(self) -> str:
        return f"{self.grade}:{self.kind.value}:{self.percent}"


def tie_break_refusal(lot: Lot, project: Project) -> str | None:
    """Why the lot may not let credit decide ties, or None where its documents may."""
    if lot.procedure not in TENDERING:
        if lot.procedure in (Procedure.ONLINE_AUCTION, Procedure.REVERSE_AUCTION, Procedure.LISTING):
            return "竞价、挂牌以报价决定成交 / the price decides an auction or a listing"
        return "政府采购非招标方式按报价或评审得分排序 / the procurement rules order the offers"
    if project.category == "government_procurement":
        return "政府采购评审得分相同的排序由采购规则规定 / government procurement orders ties by its rules"
    return None


def parse_rules(items: list[dict[str, Any]]) -> list[Rule]:
    """The incentive rules as sent, or InvalidInput naming the field at fault."""
    if not isinstance(items, list) or len(items) > MAX_RULES:
        raise InvalidInput(field="rules")
    parsed: list[Rule] = []
    for item in items:
        try:
            kind = IncentiveKind(str(item.get("kind")))
        except ValueError:
            raise InvalidInput(field="kind") from None
        grade = item.get("grade")
        if grade not in rating.GRADES:
            raise InvalidInput(field="grade")
        percent = item.get("percent")
        if kind is IncentiveKind.SECURITY_REDUCTION:
            if not isinstance(percent, int) or isinstance(percent, bool) or not 1 <= percent <= 99:
                raise InvalidInput(field="percent")
        else:
            percent = 100 if kind is IncentiveKind.SECURITY_WAIVER else 0
        rule = Rule(str(grade), kind, percent)
        same = [
            r for r in parsed if r.grade == rule.grade and (r.kind in SECURITY_KINDS) == (rule.kind in SECURITY_KINDS)
        ]
        if same:
            raise InvalidInput(field="rules")  # one security rule and one tie-break rule per grade
        parsed.append(rule)
    return parsed


async def _managed_lot(actor: Actor, lot_id: int) -> tuple[Lot, Project]:
    lot = await Lot.get_or_none(id=lot_id).prefetch_related("project")
    if lot is None or not await manages(actor, lot.project):
        raise NotFound()
    return lot, lot.project


@raises(IncentivesLocked, TieBreakNotAllowed)
@use_case("credit_incentive.set", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def set_incentives(
    actor: Actor, lot_id: int, items: list[dict[str, Any]], idempotency_key: str | None = None
) -> list[Rule]:
    """Sets the credit incentives of a draft lot (its tenderer, agency or an operator); an empty list removes them."""
    lot, project = await _managed_lot(actor, lot_id)
    rules = parse_rules(items)
    if lot.status != LotStatus.DRAFT.value:
        raise IncentivesLocked()
    if any(r.kind is IncentiveKind.TIE_BREAK_PRIORITY for r in rules):
        refusal = tie_break_refusal(lot, project)
        if refusal is not None:
            raise TieBreakNotAllowed(basis=refusal)
    request = {"lot": lot.id, "rules": [r.as_json() for r in rules]}

    async def change() -> dict[str, Any]:
        current = await lock(Lot.filter(id=lot.id)).first()
        if current is None or current.status != LotStatus.DRAFT.value:
            raise IncentivesLocked()
        row = await LotCreditIncentive.get_or_none(lot_id=lot.id)
        now = clock.now()
        if row is None:
            row = await LotCreditIncentive.create(
                lot_id=lot.id, rules=request["rules"], set_by=actor.user_id or 0, set_at=now
            )
        else:
            row.update_from_dict({"rules": request["rules"], "set_by": actor.user_id or 0, "set_at": now})
            await row.save()
        await events.record(
            LotCreditIncentivesSet(
                object_id=str(row.id),
                lot_id=lot.id,
                rules=tuple(r.text() for r in rules),
                audience=Audience(orgs=tuple(o for o in (project.tenderer_id, project.agency_id) if o)),
            ),
            actor,
        )
        return {"id": row.id}

    await run_once(actor, idempotency_key, "credit_incentive.set", request, change)
    return rules


async def rules_of(lot_id: int) -> list[Rule]:
    row = await LotCreditIncentive.get_or_none(lot_id=lot_id)
    if row is None:
        return []
    return [Rule(r["grade"], IncentiveKind(r["kind"]), int(r["percent"])) for r in row.rules]


async def visible_rules(actor: Actor, lot_id: int) -> list[Rule]:
    """A lot's incentives: public once it is published (part of its documents), a draft's to its managers."""
    lot = await Lot.get_or_none(id=lot_id).prefetch_related("project")
    if lot is None:
        raise NotFound()
    if lot.status == LotStatus.DRAFT.value and not await manages(actor, lot.project):
        raise NotFound()
    return await rules_of(lot_id)


def _security_rule(rules: list[Rule], grade: str) -> Rule | None:
    for r in rules:
        if r.grade == grade and r.kind in SECURITY_KINDS:
            return r
    return None


def owed_after(base_fen: int, rule: Rule) -> int:
    """What a bidder owes under the rule: nothing for a waiver, the base less the percentage (rounded up) otherwise."""
    if rule.kind is IncentiveKind.SECURITY_WAIVER:
        return 0
    return -(-base_fen * (100 - rule.percent) // 100)


async def decide(registration: Registration, lot: Lot, base_fen: int) -> None:
    """At registration, in its transaction: the bidder's grade now decides whether the lot's incentive relieves its
    security (a SecurityRelief, audited); a grade that no longer qualifies on a later registration removes it."""
    org_id = registration.organisation_id
    existing = await SecurityRelief.get_or_none(lot_id=lot.id, organisation_id=org_id)
    rules = await rules_of(lot.id) if base_fen > 0 else []
    if not rules:
        if existing is not None:
            await existing.delete()
        return
    graded = await rating.compute(org_id)
    rule = _security_rule(rules, graded.grade)
    if rule is None:
        if existing is not None:
            await existing.delete()
        return
    values: dict[str, Any] = {
        "grade": graded.grade,
        "score": graded.score,
        "rules_version": graded.rules_version,
        "kind": rule.kind.value,
        "percent": rule.percent,
        "base_fen": base_fen,
        "amount_due_fen": owed_after(base_fen, rule),
        "granted_at": clock.now(),
    }
    if existing is None:
        row = await SecurityRelief.create(lot_id=lot.id, organisation_id=org_id, **values)
    else:
        row = existing
        row.update_from_dict(values)
        await row.save()
    await events.record(
        SecurityRelieved(
            object_id=str(row.id),
            lot_id=lot.id,
            organisation_id=org_id,
            grade=row.grade,
            kind=row.kind,
            base_fen=row.base_fen,
            amount_due_fen=row.amount_due_fen,
            audience=Audience(orgs=(org_id,), roles=(Role.OPERATOR.value, Role.SUPERVISOR.value)),
        ),
        SYSTEM,
    )


async def owed(lot_id: int, org_id: int) -> int | None:
    """The security a relief set for the bidder on this lot, or None (the lot's amount applies)."""
    row = await SecurityRelief.get_or_none(lot_id=lot_id, organisation_id=org_id)
    return None if row is None else row.amount_due_fen


async def relief_of(actor: Actor, lot_id: int) -> SecurityRelief | None:
    """The caller organisation's relief on a lot, if any."""
    if actor.org_id is None:
        return None
    return await SecurityRelief.get_or_none(lot_id=lot_id, organisation_id=actor.org_id)


async def tie_break_order(lot_id: int, organisation_ids: list[int]) -> list[int]:
    """Tied bidders in the order the lot's tie-break incentive gives them: those of a grade it names first (better
    grade, then higher score), the rest as given. Unchanged where the lot names none (or may not)."""
    rules = [r for r in await rules_of(lot_id) if r.kind is IncentiveKind.TIE_BREAK_PRIORITY]
    if not rules:
        return list(organisation_ids)
    favoured = {r.grade for r in rules}
    ratings = {o: await rating.compute(o) for o in organisation_ids}
    first = [o for o in organisation_ids if ratings[o].grade in favoured]
    first.sort(key=lambda o: (rating.GRADES.index(ratings[o].grade), -ratings[o].score))
    return first + [o for o in organisation_ids if o not in first]
