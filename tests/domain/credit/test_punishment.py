"""Credit records and joint punishment (一处受罚，处处受限) on the real database."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from domain.common.actors import Actor, Role
from domain.common.errors import IdempotencyKeyReused, InvalidInput, NotFound, PermissionDenied
from domain.common.models import OutboxEvent
from domain.credit import services as credit
from domain.credit.models import CreditRecord, JointPunishment
from domain.credit.services import PunishmentAlreadyLifted
from tests.domain import factories as df

OPERATOR = Actor(user_id=11, org_id=1, roles=frozenset({Role.OPERATOR}))
SUPERVISOR = Actor(user_id=12, org_id=2, roles=frozenset({Role.SUPERVISOR}))
BIDDER = Actor(user_id=13, org_id=3, roles=frozenset({Role.BIDDER}))


async def punish(actor: Actor, org_id: int, starts_at: datetime, ends_at: datetime | None, key: str | None = None):
    return await credit.list_punishment(
        actor, org_id, "串通投标", "青岛市住房和城乡建设局", "青建罚〔2026〕12号", starts_at, ends_at, key
    )


async def test_keepers_add_credit_records(db, manual_clock):
    # given an organisation
    org = await df.organisation()

    # when an operator adds a bad record and a supervisor a good one
    bad = await credit.add_credit_record(OPERATOR, org.id, "bad", "bidding", " 围标串标 ", "青岛市公共资源交易中心")
    manual_clock.advance(minutes=1)
    good = await credit.add_credit_record(SUPERVISOR, org.id, "good", "contract", "按期履约", "青岛市财政局")

    # then both are on record, newest first, with who recorded them, and each was announced
    assert [(r.id, r.kind) for r in await credit.records_of(org.id)] == [(good.id, "good"), (bad.id, "bad")]
    assert (bad.description, bad.recorded_by, bad.recorded_at) == (
        "围标串标",
        11,
        manual_clock.now() - timedelta(minutes=1),
    )
    assert good.recorded_by == 12
    recorded = await OutboxEvent.filter(type="credit.recorded").order_by("id")
    assert [(e.object_id, e.actor_label, e.payload) for e in recorded] == [
        (str(bad.id), "user:11", {"organisation_id": org.id, "kind": "bad"}),
        (str(good.id), "user:12", {"organisation_id": org.id, "kind": "good"}),
    ]
    assert recorded[0].audience == {"orgs": [org.id], "users": [], "roles": ["operator", "supervisor"], "public": False}


async def test_a_credit_record_replay_returns_the_same_record(db):
    org = await df.organisation()
    first = await credit.add_credit_record(OPERATOR, org.id, "bad", "bidding", "围标", "中心", "cr-1")
    again = await credit.add_credit_record(OPERATOR, org.id, "bad", "bidding", "围标", "中心", "cr-1")
    assert again.id == first.id
    assert await CreditRecord.all().count() == 1
    with pytest.raises(IdempotencyKeyReused):
        await credit.add_credit_record(OPERATOR, org.id, "good", "bidding", "围标", "中心", "cr-1")


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("neutral", "bidding", "x", "y"), "kind"),
        (("bad", " ", "x", "y"), "category"),
        (("bad", "bidding", "", "y"), "description"),
        (("bad", "bidding", "x", "y" * 201), "source"),
    ],
)
async def test_credit_record_input_is_checked(db, args, field):
    org = await df.organisation()
    with pytest.raises(InvalidInput) as raised:
        await credit.add_credit_record(OPERATOR, org.id, *args)
    assert raised.value.field == field
    assert await CreditRecord.all().count() == 0


async def test_a_credit_record_for_an_unknown_organisation(db):
    with pytest.raises(NotFound):
        await credit.add_credit_record(OPERATOR, 999_999, "bad", "bidding", "围标", "中心")


async def test_bidders_may_not_keep_credit_and_the_refusal_is_audited(db, manual_clock):
    # given an organisation and a bidder
    org = await df.organisation()
    start = manual_clock.now()

    # when the bidder tries every credit operation
    with pytest.raises(PermissionDenied):
        await credit.add_credit_record(BIDDER, org.id, "good", "bidding", "自评", "本公司")
    with pytest.raises(PermissionDenied):
        await punish(BIDDER, org.id, start, None)
    entry = await punish(OPERATOR, org.id, start, None)
    with pytest.raises(PermissionDenied):
        await credit.lift_punishment(BIDDER, entry.id, "已整改")

    # then nothing changed, and each refusal is recorded as a failure
    assert await CreditRecord.all().count() == 0
    assert (await JointPunishment.get(id=entry.id)).lifted_at is None
    failures = await OutboxEvent.filter(outcome="failure").order_by("id")
    assert [(e.type, e.object_id, e.actor_label, e.payload) for e in failures] == [
        ("credit.record", "", "user:13", {"code": "PERMISSION_DENIED"}),
        ("punishment.list", "", "user:13", {"code": "PERMISSION_DENIED"}),
        ("punishment.lift", str(entry.id), "user:13", {"code": "PERMISSION_DENIED"}),
    ]


async def test_punishment_is_in_force_only_between_its_start_and_its_end(db, manual_clock):
    # given an organisation punished from tomorrow for 30 days
    org = await df.organisation()
    other = await df.organisation()
    starts = manual_clock.now() + timedelta(days=1)
    ends = starts + timedelta(days=30)

    # when the punishment is listed by a supervisor
    entry = await punish(SUPERVISOR, org.id, starts, ends)

    # then it is recorded with its window, and in force only inside it
    assert (entry.starts_at, entry.ends_at, entry.recorded_by, entry.lifted_at) == (starts, ends, 12, None)
    assert not await credit.is_punished(org.id)
    manual_clock.set(starts - timedelta(microseconds=1))
    assert not await credit.is_punished(org.id)
    manual_clock.set(starts)
    assert await credit.is_punished(org.id)
    assert [p.id for p in await credit.punishments_of(org.id, in_force_only=True)] == [entry.id]
    manual_clock.set(ends - timedelta(seconds=1))
    assert await credit.is_punished(org.id)
    manual_clock.set(ends)
    assert not await credit.is_punished(org.id)
    assert await credit.punishments_of(org.id, in_force_only=True) == []
    assert [p.id for p in await credit.punishments_of(org.id)] == [entry.id]

    # and another organisation is never affected
    manual_clock.set(starts)
    assert not await credit.is_punished(other.id)
    assert await credit.is_punished(org.id, now=starts + timedelta(days=2))
    assert not await credit.is_punished(org.id, now=ends)


async def test_an_open_ended_punishment_lasts_until_lifted(db, manual_clock):
    # given an organisation punished from now without an end
    org = await df.organisation()
    entry = await punish(OPERATOR, org.id, manual_clock.now(), None)
    manual_clock.advance(days=3650)
    assert await credit.is_punished(org.id)

    # when an operator lifts it after credit repair
    lifted = await credit.lift_punishment(OPERATOR, entry.id, " 已完成信用修复 ")

    # then it is no longer in force, and the reason and time are on record
    assert not await credit.is_punished(org.id)
    assert (lifted.lifted_at, lifted.lifted_reason) == (manual_clock.now(), "已完成信用修复")
    events = await OutboxEvent.filter(outcome="success").order_by("id").values_list("type", "object_id")
    assert events == [("punishment.listed", str(entry.id)), ("punishment.lifted", str(entry.id))]


async def test_lifting_twice_is_refused(db, manual_clock):
    # given a lifted punishment
    org = await df.organisation()
    entry = await punish(OPERATOR, org.id, manual_clock.now(), None)
    first = await credit.lift_punishment(SUPERVISOR, entry.id, "已整改")
    manual_clock.advance(hours=1)

    # when it is lifted again, by anyone, with any reason
    with pytest.raises(PunishmentAlreadyLifted) as raised:
        await credit.lift_punishment(OPERATOR, entry.id, "再次解除")

    # then the first lifting stands
    assert raised.value.code == "PUNISHMENT_ALREADY_LIFTED"
    again = await JointPunishment.get(id=entry.id)
    assert (again.lifted_at, again.lifted_reason) == (first.lifted_at, "已整改")
    assert await OutboxEvent.filter(type="punishment.lifted", outcome="success").count() == 1
    assert await OutboxEvent.filter(type="punishment.lift", outcome="failure").count() == 1


async def test_a_lift_replay_with_its_key_returns_the_lifted_entry(db, manual_clock):
    org = await df.organisation()
    entry = await punish(OPERATOR, org.id, manual_clock.now(), None)
    first = await credit.lift_punishment(OPERATOR, entry.id, "已整改", "lift-1")
    again = await credit.lift_punishment(OPERATOR, entry.id, "已整改", "lift-1")
    assert (again.id, again.lifted_at) == (first.id, first.lifted_at)
    assert await OutboxEvent.filter(type="punishment.lifted").count() == 1


async def test_failures_called_with_keywords_are_reported_as_themselves(db, manual_clock):
    # given a lifted punishment
    org = await df.organisation()
    entry = await punish(OPERATOR, org.id, manual_clock.now(), None)
    await credit.lift_punishment(OPERATOR, entry.id, "已整改")

    # when the service is called with keyword arguments and refuses
    with pytest.raises(PunishmentAlreadyLifted):
        await credit.lift_punishment(OPERATOR, punishment_id=entry.id, reason="再次解除")
    with pytest.raises(NotFound):
        await credit.lift_punishment(actor=OPERATOR, punishment_id=999_999, reason="不存在")

    # then the refusals are audited with the object they concern
    failures = await OutboxEvent.filter(outcome="failure").order_by("id").values_list("object_id", flat=True)
    assert failures == [str(entry.id), "999999"]


async def test_a_listing_replay_with_its_key_returns_the_same_row(db, manual_clock):
    # given an operator listing a punishment with an idempotency key
    org = await df.organisation()
    starts = manual_clock.now()

    # when the app sends it twice (the answer to the first was lost)
    first = await punish(OPERATOR, org.id, starts, starts + timedelta(days=90), key="pun-1")
    manual_clock.advance(minutes=1)
    again = await punish(OPERATOR, org.id, starts, starts + timedelta(days=90), key="pun-1")

    # then one row exists and the replay returned it
    assert again.id == first.id
    assert await JointPunishment.all().count() == 1
    assert await OutboxEvent.filter(type="punishment.listed").count() == 1

    # and the same key for another window is refused
    with pytest.raises(IdempotencyKeyReused):
        await punish(OPERATOR, org.id, starts, starts + timedelta(days=91), key="pun-1")


async def test_a_punishment_for_an_unknown_organisation(db, manual_clock):
    with pytest.raises(NotFound):
        await punish(OPERATOR, 999_999, manual_clock.now(), None)
    assert await JointPunishment.all().count() == 0


async def test_punishment_window_must_be_aware_and_ordered(db, manual_clock):
    # given an organisation
    org = await df.organisation()
    now = manual_clock.now()

    # then an end not after the start, or a time without a zone, names the field at fault
    with pytest.raises(InvalidInput) as equal:
        await punish(OPERATOR, org.id, now, now)
    with pytest.raises(InvalidInput) as before:
        await punish(OPERATOR, org.id, now, now - timedelta(days=1))
    with pytest.raises(InvalidInput) as naive_end:
        await punish(OPERATOR, org.id, now, now.replace(tzinfo=None) + timedelta(days=1))
    with pytest.raises(InvalidInput) as naive_start:
        await punish(OPERATOR, org.id, now.replace(tzinfo=None), None)
    assert [e.value.field for e in (equal, before, naive_end, naive_start)] == [
        "endsAt",
        "endsAt",
        "endsAt",
        "startsAt",
    ]
    assert await JointPunishment.all().count() == 0
