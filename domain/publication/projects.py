"""Projects and their lots: creation with lifelong trade identifiers and checked configurations, who manages
a project, a draft lot's configuration, and the lot's moves that no announcement makes (never while suspended)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.accounts.models import Organisation
from domain.accounts.states import OrgKind, OrgStatus
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.catalogue import Category
from domain.common.errors import InvalidInput, NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock, lock_named
from domain.publication import events as ev
from domain.publication import pauses
from domain.publication.errors import IndustryUnknown, LotSuspended, NotATenderer, RegionUnknown
from domain.publication.identifiers import CATEGORY_CODES, lot_code, trade_code
from domain.publication.industries import INDUSTRIES, INDUSTRY_CATEGORY
from domain.publication.models import Lot, Project, Region
from domain.publication.procedures import (
    TIME_SETTINGS,
    ConfigOutOfBounds,
    EvaluationWeightsNot100,
    LocalProtectionBanned,
    Procedure,
    SecurityOverCap,
    check_eligibility,
    configure,
)
from domain.publication.states import TABLE, LotStatus

MAX_LOTS = 50


@dataclass(frozen=True, slots=True)
class LotForm:
    name: str
    procedure: str
    estimated_price_fen: int
    config: dict[str, Any] = field(default_factory=dict)
    eligibility: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ProjectForm:
    name: str
    category: str
    region_code: str
    lots: list[LotForm]
    tenderer_id: int | None = None
    industry: str | None = None  # 招标项目类型 of an engineering project (domain/publication/industries.py)


async def _tenderer_for(actor: Actor, tenderer_id: int | None) -> tuple[int, int | None]:
    """(tenderer, agency) of a new project: the caller's own org, or the one it acts for."""
    if actor.has(Role.TENDERER) and (tenderer_id is None or tenderer_id == actor.org_id):
        return int(actor.org_id or 0), None
    if not actor.has(Role.AGENCY, Role.OPERATOR) or tenderer_id is None:
        raise PermissionDenied()
    org = await Organisation.get_or_none(id=tenderer_id)
    if org is None or org.status != OrgStatus.APPROVED or OrgKind.TENDERER not in org.kinds:
        raise NotATenderer()
    return org.id, actor.org_id if actor.has(Role.AGENCY) else None


def _lot_values(form: LotForm, index: int) -> dict[str, Any]:
    try:
        procedure = Procedure(form.procedure)
    except ValueError:
        raise InvalidInput(field=f"lots.{index}.procedure") from None
    if form.estimated_price_fen <= 0 or form.estimated_price_fen > 10**15:
        raise InvalidInput(field=f"lots.{index}.estimatedPriceFen")
    return {
        "name": required_text(form.name, f"lots.{index}.name", 200),
        "procedure": procedure.value,
        "estimated_price_fen": form.estimated_price_fen,
        "config": configure(procedure, form.config, estimated_price_fen=form.estimated_price_fen),
        "eligibility": check_eligibility(form.eligibility),
    }


def _industry(category: Category, industry: str | None) -> str | None:
    """The project's 招标项目类型: a code of the table for an engineering project (optional for now), none for the
    other trades (they have no industry in the table: InvalidInput on `industry`)."""
    if industry is None or industry == "":
        return None
    if category != INDUSTRY_CATEGORY:
        raise InvalidInput(field="industry")
    if industry not in INDUSTRIES:
        raise IndustryUnknown(industry[:16])
    return industry


@raises(
    RegionUnknown,
    IndustryUnknown,
    NotATenderer,
    ConfigOutOfBounds,
    SecurityOverCap,
    LocalProtectionBanned,
    EvaluationWeightsNot100,
)
@use_case("project.create", "Project")
async def create_project(actor: Actor, form: ProjectForm, idempotency_key: str | None = None) -> Project:
    """Creates a project with its lots, each with a lifelong trade identifier and a checked configuration."""
    name = required_text(form.name, "name", 200)
    try:
        category = Category(form.category)
    except ValueError:
        raise InvalidInput(field="category") from None
    industry = _industry(category, form.industry)
    if not 1 <= len(form.lots) <= MAX_LOTS:
        raise InvalidInput(field="lots")
    lots = [_lot_values(lot, i) for i, lot in enumerate(form.lots)]
    tenderer_id, agency_id = await _tenderer_for(actor, form.tenderer_id)
    if not await Region.exists(code=form.region_code):
        raise RegionUnknown(form.region_code)
    request = {
        "name": name,
        "category": category.value,
        "region": form.region_code,
        "lots": lots,
        "tenderer": tenderer_id,
        **({"industry": industry} if industry else {}),
    }

    async def create() -> dict[str, Any]:
        now = clock.now()
        year = clock.to_shanghai(now).year
        await lock_named("trade_code")
        prefix = f"{form.region_code}{CATEGORY_CODES[category]}{year:04d}"
        last = await Project.filter(trade_code__startswith=prefix).order_by("-trade_code").first()
        serial = int(last.trade_code[12:18]) + 1 if last else 1
        code = trade_code(form.region_code, category, year, serial)
        project = await Project.create(
            trade_code=code,
            name=name,
            category=category.value,
            region_code=form.region_code,
            industry=industry,
            tenderer_id=tenderer_id,
            agency_id=agency_id,
            created_by=actor.user_id,
            created_at=now,
        )
        codes = []
        for no, values in enumerate(lots, start=1):
            lot = await Lot.create(
                project=project,
                lot_no=no,
                trade_code=lot_code(code, no),
                status=LotStatus.DRAFT.value,
                created_at=now,
                updated_at=now,
                **values,
            )
            codes.append(lot.trade_code)
        orgs = tuple(o for o in (tenderer_id, agency_id) if o)
        await events.record(
            ev.ProjectCreated(
                object_id=str(project.id), trade_code=code, lots=tuple(codes), audience=Audience(orgs=orgs)
            ),
            actor,
        )
        return {"project_id": project.id}

    result, _ = await run_once(actor, idempotency_key, "project.create", request, create)
    return await Project.get(id=result["project_id"])


@raises(IndustryUnknown)
@use_case("project.industry", "Project", lambda actor, project_id, *a, **k: str(project_id))
async def set_industry(actor: Actor, project_id: int, industry: str, idempotency_key: str | None = None) -> Project:
    """Gives an engineering project its 招标项目类型 (industry), or corrects it: a project made before it was asked
    has none, and data quality reports it (DQ-REQ-002) until it is given. Messages to the province queued from now
    on carry it; audited with the value before."""
    project = await managed_project(actor, project_id)
    code = _industry(Category(project.category), industry)
    if code is None:
        raise InvalidInput(field="industry")

    async def change() -> dict[str, Any]:
        locked = await lock(Project.filter(id=project_id)).get()
        if locked.industry != code:
            await Project.filter(id=project_id).update(industry=code)
            orgs = tuple(o for o in (locked.tenderer_id, locked.agency_id) if o)
            await events.record(
                ev.ProjectIndustrySet(
                    object_id=str(project_id),
                    trade_code=locked.trade_code,
                    before=locked.industry,
                    after=code,
                    audience=Audience(orgs=orgs),
                ),
                actor,
            )
        return {"project_id": project_id}

    await run_once(actor, idempotency_key, "project.industry", {"project": project_id, "industry": code}, change)
    return await Project.get(id=project_id)


async def manages(actor: Actor, project: Project) -> bool:
    return actor.has(Role.OPERATOR) or (
        actor.org_id is not None and actor.org_id in (project.tenderer_id, project.agency_id)
    )


async def managed_project(actor: Actor, project_id: int) -> Project:
    """A project the actor may manage (tenderer, its agency, operator); else NotFound."""
    project = await Project.get_or_none(id=project_id)
    if project is None or not await manages(actor, project):
        raise NotFound()
    return project


@raises(ConfigOutOfBounds, SecurityOverCap, LocalProtectionBanned, EvaluationWeightsNot100)
@use_case("lot.configure", "Lot", lambda actor, lot_id, *a, **k: lot_id)
async def configure_lot(
    actor: Actor,
    lot_id: int,
    config: dict[str, Any],
    eligibility: list[dict[str, str]] | None = None,
    idempotency_key: str | None = None,
) -> Lot:
    """Changes a draft lot's configuration and eligibility, checked against the legal bounds."""
    lot = await Lot.get_or_none(id=lot_id).prefetch_related("project")
    if lot is None or not await manages(actor, lot.project):
        raise NotFound()
    TABLE.fire(lot.status, "configure")
    merged = {**lot.config, **config}
    # only the times are stored as text to parse back; evaluation_method is text too and stays so
    merged = {
        k: (datetime.fromisoformat(v) if k in TIME_SETTINGS and isinstance(v, str) else v) for k, v in merged.items()
    }
    new_config = configure(Procedure(lot.procedure), merged, estimated_price_fen=lot.estimated_price_fen)
    rules = check_eligibility(eligibility) if eligibility is not None else list(lot.eligibility)

    async def change() -> dict[str, Any]:
        locked = await lock(Lot.filter(id=lot_id)).get()
        TABLE.fire(locked.status, "configure")
        await Lot.filter(id=lot_id).update(config=new_config, eligibility=rules, updated_at=clock.now())
        return {"lot_id": lot_id}

    request = {"lot": lot_id, "config": new_config, "eligibility": rules}
    await run_once(actor, idempotency_key, "lot.configure", request, change)
    return await Lot.get(id=lot_id)


async def ensure_not_suspended(lot: Lot) -> None:
    """Raises LotSuspended while a suspension of the lot is in force (domain/complaints suspends, via pauses)."""
    reason = await pauses.reason(lot.id)
    if reason is not None:
        raise LotSuspended(state=lot.status, reason=reason)


async def move_lot(actor: Actor, lot_id: int, allowed: set[LotStatus], target: LotStatus) -> bool:
    """Moves a lot by a time-driven step that no announcement makes (the opening starts, the lot
    fails at the deadline); in the caller's transaction; False when it is not in an allowed status."""
    lot = await lock(Lot.filter(id=lot_id)).get()
    if LotStatus(lot.status) not in allowed:
        return False
    # raised to the chronograph too: its savepoint rolls the step back and it is retried at the next tick
    await ensure_not_suspended(lot)
    await Lot.filter(id=lot.id).update(status=target.value, updated_at=clock.now())
    await events.record(
        ev.LotStatusChanged(
            object_id=str(lot.id),
            trade_code=lot.trade_code,
            before=lot.status,
            after=target.value,
            audience=Audience(public=True),
        ),
        actor,
    )
    return True
