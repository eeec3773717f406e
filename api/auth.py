"""Bearer tokens to principals, for HTTP requests and WebSocket connections."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from domain.accounts.ended_sessions import ended_sessions
from domain.accounts.tokens import InvalidToken, KeyRing, TokenRevoked
from domain.common.actors import ANONYMOUS, Actor

KEYRING_MAX_AGE_SECONDS = 60


def client_ip(conn: HTTPConnection) -> str | None:
    return conn.client.host if conn.client else None


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("expected 'Bearer <token>'")
    return token.strip()


async def authenticate(keyring: KeyRing, token: str | None, ip: str | None) -> Actor:
    """The actor of a token (anonymous without one); InvalidToken for a bad one, TokenRevoked for one of a session a
    password change ended."""
    # another process may have rotated the keys: re-read them at least once a minute even where no
    # scheduler runs (RUN_WORKERS=0), or this process would sign with a key the others retired
    await keyring.refresh_if_older_than_seconds(KEYRING_MAX_AGE_SECONDS)
    if token is None:
        return Actor(ip=ip) if ip else ANONYMOUS
    kid = keyring.kid_of(token)
    if kid is not None and not keyring.knows(kid):
        # a key published by another process since we last looked
        await keyring.refresh_if_older_than_seconds(5)
    actor = keyring.actor(token, ip)
    if actor.user_id is not None and actor.session_id is not None:
        # a session a password change ended (on another server: read every few seconds, never per request)
        await ended_sessions.reload_if_older_than_seconds()
        if ended_sessions.ended(actor.session_id):
            raise TokenRevoked()
    return actor
