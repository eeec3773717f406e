"""Sessions that ended before their access tokens expired, for refusing those tokens at once (issue 24).

An access token is a JWT valid for `TokenPolicy.access_ttl` and checked by signature alone (api/auth.py reads no
database per request). A session ends when its refresh-token family is revoked: by a password change or reset (the
other sessions, credentials.py), a sign-out, a refresh token presented twice (a stolen copy: the whole family), or
a certificate sign-in the single sign-on page refused (sessions.py, `ENDED_REASONS`). Its access tokens carry the
session as `sid`, so a process refuses a token whose `sid` is in this set, and closes the session's open
WebSockets (api/ws.py, through `on_end`). The process that ended a session notes it as soon as it commits; every
process reads the sessions ended within the last access lifetime from `refresh_token` at most every
`RELOAD_SECONDS` (one indexed statement per process, never one per request), so another server refuses them within
that delay. A session is forgotten once every access token it could hold has expired."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from domain.accounts.adapters import deps
from domain.accounts.models import RefreshToken
from domain.common import clock

ENDED_REASON = "password_changed"
# every reason a refresh-token family is revoked for (credentials.py, sessions.py): each ends the session
ENDED_REASONS = (ENDED_REASON, "logout", "reuse", "sso_refused")
RELOAD_SECONDS = 5.0


class EndedSessions:
    """The sessions (sids) whose access tokens are refused, each with when it ended."""

    def __init__(self) -> None:
        self._ended: dict[str, datetime] = {}
        self._loaded_at: float | None = None
        self._loading = asyncio.Lock()
        self._listeners: list[Callable[[set[str]], None]] = []

    def on_end(self, listener: Callable[[set[str]], None]) -> None:
        """`listener` is told the sessions newly known to have ended (noted here, or read from the database)."""
        self._listeners.append(listener)

    def note(self, sessions: Iterable[str], at: datetime) -> None:
        """Sessions this process just ended (after the commit)."""
        new = {sid for sid in sessions if sid not in self._ended}
        for sid in sessions:
            self._ended[sid] = at
        self._tell(new)

    def _tell(self, new: set[str]) -> None:
        if new:
            for listener in self._listeners:
                listener(new)

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
        rows = await RefreshToken.filter(revoked_reason__in=ENDED_REASONS, revoked_at__gte=since).values_list(
            "family", "revoked_at"
        )
        ended = {str(family): at for family, at in rows}
        for sid, at in self._ended.items():  # noted here and not yet visible to this read, or read before
            if at >= since and sid not in ended:
                ended[sid] = at
        new = ended.keys() - self._ended.keys()
        self._ended = ended
        self._loaded_at = time.monotonic()
        self._tell(set(new))

    def clear(self) -> None:
        self._ended.clear()
        self._loaded_at = None


ended_sessions = EndedSessions()
