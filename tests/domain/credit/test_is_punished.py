"""`is_punished` (`query Me`'s `underPunishment`, registration's bar) answers with one statement written once per
dialect: it says what the ORM query it replaced says, for punishments in force, lifted, expired and not yet started,
at their boundaries, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.common.clock import SHANGHAI
from domain.credit import services as credit
from domain.credit.models import JointPunishment
from tests.domain import factories as df


async def _orm_says(organisation_id: int, now: datetime) -> bool:
    """The query `is_punished` ran through the ORM before it was one statement."""
    return await JointPunishment.filter(credit._in_force(now), organisation_id=organisation_id).exists()


async def _entry(org_id: int, starts: datetime, ends: datetime | None, lifted: datetime | None = None) -> None:
    await JointPunishment.create(
        organisation_id=org_id,
        reason="串通投标",
        authority="青岛市住房和城乡建设局",
        document_no="青建罚〔2026〕12号",
        starts_at=starts,
        ends_at=ends,
        lifted_at=lifted,
        lifted_reason="已完成信用修复" if lifted else None,
        recorded_by=11,
        recorded_at=starts,
    )


async def test_the_statement_answers_as_the_orm_query(db, manual_clock):
    # given organisations with every kind of entry, and one with none
    now = manual_clock.now()
    day = timedelta(days=1)
    in_force, open_ended, lifted, expired, future, none = [(await df.organisation()).id for _ in range(6)]
    await _entry(in_force, now - day, now + day)
    await _entry(open_ended, now - 30 * day, None)
    await _entry(lifted, now - 30 * day, None, lifted=now - day)
    await _entry(expired, now - 30 * day, now - day)
    await _entry(future, now + day, now + 30 * day)
    # an organisation with an expired, a lifted and a current entry is punished by the current one
    mixed = (await df.organisation()).id
    await _entry(mixed, now - 60 * day, now - 30 * day)
    await _entry(mixed, now - 20 * day, None, lifted=now - 10 * day)
    await _entry(mixed, now - 2 * day, now + 2 * day)

    # then, now, the statement says what the ORM says, and that is the rule
    expected = {in_force: True, open_ended: True, mixed: True, lifted: False, expired: False, future: False}
    expected[none] = False
    for org_id, punished in expected.items():
        assert await credit.is_punished(org_id) is punished
        assert await _orm_says(org_id, now) is punished

    # and at every boundary and around it, with the clock's time or one given, in UTC or in Shanghai time
    probes = [
        now - 60 * day,
        now - 30 * day - timedelta(microseconds=1),
        now - 30 * day,
        now - 2 * day,
        now - day - timedelta(microseconds=1),
        now - day,
        now - day + timedelta(microseconds=1),
        now + day - timedelta(microseconds=1),
        now + day,
        now + 2 * day,
        now + 30 * day,
        now + 365 * day,
    ]
    for at in probes:
        for org_id in expected:
            orm = await _orm_says(org_id, at)
            assert await credit.is_punished(org_id, now=at) is orm, (org_id, at)
            assert await credit.is_punished(org_id, now=at.astimezone(SHANGHAI)) is await _orm_says(
                org_id, at.astimezone(SHANGHAI)
            ), (org_id, at)
        manual_clock.set(at)
        assert [await credit.is_punished(o) for o in expected] == [await _orm_says(o, at) for o in expected]


async def test_the_statement_sees_a_lift_at_once(db, manual_clock):
    # given an organisation under an open-ended punishment, asked once
    org = await df.organisation()
    await _entry(org.id, manual_clock.now() - timedelta(days=1), None)
    assert await credit.is_punished(org.id)

    # when it is lifted
    await JointPunishment.filter(organisation_id=org.id).update(lifted_at=manual_clock.now())

    # then the next answer says so
    assert not await credit.is_punished(org.id)
    assert not await _orm_says(org.id, manual_clock.now())
