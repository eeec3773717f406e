"""Guarantee services on the real database: races on a letter number and on applications, release
once however often the lot's event arrives, expiry by the chronograph, and the party checks."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from domain.accounts import keys
from domain.accounts.models import Organisation, PartnerKey
from domain.common import clock
from domain.common.actors import Actor, Role
from domain.common.chronograph import fire_due
from domain.common.errors import IdempotencyKeyReused, InvalidTransition, NotFound, PermissionDenied
from domain.common.ids import InvalidBankAccount
from domain.common.models import OutboxEvent
from domain.guarantees import claims, issuance, reading, release, shared
from domain.guarantees.errors import (
    ClaimTooEarly,
    GuaranteeExists,
    LetterMalformed,
    NotRegistered,
    SignatureInvalid,
)
from domain.guarantees.models import Guarantee
from domain.publication import announcements, projects
from domain.publication.models import Lot
from domain.registration import services as registration
from tests.domain.factories import organisation
from tests.support import commitments as committed
from tests.support.bank import new_key

AMOUNT = 2_000_000  # 2% of 1,000,000 yuan
_users = itertools.count(2000)
_letters = itertools.count(1)


def actor_of(org: Organisation, role: Role) -> Actor:
    return Actor(user_id=next(_users), org_id=org.id, roles=frozenset({role}))


@dataclass
class World:
    lot: Lot
    project_id: int
    tenderer: Actor
    guarantor: Actor
    private_jwk: dict[str, Any]
    kid: str
    deadline: datetime

    @property
    def valid_until(self) -> datetime:
        return self.deadline + timedelta(days=90)


async def world(**config: Any) -> World:
    """An open tender of 1,000,000 yuan (bids due in 20 days) and a guarantor with a registered letter key."""
    tenderer = actor_of(await organisation(kinds=["tenderer"]), Role.TENDERER)
    deadline = clock.now() + timedelta(days=20)
    form = projects.ProjectForm(
        name="青岛市市北区管网改造工程",
        category="engineering_construction",
        region_code="370200",
        lots=[
            projects.LotForm(
                name="第1标段",
                procedure="open_tender",
                estimated_price_fen=100_000_000,
                config={"bid_deadline": deadline, **config},
            )
        ],
    )
    project = await projects.create_project(tenderer, form)
    lot = await Lot.get(project_id=project.id)
    tender = announcements.AnnouncementForm(
        project_id=project.id, type="tender", title="招标公告", body_html="<p>招标</p>", lot_id=lot.id
    )
    await announcements.publish_announcement(tenderer, (await announcements.draft_announcement(tenderer, tender)).id)
    guarantor = actor_of(await organisation(kinds=["guarantor"]), Role.GUARANTOR)
    private = new_key()
    key = await keys.register_key(guarantor, "guarantee_letter", {k: v for k, v in private.items() if k != "d"})
    return World(await Lot.get(id=lot.id), project.id, tenderer, guarantor, private, key.kid, deadline)


async def bidder(w: World) -> Actor:
    actor = actor_of(await organisation(kinds=["bidder"]), Role.BIDDER)
    await committed.register(actor, w.lot.id)
    return actor


async def applied(w: World) -> tuple[Actor, Guarantee]:
    actor = await bidder(w)
    return actor, await issuance.apply(actor, w.lot.id, w.guarantor.org_id or 0, AMOUNT, w.valid_until)


def party(org: Organisation) -> dict[str, str]:
    return {"creditCode": org.credit_code, "name": org.name}


async def letter(w: World, g: Guarantee, private_jwk: dict[str, Any] | None = None, **changes: Any) -> str:
    orgs = {o.id: o for o in await Organisation.filter(id__in=[g.applicant_id, g.beneficiary_id, g.guarantor_id])}
    payload = {
        "letterNo": f"L{next(_letters):08d}",
        "applicationNo": shared.application_no(g),
        "lotTradeCode": w.lot.trade_code,
        "applicant": party(orgs[g.applicant_id]),
        "beneficiary": party(orgs[g.beneficiary_id]),
        "guarantor": party(orgs[g.guarantor_id]),
        "amountFen": g.amount_fen,
        "currency": "CNY",
        "validFrom": clock.now().isoformat(),
        "validUntil": g.valid_until.isoformat(),
        "issuedAt": clock.now().isoformat(),
        **changes,
    }
    return keys.sign(payload, private_jwk or w.private_jwk, w.kid)


async def issued(w: World) -> tuple[Actor, Guarantee]:
    actor, g = await applied(w)
    return actor, await issuance.issue(w.guarantor, g.id, await letter(w, g))


async def test_two_letters_racing_for_one_letter_number_issue_one(db, manual_clock):
    # given two applications and two letters carrying the same letter number
    w = await world()
    (_, first), (_, second) = await applied(w), await applied(w)
    tokens = [await letter(w, g, letterNo="BH-SAME-1") for g in (first, second)]
    # when both are issued at the same moment
    results = await asyncio.gather(
        *(issuance.issue(w.guarantor, g.id, t) for g, t in zip((first, second), tokens, strict=True)),
        return_exceptions=True,
    )
    # then one is issued and the other refused, with nothing kept of it
    assert sorted(type(r).__name__ for r in results) == ["Guarantee", "LetterNoTaken"]
    rows = await Guarantee.all().order_by("id")
    assert sorted(r.status for r in rows) == ["applied", "issued"]
    assert [r.letter_no for r in rows if r.status == "applied"] == [None]
    assert await OutboxEvent.filter(type="guarantee.issued").count() == 1


async def test_one_bidder_applying_twice_at_once_gets_one_application(db, manual_clock):
    # given
    w = await world()
    actor = await bidder(w)
    # when the bidder's two phones apply at the same moment
    results = await asyncio.gather(
        *(issuance.apply(actor, w.lot.id, w.guarantor.org_id or 0, AMOUNT, w.valid_until) for _ in range(2)),
        return_exceptions=True,
    )
    # then
    assert sorted(type(r).__name__ for r in results) == ["Guarantee", "GuaranteeExists"]
    assert await Guarantee.all().count() == 1


async def test_the_same_letter_sent_twice_is_accepted_once(db, manual_clock):
    # given an application and its letter
    w = await world()
    _, g = await applied(w)
    token = await letter(w, g)
    # when the guarantor's system sends the letter twice, without an idempotency key
    first = await issuance.issue(w.guarantor, g.id, token)
    again = await issuance.issue(w.guarantor, g.id, token)
    # then the second returns the guarantee as issued, with the same code; one event
    assert (first.status, again.status) == ("issued", "issued")
    assert first.verification_code == again.verification_code
    assert first.next_check_at == g.valid_until
    assert await OutboxEvent.filter(type="guarantee.issued").count() == 1
    # and another letter for the issued guarantee is refused
    with pytest.raises(InvalidTransition):
        await issuance.issue(w.guarantor, g.id, await letter(w, g))


async def test_a_revoked_key_a_future_letter_and_a_withdrawn_bidder_are_refused(db, manual_clock):
    # given three applications
    w = await world()
    _, revoked_case = await applied(w)
    _, future_case = await applied(w)
    withdrawn_bidder, withdrawn_case = await applied(w)
    token = await letter(w, revoked_case)
    future = await letter(w, future_case, issuedAt=(clock.now() + timedelta(minutes=5)).isoformat())
    # when / then: a letter that claims to be issued in 5 minutes, a bidder that withdrew meanwhile,
    # and a letter signed before its key was revoked
    with pytest.raises(LetterMalformed) as caught:
        await issuance.issue(w.guarantor, future_case.id, future)
    assert caught.value.field == "issuedAt"
    await registration.withdraw(withdrawn_bidder, w.lot.id)
    with pytest.raises(NotRegistered):
        await issuance.issue(w.guarantor, withdrawn_case.id, await letter(w, withdrawn_case))
    await keys.revoke_key(w.guarantor, (await PartnerKey.get(kid=w.kid)).id)
    with pytest.raises(SignatureInvalid):
        await issuance.issue(w.guarantor, revoked_case.id, token)
    assert {g.status for g in await Guarantee.all()} == {"applied"}


async def test_only_the_parties_act_and_a_claim_waits_for_the_deadline(db, manual_clock):
    # given an issued guarantee of a lot whose registrants are not secret
    w = await world(registrants_secret=False)
    applicant, g = await issued(w)
    stranger = actor_of(await organisation(kinds=["tenderer"]), Role.TENDERER)
    # when / then: the applicant may not claim, a stranger may not see it, the tenderer must wait
    with pytest.raises(PermissionDenied):
        await claims.claim(applicant, g.id, AMOUNT, "撤销投标")
    with pytest.raises(NotFound):
        await claims.claim(stranger, g.id, AMOUNT, "撤销投标")
    with pytest.raises(ClaimTooEarly) as caught:
        await claims.claim(w.tenderer, g.id, AMOUNT, "撤销投标")
    assert caught.value.params["deadline"] == w.deadline
    with pytest.raises(PermissionDenied):
        await issuance.decline(applicant, g.id, "不是我能拒绝的")
    # and the tenderer sees the issued guarantee at once, and was told of it
    assert [r.id for r in await (await reading.lot_guarantees(w.tenderer, w.lot.id))] == [g.id]
    [event] = await OutboxEvent.filter(type="guarantee.issued")
    assert w.tenderer.org_id in event.audience["orgs"]


async def test_release_happens_once_however_often_the_result_arrives_and_a_claimed_one_waits(db, manual_clock):
    # given one issued, one claimed and one pending guarantee
    w = await world()
    _, plain = await issued(w)
    _, claimed = await issued(w)
    _, pending = await applied(w)
    manual_clock.advance(timedelta(days=21))
    await claims.claim(w.tenderer, claimed.id, AMOUNT, "中标人拒签合同")
    # when the lot's events arrive: awarded (no result yet), then terminated three times
    await release.on_lot_status_changed(w.lot.id, "awarded")
    before = (await Guarantee.get(id=plain.id)).status
    for _ in range(3):
        await release.on_lot_status_changed(w.lot.id, "terminated")
    await release.on_lot_status_changed(w.lot.id, "no-such-status")
    # then
    assert before == "issued"
    statuses = {g.id: g.status for g in await Guarantee.all()}
    assert statuses == {plain.id: "released", claimed.id: "claimed", pending.id: "applied"}
    [event] = await OutboxEvent.filter(type="guarantee.released")
    assert event.payload["lot_status"] == "terminated"
    assert event.actor_label == "client:system"


async def test_the_chronograph_expires_issued_guarantees_only(db, manual_clock):
    # given an issued guarantee, a claimed one, and an application never decided
    w = await world()
    _, plain = await issued(w)
    _, claimed = await issued(w)
    _, pending = await applied(w)
    manual_clock.advance(timedelta(days=21))
    await claims.claim(w.tenderer, claimed.id, AMOUNT, "中标人拒签合同")
    # when the validity ends and the chronograph runs twice
    manual_clock.set(w.valid_until + timedelta(seconds=1))
    await fire_due()
    await fire_due()
    # then only the issued one expired, once; nothing is left due
    statuses = {g.id: g.status for g in await Guarantee.all()}
    assert statuses == {plain.id: "expired", claimed.id: "claimed", pending.id: "applied"}
    assert await OutboxEvent.filter(type="guarantee.expired").count() == 1
    assert await Guarantee.filter(next_check_at__isnull=False).count() == 0
    # and the expired letter still checks out as expired, an application has nothing to check
    row = await Guarantee.get(id=plain.id)
    found = await reading.check_authenticity(row.letter_no or "", row.verification_code or "")
    assert found is not None
    assert found.status == "expired"
    assert await reading.check_authenticity("", "") is None


async def test_a_pending_application_blocks_another_until_declined(db, manual_clock):
    # given
    w = await world()
    actor, g = await applied(w)
    # when / then
    with pytest.raises(GuaranteeExists):
        await issuance.apply(actor, w.lot.id, w.guarantor.org_id or 0, AMOUNT, w.valid_until)
    await issuance.decline(w.guarantor, g.id, "反担保不足")
    again = await issuance.apply(actor, w.lot.id, w.guarantor.org_id or 0, AMOUNT, w.valid_until)
    assert again.id != g.id
    assert (await Guarantee.get(id=g.id)).decline_reason == "反担保不足"


async def test_the_premiums_payer_account_is_kept_as_digits_and_is_part_of_the_request(db, manual_clock):
    # given a registered bidder
    w = await world()
    actor = await bidder(w)
    apply = issuance.apply
    # when it applies naming the account loosely typed, and retries the key naming another account
    g = await apply(
        actor, w.lot.id, w.guarantor.org_id or 0, AMOUNT, w.valid_until, "k-1", payer_account="6222 0216 0001"
    )
    with pytest.raises(IdempotencyKeyReused):
        await apply(
            actor, w.lot.id, w.guarantor.org_id or 0, AMOUNT, w.valid_until, "k-1", payer_account="62220216 0002"
        )
    with pytest.raises(InvalidBankAccount):
        await apply(actor, w.lot.id, w.guarantor.org_id or 0, AMOUNT, w.valid_until, payer_account="账号 6222")
    # then the account is stored as its digits, readable by the parties and supervision only
    assert g.payer_account == "622202160001"
    assert await shared.sees_payer(actor, g)
    assert await shared.sees_payer(w.guarantor, g)
    assert not await shared.sees_payer(w.tenderer, g)
    assert not await shared.sees_payer(await bidder(w), g)
