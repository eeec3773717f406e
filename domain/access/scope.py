"""The one category scope of every supervisor read.

A supervisor (行政监督部门) oversees the trading of the categories it is responsible for (《招标投标法》第七条,
《公共资源交易平台管理暂行办法》第七条): it reads everything about the lots of those categories and nothing
about any other lot. Every read of an object that belongs to a lot asks here, by the lot's category; operators
see every lot. Functions answer for the supervisory role only: a caller who is also, say, the lot's tenderer
is let in by the reader's own rule for that role.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tortoise.expressions import Q, RawSQL, Subquery
from tortoise.queryset import QuerySet

from domain.audit.models import AuditEntry
from domain.common.actors import Actor, Role
from domain.publication.models import Announcement, Lot, Project


def supervises(actor: Actor, category: str | None) -> bool:
    """A supervisor of this category."""
    return actor.has(Role.SUPERVISOR) and category is not None and category in actor.supervised_categories


def keeps(actor: Actor, category: str | None) -> bool:
    """An operator, or a supervisor of this category: who reads everything about a lot of it."""
    return actor.has(Role.OPERATOR) or supervises(actor, category)


def keeps_project(actor: Actor, project: Project) -> bool:
    return keeps(actor, project.category)


async def lot_category(lot_id: int | None) -> str | None:
    if lot_id is None:
        return None
    found = await Project.filter(lots__id=lot_id).values_list("category", flat=True)
    return str(found[0]) if found else None


async def keeps_lot(actor: Actor, lot_id: int | None) -> bool:
    """An operator, or a supervisor of the lot's category (False for no lot or an unknown one)."""
    if actor.has(Role.OPERATOR):
        return True
    if not actor.has(Role.SUPERVISOR) or lot_id is None:
        return False
    return supervises(actor, await lot_category(lot_id))


def _supervised_lots(actor: Actor) -> QuerySet[Lot]:
    return Lot.filter(project__category__in=sorted(actor.supervised_categories))


def kept_lots(actor: Actor, field: str = "lot_id") -> Q:
    """A filter on rows that belong to a lot (by `field`): every row for operators, the rows of the supervised
    categories' lots for a supervisor, none for anyone else."""
    if actor.has(Role.OPERATOR):
        return Q()
    if not actor.has(Role.SUPERVISOR) or not actor.supervised_categories:
        nothing: dict[str, Any] = {f"{field}__in": []}
        return Q(**nothing)
    supervised: dict[str, Any] = {f"{field}__in": Subquery(_supervised_lots(actor).values("id"))}
    return Q(**supervised)


# ---------------------------------------------------------------- live events


async def event_category(object_type: str, object_id: str, payload: dict[str, Any]) -> str | None:
    """The category of the lot (or project) an event is about; None for an event about no lot."""
    if object_type == "Project" and object_id.isdigit():
        found = await Project.filter(id=int(object_id)).values_list("category", flat=True)
        return str(found[0]) if found else None
    lot_id: Any = object_id if object_type == "Lot" else payload.get("lot_id")
    if lot_id is None and object_id.isdigit() and object_type in _lot_bound_models():
        rows = await _lot_bound_models()[object_type].filter(id=int(object_id)).values_list("lot_id", flat=True)
        lot_id = rows[0] if rows else None
    if isinstance(lot_id, str) and lot_id.isdigit():
        lot_id = int(lot_id)
    return await lot_category(lot_id) if isinstance(lot_id, int) else None


async def live_audience(
    object_type: str, object_id: str, payload: dict[str, Any], audience: dict[str, Any]
) -> dict[str, Any]:
    """The audience of a live event with its supervisors narrowed to the category of the event's lot
    (events.can_see reads `categories`)."""
    if Role.SUPERVISOR.value not in audience.get("roles", ()):
        return audience
    category = await event_category(object_type, object_id, payload)
    return audience if category is None else {**audience, "categories": [category]}


# ---------------------------------------------------------------- the audit trail

# Audit entries about objects that belong to no lot: a supervisor of any category reads them.
NOT_LOT_BOUND = frozenset(
    {
        "Organisation",
        "User",
        "Expert",
        "ExpertCertificate",
        "ExpertApplication",
        "CreditRecord",
        "JointPunishment",
        "CreditPublication",
        "CreditRepair",
        "CreditRatingRules",
        "CreditRating",
        "CreditPartner",
        "CreditImport",
        "CreditExport",
        "CertificateAuthority",
        "BoundCertificate",
        "Terminal",
        "PartnerKey",
        "IntegratorClient",
        "AccreditedSystem",
        "SystemAuthorisation",
        "Session",
        "SavedSearch",
        "QrChallenge",
        "CalendarDay",
        "SmsCode",
        "Room",  # the trading centre's rooms (a lot's booking of one is the lot's)
        "SsoClient",  # the business systems signing users in through the platform, as IntegratorClient
        "SsoConsent",  # a user's consent to such a system and its sign-ins there, as Session
        "SsoGrant",
    }
)


# Audit entries only operators read: a bank's rejected callback names a virtual account whatever its lot; a
# statistics report made for one supervisor; a participant's rating of the platform and its agency (who rated whom);
# the platform's own fiscal records (its invoices for service fees, the treasury's statements reconciled) and its
# reconciliations with the provincial platform; the nightly data-quality run (it names lots of every category).
OPERATORS_ONLY = frozenset(
    {
        "BankCallback",
        "StatisticsReport",
        "PlatformRating",
        "Invoice",
        "TreasuryStatement",
        "ProvincialExchange",
        "DataQualityRun",
    }
)
FILES = frozenset({"Document", "Upload"})


# What the areas above plug in at domain/wiring (scope, low in the domain, imports none of them): the audit object
# types that belong to a lot, with their model (each has a lot_id), and the types kept by a category of their own
# (a report: its rows of the supervised categories, given those categories).
_lot_bound: dict[str, Any] = {}
_of_categories: dict[str, Callable[[list[str]], QuerySet[Any]]] = {}


def plug_lot_bound(models: Mapping[str, Any]) -> None:
    """Adds audit object types that belong to a lot, with their model (each has a lot_id); idempotent."""
    _lot_bound.update(models)


def plug_categorised(object_type: str, rows_of: Callable[[list[str]], QuerySet[Any]]) -> None:
    """Names the rows of an object type a supervisor of these categories reads (idempotent)."""
    _of_categories[object_type] = rows_of


def _lot_bound_models() -> dict[str, Any]:
    """The audit object types that belong to a lot, with their model, as domain/wiring plugged them."""
    return _lot_bound


def lot_bound_types() -> frozenset[str]:
    """Audit object types a supervisor reads only for the lots of its categories (Lot, Project and their objects).
    A type in neither this set nor NOT_LOT_BOUND is shown to operators alone (OPERATORS_ONLY names those on
    purpose; tests/domain/supervision/test_scope.py fails on an audited type in none of the three)."""
    return frozenset({"Lot", "Project", *_of_categories, *_lot_bound_models()})


def _ids_as_text(query: QuerySet[Any]) -> Subquery:
    """The ids of a query as text, to compare with AuditEntry.object_id."""
    table = query.model._meta.db_table
    return Subquery(query.annotate(text_id=RawSQL(f'CAST("{table}"."id" AS TEXT)')).values("text_id"))


def _kept_entries(actor: Actor, object_type: str) -> Q | None:
    """The condition on the audit entries of one object type a supervisor may read; None for none of them."""
    cats = sorted(actor.supervised_categories)
    if object_type in NOT_LOT_BOUND:
        return Q(object_type=object_type)
    if not cats:
        return None
    if object_type == "Lot":
        return Q(object_type="Lot", object_id__in=_ids_as_text(_supervised_lots(actor)))
    if object_type == "Project":
        return Q(object_type="Project", object_id__in=_ids_as_text(Project.filter(category__in=cats)))
    if object_type in _of_categories:
        # a report: those of the supervisor's categories and those about no lot (as supervisedReports shows them)
        return Q(object_type=object_type, object_id__in=_ids_as_text(_of_categories[object_type](cats)))
    if object_type == "Announcement":
        notices = Announcement.filter(project__category__in=cats)
        return Q(object_type="Announcement", object_id__in=_ids_as_text(notices))
    model = _lot_bound_models().get(object_type)
    if model is None:
        return None
    kept = kept_lots(actor)
    if object_type in FILES:
        kept |= Q(lot_id__isnull=True)  # a file of no lot: an organisation's licence
    return Q(object_type=object_type, object_id__in=_ids_as_text(model.filter(kept)))


def audit_entries(actor: Actor, object_type: str | None = None, object_id: str | None = None) -> QuerySet[AuditEntry]:
    """The audit entries the actor may browse: all for operators; for a supervisor, those of objects that belong
    to no lot and those of the lots of its categories and their objects; none for anyone else."""
    query = AuditEntry.all()
    if object_type:
        query = query.filter(object_type=object_type)
    if object_id:
        query = query.filter(object_id=object_id)
    if actor.has(Role.OPERATOR):
        return query
    if not actor.has(Role.SUPERVISOR):
        return query.filter(seq__in=[])
    types = [object_type] if object_type else sorted(NOT_LOT_BOUND | lot_bound_types())
    condition: Q | None = None
    for name in types:
        kept = _kept_entries(actor, name)
        if kept is not None:
            condition = kept if condition is None else condition | kept
    return query.filter(condition) if condition is not None else query.filter(seq__in=[])
