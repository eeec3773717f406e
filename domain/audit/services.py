"""Appending to and verifying the hash-chained audit trail."""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tortoise import connections
from tortoise.transactions import in_transaction

from domain.audit.models import AuditEntry, AuditHeadExport
from domain.common import clock
from domain.common.events import canonical_json, digest
from domain.common.models import OutboxEvent
from domain.common.storage import lock_named, using_postgres

GENESIS = "0" * 64
_VERIFY_CHUNK = 2000


def entry_hash(
    *,
    seq: int,
    event_id: str,
    at: datetime,
    actor: str,
    actor_user_id: int | None,
    actor_org_id: int | None,
    action: str,
    object_type: str,
    object_id: str,
    outcome: str,
    digest: str,
    prev_hash: str,
) -> str:
    """SHA-256 over every field of an entry and the previous entry's hash."""
    body = [
        seq,
        str(event_id),
        at.astimezone(UTC).isoformat(timespec="microseconds"),
        actor,
        actor_user_id,
        actor_org_id,
        action,
        object_type,
        object_id,
        outcome,
        digest,
        prev_hash,
    ]
    return hashlib.sha256(canonical_json(body)).hexdigest()


def _hash_of(entry: AuditEntry) -> str:
    return entry_hash(
        seq=entry.seq,
        event_id=str(entry.event_id),
        at=entry.at,
        actor=entry.actor,
        actor_user_id=entry.actor_user_id,
        actor_org_id=entry.actor_org_id,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        outcome=entry.outcome,
        digest=entry.digest,
        prev_hash=entry.prev_hash,
    )


@dataclass(frozen=True, slots=True)
class Unlinked:
    """An entry's content before it has a place on the chain: what an event puts there, hashed but for its seq and
    the previous hash (`middle` is the canonical JSON of the fields between them, so linking only wraps it)."""

    event_id: str
    at: datetime
    actor: str
    actor_user_id: int | None
    actor_org_id: int | None
    action: str
    object_type: str
    object_id: str
    outcome: str
    digest: str
    middle: bytes


def _unlinked(event: OutboxEvent) -> Unlinked:
    at = event.occurred_at.astimezone(UTC)
    content = (
        str(event.event_id),
        at,
        event.actor_label,
        event.actor_user_id,
        event.actor_org_id,
        event.type,
        event.object_type,
        event.object_id,
        event.outcome,
        digest(event.payload),
    )
    body = [content[0], at.isoformat(timespec="microseconds"), *content[2:]]
    return Unlinked(*content, middle=canonical_json(body)[1:-1])


def _linked_hash(seq: int, middle: bytes, prev_hash: str) -> str:
    """entry_hash of an entry whose other fields are `middle`: the same canonical JSON array, written around it."""
    return hashlib.sha256(b'[%d,%s,"%s"]' % (seq, middle, prev_hash.encode())).hexdigest()


async def prepare(events: Sequence[OutboxEvent]) -> list[Unlinked]:
    """The entries `events` add to the trail, once each (an event already there, or twice in the batch, is skipped),
    everything but their links; it takes no lock, so it can run while another appender holds the chain."""
    fresh: dict[str, OutboxEvent] = {}
    for event in events:
        fresh.setdefault(str(event.event_id), event)
    if not fresh:
        return []
    if using_postgres():  # audit_chain_link skips them under the chain's lock, in the linking statement
        return [_unlinked(event) for event in fresh.values()]
    present = {str(i) for i in await AuditEntry.filter(event_id__in=list(fresh)).values_list("event_id", flat=True)}
    return [_unlinked(event) for key, event in fresh.items() if key not in present]


_LINK = f"SELECT * FROM audit_chain_link($1, {', '.join(f'${i}' for i in range(2, 13))})"
_CHAIN_LOCK = zlib.crc32(b"audit_chain")  # lock_named("audit_chain")'s key


async def link(entries: Sequence[Unlinked]) -> list[AuditEntry]:
    """Chains prepared entries onto the trail's head, in one insert (on PostgreSQL one statement, lock included).

    Call inside a transaction, as late in it as possible: on PostgreSQL a transaction-scoped advisory lock
    serialises appenders, so that several dispatcher processes extend one chain, and it is held until the commit.
    """
    if not entries:
        return []
    if using_postgres():
        return await _link_in_one_statement(entries)
    await lock_named("audit_chain")
    last = await AuditEntry.all().order_by("-seq").only("seq", "hash").first()
    seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
    created: list[AuditEntry] = []
    for item in entries:
        seq += 1
        hash_ = _linked_hash(seq, item.middle, prev)
        created.append(_entry(item, seq, prev, hash_))
        prev = hash_
    await AuditEntry.bulk_create(created)
    return created


async def _link_in_one_statement(entries: Sequence[Unlinked]) -> list[AuditEntry]:
    """PostgreSQL: the lock, the head, the skipping of events already chained, the hashes and the insert in one
    round trip (audit_chain_link, migration 0052), so the chain's lock is held from it to the commit only."""
    fields = ("event_id", "at", "actor", "actor_user_id", "actor_org_id", "action", "object_type", "object_id")
    columns: list[list[object]] = [[getattr(item, name) for item in entries] for name in fields]
    columns += [[item.outcome for item in entries], [item.digest for item in entries]]
    columns.append([item.middle.decode() for item in entries])
    rows = await connections.get("default").execute_query_dict(_LINK, [_CHAIN_LOCK, *columns])
    by_id = {item.event_id: item for item in entries}
    created = []
    for row in rows:
        item = by_id[str(row["linked_event_id"])]
        created.append(_entry(item, row["linked_seq"], row["linked_prev_hash"], row["linked_hash"]))
    return created


def _entry(item: Unlinked, seq: int, prev_hash: str, hash_: str) -> AuditEntry:
    """The chained entry of a prepared one (not saved)."""
    return AuditEntry(
        seq=seq,
        event_id=item.event_id,
        at=item.at,
        actor=item.actor,
        actor_user_id=item.actor_user_id,
        actor_org_id=item.actor_org_id,
        action=item.action,
        object_type=item.object_type,
        object_id=item.object_id,
        outcome=item.outcome,
        digest=item.digest,
        prev_hash=prev_hash,
        hash=hash_,
    )


async def append(events: Sequence[OutboxEvent]) -> list[AuditEntry]:
    """Chains events onto the trail, once each (an event already there is skipped); call inside a transaction."""
    return await link(await prepare(events))


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    first_broken_seq: int | None = None
    reason: str | None = None


async def verify(exported_heads: Iterable[tuple[int, str]] = ()) -> Verification:
    """Walks the whole chain; names the first entry whose link, hash or position is wrong.

    Exported heads (from the database and from the export file) must still be on the chain,
    so that deleting the newest entries is detected too.
    """
    expected_seq, prev, checked = 1, GENESIS, 0
    last_seq = 0
    stray = await AuditEntry.filter(seq__lt=expected_seq).order_by("seq").first()
    if stray is not None:
        return Verification(False, 0, 0, GENESIS, stray.seq, f"entry {stray.seq} is before the start of the chain")
    while True:
        chunk = await AuditEntry.filter(seq__gte=expected_seq).order_by("seq").limit(_VERIFY_CHUNK)
        if not chunk:
            break
        for entry in chunk:
            checked += 1
            if entry.seq != expected_seq:
                return Verification(
                    False,
                    checked,
                    last_seq,
                    prev,
                    expected_seq,
                    f"entry {expected_seq} is missing (next is {entry.seq})",
                )
            if entry.prev_hash != prev:
                return Verification(
                    False,
                    checked,
                    last_seq,
                    prev,
                    entry.seq,
                    "does not link to the previous entry",
                )
            if _hash_of(entry) != entry.hash:
                return Verification(False, checked, last_seq, prev, entry.seq, "content does not match its hash")
            prev, last_seq = entry.hash, entry.seq
            expected_seq += 1
    heads = list(exported_heads) + [(h.seq, h.hash) for h in await AuditHeadExport.all().order_by("-seq").limit(5)]
    for seq, hash_ in sorted(heads, reverse=True):
        if seq > last_seq:
            return Verification(
                False,
                checked,
                last_seq,
                prev,
                last_seq + 1,
                f"the chain ends at {last_seq} but head {seq} was exported: entries were removed",
            )
        head = await AuditEntry.get_or_none(seq=seq)
        if head is None or head.hash != hash_:
            return Verification(False, checked, last_seq, prev, seq, "differs from the exported head")
    return Verification(True, checked, last_seq, prev)


async def export_head(path: Path | None) -> AuditHeadExport | None:
    """Copies the chain head to the database and appends it to an export file outside it."""
    async with in_transaction():
        last = await AuditEntry.all().order_by("-seq").first()
        if last is None:
            return None
        latest = await AuditHeadExport.all().order_by("-seq").first()
        if latest is not None and latest.seq == last.seq:
            return latest
        head = await AuditHeadExport.create(seq=last.seq, hash=last.hash, exported_at=clock.now())
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        line = {"seq": head.seq, "hash": head.hash, "exportedAt": head.exported_at.isoformat()}
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")
    return head


def read_export_file(path: Path | None) -> list[tuple[int, str]]:
    if path is None or not path.exists():
        return []
    heads = []
    for line in path.read_text(encoding="utf-8").splitlines()[-5:]:
        if line.strip():
            item = json.loads(line)
            heads.append((int(item["seq"]), str(item["hash"])))
    return heads


__all__ = ["Unlinked", "append", "export_head", "link", "prepare", "read_export_file", "using_postgres", "verify"]
