"""sign() writes a new commitment with one INSERT (no UPDATE of the same values after it) and answers with the row its
transaction wrote, not read again after the commit; signing again renews the row; a replayed key reads it."""

from __future__ import annotations

from domain.common import clock
from domain.common.actors import Role
from domain.common.models import OutboxEvent
from domain.credit.models import CreditCommitment
from domain.credit_public import commitments
from tests.domain.factories import organisation
from tests.domain.registration.statements import statements
from tests.support.tendering import person, published_tender

FIELDS = (
    "id",
    "organisation_id",
    "lot_id",
    "stage",
    "version",
    "text_sha256",
    "signature_id",
    "signed_by",
    "signed_at",
    "breached_at",
    "breach_record_id",
)


def _row(c: CreditCommitment) -> tuple[object, ...]:
    return tuple(getattr(c, name) for name in FIELDS)


def _on(sent: list[str], verb: str) -> list[str]:
    return [q for q in sent if q.lstrip().upper().startswith(verb) and '"credit_commitment"' in q]


async def test_a_first_signature_is_one_insert_and_answers_the_row_written(db, monkeypatch, manual_clock):
    t = await published_tender()
    bidder = person(await organisation(kinds=["bidder"]), Role.BIDDER)
    version = commitments.in_force(clock.now()).version

    with statements(monkeypatch) as sent:
        row = await commitments.sign(bidder, t.lot.id, "registration", version)

    assert _row(row) == _row(await CreditCommitment.get(id=row.id))
    assert (row.stage, row.version, row.signature_id, row.breached_at) == ("registration", version, None, None)
    assert len(_on(sent, "INSERT")) == 1
    assert _on(sent, "UPDATE") == []
    assert len(_on(sent, "SELECT")) == 1  # the locked lookup only: no read after the commit
    assert await OutboxEvent.filter(type="credit.commitment_signed", object_id=str(row.id)).count() == 1

    # when it signs again later, the row is renewed (one UPDATE) and the answer is the row as stored
    manual_clock.advance(minutes=5)
    with statements(monkeypatch) as again_sent:
        again = await commitments.sign(bidder, t.lot.id, "registration", version)
    assert again.id == row.id
    assert again.signed_at > row.signed_at
    assert _row(again) == _row(await CreditCommitment.get(id=row.id))
    assert len(_on(again_sent, "UPDATE")) == 1
    assert _on(again_sent, "INSERT") == []
    assert await OutboxEvent.filter(type="credit.commitment_signed", object_id=str(row.id)).count() == 2


async def test_a_replayed_key_answers_as_the_first_request_and_reads_the_row(db, monkeypatch, manual_clock):
    t = await published_tender()
    bidder = person(await organisation(kinds=["bidder"]), Role.BIDDER)
    version = commitments.in_force(clock.now()).version
    first = await commitments.sign(bidder, t.lot.id, "registration", version, idempotency_key="c-1")

    manual_clock.advance(minutes=1)
    with statements(monkeypatch) as sent:
        replayed = await commitments.sign(bidder, t.lot.id, "registration", version, idempotency_key="c-1")

    assert _row(replayed) == _row(first)
    assert any('WHERE "id"' in q for q in _on(sent, "SELECT"))
    assert _on(sent, "INSERT") == []
    assert _on(sent, "UPDATE") == []
    assert await OutboxEvent.filter(type="credit.commitment_signed", object_id=str(first.id)).count() == 1
