"""A bid submission answers from the rows it holds: the lot read once under its lock (FOR SHARE on PostgreSQL, the
same lock as before, in the statement that reads it), the bid it inserted, that lot for the receipt. Its answer and
receipt are what a read after the commit gives, and a replay of its idempotency key (the rows not in hand, read)
answers the same."""

from __future__ import annotations

from typing import Any

import pytest
from tortoise.exceptions import DoesNotExist
from tortoise.transactions import in_transaction

from domain.common.storage import lock, lock_shared, read_shared, using_postgres
from domain.publication.models import Lot
from domain.tendering import receipts
from domain.tendering import services as tendering
from domain.tendering.models import SealedBid
from mobile_contract.sealed_bid import new_key, seal
from tests.domain.registration.statements import statements
from tests.support.tendering import held, published_tender, registered_bidder


def _columns(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in type(row)._meta.fields_db_projection}


async def test_read_shared_reads_the_row_a_get_reads(db):
    # given a lot
    t = await published_tender()
    # when it is read shared in a transaction, and a lot that is not
    async with in_transaction():
        row = await read_shared(Lot, t.lot.id)
        with pytest.raises(DoesNotExist):
            await read_shared(Lot, t.lot.id + 1000)
    # then the row is the one a get reads, every column decoded alike (its JSON config too)
    assert _columns(row) == _columns(await Lot.get(id=t.lot.id))
    assert isinstance(row.config, dict)


async def test_read_shared_holds_the_row_for_share(db):
    if not using_postgres():
        pytest.skip("PostgreSQL's row locks (SQLite has one writer)")
    t = await published_tender()
    # when the lot is read shared by a transaction in flight, another reader shares it without waiting
    async with held(lambda: read_shared(Lot, t.lot.id)):
        await lock_shared(Lot, t.lot.id)
        assert (await read_shared(Lot, t.lot.id)).id == t.lot.id
    # and a change of the lot waits for it (2 s at most here)
    async with held(lambda: read_shared(Lot, t.lot.id)):
        with pytest.raises(Exception, match="lock timeout"):
            await lock(Lot.filter(id=t.lot.id)).get()


async def test_the_answer_is_the_row_a_read_after_the_commit_gives(db):
    # given a registered bidder
    t = await published_tender()
    bidder = await registered_bidder(t.lot.id)
    sealed = seal(new_key(), t.lot.trade_code, 1_000_000, {"a.pdf": b"x"})
    # when it submits
    bid = await tendering.submit(bidder, t.lot.id, sealed)
    # then the bid answered is the stored row, its lot the stored lot, and its receipt says what one read says
    stored = await SealedBid.get(id=bid.id)
    assert _columns(bid) == _columns(stored)
    assert bid.submitted_at.isoformat() == stored.submitted_at.isoformat()
    assert isinstance(bid.lot, Lot)
    assert _columns(bid.lot) == _columns(await Lot.get(id=t.lot.id))
    assert await receipts.content_of(bid) == await receipts.content_of(stored)


async def test_a_replay_answers_as_the_first_request(db):
    # given a bidder's submission with an idempotency key
    t = await published_tender()
    bidder = await registered_bidder(t.lot.id)
    sealed = seal(new_key(), t.lot.trade_code, 1_000_000, {"a.pdf": b"x"})
    first = await tendering.submit(bidder, t.lot.id, sealed, "key-1")
    # when it is sent again with the key
    again = await tendering.submit(bidder, t.lot.id, sealed, "key-1")
    # then the replay (the row read, not in hand) answers the same bid, the same receipt
    assert again is not first
    assert _columns(again) == _columns(first)
    assert await receipts.content_of(again) == await receipts.content_of(first)
    assert await SealedBid.filter(lot_id=t.lot.id).count() == 1


async def test_a_submission_reads_its_lot_twice_and_its_bid_not_again(db, monkeypatch):
    # given a registered bidder
    t = await published_tender()
    bidder = await registered_bidder(t.lot.id)
    sealed = seal(new_key(), t.lot.trade_code, 1_000_000, {"a.pdf": b"x"})
    # when it submits, and its receipt's content is made
    with statements(monkeypatch) as sent:
        bid = await tendering.submit(bidder, t.lot.id, sealed)
    with statements(monkeypatch) as receipt_sent:
        await receipts.content_of(bid)
    # then the lot is read under its lock on PostgreSQL by the statement that reads it (no SELECT 1 before), the bid
    # is not read back after its INSERT, and the receipt reads only the bidder's organisation
    lot_reads = [q for q in sent if q.startswith("SELECT") and 'FROM "lot"' in q]
    assert len(lot_reads) == 2, lot_reads  # before the transaction (its typed refusals), and the locked one
    if using_postgres():
        assert [q for q in lot_reads if q.endswith("FOR SHARE")] == [lot_reads[1]]
        assert not [q for q in sent if q.startswith("SELECT 1")]
    inserted = next(i for i, q in enumerate(sent) if q.startswith('INSERT INTO "sealed_bid"'))
    assert not [q for q in sent[inserted:] if 'FROM "sealed_bid"' in q], sent[inserted:]
    assert len(receipt_sent) == 1, receipt_sent
    assert 'FROM "organisation"' in receipt_sent[0]
