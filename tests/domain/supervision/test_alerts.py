"""Collusion alerts on the database: signals with their evidence, once per lot and signal, the queue of a
supervisor's categories and the status transitions."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from domain.access.models import NetworkFact
from domain.accounts.models import Organisation
from domain.common import chronograph, clock
from domain.common.actors import Actor, Role
from domain.common.errors import InvalidInput, NotFound
from domain.common.models import OutboxEvent
from domain.deposits.models import DepositAccount
from domain.guarantees.models import Guarantee
from domain.publication.models import Lot
from domain.registration import services as registration
from domain.registration.models import Registration
from domain.results.models import Award
from domain.supervision import alerts
from domain.supervision.alerts import AlertStatus, Signal, Thresholds, price_findings
from domain.supervision.consumer import SupervisionConsumer, lot_to_check
from domain.supervision.models import CollusionAlert
from domain.tendering import opening
from domain.tendering.models import SealedBid
from mobile_contract.sealed_bid import new_key, seal
from tests.domain.factories import organisation
from tests.support import commitments as committed
from tests.support.tendering import published_tender

SUPERVISOR = Actor(
    user_id=9001,
    org_id=9001,
    roles=frozenset({Role.SUPERVISOR}),
    supervised_categories=frozenset({"engineering_construction"}),
)
OTHER_SUPERVISOR = replace(
    SUPERVISOR, user_id=9002, org_id=9002, supervised_categories=frozenset({"government_procurement"})
)


def test_prices_within_half_a_percent_of_each_other_are_a_band():
    # given / when
    found = price_findings({1: 100_000_000, 2: 100_400_000}, 0)
    # then
    assert [f.signal for f in found] == [Signal.PRICE_BAND]
    assert found[0].evidence[0]["spread"] == pytest.approx(400_000 / 100_400_000, abs=1e-6)


def test_equally_spaced_prices_and_prices_hugging_the_estimate_are_signals():
    spaced = price_findings({1: 90_000_000, 2: 95_000_000, 3: 100_000_000}, 0)
    near = price_findings({1: 99_800_000, 2: 99_600_000}, 99_700_000)
    assert [f.signal for f in spaced] == [Signal.PRICE_SPACING]
    assert Signal.PRICE_NEAR_ESTIMATE in [f.signal for f in near]


def test_ordinary_prices_raise_nothing_and_thresholds_are_configurable():
    prices = {1: 90_000_000, 2: 95_500_000, 3: 99_000_000}
    assert price_findings(prices, 120_000_000) == []
    loose = Thresholds(price_band=0.1)
    assert [f.signal for f in price_findings(prices, 120_000_000, loose)] == [Signal.PRICE_BAND]


async def _decrypted_bid(lot_id: int, organisation_id: int, price_fen: int, at: datetime) -> SealedBid:
    """A bid as an opening leaves it (decrypted, its price known), written directly."""
    return await SealedBid.create(
        lot_id=lot_id,
        registration_id=0,
        organisation_id=organisation_id,
        submitted_by=0,
        ciphertext="-",
        ciphertext_sha256="0" * 64,
        size=1,
        status="decrypted",
        submitted_at=at,
        price_fen=price_fen,
    )


async def _opened_tender(manual_clock, bidders):
    """A tender opened and closed; `bidders` are (actor patch, price, files) per bidder."""
    t = await published_tender()
    orgs = []
    for patch, price, files in bidders:
        org = await organisation(kinds=["bidder"])
        actor = replace(Actor(user_id=70_000 + org.id, org_id=org.id, roles=frozenset({Role.BIDDER})), **patch)
        key = new_key()
        await committed.register(actor, t.lot.id)
        await committed.submit(actor, t.lot.id, seal(key, t.lot.trade_code, price, files))
        orgs.append((org, actor, key))
    deadline = registration.bid_deadline(t.lot)
    manual_clock.set(deadline + timedelta(seconds=1))
    await chronograph.fire_due()
    for _, actor, key in orgs:
        await opening.submit_key(actor, t.lot.id, key)
    manual_clock.advance(minutes=int(t.lot.config["decryption_window_minutes"]) + 1)
    await chronograph.fire_due()
    return t, [o for o, _, _ in orgs]


async def test_two_bidders_on_one_device_with_near_identical_prices_raise_alerts_with_evidence(db, manual_clock):
    # given two bidders acting from one phone and one address, bidding within 0.1%, and an honest third
    phone = {"device_id": "device-abc", "ip": "10.0.0.7"}
    shared = secrets.token_bytes(16)
    t, (a, b, c) = await _opened_tender(
        manual_clock,
        [
            (phone, 100_000_000, {"技术标.pdf": shared}),
            (phone, 100_100_000, {"技术标.pdf": shared}),
            ({"device_id": "device-xyz", "ip": "10.9.9.9"}, 93_000_000, {"技术标.pdf": secrets.token_bytes(16)}),
        ],
    )
    closed = await OutboxEvent.filter(type="opening.closed").get()
    # when the dispatcher hands the closed opening to the consumer
    await SupervisionConsumer().consume([closed])
    # then
    raised = {x.signal: x for x in await CollusionAlert.filter(lot_id=t.lot.id)}
    assert set(raised) == {Signal.SAME_DEVICE, Signal.SAME_NETWORK, Signal.IDENTICAL_DOCUMENTS}
    device = raised[Signal.SAME_DEVICE]
    assert [o["id"] for o in device.organisations] == sorted([a.id, b.id])
    assert device.evidence[0]["device_id"] == "device-abc"
    assert {act["action"] for act in device.evidence[0]["acts"]} == {
        "registration.create",
        "sealed_bid.submit",
        "opening.decrypt",
    }
    assert device.status == "new"
    assert device.category == "engineering_construction"
    assert await NetworkFact.filter(lot_id=t.lot.id, organisation_id=c.id).count() == 3
    event = await OutboxEvent.filter(type="supervision.alert_raised").first()
    assert event is not None
    assert event.audience["roles"] == []
    # and evaluating again raises nothing twice
    assert await alerts.evaluate_lot(t.lot.id) == []
    assert await CollusionAlert.filter(lot_id=t.lot.id).count() == 3


async def test_near_identical_prices_alone_raise_a_price_band_alert(db, manual_clock):
    # given three bidders on their own devices whose prices lie within 0.2% of each other
    t, _ = await _opened_tender(
        manual_clock,
        [
            ({"device_id": f"d{i}", "ip": f"10.0.0.{i}"}, price, {f"{i}.pdf": secrets.token_bytes(8)})
            for i, price in enumerate([90_000_000, 90_150_000, 90_200_000], start=1)
        ],
    )
    # when
    raised = await alerts.evaluate_lot(t.lot.id)
    # then
    assert [x.signal for x in raised] == [Signal.PRICE_BAND]
    assert len(raised[0].evidence[0]["prices"]) == 3


async def test_the_queue_and_the_status_changes_belong_to_the_categorys_supervisors(db, manual_clock):
    # given an alert of engineering construction
    phone = {"device_id": "device-abc"}
    t, _ = await _opened_tender(
        manual_clock,
        [(phone, 90_000_000, {"a.pdf": b"a"}), (phone, 95_500_000, {"b.pdf": b"b"}), ({}, 99_000_000, {})],
    )
    (raised,) = await alerts.evaluate_lot(t.lot.id)
    # when / then the other category's supervisor sees nothing
    assert await alerts.queue(OTHER_SUPERVISOR).count() == 0
    with pytest.raises(NotFound):
        await alerts.change_status(OTHER_SUPERVISOR, raised.id, AlertStatus.INVESTIGATING, "看看")
    assert [x.id for x in await alerts.queue(SUPERVISOR, AlertStatus.NEW)] == [raised.id]
    # a note is required, and transitions follow the table
    with pytest.raises(InvalidInput):
        await alerts.change_status(SUPERVISOR, raised.id, AlertStatus.INVESTIGATING, "  ")
    moved = await alerts.change_status(SUPERVISOR, raised.id, AlertStatus.INVESTIGATING, "调取设备信息")
    referred = await alerts.change_status(SUPERVISOR, raised.id, AlertStatus.REFERRED, "移送公安机关")
    with pytest.raises(alerts.AlertTransitionNotAllowed):
        await alerts.change_status(SUPERVISOR, raised.id, AlertStatus.DISMISSED, "撤销")
    assert moved.status == "investigating"
    assert referred.status == "referred"
    assert [(h["from"], h["to"], h["note"]) for h in referred.history] == [
        ("new", "investigating", "调取设备信息"),
        ("investigating", "referred", "移送公安机关"),
    ]
    assert await OutboxEvent.filter(type="supervision.alert_status_changed").count() == 2


async def test_bidders_that_always_bid_together_and_take_turns_winning_are_flagged(db, manual_clock):
    # given two bidders who bid together in three earlier lots, each winning some, and a bystander
    a, b, bystander = [await organisation(kinds=["bidder"]) for _ in range(3)]
    now = clock.now()
    for round_no, winner in enumerate([a, b, a]):
        past = await published_tender()
        for org in (a, b):
            await _decrypted_bid(past.lot.id, org.id, 90_000_000 + round_no, now)
        await Award.create(
            lot_id=past.lot.id,
            candidate_id=0,
            organisation_id=winner.id,
            price_fen=90_000_000,
            confirmation_no=f"C-{past.lot.id}",
            status="awarded",
            awarded_at=now,
            contract_due_at=now + timedelta(days=30),
            updated_at=now,
        )
    current = await published_tender()
    for org, price in ((a, 80_000_000), (b, 85_000_000), (bystander, 99_000_000)):
        await _decrypted_bid(current.lot.id, org.id, price, now)
    # when
    raised = await alerts.evaluate_lot(current.lot.id)
    # then
    assert [x.signal for x in raised] == [Signal.BID_ROTATION]
    assert [o["id"] for o in raised[0].organisations] == sorted([a.id, b.id])
    assert len(raised[0].evidence[0]["lotsTogether"]) == 4
    assert {w["organisationId"] for w in raised[0].evidence[0]["winners"]} == {a.id, b.id}


def test_the_consumer_checks_a_lot_when_its_opening_closes_or_its_auction_ends():
    def event(type_: str, **payload: object) -> OutboxEvent:
        return OutboxEvent(type=type_, outcome="success", payload={"lot_id": 7, **payload})

    assert lot_to_check(event("opening.closed")) == 7
    assert lot_to_check(event("auction.phase_changed", phase="sold")) == 7
    assert lot_to_check(event("auction.phase_changed", phase="failed")) == 7
    assert lot_to_check(event("auction.phase_changed", phase="timed")) is None
    assert lot_to_check(event("opening.started")) is None


# ---------------------------------------------------------------- one account, one person


async def _secured_tender() -> tuple[Any, list[Organisation]]:
    """A tender asking security, and four registered bidders (none has paid yet)."""
    t = await published_tender({"deposit_required": True})
    orgs = []
    for _ in range(4):
        org = await organisation(kinds=["bidder"])
        await committed.register(
            Actor(user_id=80_000 + org.id, org_id=org.id, roles=frozenset({Role.BIDDER})), t.lot.id
        )
        orgs.append(org)
    return t, orgs


async def _deposit_paid(org: Organisation, account: str) -> DepositAccount:
    deposit = await DepositAccount.get(organisation_id=org.id)
    deposit.payer_account, deposit.status, deposit.paid_fen = account, "paid", deposit.amount_due_fen
    await deposit.save()
    return deposit


async def _guarantee(lot_id: int, org: Organisation, account: str, status: str, letter_no: str | None) -> Guarantee:
    now = clock.now()
    reg = await Registration.get(lot_id=lot_id, organisation_id=org.id)
    return await Guarantee.create(
        lot_id=lot_id,
        registration_id=reg.id,
        applicant_id=org.id,
        guarantor_id=0,
        beneficiary_id=0,
        amount_fen=2_000_000,
        valid_until=now + timedelta(days=120),
        status=status,
        letter_no=letter_no,
        payer_account=account,
        applied_by=0,
        applied_at=now,
        created_at=now,
        updated_at=now,
    )


async def test_a_deposit_and_another_bidders_guarantee_premium_from_one_account_are_flagged(db, manual_clock):
    # given A's deposit paid from an account the bank writes with spaces, B's guarantee premium paid from it
    # (issued), C's declined application naming it too, and D's deposit from an account of its own
    t, (a, b, c, d) = await _secured_tender()
    deposit = await _deposit_paid(a, "6222 0216 0001 2345 678")
    premium = await _guarantee(t.lot.id, b, "6222021600012345678", "issued", "BH2026-000017")
    await _guarantee(t.lot.id, c, "6222021600012345678", "declined", None)
    await _deposit_paid(d, "6217000000000000001")
    # when
    raised = await alerts.evaluate_lot(t.lot.id)
    # then one alert names A and B, with the instrument each paid and the account they share
    assert [x.signal for x in raised] == [Signal.SHARED_PAYMENT_ACCOUNT]
    assert [o["id"] for o in raised[0].organisations] == sorted([a.id, b.id])
    (finding,) = raised[0].evidence
    assert finding["payerAccount"] == "6222021600012345678"
    assert finding["instruments"] == ["deposit", "guarantee"]
    assert finding["payments"] == [
        {"instrument": "deposit", "organisationId": a.id, "reference": deposit.reference},
        {
            "instrument": "guarantee",
            "organisationId": b.id,
            "applicationNo": str(premium.id),
            "letterNo": "BH2026-000017",
            "guarantorId": 0,
        },
    ]


async def test_one_account_paying_for_two_guarantees_is_flagged_and_one_bidders_own_instruments_are_not(
    db, manual_clock
):
    # given A paid its deposit and its guarantee premium from one account, B and C their premiums from another
    t, (a, b, c, _) = await _secured_tender()
    await _deposit_paid(a, "6222021600000000001")
    await _guarantee(t.lot.id, a, "6222021600000000001", "released", "BH-1")
    await _guarantee(t.lot.id, b, "38010101040012345", "issued", "BH-2")
    await _guarantee(t.lot.id, c, "3801-0101-0400-12345", "claimed", "BH-3")
    # when
    raised = await alerts.evaluate_lot(t.lot.id)
    # then only B and C are linked
    assert [o["id"] for o in raised[0].organisations] == sorted([b.id, c.id])
    assert [f["instruments"] for f in raised[0].evidence] == [["guarantee"]]


def test_names_are_compared_without_width_spaces_case_or_dot_variants():
    assert alerts.person_key(" 王　伟 ") == alerts.person_key("王伟") == "王伟"
    assert alerts.person_key("ＬＩ Ｍｉｎｇ") == alerts.person_key("li ming") == "liming"
    assert (
        alerts.person_key("阿卜杜・热合曼") == alerts.person_key("阿卜杜•热合曼") == alerts.person_key("阿卜杜·热合曼")
    )
    assert alerts.person_key("王伟") != alerts.person_key("王玮")


async def _tender_bid_by(manual_clock, bidders):
    """An opened tender whose bidders are (organisation, actor patch); their prices far apart."""
    t = await published_tender()
    for n, (org, patch) in enumerate(bidders):
        actor = replace(Actor(user_id=90_000 + org.id, org_id=org.id, roles=frozenset({Role.BIDDER})), **patch)
        await committed.register(actor, t.lot.id)
        await committed.submit(actor, t.lot.id, seal(new_key(), t.lot.trade_code, 60_000_000 + n * 7_000_000, {}))
    return t


async def test_one_contact_person_across_bidders_is_flagged_only_where_something_else_links_them(db, manual_clock):
    # given three bidders whose contact is 王伟 (typed three ways), two of them on one phone, a fourth named
    # otherwise on that phone too
    a = await organisation(contact_name="王伟")
    b = await organisation(contact_name="王 伟")
    c = await organisation(contact_name="王伟 ")
    d = await organisation(contact_name="李娜")
    phone = {"device_id": "device-77", "ip": None}
    t = await _tender_bid_by(
        manual_clock,
        [(a, phone), (b, phone), (c, {"device_id": "device-c", "ip": None}), (d, phone)],
    )
    # when
    raised = {x.signal: x for x in await alerts.evaluate_lot(t.lot.id)}
    # then the name alert names A and B, with the device that links them, and not C who only shares the name
    named = raised[Signal.SHARED_CONTACT_NAME]
    assert [o["id"] for o in named.organisations] == sorted([a.id, b.id])
    (finding,) = named.evidence
    assert finding["contactName"] == "王伟"
    assert finding["names"] == {str(a.id): "王伟", str(b.id): "王 伟"}
    assert finding["pairs"] == [
        {"organisations": sorted([a.id, b.id]), "links": [{"kind": "deviceId", "value": "device-77"}]}
    ]
    assert [o["id"] for o in raised[Signal.SAME_DEVICE].organisations] == sorted([a.id, b.id, d.id])


async def test_a_shared_name_alone_raises_nothing_unless_the_threshold_says_so(db, manual_clock):
    # given two bidders with the same contact name and nothing else in common
    a = await organisation(contact_name="张伟")
    b = await organisation(contact_name="张伟")
    t = await _tender_bid_by(
        manual_clock, [(a, {"device_id": "d-a", "ip": None}), (b, {"device_id": "d-b", "ip": None})]
    )
    lot = await Lot.get(id=t.lot.id)
    # when / then
    assert await alerts.findings(lot) == []
    on_name = await alerts.findings(lot, Thresholds(contact_name_links=0))
    assert [(f.signal, sorted(f.organisations)) for f in on_name] == [
        (Signal.SHARED_CONTACT_NAME, sorted([a.id, b.id]))
    ]
    assert on_name[0].evidence[0]["pairs"][0]["links"] == []


async def test_a_shared_name_with_a_shared_account_and_a_stricter_threshold(db, manual_clock):
    # given two bidders named alike whose deposits came from one account, on phones of their own
    t, (a, b, _, _) = await _secured_tender()
    for org in (a, b):
        org.contact_name = "刘洋"
        await org.save()
        await _decrypted_bid(t.lot.id, org.id, 50_000_000 + org.id * 3_000_000, clock.now())
        await _deposit_paid(org, "6222021600000000009")
    lot = await Lot.get(id=t.lot.id)
    # when / then one kind of link is enough by default, two are asked for by a stricter threshold
    signals = {f.signal for f in await alerts.findings(lot)}
    assert signals == {Signal.SHARED_PAYMENT_ACCOUNT, Signal.SHARED_CONTACT_NAME}
    strict = {f.signal for f in await alerts.findings(lot, Thresholds(contact_name_links=2))}
    assert strict == {Signal.SHARED_PAYMENT_ACCOUNT}
