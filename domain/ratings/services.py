"""Platform evaluation (第三方评价): after a lot's trading has ended (its result is announced: awarded, contracted,
completed; or it failed or was terminated) each participant organisation - the tenderer, its agency and every
organisation that registered - rates the platform's service once, and the agency's service unless it is the agency,
1-5 stars per dimension with an optional comment; it may change its rating for RATING_EDIT_DAYS. The trading
service ends with the public outcome, not the contract: a failed lot has no contract, and its participants have met
the whole of the platform's service by then.

Operators and supervisors (of their categories) read aggregates by period, category and agency; nobody reads who
rated what but the rater. An agency reads the averages of its own service only over RATING_MIN_GROUP ratings or
more, never single ratings, so no rating can be traced to its rater.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, Final

import nh3

from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import DomainError, InvalidInput, InvalidTransition, NotFound, PermissionDenied, raises
from domain.common.events import DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.ids import mask_mobile
from domain.publication.models import Lot, Project
from domain.publication.states import LotStatus
from domain.ratings.models import PlatformRating
from domain.registration.models import Registration
from domain.supervision import statistics

RATING_EDIT_DAYS: Final = 15
RATING_MIN_GROUP: Final = 3
COMMENT_MAX: Final = 1000
ENDED: Final = frozenset(
    {LotStatus.AWARDED, LotStatus.CONTRACTED, LotStatus.COMPLETED, LotStatus.FAILED, LotStatus.TERMINATED}
)


class PlatformDimension(StrEnum):
    CONVENIENCE = "convenience"  # 操作便捷
    EFFICIENCY = "efficiency"  # 办事效率
    TRANSPARENCY = "transparency"  # 公开透明
    SUPPORT = "support"  # 咨询服务


class AgencyDimension(StrEnum):
    PROFESSIONALISM = "professionalism"  # 专业水平
    EFFICIENCY = "efficiency"  # 服务效率
    CONDUCT = "conduct"  # 规范廉洁


class RatingLocked(DomainError):
    code = "RATING_LOCKED"
    message_zh = "评价已超过可修改期限"
    message_en = "The rating can no longer be changed"


@dataclass(frozen=True, kw_only=True)
class PlatformRated(DomainEvent):
    type = "platform_rating.rated"
    object_type = "PlatformRating"
    lot_id: int
    rater_role: str
    platform_scores: dict[str, int]
    agency_scores: dict[str, int] | None
    edited: bool


_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def clean_comment(text: str | None) -> str | None:
    """Plain text with no markup (nh3 strips every tag), mobile and identity numbers masked, at most COMMENT_MAX."""
    if text is None:
        return None
    plain = nh3.clean(text, tags=set()).strip()
    plain = _MOBILE.sub(lambda m: mask_mobile(m.group(0)), plain)
    plain = _ID_NUMBER.sub(lambda m: m.group(0)[:4] + "*" * 10 + m.group(0)[-4:], plain)
    if len(plain) > COMMENT_MAX:
        raise InvalidInput(field="comment")
    return plain or None


def _scores(given: dict[str, int] | None, dimensions: type[StrEnum], field: str) -> dict[str, int] | None:
    if given is None:
        return None
    if set(given) != {d.value for d in dimensions}:
        raise InvalidInput(field=field)
    for stars in given.values():
        if not isinstance(stars, int) or isinstance(stars, bool) or not 1 <= stars <= 5:
            raise InvalidInput(field=field)
    return {k: given[k] for k in sorted(given)}


async def _role_on(actor: Actor, project: Project, lot: Lot) -> str:
    """How the caller's organisation took part in the lot; PermissionDenied if it did not."""
    if actor.user_id is None or actor.client_id is not None or actor.org_id is None:
        raise PermissionDenied()
    if actor.org_id == project.tenderer_id:
        return "tenderer"
    if actor.org_id == project.agency_id:
        return "agency"
    if await Registration.exists(lot_id=lot.id, organisation_id=actor.org_id):
        return "bidder"
    raise PermissionDenied()


@raises(RatingLocked)
@use_case("platform_rating.rate", "PlatformRating")
async def rate(
    actor: Actor,
    lot_id: int,
    platform: dict[str, int],
    agency: dict[str, int] | None,
    comment: str | None,
    idempotency_key: str | None = None,
) -> PlatformRating:
    """Records or changes (within RATING_EDIT_DAYS of the first) the caller organisation's rating of an ended lot's
    service: the platform's always, the agency's where the project had one and the caller is not it."""
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None:
        raise NotFound()
    project = await Project.get(id=lot.project_id)
    role = await _role_on(actor, project, lot)
    if LotStatus(lot.status) not in ENDED:
        raise InvalidTransition(state=lot.status)
    platform_scores = _scores(platform, PlatformDimension, "platform")
    rates_agency = project.agency_id is not None and role != "agency"
    if rates_agency != (agency is not None):
        raise InvalidInput(field="agency")
    agency_scores = _scores(agency, AgencyDimension, "agency")
    text = clean_comment(comment)
    org_id = int(actor.org_id or 0)

    async def save() -> dict[str, Any]:
        now = clock.now()
        existing = await PlatformRating.select_for_update().get_or_none(lot_id=lot.id, rater_org_id=org_id)
        if existing is not None and existing.editable_until <= now:
            raise RatingLocked()
        if existing is None:
            rating = await PlatformRating.create(
                lot_id=lot.id,
                category=project.category,
                agency_id=project.agency_id,
                rater_org_id=org_id,
                rater_role=role,
                platform_scores=platform_scores,
                agency_scores=agency_scores,
                comment=text,
                rated_at=now,
                updated_at=now,
                editable_until=now + timedelta(days=RATING_EDIT_DAYS),
            )
        else:
            rating = existing
            rating.platform_scores, rating.agency_scores, rating.comment = platform_scores or {}, agency_scores, text
            rating.updated_at = now
            await rating.save(update_fields=["platform_scores", "agency_scores", "comment", "updated_at"])
        await events.record(
            PlatformRated(
                object_id=str(rating.id),
                lot_id=lot.id,
                rater_role=role,
                platform_scores=platform_scores or {},
                agency_scores=agency_scores,
                edited=existing is not None,
            ),
            actor,
        )
        return {"id": rating.id}

    request = {"lot": lot.id, "platform": platform_scores, "agency": agency_scores, "comment": text}
    result, _ = await run_once(actor, idempotency_key, "platform_rating.rate", request, save)
    return await PlatformRating.get(id=result["id"])


async def my_rating(actor: Actor, lot_id: int) -> PlatformRating | None:
    """The caller organisation's own rating of the lot, if any."""
    if actor.user_id is None or actor.org_id is None or actor.client_id is not None:
        raise PermissionDenied()
    return await PlatformRating.get_or_none(lot_id=lot_id, rater_org_id=actor.org_id)


@dataclass(frozen=True, slots=True)
class Aggregate:
    period: str
    category: str
    agency_id: int | None
    ratings: int
    platform: dict[str, float]
    agency_ratings: int
    agency: dict[str, float]


def _averages(rows: list[dict[str, int]], dimensions: type[StrEnum]) -> dict[str, float]:
    if not rows:
        return {}
    return {d.value: round(sum(r[d.value] for r in rows) / len(rows), 2) for d in dimensions}


async def report(
    actor: Actor,
    period: statistics.Period,
    starts_on: date,
    ends_on: date,
    category: str | None = None,
    agency_id: int | None = None,
) -> list[Aggregate]:
    """Averages per dimension of the ratings given from starts_on to ends_on (Beijing dates), by period, category and
    agency, for operators and supervisors (their categories only); no rater is named."""
    if actor.client_id is not None:
        raise PermissionDenied()
    categories = statistics._categories(actor, category)
    if not starts_on < ends_on or (ends_on - starts_on).days > statistics.MAX_DAYS:
        raise InvalidInput(field="endsOn")
    query = PlatformRating.filter(
        rated_at__gte=statistics._start_of(starts_on), rated_at__lt=statistics._start_of(ends_on)
    )
    if categories is not None:
        query = query.filter(category__in=sorted(categories))
    if agency_id is not None:
        query = query.filter(agency_id=agency_id)
    groups: dict[tuple[str, str, int], list[PlatformRating]] = defaultdict(list)
    for r in await query.order_by("id"):
        groups[(statistics.period_of(r.rated_at, period), r.category, r.agency_id or 0)].append(r)
    out = []
    for (label, cat, agency), ratings in sorted(groups.items()):
        of_agency = [r.agency_scores for r in ratings if r.agency_scores]
        out.append(
            Aggregate(
                period=label,
                category=cat,
                agency_id=agency or None,
                ratings=len(ratings),
                platform=_averages([r.platform_scores for r in ratings], PlatformDimension),
                agency_ratings=len(of_agency),
                agency=_averages(of_agency, AgencyDimension),
            )
        )
    return out


async def agency_summary(actor: Actor) -> tuple[int, dict[str, float]]:
    """An agency's own service as its raters scored it: how many ratings and, from RATING_MIN_GROUP of them on, the
    averages per dimension (fewer could point at who rated what)."""
    if not actor.has(Role.AGENCY) or actor.user_id is None or actor.org_id is None or actor.client_id is not None:
        raise PermissionDenied()
    scores = [
        r.agency_scores
        for r in await PlatformRating.filter(agency_id=actor.org_id, agency_scores__not_isnull=True)
        if r.agency_scores
    ]
    return len(scores), _averages(scores, AgencyDimension) if len(scores) >= RATING_MIN_GROUP else {}
