"""What a self-service terminal, and a QR kiosk session on it, may run: one allow-list, checked once
per operation on its root fields before anything executes.

A terminal's token (`terminal:<id>`) runs only the kiosk fields; a kiosk session (the app user who
approved a terminal's QR code, scope `kiosk:self`) reads only the user's own registrations (with
their deposits), sealed bids, guarantees and notifications, plus the kiosk fields, and runs no
mutation but documentDownload (a link to a file it may read). Anything else is a top-level FORBIDDEN
error. Both stop working as soon as the terminal is deactivated (in this process at once, in others
within a minute).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from enum import StrEnum
from typing import Final

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from domain.accounts.tokens import KIOSK_SELF_SCOPE
from domain.common.actors import Actor, Role
from domain.terminals import services as terminals


class Kiosk(StrEnum):
    TERMINAL = "terminal"  # the terminal's own token
    SESSION = "session"  # an app user's QR session on a terminal


# Public reading a kiosk in a trading hall offers: announcements and search (published complaint
# decisions are announcements of type COMPLAINT_DECISION), lots (through announcements and `node`),
# a lot's suspension, results, guarantee verification, live auctions and listings, opening records, expert draws,
# and the public files (tender documents, attachments) with a download link each.
_KIOSK_QUERIES: Final = frozenset(
    {
        "__typename",
        "announcements",
        "announcement",
        "searchAnnouncements",
        "searchAnnouncementsConnection",
        "catalogue",
        "regions",
        "lotResult",
        "lotSuspension",
        "guaranteeVerify",
        "auction",
        "auctionBids",
        "auctionBidBatch",
        "listing",
        "listingOffers",
        "openingRecord",
        "expertDraws",
        "creditPublicRecords",
        "creditPublicityPeriods",
        "documents",
        "serverTime",
        "node",
        "hallSchedule",
    }
)
_KIOSK_SUBSCRIPTIONS: Final = frozenset({"auctionUpdates"})
# The user's own data a kiosk session may read (deposits are part of each registration).
_OWN_READS: Final = frozenset(
    {"myRegistrations", "mySealedBids", "myGuarantees", "myNotifications", "myUnreadNotificationCount", "myTasks"}
)

ALLOW_LIST: Final[dict[Kiosk, dict[OperationType, frozenset[str]]]] = {
    Kiosk.TERMINAL: {
        OperationType.QUERY: _KIOSK_QUERIES,
        OperationType.MUTATION: frozenset(
            {"__typename", "terminalSignIn", "terminalQrChallenge", "terminalQrRedeem", "documentDownload"}
        ),
        OperationType.SUBSCRIPTION: _KIOSK_SUBSCRIPTIONS,
    },
    Kiosk.SESSION: {
        OperationType.QUERY: _KIOSK_QUERIES | _OWN_READS,
        OperationType.MUTATION: frozenset({"documentDownload"}),
        OperationType.SUBSCRIPTION: _KIOSK_SUBSCRIPTIONS,
    },
}


def kiosk_kind(actor: Actor) -> Kiosk | None:
    """Which allow-list binds the actor, if any (fails closed on any trace of a terminal)."""
    if actor.terminal_id is None and not actor.has(Role.TERMINAL) and KIOSK_SELF_SCOPE not in actor.scopes:
        return None
    return Kiosk.SESSION if actor.user_id is not None else Kiosk.TERMINAL


def root_fields(document: DocumentNode, operation: OperationDefinitionNode) -> Iterator[str]:
    """The names of the fields an operation selects at its root, through fragments."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    seen: set[str] = set()

    def walk(selection_set: SelectionSetNode) -> Iterator[str]:
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                yield node.name.value
            elif isinstance(node, InlineFragmentNode):
                yield from walk(node.selection_set)
            elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
                seen.add(node.name.value)
                fragment = fragments.get(node.name.value)
                if fragment is not None:
                    yield from walk(fragment.selection_set)

    yield from walk(operation.selection_set)


def refused_fields(kind: Kiosk, document: DocumentNode, operation: OperationDefinitionNode) -> list[str]:
    allowed = ALLOW_LIST[kind][operation.operation]
    return sorted({name for name in root_fields(document, operation) if name not in allowed})


class KioskGuard(SchemaExtension):
    """Refuses, before execution, an operation of a terminal or a kiosk session outside ALLOW_LIST."""

    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        actor = getattr(ctx.context, "actor", None)
        kind = kiosk_kind(actor) if actor is not None else None
        if kind is not None and actor is not None:
            if actor.terminal_id is None or not await terminals.check_in(actor.terminal_id):
                raise GraphQLError(
                    "UNAUTHENTICATED: this terminal is not active / 终端已停用",
                    extensions={"code": "UNAUTHENTICATED"},
                )
            document = ctx.graphql_document
            operation = get_operation_ast(document, ctx.operation_name) if document is not None else None
            refused = refused_fields(kind, document, operation) if document and operation else ["?"]
            if refused:
                who = "a kiosk session" if kind is Kiosk.SESSION else "a terminal"
                raise GraphQLError(
                    f"FORBIDDEN: {who} may not run {', '.join(refused)} / 自助终端无权访问",
                    extensions={"code": "FORBIDDEN", "fields": refused},
                )
        yield
