"""Experts sign in by SMS code: one active expert per number, codes kept apart from users' codes,
a 4-hour token without refresh, and the lots of the expert's standing committees."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from domain.accounts import adapters, errors, experts, sessions, sms_codes
from domain.accounts.models import Expert, RefreshToken
from domain.accounts.states import OrgStatus
from domain.accounts.tokens import KeyRing, actor_from_claims
from domain.common import clock
from domain.common.actors import Actor, Role
from domain.common.errors import NotFound, RateLimited
from domain.common.models import OutboxEvent
from domain.evaluation.draw import DrawStatus, committee_lots
from domain.evaluation.models import ExpertDraw
from domain.publication.models import Lot, Project
from tests import factories as f
from tests.domain import factories as df

OPERATOR = Actor(user_id=1, org_id=1, roles=frozenset({Role.OPERATOR}))
ANYONE = Actor(ip="127.0.0.1")
_people = itertools.count(500)


def id_number() -> str:
    body = f"37020219800101{next(_people) % 1000:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


@pytest.fixture
async def sms(db: Any) -> AsyncIterator[adapters.LogSmsSender]:
    """The accounts services wired to a loaded key ring and a recording SMS sender."""
    ring = KeyRing()
    await ring.load()
    sender = adapters.LogSmsSender()
    before = (adapters.deps.keyring, adapters.deps.sms, adapters.deps.code_secret)
    adapters.configure(ring, sender, b"domain-test-secret-of-sufficient-length")
    yield sender
    adapters.configure(*before)


def last_code(sender: adapters.LogSmsSender, phone: str) -> str:
    text = [t for to, t in sender.sent if to == phone][-1]
    return re.search(r"(\d{6})", text).group(1)  # type: ignore[union-attr]


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


async def add(phone: str, name: str = "王工") -> Expert:
    return await experts.add_expert(OPERATOR, name, id_number(), phone, ["市政公用工程"], None)


async def test_a_phone_of_another_active_expert_is_refused(sms):
    # given an active expert
    phone = f.new_phone()
    first = await add(phone)

    # when another expert is added with the same number
    with pytest.raises(errors.ExpertPhoneTaken):
        await add(phone, "李工")

    # then nothing was added; once the first leaves the pool, the number is free again
    assert await Expert.filter(phone=phone).count() == 1
    first.is_active = False
    await first.save(update_fields=["is_active"])
    second = await add(phone, "李工")
    assert second.phone == phone


async def test_an_expert_signs_in_with_a_four_hour_token_and_no_refresh(sms, manual_clock):
    # given an expert who asked for a code
    phone = f.new_phone()
    expert = await add(phone)
    sent = await experts.request_expert_code(ANYONE, phone)

    # when the expert signs in with it
    session = await experts.login_expert(ANYONE, phone, last_code(sms, phone))

    # then the token is the expert's, lives 4 hours, and no refresh token exists
    assert sent.expires_at == clock.now() + sms_codes.SMS_CODE_TTL
    assert session.expert.id == expert.id
    assert session.access_expires_at - clock.now() == experts.EXPERT_SESSION_TTL == timedelta(hours=4)
    claims = adapters.deps.keyring.verify(session.access_token)
    actor = actor_from_claims(claims)
    assert (actor.expert_id, actor.roles, actor.user_id) == (expert.id, frozenset({Role.EXPERT}), None)
    assert actor.session_id
    assert await RefreshToken.all().count() == 0
    # and the sign-in is on the audit trail as the expert
    event = await OutboxEvent.get(type="expert.signed_in")
    assert (event.object_id, event.actor_label) == (str(expert.id), f"expert:{expert.id}")


async def test_a_wrong_code_costs_a_try_and_five_exhaust_it(sms):
    # given an expert with a code
    phone = f.new_phone()
    await add(phone)
    await experts.request_expert_code(ANYONE, phone)
    code = last_code(sms, phone)

    # when it is tried wrong five times
    for _ in range(4):
        with pytest.raises(errors.SmsCodeInvalid):
            await experts.login_expert(ANYONE, phone, wrong(code))
    with pytest.raises(errors.SmsCodeExhausted):
        await experts.login_expert(ANYONE, phone, wrong(code))

    # then even the right code is refused
    with pytest.raises(errors.SmsCodeExhausted):
        await experts.login_expert(ANYONE, phone, code)


async def test_a_code_expires_after_five_minutes(sms, manual_clock):
    phone = f.new_phone()
    await add(phone)
    await experts.request_expert_code(ANYONE, phone)
    manual_clock.advance(timedelta(minutes=5, seconds=1))
    with pytest.raises(errors.SmsCodeInvalid):
        await experts.login_expert(ANYONE, phone, last_code(sms, phone))


async def test_the_limits_per_number_cover_both_kinds_of_code(sms, manual_clock):
    # given a number that is both a user's and an expert's, who just asked for a user code
    user = await df.user(await df.organisation(OrgStatus.APPROVED))
    await add(user.phone)
    await sessions.request_sms_code(ANYONE, user.phone)

    # when an expert code is asked for at once
    with pytest.raises(RateLimited):
        await experts.request_expert_code(ANYONE, user.phone)

    # then a minute later it is sent
    manual_clock.advance(timedelta(seconds=61))
    await experts.request_expert_code(ANYONE, user.phone)
    assert len([to for to, _ in sms.sent if to == user.phone]) == 2


async def test_a_user_code_never_signs_in_an_expert_nor_the_other_way(sms, manual_clock):
    # given a number that is both a user's and an expert's
    user = await df.user(await df.organisation(OrgStatus.APPROVED))
    await add(user.phone)

    # when a user code is used for the expert sign-in, and an expert code for the user sign-in
    await sessions.request_sms_code(ANYONE, user.phone)
    user_code = last_code(sms, user.phone)
    with pytest.raises(errors.SmsCodeInvalid):
        await experts.login_expert(ANYONE, user.phone, user_code)
    manual_clock.advance(timedelta(seconds=61))
    await experts.request_expert_code(ANYONE, user.phone)
    expert_code = last_code(sms, user.phone)
    with pytest.raises(errors.SmsCodeInvalid):
        await sessions.login_with_sms_code(ANYONE, user.phone, expert_code)

    # then each code still works for its own purpose
    assert (await sessions.login_with_sms_code(ANYONE, user.phone, user_code)).user.id == user.id
    assert (await experts.login_expert(ANYONE, user.phone, expert_code)).expert.phone == user.phone


async def test_a_number_without_an_active_expert_gets_no_message_and_cannot_sign_in(sms, manual_clock):
    # given a number of nobody, and one of an expert who left the pool
    nobody = f.new_phone()
    gone = await add(f.new_phone())
    gone.is_active = False
    await gone.save(update_fields=["is_active"])

    # when codes are asked for
    answers = [await experts.request_expert_code(ANYONE, p) for p in (nobody, gone.phone)]

    # then the answers look the same as for an expert, no message is sent, and no code signs in
    assert all(a.expires_at == clock.now() + sms_codes.SMS_CODE_TTL for a in answers)
    assert sms.sent == []
    for phone in (nobody, gone.phone):
        with pytest.raises(errors.SmsCodeInvalid):
            await experts.login_expert(ANYONE, phone, "123456")


async def test_a_number_shared_by_two_active_experts_signs_in_neither(sms):
    # given two active experts with one number (written before numbers were unique)
    phone = f.new_phone()
    await add(phone)
    await Expert.create(name="李工", id_number_hash="x" * 64, phone=phone, specialties=["造价"], created_at=clock.now())
    await experts.request_expert_code(ANYONE, phone)
    code = last_code(sms, phone)

    # when the right code is given, and a wrong one
    with pytest.raises(errors.ExpertPhoneShared):
        await experts.login_expert(ANYONE, phone, code)

    # then nobody is signed in, the code is used up, and a wrong code says no more than it does elsewhere
    assert not await OutboxEvent.exists(type="expert.signed_in")
    with pytest.raises(errors.SmsCodeInvalid):
        await experts.login_expert(ANYONE, phone, code)


async def lot(n: int) -> Lot:
    now = clock.now()
    project = await Project.create(
        trade_code=f"P{n:021d}",
        name="道路维修工程",
        category="engineering_construction",
        region_code="370202",
        tenderer_id=1,
        created_at=now,
    )
    return await Lot.create(
        project=project,
        lot_no=1,
        trade_code=f"L{n:021d}",
        name=f"道路维修工程{n}标段",
        procedure="open_tender",
        estimated_price_fen=1,
        config={},
        status="evaluating",
        created_at=now,
        updated_at=now,
    )


async def draw(lot: Lot, round_no: int, selected: list[int], replaces: list[int] | None = None, **kw: Any) -> None:
    await ExpertDraw.create(
        lot=lot,
        round=round_no,
        specialty="市政公用工程",
        size=len(selected),
        commitment="0" * 64,
        committed_by=1,
        committed_at=clock.now(),
        selected=selected,
        replaces=replaces,
        status=kw.get("status", DrawStatus.REVEALED.value),
    )


async def test_the_lots_are_those_of_the_standing_committees(sms):
    # given an expert drawn for three lots, replaced on the second, and a committed round on a fourth
    me = await add(f.new_phone())
    other = await add(f.new_phone(), "李工")
    sits, replaced, later, pending = [await lot(n) for n in range(1, 5)]
    await draw(sits, 1, [other.id, me.id])
    await draw(replaced, 1, [me.id])
    await draw(replaced, 2, [other.id], replaces=[me.id])
    await draw(later, 1, [other.id])
    await draw(later, 2, [me.id], replaces=[other.id])
    await draw(pending, 1, [me.id], status=DrawStatus.COMMITTED.value)
    actor = Actor(expert_id=me.id, roles=frozenset({Role.EXPERT}))

    # when the expert's lots are read
    lots = await committee_lots((await experts.expert_of(actor)).id)

    # then they are the lots the expert sits on now, newest first
    assert [m.id for m in lots] == [later.id, sits.id]
    assert [m.id for m in await committee_lots(other.id)] == [
        replaced.id,
        sits.id,
    ]


async def test_an_expert_who_left_the_pool_is_nobody(sms):
    gone = await add(f.new_phone())
    gone.is_active = False
    await gone.save(update_fields=["is_active"])
    with pytest.raises(NotFound):
        await experts.expert_of(Actor(expert_id=gone.id, roles=frozenset({Role.EXPERT})))
    with pytest.raises(NotFound):
        await experts.expert_of(Actor(user_id=1, roles=frozenset({Role.EXPERT})))
