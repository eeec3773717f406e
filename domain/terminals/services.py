"""Self-service terminals (自助终端): registered by operators, signed in with a device credential, and
the QR sign-in that lends a terminal a short, read-only session of one app user."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from domain.accounts import adapters, attempts, organisations, passwords
from domain.accounts.errors import InvalidRegionCode
from domain.accounts.models import Organisation, User
from domain.accounts.states import roles_of
from domain.accounts.tokens import KIOSK_SELF_SCOPE
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, use_case
from domain.common.idempotency import run_once
from domain.terminals import errors
from domain.terminals import events as ev
from domain.terminals.models import QrChallenge, Terminal

TERMINAL_TOKEN_TTL = timedelta(minutes=10)  # no refresh token: the terminal signs in again
QR_CHALLENGE_TTL = timedelta(minutes=2)
KIOSK_SESSION_TTL = timedelta(minutes=5)  # the longest a terminal may act for an app user
SEEN_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often
QR_SCHEME = "palmtrade://qr-login"
# A kiosk stands in a public hall: a session lent to it never carries oversight roles.
KIOSK_SESSION_ROLES = frozenset({Role.BIDDER, Role.TENDERER, Role.AGENCY, Role.GUARANTOR})
_SEEN_CACHE_SIZE = 4096

# terminal id -> when this process last found it active (deactivation reaches other processes
# within SEEN_EVERY; this one at once)
_active_seen: dict[int, datetime] = {}


@dataclass(frozen=True, slots=True)
class TerminalToken:
    access_token: str
    expires_at: datetime
    terminal: Terminal


@dataclass(frozen=True, slots=True)
class ChallengeIssued:
    challenge: str
    expires_at: datetime

    @property
    def qr_payload(self) -> str:
        return qr_payload(self.challenge)


@dataclass(frozen=True, slots=True)
class Approval:
    terminal: Terminal
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Pending:
    """The challenge is not approved yet: poll again until `expires_at`."""

    expires_at: datetime


@dataclass(frozen=True, slots=True)
class KioskSession:
    access_token: str
    expires_at: datetime
    user: User
    organisation: Organisation


def qr_payload(challenge: str) -> str:
    """What the terminal shows as a QR code."""
    return f"{QR_SCHEME}?c={challenge}"


def challenge_of(text: str) -> str:
    """The challenge in a scanned text: the bare challenge or the whole QR payload."""
    value = text.strip()
    if value.startswith(QR_SCHEME):
        found = parse_qs(urlsplit(value).query).get("c", [])
        value = found[0] if len(found) == 1 else ""
    if not value or len(value) > 128:
        raise errors.QrChallengeUnknown()
    return value


def _hash(challenge: str) -> str:
    return hashlib.sha256(challenge.encode()).hexdigest()


def is_terminal(actor: Actor) -> bool:
    """A terminal's own token (not a user's kiosk session on it)."""
    return actor.terminal_id is not None and actor.user_id is None and actor.has(Role.TERMINAL)


def is_app_user(actor: Actor) -> bool:
    """A person signed in on the app: not a terminal, a kiosk session, an integrator or an expert."""
    return (
        actor.user_id is not None
        and actor.terminal_id is None
        and actor.client_id is None
        and actor.expert_id is None
        and KIOSK_SELF_SCOPE not in actor.scopes
        and not actor.has(Role.TERMINAL, Role.INTEGRATOR, Role.EXPERT)
    )


# ---------------------------------------------------------------- operators


@raises(InvalidRegionCode)
@use_case("terminal.register", "Terminal")
async def register_terminal(
    actor: Actor, name: str, location: str, region_code: str | None, idempotency_key: str | None = None
) -> tuple[Terminal, str | None]:
    """Registers a terminal; its secret is returned once (None on a replay) and kept only as a hash."""
    if not actor.has(Role.OPERATOR) or actor.user_id is None:
        raise PermissionDenied()
    label = required_text(name, "name", 100)
    place = required_text(location, "location", 200)
    region = organisations.check_region(region_code) if region_code else None
    secret = "ptk_" + secrets.token_urlsafe(32)
    secret_hash = await passwords.hash_secret(secret)
    holder: dict[str, str] = {}

    async def create() -> dict[str, Any]:
        terminal = await Terminal.create(
            device_id="ptd_" + secrets.token_hex(8),
            secret_hash=secret_hash,
            name=label,
            location=place,
            region_code=region,
            created_by=actor.user_id,
            created_at=clock.now(),
        )
        await events.record(
            ev.TerminalRegistered(
                object_id=str(terminal.id),
                device_id=terminal.device_id,
                name=label,
                location=place,
                region_code=region,
            ),
            actor,
        )
        holder["secret"] = secret
        return {"terminal_id": terminal.id}

    request = {"name": label, "location": place, "region": region}
    result, replayed = await run_once(actor, idempotency_key, "terminal.register", request, create)
    terminal = await Terminal.get(id=result["terminal_id"])
    return terminal, None if replayed else holder["secret"]


@raises()
@use_case("terminal.set_active", "Terminal", lambda actor, terminal_id, active: str(terminal_id))
async def set_terminal_active(actor: Actor, terminal_id: int, active: bool) -> Terminal:
    """Deactivates or reactivates a terminal; a deactivated one can neither sign in nor use its tokens."""
    if not actor.has(Role.OPERATOR):
        raise PermissionDenied()
    async with in_transaction():
        terminal = await Terminal.select_for_update().get_or_none(id=terminal_id)
        if terminal is None:
            raise NotFound()
        if terminal.is_active != active:
            terminal.is_active = active
            await terminal.save(update_fields=["is_active"])
            event = ev.TerminalReactivated if active else ev.TerminalDeactivated
            await events.record(event(object_id=str(terminal.id)), actor)
    _active_seen.pop(terminal_id, None)
    return terminal


def terminals(actor: Actor) -> QuerySet[Terminal]:
    """Every registered terminal (operators)."""
    if not actor.has(Role.OPERATOR):
        raise PermissionDenied()
    return Terminal.all()


# ---------------------------------------------------------------- the terminal's own sign-in


@raises(errors.TerminalCredentialsInvalid)
async def sign_in(actor: Actor, device_id: str, secret: str) -> TerminalToken:
    """A 10-minute access token for an active terminal whose secret matches; no refresh token. Past the failed
    sign-ins allowed from the address or for the device id, RateLimited before any hashing and with nothing
    recorded."""
    device = device_id.strip()[:64]
    checked = attempts.limits(
        actor,
        f"signin-terminal:{device}",
        attempts.clients.per_id,
        attempts.CLIENT_ADDRESS,
        attempts.clients.per_address,
    )
    return await attempts.guarded(
        checked, (errors.TerminalCredentialsInvalid,), lambda: _sign_in(actor, device, secret)
    )


@use_case("terminal.sign_in", "Terminal")
async def _sign_in(actor: Actor, device: str, secret: str) -> TerminalToken:
    # device ids are ptd_ and hex digits: other text is unknown without a query (PostgreSQL refuses a NUL)
    terminal = await Terminal.get_or_none(device_id=device) if device.isascii() and device.isprintable() else None
    if terminal is None:
        await passwords.verify_nothing(secret)  # the same time for an unknown device
        raise errors.TerminalCredentialsInvalid()
    if not await passwords.verify_secret(terminal.secret_hash, secret) or not terminal.is_active:
        raise errors.TerminalCredentialsInvalid()
    token, expires = adapters.deps.keyring.issue(
        f"terminal:{terminal.id}", {"roles": [Role.TERMINAL.value]}, ttl=TERMINAL_TOKEN_TTL
    )
    now = clock.now()
    async with in_transaction():
        await events.record(
            ev.TerminalSignedIn(object_id=str(terminal.id), expires_at=expires.isoformat()),
            Actor(terminal_id=terminal.id, roles=frozenset({Role.TERMINAL}), ip=actor.ip),
        )
        await _touch(terminal.id, now)
    return TerminalToken(access_token=token, expires_at=expires, terminal=terminal)


async def _touch(terminal_id: int, now: datetime) -> int:
    """Writes last_seen_at unless it is younger than a minute; 1 when the active terminal was written."""
    stale = Q(last_seen_at=None) | Q(last_seen_at__lte=now - SEEN_EVERY)
    return await Terminal.filter(stale, id=terminal_id, is_active=True).update(last_seen_at=now)


async def check_in(terminal_id: int) -> bool:
    """Whether the terminal is still active; records it as seen (last_seen_at at most once a minute)."""
    now = clock.now()
    seen = _active_seen.get(terminal_id)
    if seen is not None and timedelta(0) <= now - seen < SEEN_EVERY:
        return True
    if not await _touch(terminal_id, now) and not await Terminal.exists(id=terminal_id, is_active=True):
        _active_seen.pop(terminal_id, None)
        return False
    if len(_active_seen) >= _SEEN_CACHE_SIZE:
        _active_seen.clear()
    _active_seen[terminal_id] = now
    return True


# ---------------------------------------------------------------- QR sign-in


@raises()
async def issue_challenge(actor: Actor) -> ChallengeIssued:
    """A fresh random challenge (256 bits, URL-safe) of this terminal, valid for 2 minutes."""
    if not is_terminal(actor) or actor.terminal_id is None:
        raise PermissionDenied()
    if not await Terminal.exists(id=actor.terminal_id, is_active=True):
        raise PermissionDenied()
    challenge = secrets.token_urlsafe(32)
    now = clock.now()
    expires = now + QR_CHALLENGE_TTL
    await QrChallenge.create(
        challenge_hash=_hash(challenge), terminal_id=actor.terminal_id, created_at=now, expires_at=expires
    )
    return ChallengeIssued(challenge=challenge, expires_at=expires)


@raises(errors.QrChallengeUnknown, errors.QrChallengeExpired, errors.QrChallengeAlreadyApproved)
@use_case("qr_challenge.approve", "QrChallenge")
async def approve_challenge(actor: Actor, challenge: str) -> Approval:
    """Approves a pending, unexpired challenge for the signed-in app user; changes nothing otherwise."""
    if not is_app_user(actor) or actor.user_id is None:
        raise PermissionDenied()
    digest = _hash(challenge_of(challenge))
    now = clock.now()
    async with in_transaction():
        row = await QrChallenge.select_for_update().get_or_none(challenge_hash=digest)
        if row is None:
            raise errors.QrChallengeUnknown()
        terminal = await Terminal.get(id=row.terminal_id)
        if not terminal.is_active:
            raise errors.QrChallengeUnknown()
        if row.approved_by is not None:
            raise errors.QrChallengeAlreadyApproved()
        if row.expires_at <= now:
            raise errors.QrChallengeExpired()
        if not await User.exists(id=actor.user_id, is_active=True):
            raise PermissionDenied()
        # the condition again in the write: one approval even where select_for_update is a no-op
        approved = await QrChallenge.filter(id=row.id, approved_by=None, expires_at__gt=now).update(
            approved_by=actor.user_id, approved_at=now
        )
        if approved != 1:
            raise errors.QrChallengeAlreadyApproved()
        await events.record(
            ev.QrChallengeApproved(
                object_id=str(row.id),
                terminal_id=terminal.id,
                user_id=actor.user_id,
                audience=Audience(users=(actor.user_id,)),
            ),
            actor,
        )
    return Approval(terminal=terminal, expires_at=row.expires_at)


@raises(errors.QrChallengeUnknown, errors.QrChallengeExpired, errors.QrChallengeRedeemed)
@use_case("qr_challenge.redeem", "QrChallenge")
async def redeem_challenge(actor: Actor, challenge: str) -> KioskSession | Pending:
    """For the terminal that asked: Pending until approved, then once a 5-minute session of the user
    limited to reading their own data (scope kiosk:self, the terminal's id)."""
    if not is_terminal(actor) or actor.terminal_id is None:
        raise PermissionDenied()
    digest = _hash(challenge_of(challenge))
    now = clock.now()
    async with in_transaction():
        row = await QrChallenge.select_for_update().get_or_none(challenge_hash=digest, terminal_id=actor.terminal_id)
        if row is None:
            raise errors.QrChallengeUnknown()  # another terminal's challenge is no business of this one
        if row.redeemed_at is not None:
            raise errors.QrChallengeRedeemed()
        if row.expires_at <= now:
            raise errors.QrChallengeExpired()
        if row.approved_by is None:
            return Pending(expires_at=row.expires_at)
        user = await User.filter(id=row.approved_by, is_active=True).select_related("organisation").first()
        if user is None:
            raise errors.QrChallengeUnknown()
        redeemed = await QrChallenge.filter(id=row.id, redeemed_at=None).update(redeemed_at=now)
        if redeemed != 1:
            raise errors.QrChallengeRedeemed()
        org = user.organisation
        roles = roles_of(org.status, list(org.kinds)) & KIOSK_SESSION_ROLES
        claims = {"org": org.id, "roles": sorted(roles), "scope": KIOSK_SELF_SCOPE, "tid": actor.terminal_id}
        token, expires = adapters.deps.keyring.issue(f"user:{user.id}", claims, ttl=KIOSK_SESSION_TTL)
        await events.record(
            ev.QrChallengeRedeemed(
                object_id=str(row.id),
                terminal_id=actor.terminal_id,
                user_id=user.id,
                session_expires_at=expires.isoformat(),
                audience=Audience(users=(user.id,)),
            ),
            actor,
        )
    return KioskSession(access_token=token, expires_at=expires, user=user, organisation=org)
