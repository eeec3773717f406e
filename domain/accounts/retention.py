"""How long refresh tokens are kept (domain/common/retention; run by domain/wiring).

A used token stays until it expires: presenting it again before then revokes its whole family (theft detection,
accounts.refresh_session). An expired or revoked token answers RefreshTokenInvalid whether it is kept or not; it is
kept `refresh_token` longer for whoever looks into a session, then deleted.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.expressions import Q

from domain.accounts.models import RefreshToken
from domain.common.retention import Retention, delete_in_batches


async def purge_refresh_tokens(now: datetime, retention: Retention) -> int:
    """Deletes refresh tokens expired or revoked longer than the refresh-token retention ago; a token still valid,
    used or not, is never deleted."""
    cutoff = now - retention.refresh_token
    query = RefreshToken.filter(Q(expires_at__lte=cutoff) | Q(revoked_at__lte=cutoff))
    return await delete_in_batches(query, batch=retention.batch, max_batches=retention.max_batches)
