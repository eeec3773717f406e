"""Credit commitment text versions (信用承诺书): a commitment is signed on the version in force when it is signed, and
each stage (registration, the sealed bid) checks that its own commitment was signed on the version in force at that
stage. A new version published ahead takes force at its moment: a bid-stage commitment signed on the old one no longer
lets a bid through (CREDIT_COMMITMENT_STALE) until the bidder signs the new one; the registration made under the old
version stands and its commitment stays on record."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.common import clock
from domain.common.actors import Role
from domain.credit import commitment_texts
from domain.credit.models import CreditCommitment
from domain.credit_public import commitments
from domain.credit_public.errors import CommitmentVersionOutdated
from domain.registration import services as registration
from domain.registration.errors import CreditCommitmentStale
from domain.tendering import services as tendering
from domain.tendering.models import SealedBid
from mobile_contract.sealed_bid import new_key, seal
from tests.domain.factories import organisation
from tests.support.tendering import person, published_tender


def _sealed(trade_code: str, price: int) -> str:
    return seal(new_key(), trade_code, price, {"技术标.pdf": b"technical", "商务标.pdf": b"commercial"})


async def test_a_new_text_version_makes_an_earlier_commitment_stale_for_later_stages(db, manual_clock, monkeypatch):
    # given an open tender (信用承诺制 by default), a bidder registered with both commitments signed on version 1, and
    # another bidder that signed its registration commitment on version 1 but has not registered yet
    t = await published_tender()
    first = person(await organisation(kinds=["bidder"]), Role.BIDDER)
    second = person(await organisation(kinds=["bidder"]), Role.BIDDER)
    await commitments.sign(first, t.lot.id, "registration", 1)
    await registration.register(first, t.lot.id)
    await commitments.sign(first, t.lot.id, "bid", 1)
    await commitments.sign(second, t.lot.id, "registration", 1)

    # when the platform publishes version 2, in force from tomorrow
    tomorrow = clock.now() + timedelta(days=1)
    second_text = commitment_texts.CommitmentText(2, "公共资源交易信用承诺书", "第二版承诺内容。", tomorrow)
    monkeypatch.setitem(commitment_texts.TEXTS, 2, second_text)
    # then until then version 1 is still the one in force and signed
    assert commitments.in_force(clock.now()).version == 1
    with pytest.raises(CommitmentVersionOutdated):
        await commitments.sign(second, t.lot.id, "bid", 2)

    # when version 2 is in force and the bidders go on: a bid sealed with the old bid-stage commitment, a registration
    # with the old registration-stage one, and signing on the old version
    manual_clock.advance(days=1, seconds=1)
    with pytest.raises(CreditCommitmentStale) as stale_bid:
        await tendering.submit(first, t.lot.id, _sealed(t.lot.trade_code, 9_000_000))
    with pytest.raises(CreditCommitmentStale) as stale_registration:
        await registration.register(second, t.lot.id)
    with pytest.raises(CommitmentVersionOutdated) as outdated:
        await commitments.sign(second, t.lot.id, "registration", 1)

    # then each is refused with the versions named, and nothing was stored
    assert (stale_bid.value.code, stale_bid.value.params["stage"]) == ("CREDIT_COMMITMENT_STALE", "bid")
    assert (stale_bid.value.params["signed"], stale_bid.value.params["current"]) == (1, 2)
    assert stale_registration.value.params["stage"] == "registration"
    assert outdated.value.params["current"] == 2
    assert not await SealedBid.filter(lot_id=t.lot.id).exists()
    assert await registration.active(t.lot.id, second.org_id) is None
    # and the first bidder's registration made under version 1 stands, its commitments kept as signed
    assert await registration.active(t.lot.id, first.org_id) is not None
    kept = await CreditCommitment.filter(organisation_id=first.org_id, lot_id=t.lot.id).order_by("stage")
    assert [(c.stage, c.version) for c in kept] == [("bid", 1), ("registration", 1)]

    # when they sign the commitments on version 2 and go on
    await commitments.sign(first, t.lot.id, "bid", 2)
    bid = await tendering.submit(first, t.lot.id, _sealed(t.lot.trade_code, 9_000_000))
    await commitments.sign(second, t.lot.id, "registration", 2)
    registered = await registration.register(second, t.lot.id)

    # then both pass, on the new version's text
    assert bid.status == "submitted"
    assert registered.organisation_id == second.org_id
    renewed = await CreditCommitment.get(organisation_id=first.org_id, lot_id=t.lot.id, stage="bid")
    assert (renewed.version, renewed.text_sha256) == (2, commitment_texts.TEXTS[2].sha256)
