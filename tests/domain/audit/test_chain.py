"""The hash-chained audit trail against someone with write access to the database.

Every tampering test changes the rows with raw SQL, as a DBA or an attacker would, and then
asks `verify` to name the first entry that no longer holds.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from domain.audit import services as audit
from domain.audit.models import AppendOnlyError, AuditEntry, AuditHeadExport
from domain.audit.services import GENESIS, entry_hash, export_head, read_export_file, verify
from domain.common import events
from domain.common.actors import Actor, Role
from domain.common.errors import PermissionDenied
from domain.common.models import OutboxEvent
from notifications.dispatch import AuditConsumer, Dispatcher
from tests.domain import factories as df

BIDDER = Actor(user_id=42, org_id=7, roles=frozenset({Role.BIDDER}), ip="10.0.0.8")


async def sql(query: str) -> None:
    await connections.get("default").execute_query(query)


def uuid_literal(db, value: uuid.UUID) -> str:
    return f"CAST('{value}' AS UUID)" if db.postgres else f"'{value}'"


async def chain(n: int) -> list[AuditEntry]:
    """n events recorded and audited the way the app does it: outbox, then the dispatcher."""
    await df.outbox(n, text="青岛")
    assert await Dispatcher([AuditConsumer()]).drain() == n
    return await AuditEntry.all().order_by("seq")


def fields_of(entry: AuditEntry, **changes: object) -> dict[str, object]:
    fields = {
        "seq": entry.seq,
        "event_id": str(entry.event_id),
        "at": entry.at,
        "actor": entry.actor,
        "actor_user_id": entry.actor_user_id,
        "actor_org_id": entry.actor_org_id,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "outcome": entry.outcome,
        "digest": entry.digest,
        "prev_hash": entry.prev_hash,
    }
    fields.update(changes)
    return fields


async def forge_after(db, source: AuditEntry, seq: int, prev_hash: str, hash_: str, event_id: uuid.UUID) -> None:
    """Inserts a copy of `source` at `seq` with the given links."""
    await sql(
        "INSERT INTO audit_entry (seq, event_id, at, actor, actor_user_id, actor_org_id, action, object_type,"
        " object_id, outcome, digest, prev_hash, hash)"
        f" SELECT {seq}, {uuid_literal(db, event_id)}, at, actor, actor_user_id, actor_org_id, action,"
        f" object_type, object_id, outcome, digest, '{prev_hash}', '{hash_}'"
        f" FROM audit_entry WHERE seq = {source.seq}"
    )


async def test_dispatched_events_form_a_verified_chain(db):
    # given events recorded in one transaction and dispatched to the audit consumer
    recorded = await df.outbox(5, actor=BIDDER, text="青岛")
    await Dispatcher([AuditConsumer()]).drain()

    # when the chain is verified
    result = await verify()

    # then every entry is checked and the head is the last one
    entries = await AuditEntry.all().order_by("seq")
    assert result.ok, result
    assert (result.checked, result.head_seq, result.head_hash) == (5, 5, entries[-1].hash)
    assert (result.first_broken_seq, result.reason) == (None, None)

    # and each entry is its event, linked to the previous one by a hash over all its fields
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert [str(e.event_id) for e in entries] == [str(r.event_id) for r in recorded]
    assert entries[0].prev_hash == GENESIS
    for before, entry in zip([None, *entries], entries, strict=False):
        assert entry.prev_hash == (before.hash if before else GENESIS)
        assert entry.hash == entry_hash(**fields_of(entry))  # type: ignore[arg-type]
    first, event = entries[0], recorded[0]
    assert (first.actor, first.actor_user_id, first.actor_org_id) == ("user:42", 42, 7)
    assert (first.action, first.object_type, first.object_id, first.outcome) == ("test.noted", "Note", "1", "success")
    assert first.digest == events.digest({"text": "青岛"})
    assert first.at == event.occurred_at


async def test_an_empty_trail_verifies(db):
    result = await verify()
    assert (result.ok, result.checked, result.head_seq, result.head_hash) == (True, 0, 0, GENESIS)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("action", "'organisation.approved'"),
        ("actor", "'user:999'"),
        ("actor_user_id", "999"),
        ("actor_org_id", "NULL"),
        ("object_id", "'999'"),
        ("outcome", "'failure'"),
        ("digest", "'" + "0" * 64 + "'"),
        ("object_type", "'Organisation'"),
    ],
)
async def test_an_edited_field_in_the_middle_is_named(db, column, value):
    # given a verified chain of 5 entries
    await chain(5)

    # when one field of entry 3 is changed in the database
    await sql(f"UPDATE audit_entry SET {column} = {value} WHERE seq = 3")

    # then verification fails at entry 3
    result = await verify()
    assert not result.ok
    assert result.first_broken_seq == 3
    assert result.reason == "content does not match its hash"
    assert (result.checked, result.head_seq) == (3, 2)


async def test_an_edited_time_is_named(db):
    await chain(5)
    await sql("UPDATE audit_entry SET at = (SELECT at FROM audit_entry WHERE seq = 1) WHERE seq = 4")
    assert (await AuditEntry.get(seq=4)).at == (await AuditEntry.get(seq=1)).at
    assert (await verify()).first_broken_seq == 4


async def test_an_edit_that_recomputes_its_own_hash_breaks_the_next_link(db):
    # given a chain of 5 entries
    entries = await chain(5)

    # when entry 3's action is changed and its hash recomputed to match
    third = entries[2]
    forged = entry_hash(**fields_of(third, action="organisation.approved"))  # type: ignore[arg-type]
    await sql(f"UPDATE audit_entry SET action = 'organisation.approved', hash = '{forged}' WHERE seq = 3")

    # then entry 3 is self-consistent, but entry 4 no longer links to it
    result = await verify()
    assert not result.ok
    assert result.first_broken_seq == 4
    assert result.reason == "does not link to the previous entry"


async def test_an_edit_of_the_prev_hash_is_named(db):
    await chain(5)
    await sql(f"UPDATE audit_entry SET prev_hash = '{'f' * 64}' WHERE seq = 2")
    result = await verify()
    assert (result.first_broken_seq, result.reason) == (2, "does not link to the previous entry")


@pytest.mark.parametrize("removed", [1, 3, 4])
async def test_a_deleted_entry_is_named(db, removed):
    # given a chain of 5 entries
    await chain(5)

    # when an entry is deleted
    await sql(f"DELETE FROM audit_entry WHERE seq = {removed}")

    # then verification names the missing position
    result = await verify()
    assert not result.ok
    assert result.first_broken_seq == removed
    assert result.reason == f"entry {removed} is missing (next is {removed + 1})"


async def test_a_deletion_on_a_chunk_boundary_is_named(db, monkeypatch):
    # given verification that reads 2 entries at a time
    monkeypatch.setattr(audit, "_VERIFY_CHUNK", 2)
    await chain(7)
    assert (await verify()).checked == 7

    # when the first entry of the third chunk is deleted
    await sql("DELETE FROM audit_entry WHERE seq = 5")

    # then it is named
    assert (await verify()).first_broken_seq == 5


async def test_an_edit_in_a_later_chunk_is_named(db, monkeypatch):
    monkeypatch.setattr(audit, "_VERIFY_CHUNK", 2)
    await chain(7)
    await sql("UPDATE audit_entry SET actor = 'user:999' WHERE seq = 6")
    result = await verify()
    assert (result.first_broken_seq, result.checked) == (6, 6)


async def test_a_forged_entry_with_an_invented_hash_is_caught(db):
    # given a chain of 5 entries
    entries = await chain(5)

    # when a row is appended by hand with the right link but an invented hash
    await forge_after(db, entries[-1], 6, entries[-1].hash, "a" * 64, uuid.uuid4())

    # then it is named
    result = await verify()
    assert (result.ok, result.first_broken_seq, result.reason) == (False, 6, "content does not match its hash")


async def test_a_forged_entry_with_a_matching_hash_but_a_wrong_link_is_caught(db):
    # given a chain of 5 entries
    entries = await chain(5)

    # when a row is appended with a hash computed over its fields but linked to an older entry
    event_id = uuid.uuid4()
    stale = entries[2].hash
    fields = fields_of(entries[-1], seq=6, event_id=str(event_id), prev_hash=stale)
    await forge_after(db, entries[-1], 6, stale, entry_hash(**fields), event_id)  # type: ignore[arg-type]
    assert (await AuditEntry.get(seq=6)).hash == entry_hash(**fields)  # type: ignore[arg-type]

    # then it does not link
    result = await verify()
    assert (result.ok, result.first_broken_seq, result.reason) == (False, 6, "does not link to the previous entry")


async def test_a_forged_entry_in_a_gap_is_caught(db):
    # given a chain of 5 entries
    entries = await chain(5)

    # when a row is inserted far past the head
    await forge_after(db, entries[-1], 9, entries[-1].hash, "b" * 64, uuid.uuid4())

    # then the gap is named
    result = await verify()
    assert (result.first_broken_seq, result.reason) == (6, "entry 6 is missing (next is 9)")


@pytest.mark.parametrize("seq", [0, -1])
async def test_a_forged_entry_before_the_chain_is_caught(db, seq):
    # given a chain of 5 entries
    entries = await chain(5)

    # when a row is slipped in before the first position, self-consistent and linked to genesis
    event_id = uuid.uuid4()
    fields = fields_of(entries[0], seq=seq, event_id=str(event_id), prev_hash=GENESIS)
    await forge_after(db, entries[0], seq, GENESIS, entry_hash(**fields), event_id)  # type: ignore[arg-type]

    # then it is named, though the chain from 1 onwards is intact
    result = await verify()
    assert not result.ok
    assert result.first_broken_seq == seq
    assert result.reason == f"entry {seq} is before the start of the chain"


async def test_removing_the_newest_entries_is_caught_by_the_exported_head(db, manual_clock, tmp_path):
    # given a chain of 5 entries whose head was exported to the database and to a file
    entries = await chain(5)
    path = tmp_path / "heads.jsonl"
    head = await export_head(path)
    assert head is not None
    assert (head.seq, head.hash) == (5, entries[-1].hash)
    assert read_export_file(path) == [(5, entries[-1].hash)]

    # when the two newest entries are deleted, leaving an internally valid chain of 3
    await sql("DELETE FROM audit_entry WHERE seq > 3")

    # then the database's exported head shows that entries were removed
    result = await verify()
    assert not result.ok
    assert result.first_broken_seq == 4
    assert "removed" in (result.reason or "")
    assert (result.checked, result.head_seq) == (3, 3)

    # when the exported heads in the database are wiped too
    await sql("DELETE FROM audit_head_export")

    # then the database alone cannot tell, but the export file still can
    assert (await verify()).ok
    from_file = await verify(read_export_file(path))
    assert not from_file.ok
    assert from_file.first_broken_seq == 4
    assert "removed" in (from_file.reason or "")


async def test_a_rewritten_tail_differs_from_the_exported_head(db, manual_clock, tmp_path):
    # given a chain of 5 entries whose head was exported
    await chain(5)
    path = tmp_path / "heads.jsonl"
    await export_head(path)

    # when the tail is deleted and new events are chained in its place, up to the same length
    await sql("DELETE FROM audit_entry WHERE seq > 3")
    await chain(2)

    # then the chain is internally valid, but the exported head is not on it
    result = await verify(read_export_file(path))
    assert not result.ok
    assert result.first_broken_seq == 5
    assert result.reason == "differs from the exported head"


async def test_an_edited_head_with_a_recomputed_hash_differs_from_the_exported_head(db, manual_clock, tmp_path):
    # given a chain whose head was exported, and the export table wiped
    entries = await chain(3)
    path = tmp_path / "heads.jsonl"
    await export_head(path)
    await sql("DELETE FROM audit_head_export")

    # when the head entry is edited and its hash recomputed (no later entry to break)
    forged = entry_hash(**fields_of(entries[-1], actor="user:999"))  # type: ignore[arg-type]
    await sql(f"UPDATE audit_entry SET actor = 'user:999', hash = '{forged}' WHERE seq = 3")

    # then only the exported head shows it
    assert (await verify()).ok
    result = await verify(read_export_file(path))
    assert (result.ok, result.first_broken_seq) == (False, 3)


async def test_export_head_writes_once_per_head(db, manual_clock, tmp_path):
    # given no entries, nothing is exported
    path = tmp_path / "audit" / "heads.jsonl"
    assert await export_head(path) is None
    assert read_export_file(path) == []

    # when the head is exported twice without new entries, then once more after one
    await chain(2)
    await export_head(path)
    await export_head(path)
    await chain(1)
    await export_head(path)

    # then there is one line and one row per head
    heads = await AuditEntry.all().order_by("seq").values_list("seq", "hash")
    assert read_export_file(path) == [(2, heads[1][1]), (3, heads[2][1])]
    assert await AuditHeadExport.all().count() == 2
    assert (await verify(read_export_file(path))).ok


def test_reading_a_missing_export_file():
    assert read_export_file(None) == []
    assert read_export_file(Path("/nonexistent/heads.jsonl")) == []


async def test_entries_cannot_be_changed_or_deleted_through_the_model(db):
    # given an entry
    await chain(1)
    entry = await AuditEntry.get(seq=1)

    # when code tries to update or delete it
    entry.action = "organisation.approved"
    with pytest.raises(AppendOnlyError):
        await entry.save()
    with pytest.raises(AppendOnlyError):
        await entry.delete()

    # then it is unchanged
    assert (await AuditEntry.get(seq=1)).action == "test.noted"
    assert (await verify()).ok


async def test_entries_cannot_be_changed_or_deleted_in_bulk_through_the_orm(db):
    # given a chain of 2 entries
    await chain(2)

    # when code tries a queryset update or delete
    with pytest.raises(AppendOnlyError):
        await AuditEntry.filter(seq=1).update(action="organisation.approved")
    with pytest.raises(AppendOnlyError):
        await AuditEntry.filter(seq=2).delete()
    with pytest.raises(AppendOnlyError):
        await AuditEntry.all().delete()

    # then nothing changed
    assert await AuditEntry.all().count() == 2
    assert (await verify()).ok


async def test_dispatching_the_same_events_again_adds_nothing(db):
    # given 3 events dispatched to the audit trail
    await chain(3)
    before = await AuditEntry.all().order_by("seq").values_list("seq", "hash")

    # when they are dispatched again (a dispatcher crashed after auditing, before marking them)
    await OutboxEvent.all().update(dispatched_at=None)
    assert await Dispatcher([AuditConsumer()]).drain() == 3

    # then the trail is unchanged
    assert await AuditEntry.all().order_by("seq").values_list("seq", "hash") == before
    assert (await verify()).ok


async def test_appending_the_same_event_twice_in_one_batch_chains_it_once(db):
    # given events, one of them twice in the batch
    recorded = await df.outbox(2)
    batch = [recorded[0], recorded[1], recorded[0]]

    # when they are appended, twice
    async with in_transaction():
        created = await audit.append(batch)
    async with in_transaction():
        again = await audit.append(batch)

    # then each event is on the trail once
    assert [str(e.event_id) for e in created] == [str(recorded[0].event_id), str(recorded[1].event_id)]
    assert again == []
    assert await AuditEntry.all().count() == 2
    assert (await verify()).ok


async def test_a_batch_mixing_chained_and_new_events_chains_the_new_ones_after_the_head(db):
    # given 2 events on the chain (on PostgreSQL, linked by audit_chain_link, which skips what is chained)
    first = await df.outbox(2, text="青岛")
    async with in_transaction():
        await audit.append(first)

    # when a batch holding one of them and two new ones (one with no actor ids) is appended
    later = await df.outbox(1, actor=BIDDER, text='黄岛区 "quoted" \\ é') + await df.outbox(1)
    async with in_transaction():
        created = await audit.append([later[0], first[1], later[1]])

    # then only the new ones were chained, in the batch's order, after the head, each hash as verify computes it
    assert [(e.seq, str(e.event_id)) for e in created] == [(3, str(later[0].event_id)), (4, str(later[1].event_id))]
    entries = await AuditEntry.all().order_by("seq")
    assert [e.hash for e in created] == [e.hash for e in entries[2:]]
    assert entries[2].prev_hash == entries[1].hash
    for entry in entries:
        assert entry.hash == entry_hash(**fields_of(entry))  # type: ignore[arg-type]
    assert (await verify()).ok


async def test_appending_nothing_changes_nothing(db):
    async with in_transaction():
        assert await audit.append([]) == []
    assert await AuditEntry.all().count() == 0


async def test_refused_attempts_are_chained_as_failures(db, manual_clock):
    # given a success, then a refused attempt recorded on its own
    await df.outbox(1, actor=BIDDER)
    manual_clock.advance(seconds=1)
    await events.record_failure(BIDDER, "punishment.list", "JointPunishment", "", PermissionDenied())

    # when they are dispatched
    await Dispatcher([AuditConsumer()]).drain()

    # then the refusal is on the chain with outcome "failure", its code digested, and it verifies
    entries = await AuditEntry.all().order_by("seq")
    assert [(e.action, e.outcome) for e in entries] == [("test.noted", "success"), ("punishment.list", "failure")]
    failure = entries[1]
    assert (failure.actor, failure.object_type, failure.object_id) == ("user:42", "JointPunishment", "")
    assert failure.digest == events.digest({"code": "PERMISSION_DENIED"})
    assert failure.prev_hash == entries[0].hash
    assert (await verify()).ok

    # and tampering with its outcome is caught like any other field
    await sql("UPDATE audit_entry SET outcome = 'success' WHERE seq = 2")
    assert (await verify()).first_broken_seq == 2
