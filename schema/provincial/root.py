"""The provincial exchange and the data-quality report: for operators, and read-only for the supervisors of a
category (domain/provincial)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.common.catalogue import Category
from domain.common.errors import DomainError
from domain.provincial import exchange, quality
from domain.provincial.models import ProvincialMessage as MessageModel
from domain.provincial.models import QualityFinding
from schema import fields
from schema.accounts.types import CatalogueCategory
from schema.errors import mutation, result_union
from schema.permissions import IsOperator, IsSupervisorOrOperator
from schema.relay import int_id, to_global_id


@strawberry.type(description="One finding of a data-quality rule (数据质量核查) on a lot, from its last check.")
class DataQualityFinding:
    id: strawberry.ID = strawberry.field(description="Global id of the finding.")
    rule: str = strawberry.field(description="The rule's id, e.g. DQ-AMT-001.")
    rule_title: str = strawberry.field(description="The rule's title in the caller's language.")
    blocking: bool = strawberry.field(description="Whether it holds the lot's messages to the provincial platform.")
    explanation: str = strawberry.field(description="What was found, in Chinese.")
    explanation_en: str = strawberry.field(description="What was found, in English.")
    category: CatalogueCategory = strawberry.field(description="The lot's catalogue category.")
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    object_type: str = strawberry.field(description="The type of the object at fault (Lot, Contract, Award, ...).")
    object_id: strawberry.ID = strawberry.field(description="Global id of the object at fault (a node).")
    link: str = strawberry.field(
        description="The app's deep link to the object at fault: palmtrade://lot/<lot>/data-quality?<objectType>=<id>."
    )
    found_at: datetime = strawberry.field(description="When the check found it.")

    @classmethod
    def of(cls, f: QualityFinding, locale: str) -> DataQualityFinding:
        rule = quality.RULES[f.rule]
        lot, target = to_global_id("Lot", f.lot_id), to_global_id(f.object_type, f.object_id)
        return cls(
            id=strawberry.ID(to_global_id("DataQualityFinding", f.id)),
            rule=f.rule,
            rule_title=rule.title_en if locale.startswith("en") else rule.title_zh,
            blocking=f.blocking,
            explanation=str(f.detail.get("zh", "")),
            explanation_en=str(f.detail.get("en", "")),
            category=Category(f.category),
            lot_id=strawberry.ID(lot),
            object_type=f.object_type,
            object_id=strawberry.ID(target),
            link=f"palmtrade://lot/{lot}/data-quality?{f.object_type}={target}",
            found_at=f.found_at,
        )


@strawberry.type(description="A published announcement as sent to the provincial platform, with its delivery state.")
class ProvincialMessage:
    id: strawberry.ID = strawberry.field(description="Global id of the message.")
    message_id: str = strawberry.field(description="The id the province deduplicates by (one per announcement).")
    announcement_id: strawberry.ID = strawberry.field(description="Global id of the announcement sent.")
    lot_id: strawberry.ID | None = strawberry.field(description="Global id of its lot, if any.")
    kind: str = strawberry.field(description="The announcement type, e.g. result.")
    data_type: str = strawberry.field(
        description="PalmTrade's data set: NOTICE, RESULT or CONTRACT, and for an engineering project PUBLICITY (its "
        "candidates' publicity) or WORKS_CONTRACT (its contract); sent under the specification's data set of the "
        "project's trade (e.g. 503 TENDER_ANN_QUA_INQUERY_ANN for an engineering notice, 511 for its publicity)."
    )
    status: str = strawberry.field(
        description="queued, sent (the province's receipt came), held (a blocking data-quality finding), dead "
        "(every try failed: retry it)."
    )
    attempts: int = strawberry.field(description="Tries so far.")
    due_at: datetime | None = strawberry.field(description="When the next try is due, while queued.")
    last_error: str | None = strawberry.field(description="The last failure: no answer, HTTP 5xx or the error receipt.")
    receipt_id: str | None = strawberry.field(description="The province's receipt id (回执), once sent.")
    sent_at: datetime | None = strawberry.field(description="When the province accepted it.")

    @classmethod
    def of(cls, m: MessageModel) -> ProvincialMessage:
        return cls(
            id=strawberry.ID(to_global_id("ProvincialMessage", m.id)),
            message_id=m.message_id,
            announcement_id=strawberry.ID(to_global_id("Announcement", m.object_id)),
            lot_id=strawberry.ID(to_global_id("Lot", m.lot_id)) if m.lot_id else None,
            kind=m.kind,
            data_type=m.data_type,
            status=m.status,
            attempts=m.attempts,
            due_at=m.due_at,
            last_error=m.last_error,
            receipt_id=m.receipt_id,
            sent_at=m.sent_at,
        )


@strawberry.type
class ProvincialQueries:
    @fields.field(
        description="The data-quality report: every standing finding, by rule, category or lot; operators see all, "
        "supervisors their categories (read-only).",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def data_quality_report(
        self,
        info: Info,
        rule: Annotated[str | None, strawberry.argument(description="Only this rule, e.g. DQ-AMT-001.")] = None,
        category: Annotated[
            CatalogueCategory | None, strawberry.argument(description="Only lots of this category.")
        ] = None,
        lot_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only this lot (global id).")] = None,
    ) -> list[DataQualityFinding]:
        try:
            lot = int_id(lot_id, "Lot", "lotId") if lot_id is not None else None
        except DomainError:
            return []  # not a lot's id: no lot, no finding
        found = await quality.report(
            info.context.actor, rule=rule, category=category.value if category else None, lot_id=lot
        )
        return [DataQualityFinding.of(f, info.context.locale) for f in found]

    @fields.field(
        description="The messages to the provincial platform, newest first, by status or lot; operators see all, "
        "supervisors their categories (read-only).",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def provincial_messages(
        self,
        info: Info,
        status: Annotated[
            str | None, strawberry.argument(description="Only this status: queued, sent, held or dead.")
        ] = None,
        lot_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only this lot (global id).")] = None,
    ) -> list[ProvincialMessage]:
        try:
            lot = int_id(lot_id, "Lot", "lotId") if lot_id is not None else None
        except DomainError:
            return []
        return [ProvincialMessage.of(m) for m in await exchange.messages(info.context.actor, status=status, lot_id=lot)]


@strawberry.input(description="An operator sends a queued, held or dead message to the province now.")
class ProvincialMessageRetryInput:
    message_id: strawberry.ID = strawberry.field(description="Global id of the message.")
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars)."
    )


@strawberry.type(description="The message is queued to go now.")
class ProvincialMessageQueued:
    provincial_message: ProvincialMessage = strawberry.field(description="The message as it now stands.")


@strawberry.input(description="An operator compares what the province holds for a day with what was sent.")
class ProvincialReconcileInput:
    day: date = strawberry.field(description="The day of publication (Beijing).")


@strawberry.type(description="What the province lacked or held otherwise (queued again) and what it holds unknown.")
class ProvincialReconciled:
    day: date = strawberry.field(description="The day reconciled.")
    missing: list[str] = strawberry.field(description="Message ids sent but not held there: queued again.")
    differing: list[str] = strawberry.field(description="Message ids held there in another version: queued again.")
    unknown: list[str] = strawberry.field(description="Message ids held there that PalmTrade never sent.")


@strawberry.input(description="An operator checks one lot against the data-quality rules now.")
class DataQualityRecheckInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")


@strawberry.type(description="The lot was checked now: its findings replace the last check's; audited.")
class DataQualityRechecked:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    findings: list[DataQualityFinding] = strawberry.field(description="Every finding standing after this check.")
    blocking: int = strawberry.field(description="How many of them hold the lot's messages to the province.")
    newly_blocked: bool = strawberry.field(description="The lot had no blocking finding before this check, now has.")
    cleared: bool = strawberry.field(description="The lot's blocking findings, standing before, are gone now.")
    released_message_ids: list[str] = strawberry.field(
        description="Message ids held for the lot that went back in the queue (to be sent now)."
    )


ProvincialMessageRetryResult = result_union(
    "ProvincialMessageRetryResult", ProvincialMessageQueued, [exchange.retry_now]
)
ProvincialReconcileResult = result_union("ProvincialReconcileResult", ProvincialReconciled, [exchange.reconcile_day])
DataQualityRecheckResult = result_union("DataQualityRecheckResult", DataQualityRechecked, [exchange.recheck])


@strawberry.type
class ProvincialMutations:
    @mutation(
        ProvincialMessageRetryResult,
        description="Send a message to the provincial platform now (a dead one starts its tries afresh).",
        permission_classes=[IsOperator],
    )
    async def provincial_message_retry(
        self,
        info: Info,
        input: Annotated[ProvincialMessageRetryInput, strawberry.argument(description="The message.")],
    ) -> ProvincialMessageQueued:
        pk = int_id(input.message_id, "ProvincialMessage", "messageId")
        return ProvincialMessageQueued(
            provincial_message=ProvincialMessage.of(
                await exchange.retry_now(info.context.actor, pk, input.idempotency_key)
            )
        )

    @mutation(
        ProvincialReconcileResult,
        description="Reconcile a day with the provincial platform now: what it lacks is sent again.",
        permission_classes=[IsOperator],
    )
    async def provincial_reconcile(
        self,
        info: Info,
        input: Annotated[ProvincialReconcileInput, strawberry.argument(description="The day.")],
    ) -> ProvincialReconciled:
        r = await exchange.reconcile_day(info.context.actor, input.day)
        return ProvincialReconciled(day=r.day, missing=r.missing, differing=r.differing, unknown=r.unknown)

    @mutation(
        DataQualityRecheckResult,
        description="Check one lot against the data-quality rules now (数据质量核查): its findings replace the last "
        "check's, a lot left without blocking findings has its held messages sent; audited with the result.",
        permission_classes=[IsOperator],
    )
    async def data_quality_recheck(
        self,
        info: Info,
        input: Annotated[DataQualityRecheckInput, strawberry.argument(description="The lot.")],
    ) -> DataQualityRechecked:
        r = await exchange.recheck(info.context.actor, int_id(input.lot_id, "Lot", "lotId"))
        return DataQualityRechecked(
            lot_id=strawberry.ID(to_global_id("Lot", r.lot_id)),
            findings=[DataQualityFinding.of(f, info.context.locale) for f in r.findings],
            blocking=sum(1 for f in r.findings if f.blocking),
            newly_blocked=r.newly_blocked,
            cleared=r.cleared,
            released_message_ids=r.released,
        )
