"""Writing a batch of seeded announcements: the rows publishing leaves, one bulk insert per table."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from api.bulk_seed.plans import Publication
from api.bulk_seed.texts import lot_name
from domain.common.events import Audience, DomainEvent
from domain.common.storage import lock_named
from domain.publication import events as ev
from domain.publication import search
from domain.publication.identifiers import lot_code, trade_code
from domain.publication.models import Announcement, FeedEntry, Lot, Project
from domain.publication.procedures import TIME_SETTINGS, configure
from domain.publication.states import AnnouncementStatus, AnnouncementType, lot_after

T = AnnouncementType


async def _reserve_ids(conn: BaseDBAsyncClient, table: str, n: int, postgres: bool) -> list[int]:
    """n ids no one else will take: from the table's sequence (PostgreSQL), after the maximum (SQLite)."""
    if n == 0:
        return []
    if postgres:
        rows = await conn.execute_query_dict(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS id FROM generate_series(1, $1)", [n]
        )
        return [int(r["id"]) for r in rows]
    rows = await conn.execute_query_dict(
        f"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0), "
        f'coalesce((SELECT max(id) FROM "{table}"), 0)) AS last'
    )
    last = int(rows[0]["last"])
    return list(range(last + 1, last + 1 + n))


async def _next_serials(conn: BaseDBAsyncClient, prefixes: set[str], postgres: bool) -> dict[str, int]:
    """The next free serial for each trade-code prefix (hold the trade_code lock, as create_project does)."""
    marks = ("$1", "$2") if postgres else ("?", "?")
    serials = {}
    for prefix in sorted(prefixes):
        rows = await conn.execute_query_dict(
            f"SELECT max(trade_code) AS code FROM project WHERE trade_code >= {marks[0]} AND trade_code < {marks[1]}",
            [prefix, prefix + "~"],
        )
        code = rows[0]["code"]
        serials[prefix] = int(code[12:18]) + 1 if code else 1
    return serials


@dataclass
class Written:
    announcements: int = 0
    projects: int = 0
    lots_moved: int = 0
    feed_entries: int = 0


async def write_batch(batch: list[Publication], postgres: bool) -> Written:
    """One batch in one transaction: projects, lots, announcements, index rows, lot moves, feed entries."""
    written = Written(announcements=len(batch))
    async with in_transaction() as conn:
        new = list({id(p.plan): p.plan for p in batch if p.kind is T.TENDER}.values())
        await lock_named("trade_code")
        serials = await _next_serials(conn, {p.prefix for p in new}, postgres)
        project_ids = await _reserve_ids(conn, "project", len(new), postgres)
        lot_ids = await _reserve_ids(conn, "lot", len(new), postgres)
        ann_ids = await _reserve_ids(conn, "announcement", len(batch), postgres)
        for plan, project_id, lot_id in zip(new, project_ids, lot_ids, strict=True):
            serial = serials[plan.prefix]
            serials[plan.prefix] = serial + 1
            if serial > 999_999:
                raise RuntimeError(f"trade-code serials exhausted for {plan.prefix}")
            plan.project_id, plan.lot_id = project_id, lot_id
            year = int(plan.prefix[8:12])
            plan.code = trade_code(plan.region, plan.category, year, serial)
            plan.lot_code = lot_code(plan.code, 1)

        announcements, moved = [], {}
        events: list[tuple[DomainEvent, datetime]] = []
        for pub, ann_id in zip(batch, ann_ids, strict=True):
            plan = pub.plan
            before = plan.lot_status
            after = lot_after(pub.kind, before)
            if pub.kind is T.TENDER:
                # as publishing a tender re-checks the lot's times against the publication time
                configure(
                    plan.procedure,
                    {k: datetime.fromisoformat(plan.config[k]) for k in TIME_SETTINGS},
                    published_at=pub.at,
                )
            publicity = None
            if pub.kind is T.CANDIDATE_PUBLICITY:
                publicity = (pub.at, pub.at + timedelta(days=int(plan.config["candidate_publicity_days"])))
            ann = Announcement(
                id=ann_id,
                project_id=plan.project_id,
                lot_id=plan.lot_id,
                trade_code=plan.lot_code,
                type=pub.kind.value,
                status=AnnouncementStatus.PUBLISHED.value,
                title=pub.title,
                body_html=pub.body_html,
                body_text=pub.body_text,
                search_text=pub.search_text,
                category=plan.category.value,
                region_code=plan.region,
                lot_status=(after or before),
                corrects_id=plan.tender_id if pub.kind is T.CHANGE else None,
                publicity_starts_at=publicity[0] if publicity else None,
                publicity_ends_at=publicity[1] if publicity else None,
                published_at=pub.at,
                published_by=plan.publisher.user_id,
                created_by=plan.publisher.user_id,
                created_at=pub.drafted_at,
            )
            announcements.append(ann)
            events.append(
                (
                    ev.AnnouncementPublished(
                        object_id=str(ann_id),
                        trade_code=plan.lot_code,
                        kind=pub.kind.value,
                        title=pub.title,
                        category=plan.category.value,
                        region_code=plan.region,
                        project_id=plan.project_id,
                        lot_id=plan.lot_id,
                        corrects_id=ann.corrects_id,
                        published_at=pub.at.isoformat(),
                        audience=Audience(public=True),
                    ),
                    pub.at,
                )
            )
            if pub.kind is T.TENDER:
                plan.tender_id = ann_id
            if after is not None and after != before:
                plan.lot_status = after.value
                events.append(
                    (
                        ev.LotStatusChanged(
                            object_id=str(plan.lot_id),
                            trade_code=plan.lot_code,
                            before=str(before),
                            after=after.value,
                            audience=Audience(public=True),
                        ),
                        pub.at,
                    )
                )
                if plan.lot_written:
                    moved[plan.lot_id] = Lot(id=plan.lot_id, status=plan.lot_status, updated_at=pub.at)
                else:
                    plan.details["lot_updated_at"] = pub.at

        projects, lots = [], []
        for plan in new:
            projects.append(
                Project(
                    id=plan.project_id,
                    trade_code=plan.code,
                    name=plan.name,
                    category=plan.category.value,
                    region_code=plan.region,
                    tenderer_id=plan.tenderer.org_id,
                    agency_id=plan.agency.org_id if plan.agency else None,
                    created_by=plan.publisher.user_id,
                    created_at=plan.created_at,
                )
            )
            lots.append(
                Lot(
                    id=plan.lot_id,
                    project_id=plan.project_id,
                    lot_no=1,
                    trade_code=plan.lot_code,
                    name=lot_name(plan),
                    procedure=plan.procedure.value,
                    estimated_price_fen=plan.estimate_wan * 1_000_000,
                    config=plan.config,
                    eligibility=plan.eligibility,
                    status=plan.lot_status,
                    created_at=plan.created_at,
                    updated_at=plan.details.pop("lot_updated_at", plan.created_at),
                )
            )
            plan.lot_written = True
        await Project.bulk_create(projects)
        await Lot.bulk_create(lots)
        await Announcement.bulk_create(announcements)
        for ann in announcements:
            await search.index(ann)
        if moved:
            await Lot.bulk_update(list(moved.values()), fields=["status", "updated_at"], batch_size=1000)

        # numbered last and under the feed's lock, exactly as feed.append numbers entries
        await lock_named("change_feed")
        last = await FeedEntry.all().order_by("-seq").first()
        seq = last.seq if last else 0
        entries = []
        for event, at in events:
            seq += 1
            payload = event.payload()
            entries.append(
                FeedEntry(
                    seq=seq,
                    event_id=uuid.uuid4(),
                    kind=event.type,
                    object_type=event.object_type,
                    object_id=event.object_id,
                    trade_code=payload.get("trade_code"),
                    payload=payload,
                    committed_at=at,
                )
            )
        await FeedEntry.bulk_create(entries)
    written.projects, written.lots_moved, written.feed_entries = len(projects), len(moved), len(entries)
    return written
