"""Collusion alerts for the supervisors of their categories: the queue and its status changes."""

import json
from datetime import datetime

import strawberry
from strawberry.types import Info

from domain.common.actors import Role
from domain.common.errors import DomainError
from domain.supervision import alerts
from domain.supervision.models import CollusionAlert as AlertModel
from schema.errors import as_error, result_union
from schema.permissions import has_role
from schema.relay import Connection, Node, int_id, node_resolver, paginate, to_global_id

IsSupervisor = has_role(Role.SUPERVISOR)

CollusionSignal = strawberry.enum(
    alerts.Signal,
    name="CollusionSignal",
    description="SAME_DEVICE, SAME_NETWORK (one device id or IP address across bidders), "
    "SHARED_DOWNLOAD_DEVICE (one device downloading the tender documents of several bidders), IDENTICAL_DOCUMENTS, "
    "SHARED_PAYMENT_ACCOUNT (deposits or guarantee premiums from one account), PRICE_BAND, PRICE_SPACING, "
    "PRICE_NEAR_ESTIMATE, SHARED_CONTACT (one contact phone), SHARED_CONTACT_NAME (one contact person, for bidders "
    "also linked by a phone, device, address or account), BID_ROTATION.",
)
CollusionAlertStatus = strawberry.enum(
    alerts.AlertStatus,
    name="CollusionAlertStatus",
    description="NEW -> INVESTIGATING | DISMISSED | REFERRED; INVESTIGATING -> DISMISSED | REFERRED; "
    "DISMISSED -> INVESTIGATING (reopened); REFERRED is final.",
)


@strawberry.type(description="A bidder named by an alert.")
class AlertOrganisation:
    id: strawberry.ID = strawberry.field(description="The organisation's global id.")
    name: str


@strawberry.type(description="One status change of an alert, with the supervisor's note.")
class AlertNote:
    from_status: CollusionAlertStatus
    to_status: CollusionAlertStatus
    note: str
    at: datetime


@strawberry.type(description="A collusion signal (围标串标预警) raised on a lot, with its evidence; supervisors only.")
class CollusionAlert(Node):
    lot_id: strawberry.ID = strawberry.field(description="The lot's global id.")
    signal: CollusionSignal
    status: CollusionAlertStatus
    category: str = strawberry.field(description="The lot's catalogue category.")
    region_code: str
    organisations: list[AlertOrganisation] = strawberry.field(description="The bidders the signal links.")
    evidence_json: str = strawberry.field(
        description="The evidence as JSON: a list of findings (shared device ids or addresses with each act, "
        "document hashes, payer accounts with each deposit or guarantee paid from them, contact phones or names "
        "with what else links the bidders, prices, spread or steps, lots together and their winners)."
    )
    history: list[AlertNote]
    raised_at: datetime
    updated_at: datetime

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
    @strawberry.field(
        description="The collusion alerts of the caller's supervised categories, newest first.",
        permission_classes=[IsSupervisor],
    )
    async def collusion_alerts(
        self,
        info: Info,
        status: CollusionAlertStatus | None = None,
        lot_id: strawberry.ID | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[CollusionAlert]:
        lot = int_id(lot_id, "Lot", "lotId") if lot_id else None
        query = alerts.queue(info.context.actor, status, lot)
        return await paginate(info, query, first, after, CollusionAlert.from_model)

    @strawberry.field(
        description="One alert of the caller's supervised categories; null otherwise.",
        permission_classes=[IsSupervisor],
    )
    async def collusion_alert(self, info: Info, id: strawberry.ID) -> CollusionAlert | None:
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
    alert_id: strawberry.ID
    status: CollusionAlertStatus
    note: str = strawberry.field(description="Why, up to 2000 characters.")
    idempotency_key: str | None = None


@strawberry.type(description="The alert's new status; the note is in its history.")
class CollusionAlertUpdated:
    alert: CollusionAlert


CollusionAlertUpdateResult = result_union("CollusionAlertUpdateResult", CollusionAlertUpdated, UPDATE_ERRORS)


@strawberry.type
class AlertMutations:
    @strawberry.mutation(
        description="Change an alert's status (investigating, dismissed, referred) with a note.",
        permission_classes=[IsSupervisor],
    )
    async def collusion_alert_update(self, info: Info, input: CollusionAlertUpdateInput) -> CollusionAlertUpdateResult:  # type: ignore[valid-type]
        try:
            alert_id = int_id(input.alert_id, "CollusionAlert", "alertId")
            status = alerts.AlertStatus(input.status)
            found = await alerts.change_status(info.context.actor, alert_id, status, input.note, input.idempotency_key)
        except DomainError as err:
            return as_error(err, info, UPDATE_ERRORS)
        return CollusionAlertUpdated(alert=CollusionAlert.from_model(found))
