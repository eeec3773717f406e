"""A tenderer's authorisation of an accredited system retried under one idempotency key is given once; the key
reused for another authorisation is refused and records nothing (nor replaces the one given)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.accounts import third_party
from domain.accounts.integrators import create_integrator_client
from domain.accounts.third_party_models import SystemAuthorisation
from domain.common import clock
from domain.common.actors import Role
from domain.common.errors import IdempotencyKeyReused
from domain.common.models import OutboxEvent
from tests.domain.factories import organisation
from tests.support.tendering import OPERATOR, person


async def test_an_authorisation_retried_under_its_key_is_given_once(db, manual_clock):
    # given an accredited system with every write scope and a tenderer's person
    scopes = sorted(third_party.WRITE_SCOPES)
    client, _ = await create_integrator_client(OPERATOR, "易招标电子交易平台", scopes, 600)
    until = clock.now() + timedelta(days=365)
    system = await third_party.accredit_system(
        OPERATOR, client.client_id, "易招标", "青岛易招标科技有限公司", "QD-1", until
    )
    tenderer = person(await organisation(kinds=["tenderer"]), Role.TENDERER)
    expires = clock.now() + timedelta(days=90)

    # when the authorisation is sent twice under one key (a phone retrying after a lost answer)
    given = [
        await third_party.authorise_system(tenderer, system.id, ["announcements:write"], expires, "a-1")
        for _ in range(2)
    ]

    # then both answer the first outcome: one authorisation, one event
    assert given[0].id == given[1].id
    assert await SystemAuthorisation.filter(tenderer_id=tenderer.org_id).count() == 1
    assert await OutboxEvent.filter(type="system_authorisation.granted", outcome="success").count() == 1

    # when the key is reused for another authorisation (more scopes)
    with pytest.raises(IdempotencyKeyReused):
        await third_party.authorise_system(tenderer, system.id, scopes, expires, "a-1")

    # then nothing is recorded and the first authorisation still stands, unreplaced
    held = await SystemAuthorisation.filter(tenderer_id=tenderer.org_id)
    assert [(a.id, a.scopes, a.revoked_at) for a in held] == [(given[0].id, ["announcements:write"], None)]
    assert await OutboxEvent.filter(type="system_authorisation.granted", outcome="success").count() == 1
