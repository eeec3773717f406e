"""Public trading information: no token needed, safe for kiosks and anonymous phones."""

import base64
import binascii
from collections.abc import Hashable
from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.common.catalogue import Category
from domain.common.errors import DomainError, InvalidInput
from domain.publication import models, reading, search
from domain.publication.models import Announcement as AnnouncementModel
from domain.publication.states import AnnouncementStatus
from schema import caching, fields, fragment_cache
from schema.accounts.types import CatalogueCategory
from schema.permissions import IsAuthenticated
from schema.publication.types import (
    CATEGORY_NAMES,
    Announcement,
    AnnouncementKind,
    CategoryInfo,
    LotState,
    Region,
    SavedSearch,
    card_values,
)
from schema.relay import (
    DEFAULT_PAGE,
    Before,
    Connection,
    Edge,
    Last,
    PageInfo,
    backwards,
    connection,
    int_id,
    page_size,
)


@strawberry.enum(description="Order of a list of announcements.")
class AnnouncementSort(Enum):
    NEWEST = strawberry.enum_value("newest", description="Most recently published first.")
    OLDEST = strawberry.enum_value("oldest", description="Earliest published first.")


@strawberry.input(description="Filters for public announcements; all given filters must hold.")
class AnnouncementFilter:
    categories: list[CatalogueCategory] = strawberry.field(
        default_factory=list,
        description="Only these trading catalogue categories; empty: all.",
    )
    regions: list[str] = strawberry.field(
        default_factory=list, description="GB/T 2260 codes; a city includes its districts."
    )
    types: list[AnnouncementKind] = strawberry.field(
        default_factory=list,
        description="Only these kinds of announcement; empty: all.",
    )
    lot_statuses: list[LotState] = strawberry.field(
        default_factory=list,
        description="Only announcements whose lot stood in one of these statuses when published; empty: all.",
    )
    published_from: datetime | None = strawberry.field(
        default=None,
        description="Only announcements published at or after this time.",
    )
    published_to: datetime | None = strawberry.field(
        default=None,
        description="Only announcements published before this time.",
    )
    trade_code: str | None = strawberry.field(default=None, description="Everything of one deal.")

    def to_domain(self) -> reading.AnnouncementFilter:
        for when in (self.published_from, self.published_to):
            if when is not None and when.tzinfo is None:
                raise InvalidInput(field="publishedFrom")
        return reading.AnnouncementFilter(
            categories=[c.value for c in self.categories],
            regions=list(self.regions),
            types=[t.value for t in self.types],
            lot_statuses=[s.value for s in self.lot_statuses],
            published_from=self.published_from,
            published_to=self.published_to,
            trade_code=self.trade_code,
        )


def _cursor(ann: AnnouncementModel | reading.ListedAnnouncement) -> str:
    assert ann.published_at is not None
    raw = f"a:{ann.published_at.isoformat()}|{ann.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _after(cursor: str, field: str = "after") -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        tag, _, rest = raw.partition(":")
        when, _, pk = rest.rpartition("|")
        if tag != "a" or not pk.isascii() or not pk.isdigit():
            raise ValueError
        return datetime.fromisoformat(when), int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput(field=field) from None


def _edge_values(edge: Edge[Announcement]) -> Hashable | None:
    """An announcement's edge in a list: its cursor and its card (fragment cache)."""
    card = card_values(edge.node) if isinstance(edge.node, Announcement) else None
    return None if card is None else (edge.cursor, card)


fragment_cache.pure("AnnouncementEdge", ["cursor", "node"], key=_edge_values)


@strawberry.type(description="One search result: the announcement and why it matched.")
class SearchHit:
    announcement: Announcement = strawberry.field(description="The matching announcement.")
    score: float = strawberry.field(description="Relevance; higher is better.")
    title_html: str = strawberry.field(description="The title, HTML-escaped, matched words in <em>.")
    snippet_html: str = strawberry.field(description="About 60 characters of the body around the matches.")
    cursor: str = strawberry.field(
        description="Opaque position of this hit: pass it as `after` to read the hits that follow."
    )


@strawberry.type(description="A page of search results, most relevant first.")
class SearchResult:
    hits: list[SearchHit] = strawberry.field(
        description="The matching announcements of this page, most relevant first."
    )
    total: int = strawberry.field(
        description="Number of matching announcements, exact up to 2000; beyond that 2000 and totalIsEstimate "
        "(the first 1000 can be paged; very common queries rank only the newest 2000 matches)."
    )
    total_is_estimate: bool = strawberry.field(
        description="True when more announcements match than are counted: total is then a lower bound."
    )
    has_next_page: bool = strawberry.field(
        description="Whether more hits follow this page: ask again with `after: endCursor`."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the last hit of this page; null when the page is empty."
    )
    terms: list[str] = strawberry.field(description="The words searched for, as segmented.")


@strawberry.type(description="One search hit: the matching announcement as the node, and why it matched.")
class AnnouncementSearchEdge:
    cursor: str = strawberry.field(
        description="Opaque position of this hit: pass it as `after` to read the hits that follow, or as `before` "
        "to read those that precede it."
    )
    node: Announcement = strawberry.field(description="The matching announcement.")
    score: float = strawberry.field(description="Relevance; higher is better.")
    title_html: str = strawberry.field(description="The title, HTML-escaped, matched words in <em>.")
    snippet_html: str = strawberry.field(description="About 60 characters of the body around the matches.")


@strawberry.type(description="A page of search results as a Relay connection, most relevant first.")
class AnnouncementSearchConnection:
    edges: list[AnnouncementSearchEdge] = strawberry.field(
        description="The hits of this page, most relevant first, each with its cursor."
    )
    page_info: PageInfo = strawberry.field(
        description="Whether hits precede or follow this page, and where to continue from (at most the first "
        "1000 hits can be paged to: past them hasNextPage is false even when totalCount is larger)."
    )
    total_count: int = strawberry.field(
        description="Number of matching announcements, exact up to 2000; beyond that 2000 and totalIsEstimate "
        "(very common queries rank only the newest 2000 matches, and the first 1000 can be paged: narrow the "
        "query or filter to reach the rest)."
    )
    total_is_estimate: bool = strawberry.field(
        description="True when more announcements match than are counted: totalCount is then a lower bound."
    )
    terms: list[str] = strawberry.field(description="The words searched for, as segmented.")

    @fields.field(description="The matching announcements of this page without their cursors.")
    def nodes(self) -> list[Announcement]:
        return [e.node for e in self.edges]


@strawberry.type
class PublicationQueries:
    @fields.field(
        description="Chinese full-text search over published announcements; no token needed.",
        deprecation_reason="Use searchAnnouncementsConnection: the same hits and order as a Relay connection "
        "(edges with the announcement as node, pageInfo, totalCount) that also pages backwards.",
    )
    async def search_announcements(
        self,
        info: Info,
        query: Annotated[
            str, strawberry.argument(description="Words to search for in titles and bodies, in Chinese or English.")
        ],
        filter: Annotated[
            AnnouncementFilter | None, strawberry.argument(description="Filters the matches must also meet.")
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="How many hits to return (capped by the server).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="The cursor of the last hit already read: the page continues after it."),
        ] = None,
    ) -> SearchResult:
        page = await search.search(
            query, (filter or AnnouncementFilter()).to_domain(), DEFAULT_PAGE if first is None else first, after
        )
        found = {a.id: a for a in await models.Announcement.filter(id__in=[h.announcement_id for h in page.hits])}
        return SearchResult(
            hits=[
                SearchHit(
                    announcement=Announcement.from_model(found[h.announcement_id]),
                    score=h.score,
                    title_html=h.title,
                    snippet_html=h.snippet,
                    cursor=h.cursor,
                )
                for h in page.hits
                if h.announcement_id in found
            ],
            total=page.total,
            total_is_estimate=page.total_is_estimate,
            has_next_page=page.has_next_page,
            end_cursor=page.end_cursor,
            terms=page.terms,
        )

    @fields.field(
        description="Chinese full-text search over published announcements as a connection, most relevant first; "
        "no token needed."
    )
    async def search_announcements_connection(
        self,
        info: Info,
        query: Annotated[
            str, strawberry.argument(description="Words to search for in titles and bodies, in Chinese or English.")
        ],
        filter: Annotated[
            AnnouncementFilter | None, strawberry.argument(description="Filters the matches must also meet.")
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="How many hits to return (capped by the server).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="The cursor of the last hit already read: the page continues after it."),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> AnnouncementSearchConnection:
        filt = (filter or AnnouncementFilter()).to_domain()
        if backwards(first, after, last, before):
            page = await search.search(query, filt, DEFAULT_PAGE if last is None else last, None, before, backward=True)
        else:
            page = await search.search(query, filt, DEFAULT_PAGE if first is None else first, after)
        found = {a.id: a for a in await models.Announcement.filter(id__in=[h.announcement_id for h in page.hits])}
        edges = [
            AnnouncementSearchEdge(
                cursor=h.cursor,
                node=Announcement.from_model(found[h.announcement_id]),
                score=h.score,
                title_html=h.title,
                snippet_html=h.snippet,
            )
            for h in page.hits
            if h.announcement_id in found
        ]
        return AnnouncementSearchConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                end_cursor=page.end_cursor,
                has_previous_page=page.has_previous_page,
                start_cursor=page.start_cursor,
            ),
            total_count=page.total,
            total_is_estimate=page.total_is_estimate,
            terms=page.terms,
        )

    @fields.field(description="Published announcements, newest first by default; no token needed.")
    async def announcements(
        self,
        info: Info,
        filter: Annotated[
            AnnouncementFilter | None,
            strawberry.argument(description="Filters the announcements must meet; none: every public announcement."),
        ] = None,
        sort: Annotated[
            AnnouncementSort, strawberry.argument(description="Newest or oldest first (by publication time).")
        ] = AnnouncementSort.NEWEST,
        first: Annotated[
            int | None, strawberry.argument(description="How many announcements to return (capped by the server).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The cursor of the last announcement already read: the page continues after it."
            ),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Announcement]:
        back = backwards(first, after, last, before)
        size = page_size(info, last, "last") if back else page_size(info, first, "first")
        wanted = (filter or AnnouncementFilter()).to_domain()
        newest = sort is AnnouncementSort.NEWEST
        # keyset on (published_at, id) in the list's order; backwards reads the reversed order and turns it round
        cursor = _after(before, "before") if back and before else _after(after) if after else None
        descending = newest != back
        rows = await reading.listed(wanted, cursor, descending, size + 1)
        page = list(reversed(rows[:size])) if back else rows[:size]
        edges = [Edge(cursor=_cursor(r), node=Announcement.from_model(r)) for r in page]
        more = len(rows) > size
        behind = (
            cursor is not None
            and await reading.public_announcements(wanted)
            .filter(reading.beyond(cursor, not descending, inclusive=True))
            .exists()
        )
        return connection(edges, has_next=behind if back else more, has_previous=more if back else behind)

    @fields.field(description="One announcement: published ones for anyone, drafts for their authors.")
    async def announcement(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the announcement.")],
    ) -> Announcement | None:
        try:
            ann = await reading.visible_announcement(info.context.actor, int_id(id, "Announcement"))
        except DomainError:
            caching.mark_answer(info.context.request, shareable=False)  # null: another caller may see a draft
            return None
        # a published one is the same for everyone (schema/caching.py CONDITIONAL_ROOT_FIELDS); a draft is not
        caching.mark_answer(info.context.request, shareable=ann.status == AnnouncementStatus.PUBLISHED.value)
        return Announcement.from_model(ann)

    @fields.field(description="The catalogue categories with their Chinese names.")
    def catalogue(self) -> list[CategoryInfo]:
        return [CategoryInfo(category=c, name=CATEGORY_NAMES[c]) for c in Category]

    @fields.field(description="Administrative divisions; children of `parent`, or the top level.")
    async def regions(
        self,
        parent: Annotated[
            str | None,
            strawberry.argument(description="GB/T 2260 code whose regions to list; null lists the provinces."),
        ] = None,
    ) -> list[Region]:
        found = (await reading.regions()).values()
        return [Region.from_model(r) for r in sorted(found, key=lambda r: r.code) if r.parent_code == parent]

    @fields.field(description="The caller's saved searches.", permission_classes=[IsAuthenticated])
    async def my_saved_searches(self, info: Info) -> list[SavedSearch]:
        rows = await models.SavedSearch.filter(user_id=info.context.actor.user_id).order_by("-id")
        return [SavedSearch.from_model(m) for m in rows]
