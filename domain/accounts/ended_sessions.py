"""Sessions a password change or reset ended, for refusing their access tokens at once (issue 24).

An access token is a JWT valid for `TokenPolicy.access_ttl` and checked by signature alone (api/auth.py reads no
database per request). A password change revokes the other sessions' refresh tokens (reason `password_changed`,
credentials.py); their access tokens carry the session as `sid`, so a process refuses a token whose `sid` is in
this set. The process that made the change notes the sessions as soon as it commits; every process reads the
sessions ended within the last access lifetime from `refresh_token` at most every `RELOAD_SECONDS` (one indexed
statement per process, never one per request), so another server refuses them within that delay. A session is
forgotten once every access token it could hold has expired."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from domain.accounts.adapters import deps
from domain.accounts.models import RefreshToken
from domain.common import clock

ENDED_REASON = "password_changed"
RELOAD_SECONDS = 5.0


class EndedSessions:
    """The sessions (sids) whose access tokens are refused, each with when it ended."""

    def __init__(self) -> None:
        self._ended: dict[str, datetime] = {}
        self._loaded_at: float | None = None
        self._loading = asyncio.Lock()

    def note(self, sessions: Iterable[str], at: datetime) -> None:
        """Sessions this process just ended (after the commit)."""
        for sid in sessions:
            self._ended[sid] = at

    def ended(self, sid: str | None) -> bool:
        return sid is not None and sid in self._ended

    async def reload_if_older_than_seconds(self, seconds: float = RELOAD_SECONDS) -> None:
        if self._loaded_at is not None and time.monotonic() - self._loaded_at < seconds:
            return
        async with self._loading:
            if self._loaded_at is not None and time.monotonic() - self._loaded_at < seconds:
                return
            await self.load()

    async def load(self) -> None:
        """Reads the sessions ended within the access tokens' lifetime (index refresh_token(revoked_reason,
        revoked_at), migration 0050)."""
        policy = deps.keyring.policy  # an access token lives access_ttl (and the leeway): older ends are forgotten
        since = clock.now() - policy.access_ttl - timedelta(seconds=policy.leeway_seconds)
        rows = await RefreshToken.filter(revoked_reason=ENDED_REASON, revoked_at__gte=since).values_list(
            "family", "revoked_at"
        )
        ended = {str(family): at for family, at in rows}
        for sid, at in self._ended.items():  # noted here and not yet visible to this read, or read before
            if at >= since and sid not in ended:
                ended[sid] = at
        self._ended = ended
        self._loaded_at = time.monotonic()

    def clear(self) -> None:
        self._ended.clear()
        self._loaded_at = None


ended_sessions = EndedSessions()
