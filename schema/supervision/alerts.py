"""Collusion alerts for the supervisors of their categories: the queue and its status changes."""

import json
from datetime import datetime
from typing import Annotated, TypeAlias

import strawberry
from strawberry.types import Info

from domain.common.actors import Role
from domain.common.errors import DomainError
from domain.supervision import alerts
from domain.supervision.models import CollusionAlert as AlertModel
from schema import fields
from schema.describe import describe_values
from schema.errors import mutation, result_union
from schema.permissions import has_role
from schema.relay import Before, Connection, Last, Node, int_id, node_resolver, paginate, to_global_id

IsSupervisor = has_role(Role.SUPERVISOR)

CollusionSignal: TypeAlias = alerts.Signal
strawberry.enum(
    CollusionSignal,
    name="CollusionSignal",
    description="SAME_DEVICE, SAME_NETWORK (one device id or IP address across bidders), "
    "SHARED_DOWNLOAD_DEVICE (one device downloading the tender documents of several bidders), IDENTICAL_DOCUMENTS, "
    "SHARED_PAYMENT_ACCOUNT (deposits or guarantee premiums from one account), PRICE_BAND, PRICE_SPACING, "
    "PRICE_NEAR_ESTIMATE, SHARED_CONTACT (one contact phone), SHARED_CONTACT_NAME (one contact person, for bidders "
    "also linked by a phone, device, address or account), BID_ROTATION; abnormal evaluation (专家评审异常行为): "
    "EXPERT_OUTLIER, EXPERT_IDENTICAL_SCORES, EXPERT_TOO_FAST, EXPERT_FAVOURITISM.",
)
describe_values(
    CollusionSignal,
    {
        "SAME_DEVICE": "Different bidders of the lot acted from one device.",
        "SAME_NETWORK": "Different bidders of the lot acted from one IP address.",
        "SHARED_DOWNLOAD_DEVICE": "Several bidders had the lot's tender documents downloaded from one device.",
        "IDENTICAL_DOCUMENTS": "A bid document with the same SHA-256 is in the bids of different bidders.",
        "SHARED_PAYMENT_ACCOUNT": "The security of different bidders was paid from one bank account.",
        "PRICE_BAND": "Every price lies within a narrow band of the others.",
        "PRICE_SPACING": "Several prices are equally spaced.",
        "PRICE_NEAR_ESTIMATE": "Every price lies close to the lot's estimated price.",
        "SHARED_CONTACT": "Different bidders give the same contact phone.",
        "SHARED_CONTACT_NAME": "Different bidders give the same contact person and are linked in other ways too.",
        "BID_ROTATION": "Two bidders often bid together and take turns winning (陪标/轮流中标).",
        "EXPERT_OUTLIER": "An expert's scores lie far from the committee's median for the same bids.",
        "EXPERT_IDENTICAL_SCORES": "An expert gave every bid the same scores.",
        "EXPERT_TOO_FAST": "An expert handed in its sheet implausibly soon after opening the bids.",
        "EXPERT_FAVOURITISM": "An expert repeatedly scored the same bidder first across lots, against the committee.",
    },
)
CollusionAlertStatus: TypeAlias = alerts.AlertStatus
strawberry.enum(
    CollusionAlertStatus,
    name="CollusionAlertStatus",
    description="NEW -> INVESTIGATING | DISMISSED | REFERRED; INVESTIGATING -> DISMISSED | REFERRED; "
    "DISMISSED -> INVESTIGATING (reopened); REFERRED is final.",
)
describe_values(
    CollusionAlertStatus,
    {
        "NEW": "Raised, not yet looked at.",
        "INVESTIGATING": "A supervisor is looking into it.",
        "DISMISSED": "Found harmless; it may be reopened.",
        "REFERRED": "Referred for enforcement; final.",
    },
)


@strawberry.type(description="A bidder named by an alert.")
class AlertOrganisation:
    id: strawberry.ID = strawberry.field(description="The organisation's global id.")
    name: str = strawberry.field(description="The organisation's registered name.")


@strawberry.type(description="One status change of an alert, with the supervisor's note.")
class AlertNote:
    from_status: CollusionAlertStatus = strawberry.field(description="The status before the change.")
    to_status: CollusionAlertStatus = strawberry.field(description="The status after the change.")
    note: str = strawberry.field(description="The supervisor's note on why.")
    at: datetime = strawberry.field(description="When the change was made.")


@strawberry.type(description="A collusion signal (围标串标预警) raised on a lot, with its evidence; supervisors only.")
class CollusionAlert(Node):
    lot_id: strawberry.ID = strawberry.field(description="The lot's global id.")
    signal: CollusionSignal = strawberry.field(description="Which sign of collusion the platform found.")
    status: CollusionAlertStatus = strawberry.field(description="Where the supervisor's handling of the alert stands.")
    category: str = strawberry.field(description="The lot's catalogue category.")
    region_code: str = strawberry.field(description="GB/T 2260 code of the lot's region.")
    organisations: list[AlertOrganisation] = strawberry.field(description="The bidders the signal links.")
    evidence_json: str = strawberry.field(
        description="The evidence as JSON: a list of findings (shared device ids or addresses with each act, "
        "document hashes, payer accounts with each deposit or guarantee paid from them, contact phones or names "
        "with what else links the bidders, prices, spread or steps, lots together and their winners)."
    )
    history: list[AlertNote] = strawberry.field(
        description="Every status change with the supervisor's note, oldest first."
    )
    raised_at: datetime = strawberry.field(description="When the platform raised the alert.")
    updated_at: datetime = strawberry.field(description="When its status last changed.")

    @classmethod
    def from_model(cls, m: AlertModel) -> "CollusionAlert":
        return cls(
            _pk=m.id,
            lot_id=strawberry.ID(to_global_id("Lot", m.lot_id)),
            signal=alerts.Signal(m.signal),
            status=alerts.AlertStatus(m.status),
            category=m.category,
            region_code=m.region_code,
            organisations=[
                AlertOrganisation(id=strawberry.ID(to_global_id("Organisation", o["id"])), name=o["name"])
                for o in m.organisations
            ],
            evidence_json=json.dumps(m.evidence, ensure_ascii=False, sort_keys=True),
            history=[
                AlertNote(
                    from_status=alerts.AlertStatus(h["from"]),
                    to_status=alerts.AlertStatus(h["to"]),
                    note=h["note"],
                    at=datetime.fromisoformat(h["at"]),
                )
                for h in (m.history or [])
            ],
            raised_at=m.raised_at,
            updated_at=m.updated_at,
        )


@strawberry.type
class AlertQueries:
    @fields.field(
        description="The collusion alerts of the caller's supervised categories, newest first.",
        permission_classes=[IsSupervisor],
    )
    async def collusion_alerts(
        self,
        info: Info,
        status: Annotated[
            CollusionAlertStatus | None, strawberry.argument(description="Only alerts in this status; null: all.")
        ] = None,
        lot_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only alerts about this lot (global id); null: all lots."),
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="How many alerts to return (capped by the server).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="The cursor of the last alert already read: the page continues after it."),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[CollusionAlert]:
        lot = int_id(lot_id, "Lot", "lotId") if lot_id else None
        query = alerts.queue(info.context.actor, status, lot)
        return await paginate(info, query, first, after, CollusionAlert.from_model, last, before)

    @fields.field(
        description="One alert of the caller's supervised categories; null otherwise.",
        permission_classes=[IsSupervisor],
    )
    async def collusion_alert(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the alert.")]
    ) -> CollusionAlert | None:
        try:
            return CollusionAlert.from_model(await alerts.alert(info.context.actor, int_id(id, "CollusionAlert")))
        except DomainError:
            return None


@node_resolver("CollusionAlert")
async def _alert_node(info: Info, pk: str) -> CollusionAlert | None:
    if not pk.isdigit():
        return None
    try:
        return CollusionAlert.from_model(await alerts.alert(info.context.actor, int(pk)))
    except DomainError:
        return None


UPDATE_ERRORS = [alerts.AlertTransitionNotAllowed]


@strawberry.input(description="A supervisor moves an alert of its categories to another status, with a note.")
class CollusionAlertUpdateInput:
    alert_id: strawberry.ID = strawberry.field(description="Global id of an alert of a category the caller supervises.")
    status: CollusionAlertStatus = strawberry.field(
        description="The status to move it to (NEW to INVESTIGATING, DISMISSED or REFERRED; DISMISSED may be "
        "reopened).",
    )
    note: str = strawberry.field(description="Why, up to 2000 characters.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The alert's new status; the note is in its history.")
class CollusionAlertUpdated:
    alert: CollusionAlert = strawberry.field(description="The alert as it now stands.")


CollusionAlertUpdateResult = result_union("CollusionAlertUpdateResult", CollusionAlertUpdated, UPDATE_ERRORS)


@strawberry.type
class AlertMutations:
    @mutation(
        CollusionAlertUpdateResult,
        description="Change an alert's status (investigating, dismissed, referred) with a note.",
        permission_classes=[IsSupervisor],
    )
    async def collusion_alert_update(
        self,
        info: Info,
        input: Annotated[
            CollusionAlertUpdateInput,
            strawberry.argument(description="The alert, its new status and the supervisor's note."),
        ],
    ) -> CollusionAlertUpdated:
        alert_id = int_id(input.alert_id, "CollusionAlert", "alertId")
        status = alerts.AlertStatus(input.status)
        found = await alerts.change_status(info.context.actor, alert_id, status, input.note, input.idempotency_key)
        return CollusionAlertUpdated(alert=CollusionAlert.from_model(found))
