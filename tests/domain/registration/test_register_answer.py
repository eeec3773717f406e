"""register() answers with the row its transaction wrote (not read again after the commit), its lot in hand; a replay
of the same idempotency key reads the row, as the first answer would now be; securityInPlace reads no lot again."""

from __future__ import annotations

import pytest

from domain.common.actors import Role
from domain.common.errors import NotFound
from domain.publication.models import Lot
from domain.registration import services as registration
from domain.registration.models import Registration
from tests.domain.factories import organisation
from tests.domain.registration.statements import statements
from tests.support.commitments import commit
from tests.support.tendering import person, published_tender

FIELDS = ("id", "lot_id", "organisation_id", "user_id", "status", "registered_at", "withdrawn_at", "updated_at")


def _row(reg: Registration) -> tuple[object, ...]:
    return tuple(getattr(reg, name) for name in FIELDS)


def _reads(sent: list[str], table: str) -> list[str]:
    return [q for q in sent if q.lstrip().upper().startswith("SELECT") and f'FROM "{table}"' in q]


async def test_a_registration_answers_with_the_row_written_and_its_lot_without_reading_them_again(db, monkeypatch):
    # given an open tender and a bidder that signed its registration commitment
    t = await published_tender()
    bidder = person(await organisation(kinds=["bidder"]), Role.BIDDER)
    await commit(bidder, t.lot.id, "registration")

    # when it registers
    with statements(monkeypatch) as sent:
        reg = await registration.register(bidder, t.lot.id)

    # then the answer is the row as stored, with the lot
    assert _row(reg) == _row(await Registration.get(id=reg.id))
    assert reg.status == "registered"
    assert reg.withdrawn_at is None
    assert isinstance(reg.lot, Lot)
    assert reg.lot.id == t.lot.id
    # and the lot was read once, joined with its project, the registration only under its lock in the transaction
    assert len(_reads(sent, "lot")) == 1
    assert "JOIN" in _reads(sent, "lot")[0].upper()
    assert len(_reads(sent, "project")) == 0
    assert len(_reads(sent, "registration")) == 1
    assert "LIMIT" in _reads(sent, "registration")[0]

    # when its lot asks no security, securityInPlace with the lot in hand reads nothing and says yes, as without it
    with statements(monkeypatch) as checked:
        in_place = await registration.security_in_place(t.lot.id, bidder.org_id, lot=reg.lot)
    assert in_place is True
    assert checked == []
    assert await registration.security_in_place(t.lot.id, bidder.org_id) is True


async def test_registering_again_while_registered_and_after_a_withdrawal_answers_the_stored_row(db):
    t = await published_tender()
    bidder = person(await organisation(kinds=["bidder"]), Role.BIDDER)
    await commit(bidder, t.lot.id, "registration")
    first = await registration.register(bidder, t.lot.id)

    again = await registration.register(bidder, t.lot.id)
    assert _row(again) == _row(first) == _row(await Registration.get(id=first.id))

    await registration.withdraw(bidder, t.lot.id)
    reopened = await registration.register(bidder, t.lot.id)
    assert reopened.id == first.id
    assert reopened.status == "registered"
    assert reopened.withdrawn_at is None
    assert _row(reopened) == _row(await Registration.get(id=first.id))


async def test_a_replayed_key_answers_as_the_first_request_and_reads_the_row(db, monkeypatch):
    t = await published_tender()
    bidder = person(await organisation(kinds=["bidder"]), Role.BIDDER)
    await commit(bidder, t.lot.id, "registration")
    first = await registration.register(bidder, t.lot.id, idempotency_key="reg-1")

    with statements(monkeypatch) as sent:
        replayed = await registration.register(bidder, t.lot.id, idempotency_key="reg-1")

    assert _row(replayed) == _row(first)
    assert isinstance(replayed.lot, Lot)
    assert replayed.lot.id == t.lot.id
    assert any('FROM "registration" WHERE "id"' in q for q in _reads(sent, "registration"))

    # and a replay after a withdrawal answers with the row as it is now (withdrawn), as before
    await registration.withdraw(bidder, t.lot.id)
    late = await registration.register(bidder, t.lot.id, idempotency_key="reg-1")
    assert late.id == first.id
    assert late.status == "withdrawn"


async def test_a_lot_that_asks_security_answers_the_same_with_the_lot_in_hand_or_read(db):
    t = await published_tender(config={"deposit_required": True})
    bidder = person(await organisation(kinds=["bidder"]), Role.BIDDER)
    await commit(bidder, t.lot.id, "registration")
    reg = await registration.register(bidder, t.lot.id)
    lot = await Lot.get(id=t.lot.id)
    assert await registration.security_in_place(t.lot.id, bidder.org_id, lot=lot) is False
    assert await registration.security_in_place(t.lot.id, bidder.org_id) is False
    # a lot of another id is not taken for the one asked
    other = await published_tender()
    assert await registration.security_in_place(other.lot.id, bidder.org_id, lot=lot) is True
    assert reg.lot.id == lot.id  # type: ignore[union-attr]


async def test_a_missing_or_draft_lot_is_not_found(db):
    bidder = person(await organisation(kinds=["bidder"]), Role.BIDDER)
    with pytest.raises(NotFound):
        await registration.register(bidder, 999_999)
    t = await published_tender()
    await Lot.filter(id=t.lot.id).update(status="draft")
    with pytest.raises(NotFound):
        await registration.register(bidder, t.lot.id)
