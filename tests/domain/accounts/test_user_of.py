"""The signed-in user read by `user_of` (`query Me`): its one written-once statement reads what the ORM reads, on
SQLite and PostgreSQL, and what the database holds now."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.accounts.models import Organisation, User
from domain.accounts.organisations import user_of
from domain.accounts.states import OrgStatus
from domain.common.actors import Actor, Role
from domain.common.errors import NotFound
from tests.domain import factories as df


def _fields(row: User | Organisation) -> dict[str, object]:
    return {name: getattr(row, name) for name in row._meta.fields_db_projection}


async def test_user_of_reads_the_user_and_the_organisation_as_the_orm_does(db, manual_clock):
    # given a user of an organisation with lists, nulls and times set
    org = await df.organisation(kinds=["bidder", "guarantor"])
    org.supervised_categories = ["GOVERNMENT_PROCUREMENT"]
    org.review_reason = "资料齐全"
    await org.save()
    user = await df.user(org, locked_until=manual_clock.now() + timedelta(minutes=5))
    user.last_login_at = manual_clock.now()
    await user.save()
    actor = Actor(user_id=user.id, org_id=org.id, roles=frozenset({Role.BIDDER}))

    # when read for the signed-in user
    read = await user_of(actor)

    # then every column of both rows is what the ORM reads, times aware
    expected = await User.filter(id=user.id).select_related("organisation").first()
    assert expected is not None
    assert _fields(read) == _fields(expected)
    assert _fields(read.organisation) == _fields(expected.organisation)
    assert read.organisation.kinds == ["bidder", "guarantor"]
    assert read.organisation.supervised_categories == ["GOVERNMENT_PROCUREMENT"]
    assert read.last_login_at is not None
    assert read.last_login_at.tzinfo is not None
    assert read.organisation.created_at.tzinfo is not None


async def test_user_of_reads_every_change_at_once(db):
    # given a user read once
    org = await df.organisation()
    user = await df.user(org)
    actor = Actor(user_id=user.id, org_id=org.id, roles=frozenset({Role.BIDDER}))
    await user_of(actor)

    # when the user is disabled and renamed and the organisation suspended
    await User.filter(id=user.id).update(is_active=False, name="改名")
    await Organisation.filter(id=org.id).update(status=OrgStatus.SUSPENDED.value)

    # then the next read sees all of it
    read = await user_of(actor)
    assert (read.is_active, read.name, read.organisation.status) == (False, "改名", OrgStatus.SUSPENDED.value)


async def test_user_of_an_unknown_user_or_no_user_is_not_found(db):
    with pytest.raises(NotFound):
        await user_of(Actor(user_id=987654321, roles=frozenset({Role.BIDDER})))
    with pytest.raises(NotFound):
        await user_of(Actor(client_id="integrator", roles=frozenset()))
