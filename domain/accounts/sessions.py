"""Users' sessions: signing in by password (the account's lock after repeated failures, and the limits per
address and per number checked before any hashing) or by SMS code, the access token and its two-factor roles,
refresh-token rotation with reuse detection, and signing out."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from domain.accounts import attempts, errors
from domain.accounts import events as ev
from domain.accounts.adapters import deps
from domain.accounts.ended_sessions import ENDED_REASONS, ended_sessions
from domain.accounts.models import Organisation, RefreshToken, User
from domain.accounts.passwords import hash_secret, needs_rehash, verify_nothing, verify_secret
from domain.accounts.sms_codes import SMS_PURPOSE_LOGIN, CodeSent, redeem_code, send_code
from domain.accounts.states import roles_of
from domain.common import clock, events
from domain.common.actors import Actor, Role, two_factor
from domain.common.errors import RateLimited, raises
from domain.common.events import Audience, use_case
from domain.common.ids import InvalidPhoneNumber, normalize_mobile
from domain.common.storage import lock

MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)
# authentication method references of a session (RFC 8176 names where one exists; "cert" is a certificate)
AMR_OF_METHOD = {"password": "pwd", "sms": "sms", "cert": "cert"}


@dataclass(frozen=True, slots=True)
class Session:
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    user: User
    amr: tuple[str, ...] = ()
    withheld_roles: tuple[str, ...] = ()
    organisation: Organisation | None = None  # the user's organisation as the access token was issued on


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _access_token(
    user: User, family: str, amr: tuple[str, ...]
) -> tuple[str, datetime, tuple[str, ...], Organisation]:
    """The access token of a session signed in by `amr`; roles that need two factors are withheld from a
    session without them (claim `mfa` names them). Returns the token, its expiry, the withheld roles and the
    organisation read for it."""
    org = await Organisation.get(id=user.organisation_id)
    roles = roles_of(org.status, list(org.kinds))
    withheld = set() if two_factor(amr) else roles & deps.two_factor_roles
    granted = roles - withheld
    claims: dict[str, Any] = {"org": org.id, "roles": sorted(granted), "sid": family, "amr": list(amr)}
    if withheld:
        claims["mfa"] = sorted(withheld)
    if Role.SUPERVISOR in granted:
        claims["cats"] = list(org.supervised_categories)
    token, expires = deps.keyring.issue(f"user:{user.id}", claims)
    return token, expires, tuple(sorted(withheld)), org


async def _new_refresh(user: User, family: str, now: datetime, amr: tuple[str, ...]) -> tuple[str, datetime]:
    token = "ptr_" + secrets.token_urlsafe(32)
    expires = now + deps.keyring.policy.refresh_ttl
    await RefreshToken.create(
        token_hash=_token_hash(token),
        family=family,
        user=user,
        created_at=now,
        expires_at=expires,
        amr=" ".join(amr),
    )
    return token, expires


async def open_session(actor: Actor, user: User, method: str, amr: tuple[str, ...] | None = None) -> Session:
    """A new session (refresh family) for the user, marked with the methods it was signed in by."""
    methods = tuple(sorted(set(amr or (AMR_OF_METHOD[method],))))
    now = clock.now()
    family = str(uuid.uuid4())
    async with in_transaction():
        user.failed_logins, user.last_login_at = 0, now
        await user.save(update_fields=["failed_logins", "last_login_at"])
        refresh, refresh_exp = await _new_refresh(user, family, now, methods)
        await events.record(
            ev.UserSignedIn(object_id=str(user.id), method=method, audience=Audience(users=(user.id,))),
            Actor(user_id=user.id, org_id=user.organisation_id, ip=actor.ip),
        )
    access, access_exp, withheld, org = await _access_token(user, family, methods)
    return Session(access, access_exp, refresh, refresh_exp, user, methods, withheld, org)


def ensure_not_locked(user: User, now: datetime) -> None:
    if not user.is_active:
        raise errors.AccountDisabled()
    if user.locked_until is not None and user.locked_until > now:
        raise errors.AccountLocked(locked_until=user.locked_until)


async def _count_failure(actor: Actor, user_id: int) -> datetime | None:
    """Counts a failed sign-in (committed even though the caller then fails); returns a new lock."""
    async with in_transaction():
        user = await lock(User.filter(id=user_id)).get()
        now = clock.now()
        user.failed_logins += 1
        if user.failed_logins < MAX_FAILED_LOGINS:
            await user.save(update_fields=["failed_logins"])
            return None
        # locked after repeated failures; the chronograph lifts the lock when it is due
        user.locked_until = user.next_check_at = now + LOCK_DURATION
        user.failed_logins = 0
        await user.save(update_fields=["failed_logins", "locked_until", "next_check_at"])
        await events.record(
            ev.UserLocked(
                object_id=str(user.id),
                locked_until=user.locked_until.isoformat(),
                audience=Audience(users=(user.id,)),
            ),
            actor,
        )
        return user.locked_until


@raises(InvalidPhoneNumber, errors.InvalidCredentials, errors.AccountLocked, errors.AccountDisabled)
async def login_with_password(actor: Actor, phone: str, password: str) -> Session:
    """A session for the right phone and password; locks the account after 5 failures. Past the failed sign-ins
    allowed from the address or for the number, RateLimited before any hashing and with nothing recorded."""
    failures = (errors.InvalidCredentials, errors.AccountLocked, errors.AccountDisabled)
    return await attempts.guarded(
        _sign_in_limits(actor, phone), failures, lambda: _login_with_password(actor, phone, password)
    )


def _sign_in_limits(actor: Actor, phone: str) -> list[attempts.Limit]:
    """The limits of a password sign-in: its number and its client address."""
    try:
        number = normalize_mobile(phone)
    except InvalidPhoneNumber:
        number = phone.strip()[:32]
    return attempts.limits(
        actor,
        f"signin-number:{number}",
        deps.signin_failures_per_number,
        "signin-address",
        deps.signin_failures_per_address,
    )


@use_case("user.sign_in", "User")
async def _login_with_password(actor: Actor, phone: str, password: str) -> Session:
    number = normalize_mobile(phone)
    user = await User.get_or_none(phone=number)
    if user is None:
        await verify_nothing(password)
        raise errors.InvalidCredentials()
    ensure_not_locked(user, clock.now())
    if not await verify_secret(user.password_hash, password):
        locked_until = await _count_failure(actor, user.id)
        if locked_until is not None:
            raise errors.AccountLocked(locked_until=locked_until)
        raise errors.InvalidCredentials()
    if needs_rehash(user.password_hash):
        user.password_hash = await hash_secret(password)
        await user.save(update_fields=["password_hash"])
    return await open_session(actor, user, "password")


@raises(InvalidPhoneNumber, RateLimited)
@use_case("sms_code.request", "SmsCode")
async def request_sms_code(actor: Actor, phone: str) -> CodeSent:
    """Sends a 6-digit sign-in code; at most one a minute and 10 a day per number.

    The answer is the same whether or not the number has an account, so that nobody can probe
    which numbers are registered; only a registered number receives a message.
    """
    number = normalize_mobile(phone)
    return await send_code(number, SMS_PURPOSE_LOGIN, "login_code", lambda: User.exists(phone=number))


@raises(
    InvalidPhoneNumber, errors.SmsCodeInvalid, errors.SmsCodeExhausted, errors.AccountLocked, errors.AccountDisabled
)
@use_case("user.sign_in", "User")
async def login_with_sms_code(actor: Actor, phone: str, code: str) -> Session:
    """A session for the latest unexpired code of the number; 5 tries per code."""
    number = normalize_mobile(phone)

    async def holder(now: datetime) -> User | None:
        user = await User.get_or_none(phone=number)
        if user is not None:
            ensure_not_locked(user, now)
        return user

    user = await redeem_code(number, SMS_PURPOSE_LOGIN, code, holder)
    return await open_session(actor, user, "sms")


@raises(errors.RefreshTokenInvalid, errors.RefreshTokenReused, errors.AccountLocked, errors.AccountDisabled)
@use_case("session.refresh", "Session")
async def refresh_session(actor: Actor, refresh_token: str) -> Session:
    """Rotates the refresh token; presenting a used one revokes its whole family."""
    now = clock.now()
    async with in_transaction():
        row = await lock(RefreshToken.filter(token_hash=_token_hash(refresh_token))).first()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise errors.RefreshTokenInvalid()
        reused = row.used_at is not None
        if not reused:
            row.used_at = now
            await row.save(update_fields=["used_at"])
            user = await User.get(id=row.user_id)
            ensure_not_locked(user, now)
            amr = tuple(row.amr.split())
            new_token, new_exp = await _new_refresh(user, str(row.family), now, amr)
    if reused:
        await _revoke_family(actor, str(row.family), "reuse", row.user_id)
        raise errors.RefreshTokenReused()
    access, access_exp, withheld, org = await _access_token(user, str(row.family), amr)
    return Session(access, access_exp, new_token, new_exp, user, amr, withheld, org)


async def _revoke_family(actor: Actor, family: str, reason: str, user_id: int) -> int:
    """Ends the session: its refresh tokens stop, and its access tokens are refused from the commit on, here at once
    and in every process within `ended_sessions.RELOAD_SECONDS` (api/auth.py), its open WebSockets closed."""
    if reason not in ENDED_REASONS:  # ended_sessions.py reads the ended sessions by these reasons
        raise ValueError(f"unknown reason for ending a session: {reason}")
    now = clock.now()
    async with in_transaction():
        count = await RefreshToken.filter(family=family, revoked_at=None).update(revoked_at=now, revoked_reason=reason)
        await events.record(
            ev.SessionRevoked(object_id=family, reason=reason, audience=Audience(users=(user_id,))),
            actor,
        )
    ended_sessions.note((family,), now)
    return int(count)


async def end_session(actor: Actor, family: str, user_id: int, reason: str) -> int:
    """Ends a session by its family (one opened by a sign-in that was then refused): its refresh tokens stop."""
    return await _revoke_family(actor, family, reason, user_id)


@raises(errors.RefreshTokenInvalid)
@use_case("session.logout", "Session")
async def logout(actor: Actor, refresh_token: str | None = None) -> None:
    """Ends the caller's session: every refresh token of its family stops working."""
    family = actor.session_id
    user_id = actor.user_id
    if refresh_token:
        row = await RefreshToken.get_or_none(token_hash=_token_hash(refresh_token))
        if row is None or (actor.user_id is not None and row.user_id != actor.user_id):
            raise errors.RefreshTokenInvalid()
        family, user_id = str(row.family), row.user_id
    if family is None or user_id is None:
        raise errors.RefreshTokenInvalid()
    await _revoke_family(actor, family, "logout", user_id)


async def unlock_due(user: User, now: datetime) -> None:
    """Chronograph transition: the lock of a user ends at `locked_until`."""
    user.locked_until = None
    user.next_check_at = None
    user.failed_logins = 0
    await user.save(update_fields=["locked_until", "next_check_at", "failed_logins"])
    await events.record(
        ev.UserUnlocked(object_id=str(user.id), audience=Audience(users=(user.id,))),
        Actor(client_id="system", roles=frozenset({Role.OPERATOR})),
    )
