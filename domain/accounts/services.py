"""Use cases of market entities and their users: one form, review, sign-in, sessions, clients."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.transactions import in_transaction

from domain.accounts import errors
from domain.accounts import events as ev
from domain.accounts.models import (
    Expert,
    IntegratorClient,
    Organisation,
    RefreshToken,
    SmsCode,
    User,
)
from domain.accounts.states import SELF_SERVICE_KINDS, OrgKind, OrgStatus, ensure_transition, roles_of
from domain.accounts.tokens import KeyRing
from domain.common import clock, cpu, events
from domain.common.actors import Actor, Role, two_factor
from domain.common.catalogue import Category
from domain.common.errors import InvalidInput, NotFound, PermissionDenied, RateLimited, raises, required_text
from domain.common.events import Audience, use_case
from domain.common.idempotency import run_once
from domain.common.ids import InvalidCreditCode, InvalidPhoneNumber, normalize_mobile, normalize_uscc
from domain.common.storage import lock, lock_named
from domain.sms import services as sms

log = logging.getLogger("palmtrade.accounts")

MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)
SMS_CODE_TTL = timedelta(minutes=5)
SMS_MAX_ATTEMPTS = 5
SMS_MIN_INTERVAL = timedelta(seconds=60)
SMS_MAX_PER_HOUR = 5
SMS_MAX_PER_DAY = 10
SMS_PURPOSE_LOGIN = "login"
SMS_PURPOSE_EXPERT = "expert"
# authentication method references of a session (RFC 8176 names where one exists; "cert" is a certificate)
AMR_OF_METHOD = {"password": "pwd", "sms": "sms", "cert": "cert"}
# An expert signs in once for a whole evaluation sitting (评标会) and gets no refresh token: the
# session ends with this access token, 4 hours after the sign-in, and a new SMS code starts another.
EXPERT_SESSION_TTL = timedelta(hours=4)
INTEGRATOR_SCOPES = frozenset({"announcements:read", "results:read", "feed:read", "ocds:read", "entities:read"})
_REGION = re.compile(r"^(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|8[12])\d{4}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

H = TypeVar("H")

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("palmtrade-timing-equaliser-0")
# failed password sign-ins counted per client address (a minute) and per number (15 minutes), checked before any
# hashing: each costs an argon2 verification (64 MiB, about 200 ms of CPU) and a refused attempt in the audit trail
SIGNIN_ADDRESS_WINDOW = 60
SIGNIN_NUMBER_WINDOW = 15 * 60


class FailureCounter(Protocol):
    """Fixed-window counts shared by the deployment's processes (api/ratelimit.py)."""

    async def peek(self, key: str, window_seconds: int) -> tuple[int, int]:
        """(count in the current window, seconds until it resets), counting nothing."""
        ...

    async def hit(self, key: str, limit: int, window_seconds: int = 60) -> tuple[bool, int]: ...


# the SMS outbox wired at the composition root (notifications/sms/dispatch.py); the development one logs
SmsSender = sms.SmsOutbox
LogSmsSender = sms.LogOutbox


@dataclass
class Deps:
    """Adapters wired at the composition root (api/)."""

    keyring: KeyRing = field(default_factory=KeyRing)
    sms: SmsSender = field(default_factory=LogSmsSender)
    code_secret: bytes = b"development-only-secret"
    # roles granted only to a two-factor session (certificate plus SMS code); TWO_FACTOR_ROLES in api/settings
    two_factor_roles: frozenset[Role] = frozenset()
    # failed password sign-ins allowed per window (SIGNIN_FAILURES_PER_ADDRESS / _PER_NUMBER); 0: no limit
    failures: FailureCounter | None = None
    signin_failures_per_address: int = 30
    signin_failures_per_number: int = 10


deps = Deps()


def configure(keyring: KeyRing, outbox: SmsSender, code_secret: bytes) -> None:
    deps.keyring, deps.sms, deps.code_secret = keyring, outbox, code_secret
    sms.configure(code_secret)
    if isinstance(outbox, sms.LogOutbox):
        outbox.secret = code_secret  # it opens what _send_code sealed


# ---------------------------------------------------------------- validation


def check_password(password: str) -> None:
    if len(password) < 8 or not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        raise errors.WeakPassword()


def check_region(code: str) -> str:
    value = code.strip()
    if not _REGION.match(value):
        raise errors.InvalidRegionCode(code)
    return value


def check_id_number(value: str) -> str:
    """A resident identity number with its GB 11643 (ISO 7064 MOD 11-2) check character."""
    number = value.strip().upper()
    if not re.match(r"^\d{17}[\dX]$", number):
        raise errors.InvalidIdNumber()
    total = sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    if "10X98765432"[total % 11] != number[17]:
        raise errors.InvalidIdNumber()
    return number


def _kinds(kinds: list[str], actor: Actor) -> list[str]:
    if not kinds:
        raise InvalidInput(field="kinds")
    try:
        chosen = sorted({OrgKind(k) for k in kinds})
    except ValueError:
        raise InvalidInput(field="kinds") from None
    if not set(chosen) <= SELF_SERVICE_KINDS and not actor.has(Role.OPERATOR):
        raise errors.KindNotSelfService()
    return [k.value for k in chosen]


# ---------------------------------------------------------------- one form


@dataclass(frozen=True, slots=True)
class RegistrationForm:
    credit_code: str
    name: str
    region_code: str
    kinds: list[str]
    contact_name: str
    phone: str
    password: str
    supervised_categories: list[str] = field(default_factory=list)


@raises(
    InvalidCreditCode,
    InvalidPhoneNumber,
    errors.WeakPassword,
    errors.InvalidRegionCode,
    errors.CreditCodeTaken,
    errors.PhoneTaken,
    errors.KindNotSelfService,
)
@use_case("organisation.register", "Organisation")
async def register_organisation(
    actor: Actor, form: RegistrationForm, idempotency_key: str | None = None
) -> tuple[Organisation, User, bool]:
    """Creates a pending organisation and its first user in one step (一表申请), exactly once."""
    credit_code = normalize_uscc(form.credit_code)
    phone = normalize_mobile(form.phone)
    name = required_text(form.name, "name", 200)
    contact = required_text(form.contact_name, "contactName", 50)
    region = check_region(form.region_code)
    kinds = _kinds(form.kinds, actor)
    try:
        categories = sorted({Category(c).value for c in form.supervised_categories})
    except ValueError:
        raise InvalidInput(field="supervisedCategories") from None
    if categories and OrgKind.SUPERVISOR not in kinds:
        raise InvalidInput(field="supervisedCategories")
    check_password(form.password)
    request = {
        "credit_code": credit_code,
        "name": name,
        "region": region,
        "kinds": kinds,
        "contact": contact,
        "phone": phone,
        "categories": categories,
        "password": hashlib.sha256(form.password.encode()).hexdigest(),
    }
    password_hash = await hash_secret(form.password)

    async def create() -> dict[str, Any]:
        if await Organisation.exists(credit_code=credit_code):
            raise errors.CreditCodeTaken()
        if await User.exists(phone=phone):
            raise errors.PhoneTaken()
        now = clock.now()
        org = await Organisation.create(
            credit_code=credit_code,
            name=name,
            region_code=region,
            kinds=kinds,
            supervised_categories=categories,
            contact_name=contact,
            contact_phone=phone,
            status=OrgStatus.PENDING.value,
            created_at=now,
            updated_at=now,
        )
        user = await User.create(
            organisation=org, phone=phone, name=contact, password_hash=password_hash, created_at=now
        )
        await events.record(
            ev.OrganisationRegistered(
                object_id=str(org.id),
                credit_code=credit_code,
                name=name,
                kinds=tuple(kinds),
                user_id=user.id,
                audience=Audience(orgs=(org.id,)),
            ),
            actor,
        )
        return {"organisation_id": org.id, "user_id": user.id}

    result, replayed = await run_once(actor, idempotency_key, "organisation.register", request, create)
    org = await Organisation.get(id=result["organisation_id"])
    user = await User.get(id=result["user_id"])
    return org, user, replayed


async def _review(actor: Actor, org_id: int, target: OrgStatus, reason: str | None, key: str | None) -> Organisation:
    if not actor.has(Role.OPERATOR):
        raise PermissionDenied()

    async def change() -> dict[str, Any]:
        org = await lock(Organisation.filter(id=org_id)).first()
        if org is None:
            raise NotFound()
        ensure_transition(org.status, target, actor)
        now = clock.now()
        org.status, org.review_reason = target.value, reason
        org.reviewed_by, org.reviewed_at, org.updated_at = actor.user_id, now, now
        await org.save()
        audience = Audience(orgs=(org.id,))
        event = (
            ev.OrganisationApproved(object_id=str(org.id), audience=audience)
            if target is OrgStatus.APPROVED
            else ev.OrganisationRejected(object_id=str(org.id), reason=reason or "", audience=audience)
        )
        await events.record(event, actor)
        return {"organisation_id": org.id}

    request = {"organisation_id": org_id, "target": target.value, "reason": reason}
    result, _ = await run_once(actor, key, f"organisation.{target.value}", request, change)
    return await Organisation.get(id=result["organisation_id"])


@raises()
@use_case("organisation.approve", "Organisation", lambda actor, org_id, *a, **k: org_id)
async def approve_organisation(actor: Actor, org_id: int, idempotency_key: str | None = None) -> Organisation:
    """Approves a pending entity: from now on it may trade in every category."""
    return await _review(actor, org_id, OrgStatus.APPROVED, None, idempotency_key)


@raises()
@use_case("organisation.reject", "Organisation", lambda actor, org_id, *a, **k: org_id)
async def reject_organisation(
    actor: Actor, org_id: int, reason: str, idempotency_key: str | None = None
) -> Organisation:
    """Rejects a pending entity with a reason the applicant sees."""
    return await _review(actor, org_id, OrgStatus.REJECTED, required_text(reason, "reason", 1000), idempotency_key)


# ---------------------------------------------------------------- sessions


@dataclass(frozen=True, slots=True)
class Session:
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    user: User
    amr: tuple[str, ...] = ()
    withheld_roles: tuple[str, ...] = ()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _access_token(user: User, family: str, amr: tuple[str, ...]) -> tuple[str, datetime, tuple[str, ...]]:
    """The access token of a session signed in by `amr`; roles that need two factors are withheld from a
    session without them (claim `mfa` names them). Returns the token, its expiry and the withheld roles."""
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
    return token, expires, tuple(sorted(withheld))


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


async def _open_session(actor: Actor, user: User, method: str, amr: tuple[str, ...] | None = None) -> Session:
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
    access, access_exp, withheld = await _access_token(user, family, methods)
    return Session(access, access_exp, refresh, refresh_exp, user, methods, withheld)


def _ensure_not_locked(user: User, now: datetime) -> None:
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
    keys = _sign_in_keys(actor, phone)
    await _ensure_sign_in_allowed(keys)
    try:
        return await _login_with_password(actor, phone, password)
    except (errors.InvalidCredentials, errors.AccountLocked, errors.AccountDisabled):
        await _count_sign_in_failure(keys)
        raise


def _sign_in_keys(actor: Actor, phone: str) -> list[tuple[str, int, int]]:
    """(counter, limit, window) of a password sign-in: its client address and its number."""
    try:
        number = normalize_mobile(phone)
    except InvalidPhoneNumber:
        number = phone.strip()[:32]
    keys = [(f"signin-number:{number}", deps.signin_failures_per_number, SIGNIN_NUMBER_WINDOW)]
    if actor.ip:
        keys.append((f"signin-address:{actor.ip}", deps.signin_failures_per_address, SIGNIN_ADDRESS_WINDOW))
    return [k for k in keys if k[1] > 0]


async def _ensure_sign_in_allowed(keys: list[tuple[str, int, int]]) -> None:
    if deps.failures is None:
        return
    for key, limit, window in keys:
        count, reset = await deps.failures.peek(key, window)
        if count >= limit:
            raise RateLimited(retry_at=clock.now() + timedelta(seconds=reset))


async def _count_sign_in_failure(keys: list[tuple[str, int, int]]) -> None:
    if deps.failures is not None:
        for key, limit, window in keys:
            await deps.failures.hit(key, limit, window)


@use_case("user.sign_in", "User")
async def _login_with_password(actor: Actor, phone: str, password: str) -> Session:
    number = normalize_mobile(phone)
    user = await User.get_or_none(phone=number)
    if user is None:
        await verify_nothing(password)
        raise errors.InvalidCredentials()
    _ensure_not_locked(user, clock.now())
    if not await verify_secret(user.password_hash, password):
        locked_until = await _count_failure(actor, user.id)
        if locked_until is not None:
            raise errors.AccountLocked(locked_until=locked_until)
        raise errors.InvalidCredentials()
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = await hash_secret(password)
        await user.save(update_fields=["password_hash"])
    return await _open_session(actor, user, "password")


async def hash_secret(secret: str) -> str:
    """The argon2id hash of a password or device secret, computed on the CPU pool (domain/common/cpu.py)."""
    return await cpu.run(_hasher.hash, secret)


async def verify_secret(secret_hash: str, secret: str) -> bool:
    """Whether `secret` matches its argon2 hash, checked on the CPU pool."""
    return await cpu.run(_verify, secret_hash, secret)


async def verify_nothing(secret: str) -> None:
    """The same work as verify_secret for a name that has no hash, so that the answer's time does not tell."""
    await cpu.run(_verify, _DUMMY_HASH, secret)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _code_hash(phone: str, code: str) -> str:
    return hmac.new(deps.code_secret, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class CodeSent:
    expires_at: datetime
    retry_after: datetime


async def _send_code(number: str, purpose: str, template: str, has_holder: Callable[[], Awaitable[bool]]) -> CodeSent:
    """Stores a new code for (number, purpose) within the number's limits, queues its text (templates in
    domain/sms/services.py) if the number has a holder, and answers the same either way.

    The limits count every code of the number whatever its purpose: they protect the phone's owner, and match
    the providers' own per-number flow control (one a minute, five an hour, ten a day).
    """
    now = clock.now()
    holder = await has_holder()
    async with in_transaction():
        recent = await lock(SmsCode.filter(phone=number, created_at__gt=now - timedelta(days=1))).order_by(
            "-created_at"
        )
        if recent and recent[0].created_at > now - SMS_MIN_INTERVAL:
            raise RateLimited(retry_at=recent[0].created_at + SMS_MIN_INTERVAL)
        last_hour = [c for c in recent if c.created_at > now - timedelta(hours=1)]
        if len(last_hour) >= SMS_MAX_PER_HOUR:
            raise RateLimited(retry_at=last_hour[-1].created_at + timedelta(hours=1))
        if len(recent) >= SMS_MAX_PER_DAY:
            raise RateLimited(retry_at=recent[-1].created_at + timedelta(days=1))
        code = f"{secrets.randbelow(1_000_000):06d}"
        await SmsCode.create(
            phone=number,
            purpose=purpose,
            code_hash=_code_hash(number, code),
            created_at=now,
            expires_at=now + SMS_CODE_TTL,
        )
        message = (
            await sms.queue(number, template, {"code": code}, secret=deps.code_secret, ttl=SMS_CODE_TTL)
            if holder
            else None
        )
    if message is not None:
        try:
            await deps.sms.send_now(message.id)
        except Exception:  # queued: a worker's SMS dispatcher sends it (README: SMS)
            log.exception("sending SMS %s at once failed; it stays queued", message.id)
    return CodeSent(expires_at=now + SMS_CODE_TTL, retry_after=now + SMS_MIN_INTERVAL)


async def _redeem_code(number: str, purpose: str, code: str, holder: Callable[[datetime], Awaitable[H | None]]) -> H:
    """The holder of the number if `code` is its latest unexpired code for `purpose`; uses the code up.

    `holder` runs under the code's lock once the code may still be tried; a wrong code, or a number
    without a holder, costs one of the code's 5 tries.
    """
    now = clock.now()
    async with in_transaction():
        sms = (
            await lock(SmsCode.filter(phone=number, purpose=purpose, used_at=None, expires_at__gt=now))
            .order_by("-created_at")
            .first()
        )
        if sms is None:
            raise errors.SmsCodeInvalid()
        if sms.attempts >= SMS_MAX_ATTEMPTS:
            raise errors.SmsCodeExhausted()
        who = await holder(now)
        good = hmac.compare_digest(sms.code_hash, _code_hash(number, code.strip())) and who is not None
        if good:
            sms.used_at = now
        else:
            sms.attempts += 1
        await sms.save(update_fields=["used_at", "attempts"])
    if not good or who is None:
        raise errors.SmsCodeExhausted() if sms.attempts >= SMS_MAX_ATTEMPTS else errors.SmsCodeInvalid()
    return who


@raises(InvalidPhoneNumber, RateLimited)
@use_case("sms_code.request", "SmsCode")
async def request_sms_code(actor: Actor, phone: str) -> CodeSent:
    """Sends a 6-digit sign-in code; at most one a minute and 10 a day per number.

    The answer is the same whether or not the number has an account, so that nobody can probe
    which numbers are registered; only a registered number receives a message.
    """
    number = normalize_mobile(phone)
    return await _send_code(number, SMS_PURPOSE_LOGIN, "login_code", lambda: User.exists(phone=number))


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
            _ensure_not_locked(user, now)
        return user

    user = await _redeem_code(number, SMS_PURPOSE_LOGIN, code, holder)
    return await _open_session(actor, user, "sms")


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
            _ensure_not_locked(user, now)
            amr = tuple(row.amr.split())
            new_token, new_exp = await _new_refresh(user, str(row.family), now, amr)
    if reused:
        await _revoke_family(actor, str(row.family), "reuse", row.user_id)
        raise errors.RefreshTokenReused()
    access, access_exp, withheld = await _access_token(user, str(row.family), amr)
    return Session(access, access_exp, new_token, new_exp, user, amr, withheld)


async def _revoke_family(actor: Actor, family: str, reason: str, user_id: int) -> int:
    async with in_transaction():
        count = await RefreshToken.filter(family=family, revoked_at=None).update(
            revoked_at=clock.now(), revoked_reason=reason
        )
        await events.record(
            ev.SessionRevoked(object_id=family, reason=reason, audience=Audience(users=(user_id,))),
            actor,
        )
    return int(count)


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


# ---------------------------------------------------------------- integrators


@raises(errors.UnknownScope)
@use_case("integrator_client.create", "IntegratorClient")
async def create_integrator_client(
    actor: Actor, name: str, scopes: list[str], rate_per_minute: int, idempotency_key: str | None = None
) -> tuple[IntegratorClient, str | None]:
    """Creates client credentials; the secret is shown once and stored only as a hash."""
    if not actor.has(Role.OPERATOR):
        raise PermissionDenied()
    label = required_text(name, "name", 200)
    for scope in scopes:
        if scope not in INTEGRATOR_SCOPES:
            raise errors.UnknownScope(scope)
    if not scopes:
        raise InvalidInput(field="scopes")
    if not 1 <= rate_per_minute <= 100_000:
        raise InvalidInput(field="ratePerMinute")
    secret = "pts_" + secrets.token_urlsafe(32)
    secret_hash = await hash_secret(secret)
    holder: dict[str, str] = {}

    async def create() -> dict[str, Any]:
        client = await IntegratorClient.create(
            client_id="ptc_" + secrets.token_hex(8),
            secret_hash=secret_hash,
            name=label,
            scopes=sorted(set(scopes)),
            rate_limit_per_minute=rate_per_minute,
            created_by=actor.user_id,
            created_at=clock.now(),
        )
        await events.record(
            ev.IntegratorClientCreated(object_id=client.client_id, name=label, scopes=tuple(sorted(set(scopes)))),
            actor,
        )
        holder["secret"] = secret
        return {"client_id": client.client_id}

    request = {"name": label, "scopes": sorted(set(scopes)), "rate": rate_per_minute}
    result, replayed = await run_once(actor, idempotency_key, "integrator_client.create", request, create)
    client = await IntegratorClient.get(client_id=result["client_id"])
    # a replay cannot show the secret again: it was never stored
    return client, None if replayed else holder["secret"]


@use_case("integrator_client.token", "IntegratorClient")
async def client_credentials_token(actor: Actor, client_id: str, secret: str) -> tuple[str, datetime, IntegratorClient]:
    """An access token for an integrator (OAuth 2.0 client credentials grant)."""
    client = await IntegratorClient.get_or_none(client_id=client_id, is_active=True)
    if client is None:
        await verify_nothing(secret)
        raise errors.InvalidClient()
    if not await verify_secret(client.secret_hash, secret):
        raise errors.InvalidClient()
    token, expires = deps.keyring.issue(
        f"client:{client.client_id}",
        {"roles": [Role.INTEGRATOR.value], "scope": " ".join(client.scopes), "rpm": client.rate_limit_per_minute},
    )
    return token, expires, client


# ---------------------------------------------------------------- experts


@raises(errors.InvalidIdNumber, InvalidPhoneNumber, errors.ExpertPhoneTaken)
@use_case("expert.add", "Expert")
async def add_expert(
    actor: Actor,
    name: str,
    id_number: str,
    phone: str,
    specialties: list[str],
    employer_id: int | None,
    idempotency_key: str | None = None,
) -> Expert:
    """Adds a person to the expert pool; the identity number is kept only as a keyed hash."""
    if not actor.has(Role.OPERATOR):
        raise PermissionDenied()
    person = required_text(name, "name", 50)
    number = check_id_number(id_number)
    mobile = normalize_mobile(phone)
    fields_ = sorted({required_text(s, "specialties", 64) for s in specialties})
    if not fields_:
        raise InvalidInput(field="specialties")
    id_hash = hmac.new(deps.code_secret, number.encode(), hashlib.sha256).hexdigest()

    async def create() -> dict[str, Any]:
        if employer_id is not None and not await Organisation.exists(id=employer_id):
            raise NotFound()
        if await Expert.exists(id_number_hash=id_hash):
            raise InvalidInput(field="idNumber")
        # experts sign in by SMS code: one active expert per number, or a code could not say who
        await lock_named(f"expert.phone:{mobile}")
        if await Expert.exists(phone=mobile, is_active=True):
            raise errors.ExpertPhoneTaken()
        expert = await Expert.create(
            name=person,
            id_number_hash=id_hash,
            phone=mobile,
            specialties=fields_,
            employer_id=employer_id,
            created_at=clock.now(),
        )
        await events.record(ev.ExpertAdded(object_id=str(expert.id), specialties=tuple(fields_)), actor)
        return {"expert_id": expert.id}

    request = {"name": person, "id": id_hash, "phone": mobile, "specialties": fields_, "employer": employer_id}
    result, _ = await run_once(actor, idempotency_key, "expert.add", request, create)
    return await Expert.get(id=result["expert_id"])


@raises(InvalidPhoneNumber, RateLimited)
@use_case("expert_code.request", "SmsCode")
async def request_expert_code(actor: Actor, phone: str) -> CodeSent:
    """Sends an expert's 6-digit sign-in code, within the same limits per number as users' codes.

    The answer is the same whether or not the number is an active expert's; only such a number
    receives a message.
    """
    number = normalize_mobile(phone)
    return await _send_code(
        number, SMS_PURPOSE_EXPERT, "expert_login_code", lambda: Expert.exists(phone=number, is_active=True)
    )


@dataclass(frozen=True, slots=True)
class ExpertSession:
    access_token: str
    access_expires_at: datetime
    expert: Expert


@raises(InvalidPhoneNumber, errors.SmsCodeInvalid, errors.SmsCodeExhausted, errors.ExpertPhoneShared)
@use_case("expert.sign_in", "Expert")
async def login_expert(actor: Actor, phone: str, code: str) -> ExpertSession:
    """An expert session (EXPERT_SESSION_TTL, no refresh token) for the latest unexpired expert code
    of the number; 5 tries per code, and never for a number that several active experts share."""
    number = normalize_mobile(phone)

    async def holders(now: datetime) -> list[Expert] | None:
        return list(await Expert.filter(phone=number, is_active=True).order_by("id").limit(2)) or None

    experts = await _redeem_code(number, SMS_PURPOSE_EXPERT, code, holders)
    if len(experts) > 1:
        raise errors.ExpertPhoneShared()
    (expert,) = experts
    session_id = str(uuid.uuid4())
    async with in_transaction():
        await events.record(
            ev.ExpertSignedIn(object_id=str(expert.id), method="sms"),
            Actor(expert_id=expert.id, roles=frozenset({Role.EXPERT}), session_id=session_id, ip=actor.ip),
        )
    token, expires = deps.keyring.issue(
        f"expert:{expert.id}", {"roles": [Role.EXPERT.value], "sid": session_id}, ttl=EXPERT_SESSION_TTL
    )
    return ExpertSession(token, expires, expert)


async def expert_of(actor: Actor) -> Expert:
    """The signed-in expert, while still active in the pool."""
    if actor.expert_id is None:
        raise NotFound()
    expert = await Expert.get_or_none(id=actor.expert_id, is_active=True)
    if expert is None:
        raise NotFound()
    return expert


# ---------------------------------------------------------------- reading


async def visible_organisation(actor: Actor, org_id: int) -> Organisation:
    """An organisation the actor may read: its own, or any for operators and supervisors."""
    org = await Organisation.get_or_none(id=org_id)
    if org is None:
        raise NotFound()
    if actor.org_id == org.id or actor.has(Role.OPERATOR, Role.SUPERVISOR):
        return org
    if org.status == OrgStatus.APPROVED and not actor.is_anonymous:
        return org
    raise NotFound()


async def user_of(actor: Actor) -> User:
    """The signed-in user with their organisation, in one query."""
    if actor.user_id is None:
        raise NotFound()
    user = await User.filter(id=actor.user_id).select_related("organisation").first()
    if user is None:
        raise NotFound()
    return user
