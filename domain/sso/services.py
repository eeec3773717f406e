"""Use cases of single sign-on: operators register client systems; users consent and revoke; the provider issues
single-use authorization codes bound to PKCE and rotates refresh tokens (presenting a used one ends its grant)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from tortoise.transactions import in_transaction

from domain.accounts import attempts
from domain.accounts.adapters import deps
from domain.accounts.errors import InvalidClient
from domain.accounts.models import Organisation, RefreshToken, User
from domain.accounts.passwords import hash_secret, verify_nothing, verify_secret
from domain.accounts.states import roles_of
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import PermissionDenied, RateLimited, raises, required_text
from domain.common.events import Audience, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock
from domain.sso import errors
from domain.sso import events as ev
from domain.sso.models import SsoAuthorizationCode, SsoClient, SsoConsent, SsoRefreshToken

SCOPES = ("openid", "profile", "organisation", "roles", "offline_access")
CODE_TTL = timedelta(seconds=60)
REFRESH_TTL = timedelta(days=30)
MAX_REDIRECT_URIS = 10

# a client id as register_client makes them: anything else names no client, and is answered so before the database
# sees it (a NUL, which PostgreSQL cannot store, included)
CLIENT_ID = re.compile(r"sso_[0-9a-f]{16}")


def _client_id_form(client_id: str) -> bool:
    return CLIENT_ID.fullmatch(client_id) is not None


class SystemKind(StrEnum):
    ENGINEERING = "engineering"
    PROCUREMENT = "procurement"
    PROPERTY_RIGHTS = "property_rights"
    OTHER = "other"


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def subject(user_id: int) -> str:
    """The user's stable subject for every client system: keyed on the deployment's secret, never the row id."""
    mac = hmac.new(deps.code_secret, f"oidc-sub:{user_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode()


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def valid_redirect_uri(uri: str, field: str = "redirectUris") -> str:
    """An absolute https URI (http only on loopback, RFC 8252 7.3) without a fragment (RFC 6749 3.1.2)."""
    text = uri.strip()
    parts = urlsplit(text)
    if (
        len(text) > 500
        or parts.fragment
        or "#" in text
        or not parts.hostname
        or parts.username
        or parts.password
        or not (parts.scheme == "https" or (parts.scheme == "http" and _loopback(parts.hostname)))
    ):
        raise errors.InvalidRedirectUri(field=field)
    return text


def _uris(uris: list[str], field: str, required: bool) -> list[str]:
    if (required and not uris) or len(uris) > MAX_REDIRECT_URIS:
        raise errors.InvalidRedirectUri(field=field)
    return sorted({valid_redirect_uri(u, field) for u in uris})


def _scopes(scopes: list[str]) -> list[str]:
    chosen = set(scopes)
    if "openid" not in chosen or not chosen <= set(SCOPES):
        raise errors.UnknownSsoScope()
    return [s for s in SCOPES if s in chosen]


def _kind(kind: str) -> SystemKind:
    try:
        return SystemKind(kind)
    except ValueError:
        raise errors.UnknownSystemKind() from None


def _operator(actor: Actor) -> None:
    if not actor.has(Role.OPERATOR):
        raise PermissionDenied()


# ---------------------------------------------------------------- client systems (operators)


@raises(errors.InvalidRedirectUri, errors.UnknownSsoScope, errors.UnknownSystemKind)
@use_case("sso_client.register", "SsoClient")
async def register_client(
    actor: Actor,
    name: str,
    kind: str,
    redirect_uris: list[str],
    scopes: list[str],
    post_logout_redirect_uris: list[str] | None = None,
    public: bool = False,
    idempotency_key: str | None = None,
) -> tuple[SsoClient, str | None]:
    """Registers a client system; its secret (none for a public client) is shown once and kept only as a hash."""
    _operator(actor)
    label = required_text(name, "name", 200)
    system = _kind(kind)
    redirects = _uris(redirect_uris, "redirectUris", True)
    logouts = _uris(post_logout_redirect_uris or [], "postLogoutRedirectUris", False)
    allowed = _scopes(scopes)
    secret = None if public else "pss_" + secrets.token_urlsafe(32)
    secret_hash = await hash_secret(secret) if secret else ""
    holder: dict[str, str | None] = {}

    async def create() -> dict[str, Any]:
        now = clock.now()
        client = await SsoClient.create(
            client_id="sso_" + secrets.token_hex(8),
            secret_hash=secret_hash,
            name=label,
            kind=system.value,
            redirect_uris=redirects,
            post_logout_redirect_uris=logouts,
            scopes=allowed,
            created_by=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        await events.record(
            ev.SsoClientRegistered(
                object_id=client.client_id,
                name=label,
                kind=system.value,
                redirect_uris=tuple(redirects),
                scopes=tuple(allowed),
                public=public,
            ),
            actor,
        )
        holder["secret"] = secret
        return {"client_id": client.client_id}

    request = {"name": label, "kind": system.value, "redirects": redirects, "logouts": logouts, "scopes": allowed}
    result, replayed = await run_once(
        actor, idempotency_key, "sso_client.register", {**request, "public": public}, create
    )
    client = await SsoClient.get(client_id=result["client_id"])
    # a replay cannot show the secret again: it was never stored
    return client, None if replayed else holder["secret"]


@raises(errors.SsoClientNotFound, errors.InvalidRedirectUri, errors.UnknownSsoScope)
@use_case("sso_client.update", "SsoClient", lambda actor, client_id, *a, **k: client_id)
async def update_client(
    actor: Actor,
    client_id: str,
    name: str | None = None,
    redirect_uris: list[str] | None = None,
    post_logout_redirect_uris: list[str] | None = None,
    scopes: list[str] | None = None,
    idempotency_key: str | None = None,
) -> SsoClient:
    """Changes what is given; redirect URIs stay exactly those listed (no prefix or pattern matching)."""
    _operator(actor)
    label = required_text(name, "name", 200) if name is not None else None
    redirects = _uris(redirect_uris, "redirectUris", True) if redirect_uris is not None else None
    logouts = (
        _uris(post_logout_redirect_uris, "postLogoutRedirectUris", False)
        if post_logout_redirect_uris is not None
        else None
    )
    allowed = _scopes(scopes) if scopes is not None else None

    if not _client_id_form(client_id):
        raise errors.SsoClientNotFound()

    async def change() -> dict[str, Any]:
        client = await lock(SsoClient.filter(client_id=client_id)).first()
        if client is None:
            raise errors.SsoClientNotFound()
        client.name = label or client.name
        client.redirect_uris = redirects if redirects is not None else client.redirect_uris
        if logouts is not None:
            client.post_logout_redirect_uris = logouts
        client.scopes = allowed if allowed is not None else client.scopes
        client.updated_at = clock.now()
        await client.save()
        await events.record(
            ev.SsoClientUpdated(
                object_id=client.client_id,
                name=client.name,
                redirect_uris=tuple(client.redirect_uris),
                post_logout_redirect_uris=tuple(client.post_logout_redirect_uris),
                scopes=tuple(client.scopes),
            ),
            actor,
        )
        return {"client_id": client.client_id}

    request = {"client": client_id, "name": label, "redirects": redirects, "logouts": logouts, "scopes": allowed}
    await run_once(actor, idempotency_key, "sso_client.update", request, change)
    return await SsoClient.get(client_id=client_id)


@raises(errors.SsoClientNotFound)
@use_case("sso_client.activation", "SsoClient", lambda actor, client_id, *a, **k: client_id)
async def set_client_active(
    actor: Actor, client_id: str, active: bool, idempotency_key: str | None = None
) -> SsoClient:
    """Enables or disables a client system; disabling revokes every refresh token it holds."""
    _operator(actor)
    if not _client_id_form(client_id):
        raise errors.SsoClientNotFound()

    async def change() -> dict[str, Any]:
        client = await lock(SsoClient.filter(client_id=client_id)).first()
        if client is None:
            raise errors.SsoClientNotFound()
        client.is_active, client.updated_at = active, clock.now()
        await client.save(update_fields=["is_active", "updated_at"])
        if not active:
            await SsoRefreshToken.filter(client_id=client.id, revoked_at=None).update(
                revoked_at=clock.now(), revoked_reason="client_disabled"
            )
        await events.record(ev.SsoClientActivation(object_id=client.client_id, active=active), actor)
        return {"client_id": client.client_id}

    await run_once(actor, idempotency_key, "sso_client.activation", {"client": client_id, "active": active}, change)
    return await SsoClient.get(client_id=client_id)


async def list_clients(actor: Actor) -> list[SsoClient]:
    """Every registered client system, newest first (operators)."""
    _operator(actor)
    return await SsoClient.all().order_by("-id")


# ---------------------------------------------------------------- consents (users)


async def my_consents(actor: Actor) -> list[tuple[SsoConsent, SsoClient]]:
    """The caller's remembered consents, with their client systems."""
    if actor.user_id is None:
        raise PermissionDenied()
    rows = await SsoConsent.filter(user_id=actor.user_id, revoked_at=None).select_related("client").order_by("-id")
    return [(row, row.client) for row in rows]


@raises(errors.SsoConsentNotFound)
@use_case("sso_consent.revoke", "SsoConsent", lambda actor, client_id, *a, **k: client_id)
async def revoke_consent(actor: Actor, client_id: str, idempotency_key: str | None = None) -> None:
    """The caller withdraws its consent: the client system asks again, and every refresh token it holds for the
    caller stops working."""
    if actor.user_id is None:
        raise PermissionDenied()
    if not _client_id_form(client_id):
        raise errors.SsoConsentNotFound()
    user_id = actor.user_id

    async def revoke() -> dict[str, Any]:
        consent = await lock(SsoConsent.filter(user_id=user_id, client__client_id=client_id, revoked_at=None)).first()
        if consent is None:
            raise errors.SsoConsentNotFound()
        now = clock.now()
        consent.revoked_at = now
        await consent.save(update_fields=["revoked_at"])
        count = await SsoRefreshToken.filter(user_id=user_id, client_id=consent.client_id, revoked_at=None).update(
            revoked_at=now, revoked_reason="consent_revoked"
        )
        await events.record(
            ev.SsoConsentRevoked(
                object_id=str(consent.id),
                client_id=client_id,
                tokens_revoked=int(count),
                audience=Audience(users=(user_id,)),
            ),
            actor,
        )
        return {}

    await run_once(actor, idempotency_key, "sso_consent.revoke", {"client": client_id}, revoke)


async def consent_covers(user_id: int, client: SsoClient, scopes: list[str]) -> bool:
    """Whether the user's remembered consent to the client covers these scopes."""
    consent = await SsoConsent.get_or_none(user_id=user_id, client_id=client.id, revoked_at=None)
    return consent is not None and set(scopes) <= set(consent.scopes)


async def grant_consent(actor: Actor, client: SsoClient, scopes: list[str]) -> None:
    """Remembers the caller's consent to the client for these scopes (added to what it allowed before)."""
    if actor.user_id is None:
        raise PermissionDenied()
    async with in_transaction():
        consent = await lock(SsoConsent.filter(user_id=actor.user_id, client_id=client.id)).first()
        now = clock.now()
        if consent is None:
            consent = await SsoConsent.create(user_id=actor.user_id, client=client, scopes=scopes, granted_at=now)
        else:
            kept = set(consent.scopes) if consent.revoked_at is None else set()
            consent.scopes = [s for s in SCOPES if s in kept | set(scopes)]
            consent.granted_at, consent.revoked_at = now, None
            await consent.save(update_fields=["scopes", "granted_at", "revoked_at"])
        await events.record(
            ev.SsoConsentGranted(
                object_id=str(consent.id),
                client_id=client.client_id,
                scopes=tuple(consent.scopes),
                audience=Audience(users=(actor.user_id,)),
            ),
            actor,
        )


async def deny_consent(actor: Actor, client: SsoClient, scopes: list[str]) -> None:
    """Records that the caller refused the client system these scopes (audited as a grant is); nothing is remembered,
    so the system asks again next time."""
    if actor.user_id is None:
        raise PermissionDenied()
    async with in_transaction():
        await events.record(
            ev.SsoConsentDenied(
                object_id=client.client_id,
                client_id=client.client_id,
                scopes=tuple(s for s in SCOPES if s in set(scopes)),
                audience=Audience(users=(actor.user_id,)),
            ),
            actor,
        )


# ---------------------------------------------------------------- the protocol's state


async def active_client(client_id: str) -> SsoClient | None:
    if not _client_id_form(client_id):
        return None
    return await SsoClient.get_or_none(client_id=client_id, is_active=True)


@raises(RateLimited, InvalidClient)
async def authenticate_client(actor: Actor, client: SsoClient, secret: str) -> bool:
    """Whether the secret is the confidential client's. Past the failed attempts allowed from the address or for the
    client id (CLIENT_SIGNIN_FAILURES_*, shared with integrators and terminals), RateLimited before any hashing."""
    checked = attempts.limits(
        actor,
        f"signin-sso:{client.client_id}",
        attempts.clients.per_id,
        attempts.CLIENT_ADDRESS,
        attempts.clients.per_address,
    )

    try:
        return await attempts.guarded(checked, (InvalidClient,), lambda: _verify_client(actor, client, secret))
    except InvalidClient:
        return False


@raises(InvalidClient)
@use_case("sso_client.authenticate", "SsoClient", lambda actor, client, secret: client.client_id)
async def _verify_client(actor: Actor, client: SsoClient, secret: str) -> bool:
    if not await check_secret(client, secret):
        raise InvalidClient()
    return True


async def check_secret(client: SsoClient, secret: str) -> bool:
    """Whether the secret is the confidential client's (argon2, on the CPU pool); a public client has none."""
    if not client.secret_hash:
        await verify_nothing(secret)
        return False
    return await verify_secret(client.secret_hash, secret)


@dataclass(frozen=True, slots=True)
class SignedInUser:
    """Who the provider signed in: the user, how (amr) and when, and the PalmTrade session it holds."""

    user_id: int
    amr: tuple[str, ...]
    auth_time: datetime
    session_id: str

    def get_user_id(self) -> int:  # authlib's UserMixin
        return self.user_id


async def issue_code(
    actor: Actor,
    client: SsoClient,
    who: SignedInUser,
    code: str,
    redirect_uri: str,
    scope: str,
    nonce: str | None,
    code_challenge: str,
    code_challenge_method: str,
) -> SsoAuthorizationCode:
    """Stores an authorization code (its hash) for 60 seconds, bound to the client, the redirect URI, the PKCE
    challenge and the nonce (RFC 6749 4.1.2: short-lived, single use)."""
    now = clock.now()
    async with in_transaction():
        row = await SsoAuthorizationCode.create(
            code_hash=_hash(code),
            client=client,
            user_id=who.user_id,
            redirect_uri=redirect_uri,
            scope=scope,
            nonce=nonce,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            amr=" ".join(who.amr),
            auth_time=who.auth_time,
            session_id=who.session_id,
            grant_id=uuid.uuid4(),
            created_at=now,
            expires_at=now + CODE_TTL,
        )
        await events.record(
            ev.SsoCodeIssued(
                object_id=str(row.grant_id),
                client_id=client.client_id,
                scope=scope,
                amr=row.amr,
                audience=Audience(users=(who.user_id,)),
            ),
            actor,
        )
    return row


async def redeem_code(actor: Actor, client: SsoClient, code: str) -> SsoAuthorizationCode | None:
    """The code, used up by this call, when it is the client's, unused and unexpired. A code presented again
    revokes every token issued from it (RFC 6749 4.1.2) and gives None."""
    now = clock.now()
    async with in_transaction():
        row = await lock(SsoAuthorizationCode.filter(code_hash=_hash(code), client_id=client.id)).first()
        if row is None:
            return None
        if row.used_at is not None:
            count = await SsoRefreshToken.filter(grant_id=row.grant_id, revoked_at=None).update(
                revoked_at=now, revoked_reason="code_reused"
            )
            await events.record(
                ev.SsoCodeReused(object_id=str(row.grant_id), client_id=client.client_id, tokens_revoked=int(count)),
                actor,
            )
            return None
        if row.expires_at <= now:
            return None
        row.used_at = now
        await row.save(update_fields=["used_at"])
        await events.record(
            ev.SsoCodeRedeemed(
                object_id=str(row.grant_id), client_id=client.client_id, audience=Audience(users=(row.user_id,))
            ),
            actor,
        )
    return row


async def store_refresh_token(
    client: SsoClient, grant_id: uuid.UUID | str, who: SignedInUser, scope: str, token: str
) -> None:
    now = clock.now()
    await SsoRefreshToken.create(
        token_hash=_hash(token),
        grant_id=grant_id,
        client=client,
        user_id=who.user_id,
        scope=scope,
        amr=" ".join(who.amr),
        auth_time=who.auth_time,
        session_id=who.session_id,
        created_at=now,
        expires_at=now + REFRESH_TTL,
    )


async def claim_refresh_token(actor: Actor, client: SsoClient, token: str) -> SsoRefreshToken | None:
    """The refresh token, used up by this call (rotation), when it is the client's and still valid; presenting a
    used one revokes its whole grant and gives None (OAuth 2.0 Security BCP 4.14.2)."""
    now = clock.now()
    async with in_transaction():
        row = await lock(SsoRefreshToken.filter(token_hash=_hash(token), client_id=client.id)).first()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            return None
        if row.used_at is not None:
            count = await SsoRefreshToken.filter(grant_id=row.grant_id, revoked_at=None).update(
                revoked_at=now, revoked_reason="reuse"
            )
            await events.record(
                ev.SsoTokensRevoked(
                    object_id=str(row.grant_id), client_id=client.client_id, reason="reuse", tokens_revoked=int(count)
                ),
                actor,
            )
            return None
        user = await User.get_or_none(id=row.user_id)
        consent = await SsoConsent.get_or_none(user_id=row.user_id, client_id=client.id, revoked_at=None)
        if user is None or not user.is_active or consent is None:
            return None
        row.used_at = now
        await row.save(update_fields=["used_at"])
        await events.record(
            ev.SsoTokenRefreshed(
                object_id=str(row.grant_id), client_id=client.client_id, audience=Audience(users=(row.user_id,))
            ),
            actor,
        )
    return row


async def revoke_refresh_token(actor: Actor, client: SsoClient, token: str) -> None:
    """RFC 7009: the refresh token's whole grant stops working; an unknown token changes nothing."""
    now = clock.now()
    async with in_transaction():
        row = await SsoRefreshToken.get_or_none(token_hash=_hash(token), client_id=client.id)
        if row is None:
            return
        count = await SsoRefreshToken.filter(grant_id=row.grant_id, revoked_at=None).update(
            revoked_at=now, revoked_reason="revoked"
        )
        await events.record(
            ev.SsoTokensRevoked(
                object_id=str(row.grant_id), client_id=client.client_id, reason="revoked", tokens_revoked=int(count)
            ),
            actor,
        )


async def revoke_user_grants(actor: Actor, user_id: int, now: datetime) -> int:
    """The user's password changed: every client system's refresh token for the user stops working (their next
    refresh is invalid_grant, and their access tokens' grants are dead at userinfo), and codes not yet redeemed expire.
    Runs in the caller's transaction; answers how many refresh tokens it revoked."""
    await SsoAuthorizationCode.filter(user_id=user_id, used_at=None, expires_at__gt=now).update(expires_at=now)
    count = await SsoRefreshToken.filter(user_id=user_id, revoked_at=None).update(
        revoked_at=now, revoked_reason="password_changed"
    )
    return int(count)


async def grant_alive(grant_id: str) -> bool:
    """Whether a grant still holds a refresh token or was just made from a code (an access token's grant is alive
    until it is revoked: logout, consent withdrawn, client disabled, reuse)."""
    revoked = await SsoRefreshToken.filter(grant_id=grant_id, revoked_at__not_isnull=True).exists()
    return not revoked


async def end_session(actor: Actor, client: SsoClient | None, session_id: str, user_id: int) -> int:
    """RP-initiated logout: every client system's refresh tokens of the PalmTrade session stop working."""
    now = clock.now()
    async with in_transaction():
        count = await SsoRefreshToken.filter(session_id=session_id, user_id=user_id, revoked_at=None).update(
            revoked_at=now, revoked_reason="logout"
        )
        await events.record(
            ev.SsoSignedOut(
                object_id=session_id,
                client_id=client.client_id if client else "",
                tokens_revoked=int(count),
                audience=Audience(users=(user_id,)),
            ),
            actor,
        )
    return int(count)


async def user_claims(user_id: int, scope: str) -> dict[str, Any]:
    """The claims the scopes allow: profile (name), organisation (id, name, unified social credit code), roles."""
    user = await User.get(id=user_id)
    scopes = set(scope.split())
    claims: dict[str, Any] = {"sub": subject(user.id)}
    if "profile" in scopes:
        claims["name"] = user.name
    if "organisation" in scopes or "roles" in scopes:
        org = await Organisation.get(id=user.organisation_id)
        if "organisation" in scopes:
            claims["organisation"] = {
                "id": org.credit_code,
                "name": org.name,
                "unified_social_credit_code": org.credit_code,
            }
        if "roles" in scopes:
            claims["roles"] = sorted(roles_of(org.status, list(org.kinds)))
    return claims


def acr_of(amr: tuple[str, ...] | list[str]) -> str:
    """Two factors (a certificate or a password with an SMS code): level 2; one: level 1."""
    methods = set(amr)
    return "urn:palmtrade:loa:2" if len(methods & {"pwd", "sms", "otp", "cert"}) >= 2 else "urn:palmtrade:loa:1"


def oidc_amr(amr: tuple[str, ...] | list[str]) -> list[str]:
    """RFC 8176 values: pwd, otp and sms for an SMS code, cert (hwk-like: a certificate's key), mfa for two."""
    out = set(amr)
    if "sms" in out:
        out.add("otp")
    if len(set(amr) & {"pwd", "sms", "cert"}) >= 2:
        out.add("mfa")
    return sorted(out)


async def session_alive(user_id: int, session_id: str) -> bool:
    """Whether the PalmTrade session (refresh family) still holds an unrevoked, unexpired token of an active user."""
    user = await User.get_or_none(id=user_id)
    if user is None or not user.is_active:
        return False
    return await RefreshToken.filter(
        family=session_id, user_id=user_id, revoked_at=None, expires_at__gt=clock.now()
    ).exists()


async def user_of_grant(grant_id: str) -> int | None:
    """The user a grant (an authorization code and the tokens issued from it) signed in."""
    code = await SsoAuthorizationCode.get_or_none(grant_id=grant_id)
    return code.user_id if code else None


async def session_user(session_id: str) -> int | None:
    """The user of a PalmTrade session (refresh family), if it exists."""
    row = await RefreshToken.filter(family=session_id).first()
    return row.user_id if row else None
