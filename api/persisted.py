"""Persisted operations: a client sends an operation's SHA-256 instead of its text.

Two sources of hashes: the mobile contract's manifest (mobile_contract/manifest.json, loaded with the
gate's own loader, so the hash is the gate's: SHA-256 of the document text without its trailing
newline), and, in development only, Apollo-style automatic persisted queries registered at run time
by sending the text with its hash (`extensions.persistedQuery.sha256Hash`).

A known operation runs from a document parsed once per process, compared by identity: strawberry's
ParserCache finds its text by the same string object (its hash is cached) and ValidationCache keys
on the document in O(1) instead of hashing the whole syntax tree on every request; validation runs
once per document and set of rules, never per request.

Production can restrict terminals (and the kiosk sessions on them), integrators and anonymous
callers to their client's operations in the manifest (`OperationPolicy`); a refusal is a top-level
error with a stable code, before anything is parsed.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, cast

from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, parse
from strawberry.extensions import SchemaExtension
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage

from api.logs import operation_var
from api.ws import PalmTradeTransportWS
from domain.common.actors import Actor
from mobile_contract import gate
from schema.kiosk_guard import kiosk_kind

APQ_CAPACITY: Final = 1000  # automatic registrations kept per process (development only)

NOT_FOUND: Final = "PERSISTED_QUERY_NOT_FOUND"
HASH_MISMATCH: Final = "PERSISTED_QUERY_HASH_MISMATCH"
REQUIRED: Final = "PERSISTED_QUERY_REQUIRED"
NOT_ALLOWED: Final = "OPERATION_NOT_ALLOWED"


class _Document(DocumentNode):
    """A parsed document compared and hashed by identity (the generated dataclass hash walks the
    whole tree: ~15 us for a 600-character screen query, on every ValidationCache lookup)."""

    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        return self is other


_Document.kind = DocumentNode.kind  # __init_subclass__ derived "_document"; visitors dispatch on kind


def _frozen(document: DocumentNode) -> DocumentNode:
    return _Document(definitions=document.definitions, loc=document.loc)


@dataclass(frozen=True, slots=True)
class Stored:
    """One known operation: its text (one string object for the process) and parsed document."""

    sha256: str
    text: str
    document: DocumentNode
    name: str | None = None
    client: str | None = None  # None: registered at run time (automatic persisted query)


@dataclass
class PersistedStore:
    """The manifest's operations by hash and by text, and automatic registrations (if enabled)."""

    automatic: bool = False
    manifest: dict[str, Stored] = field(default_factory=dict)
    by_text: dict[str, Stored] = field(default_factory=dict)
    registered: OrderedDict[str, Stored] = field(default_factory=OrderedDict)

    @classmethod
    def from_contract(cls, automatic: bool, root: Path = gate.OPERATIONS) -> PersistedStore:
        """The stored documents listed in manifest.json with the hash and client the gate checks."""
        manifest = json.loads((root.parent / "manifest.json").read_text(encoding="utf-8"))
        listed = {e["name"]: e for e in manifest.get("operations", [])}
        store = cls(automatic=automatic)
        for op in gate.load_operations(root):
            entry = listed.get(op.name)
            if entry is None or entry.get("sha256") != op.sha256 or entry.get("client") != op.client:
                continue  # the gate fails on it; the server does not guess
            stored = Stored(op.sha256, op.text, _frozen(parse(op.text)), op.name, op.client)
            store.manifest[stored.sha256] = stored
            store.by_text[stored.text] = stored
        return store

    def get(self, sha256: str) -> Stored | None:
        return self.manifest.get(sha256) or self.registered.get(sha256)

    def known_text(self, text: str) -> Stored | None:
        stored = self.by_text.get(text)
        if stored is None and self.registered:
            found = self.registered.get(sha256_hex(text))
            return found if found is not None and found.text == text else None
        return stored

    def register(self, sha256: str, text: str, document: DocumentNode) -> Stored:
        """Keeps a validated document for its hash (automatic persisted queries, development)."""
        stored = Stored(sha256, text, _frozen(document))
        self.registered[sha256] = stored
        while len(self.registered) > APQ_CAPACITY:
            self.registered.popitem(last=False)
        return stored


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def requested_hash(extensions: Mapping[str, Any] | None) -> str | None:
    """`extensions.persistedQuery.sha256Hash` (Apollo's protocol, version 1), lower-cased."""
    persisted = (extensions or {}).get("persistedQuery")
    if not isinstance(persisted, dict):
        return None
    value = persisted.get("sha256Hash")
    return value.lower() if isinstance(value, str) else None


def not_found() -> GraphQLError:
    # the exact message Apollo clients look for before re-sending the text with the hash
    return GraphQLError("PersistedQueryNotFound", extensions={"code": NOT_FOUND})


def hash_mismatch() -> GraphQLError:
    return GraphQLError(
        "provided sha does not match query / 持久化查询的哈希与查询文本不符", extensions={"code": HASH_MISMATCH}
    )


@dataclass(frozen=True, slots=True)
class OperationPolicy:
    """Which callers may run only their client's operations from the manifest."""

    kiosk: bool = False
    integrator: bool = False
    anonymous: bool = False

    def client_of(self, actor: Actor) -> str | None:
        """The manifest client whose operations bind the actor; "*" any client's; None: unrestricted."""
        if kiosk_kind(actor) is not None:
            return "kiosk" if self.kiosk else None
        if actor.client_id is not None and not actor.is_system:
            return "integrator" if self.integrator else None
        if actor.is_anonymous:
            return "*" if self.anonymous else None  # the app and a kiosk sign in anonymously
        return None

    def refusal(self, actor: Actor, stored: Stored | None) -> GraphQLError | None:
        client = self.client_of(actor)
        if client is None:
            return None
        if stored is None or stored.client is None:
            return GraphQLError(
                "Only operations of the published contract may run here; send one from the manifest "
                "by its sha256 / 此处只能执行已发布的持久化操作，请按清单中的 sha256 发送",
                extensions={"code": REQUIRED},
            )
        if client != "*" and stored.client != client:
            return GraphQLError(
                f"Operation {stored.name} is not on the {client} allow-list"
                f" / 操作 {stored.name} 不在此客户端的允许列表中",
                extensions={"code": NOT_ALLOWED, "operation": stored.name},
            )
        return None


class PersistedOperations(SchemaExtension):
    """First of the schema's extensions: resolves a hash to its operation, applies the allow-list,
    and hands strawberry the document parsed once; registers automatic persisted queries."""

    def __init__(self, store: PersistedStore, policy: OperationPolicy) -> None:
        super().__init__()
        self.store = store
        self.policy = policy
        self.stored: Stored | None = None
        self.register_as: str | None = None

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        wanted = requested_hash(ctx.operation_extensions)
        text = ctx.query if ctx.query or wanted is None else None  # Apollo clients may send "" with a hash
        stored: Stored | None = None
        if wanted is not None:
            stored = self.store.get(wanted)
            if text is None:
                if stored is None:
                    raise not_found()
            elif (stored.text != text) if stored is not None else (sha256_hex(text) != wanted):
                raise hash_mismatch()
            elif stored is None and self.store.automatic:
                self.register_as = wanted
        elif text is not None:
            stored = self.store.known_text(text)
        actor = getattr(ctx.context, "actor", None)
        if actor is not None and (refused := self.policy.refusal(actor, stored)) is not None:
            raise refused
        if stored is not None:
            ctx.query = stored.text  # the process's one string object: ParserCache hashes it once
            self.stored = stored
            # a contract operation names the request in its log lines and metrics (a client's own name would not)
            if stored.name is not None:
                operation_var.set(stored.name)
            state = getattr(getattr(ctx.context, "request", None), "state", None)
            if state is not None:
                state.operation = stored.name
        yield

    def on_parse(self) -> Iterator[None]:
        yield
        if self.stored is not None:
            self.execution_context.graphql_document = self.stored.document

    def on_validate(self) -> Iterator[None]:
        yield
        ctx = self.execution_context
        if self.register_as is not None and ctx.pre_execution_errors == [] and ctx.query is not None:
            document = ctx.graphql_document
            if isinstance(document, DocumentNode) and any(
                isinstance(d, OperationDefinitionNode) for d in document.definitions
            ):
                self.store.register(self.register_as, ctx.query, document)


class PersistedTransportWS(PalmTradeTransportWS):
    """graphql-transport-ws taking a subscribe payload with only the hash of a known operation.

    strawberry's handler drops the payload's `extensions`, so the text is put in here; the allow-list
    then applies to it in PersistedOperations as over HTTP. No registration over the socket.
    """

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload: Any = message.get("payload")
        store: PersistedStore = self.view.services.persisted  # type: ignore[attr-defined]
        wanted = requested_hash(payload.get("extensions")) if isinstance(payload, dict) else None
        text = (payload.get("query") or None) if isinstance(payload, dict) else None  # absent, null or ""
        stored = store.get(wanted) if wanted is not None else store.known_text(text) if isinstance(text, str) else None
        problem = None
        if wanted is not None and isinstance(payload, dict):
            if stored is None and text is None:
                problem = not_found()
            elif text is not None and (stored.text != text if stored is not None else sha256_hex(text) != wanted):
                problem = hash_mismatch()
            elif stored is not None:
                message = cast(SubscribeMessage, {**message, "payload": {**payload, "query": stored.text}})
        if problem is None and isinstance(payload, dict):
            # the allow-list, here as well: a refusal raised inside strawberry's stream reaches a socket
            # only as a bare `complete`, and the client would not know why
            actor = getattr(self.context, "actor", None)
            policy: OperationPolicy = self.view.policy  # type: ignore[attr-defined]
            problem = policy.refusal(actor, stored) if actor is not None else None
        if problem is not None and self.connection_acknowledged and message["id"] not in self.operations:
            await self.send_message({"id": message["id"], "type": "error", "payload": [problem.formatted]})
            return
        await super().handle_subscribe(message)
