"""Retention of refresh tokens on the real database: only tokens that can no longer open a session go."""

from __future__ import annotations

import uuid
from datetime import timedelta

from domain.accounts.models import RefreshToken
from domain.accounts.retention import purge_refresh_tokens
from domain.common.retention import Retention
from tests.domain import factories as df

KEEP = Retention(refresh_token=timedelta(days=7))


async def test_expired_and_revoked_tokens_go_after_the_retention_and_valid_ones_never(db, manual_clock):
    # given tokens: expired and revoked at the retention's edge, a second inside it, a used one still valid,
    # and an unused valid one
    user = await df.user(await df.organisation())
    now = manual_clock.now()
    edge = now - KEEP.refresh_token
    family = uuid.uuid4()

    async def token(name: str, **fields) -> RefreshToken:
        values = {"created_at": now - timedelta(days=40), "expires_at": now + timedelta(days=1), **fields}
        return await RefreshToken.create(token_hash=name.ljust(64, "0"), family=family, user=user, **values)

    expired = await token("expired", expires_at=edge)
    revoked = await token("revoked", revoked_at=edge, revoked_reason="logout")
    lately_expired = await token("lately-expired", expires_at=edge + timedelta(seconds=1))
    lately_revoked = await token("lately-revoked", revoked_at=edge + timedelta(seconds=1), revoked_reason="reuse")
    used = await token("used", used_at=now - timedelta(days=20))
    valid = await token("valid")

    # when purged
    purged = await purge_refresh_tokens(now, KEEP)

    # then only the tokens expired or revoked at least the retention ago went
    assert purged == 2
    left = set(await RefreshToken.all().values_list("id", flat=True))
    assert left == {lately_expired.id, lately_revoked.id, used.id, valid.id}
    assert not left & {expired.id, revoked.id}
