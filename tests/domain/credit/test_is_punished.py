"""`is_punished` (`query Me`'s `underPunishment`, registration's bar) answers with one statement written once per
dialect: it says what the ORM query it replaced says, for punishments in force, lifted, expired and not yet started,
at their boundaries, on SQLite and PostgreSQL. `query Me` asks it inside user_of's statement
(`user_of_and_punished`), which answers as the two do."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from domain.accounts.models import Organisation, User
from domain.accounts.organisations import user_of
from domain.common.actors import Actor, Role
from domain.common.clock import SHANGHAI
from domain.common.errors import NotFound
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


async def test_user_of_and_punished_answers_as_user_of_and_is_punished(db, manual_clock):
    # given users of organisations with every kind of entry, and of one with none
    now = manual_clock.now()
    day = timedelta(days=1)
    orgs = [await df.organisation() for _ in range(5)]
    in_force, open_ended, lifted, expired, future = (o.id for o in orgs)
    await _entry(in_force, now - day, now + day)
    await _entry(open_ended, now - 30 * day, None)
    await _entry(lifted, now - 30 * day, None, lifted=now - day)
    await _entry(expired, now - 30 * day, now - day)
    await _entry(future, now + day, now + 30 * day)
    orgs.append(await df.organisation())
    actors = []
    for org in orgs:
        user = await df.user(org)
        actors.append(Actor(user_id=user.id, org_id=org.id, roles=frozenset({Role.BIDDER})))

    # then at the clock's time and around every boundary, in UTC or Shanghai time, `query Me`'s one statement reads
    # the user and organisation user_of reads, and says what is_punished says of that organisation
    for at in (None, now - day, now - day + timedelta(microseconds=1), now + day, now + 31 * day):
        for given in (at, at and at.astimezone(SHANGHAI)):
            for actor in actors:
                user, punished = await credit.user_of_and_punished(actor, now=given)
                expected = await user_of(actor)
                assert _fields(user) == _fields(expected)
                assert _fields(user.organisation) == _fields(expected.organisation)
                assert punished is await credit.is_punished(expected.organisation_id, now=given), (actor, given)
    assert [(await credit.user_of_and_punished(a))[1] for a in actors] == [True, True, False, False, False, False]

    # and an unknown user is not found, as by user_of
    with pytest.raises(NotFound):
        await credit.user_of_and_punished(Actor(user_id=10**9, org_id=orgs[0].id, roles=frozenset({Role.BIDDER})))


def _fields(row: User | Organisation) -> dict[str, object]:
    return {name: getattr(row, name) for name in row._meta.fields_db_projection}
