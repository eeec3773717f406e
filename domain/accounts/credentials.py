"""Changing a password (or resetting it by SMS code): the current one proves the caller (limited as sign-ins are),
the new one meets the rules; the user's other sessions end, and so does whatever the old password let others keep
(client systems' grants of single sign-on, plugged in at domain/wiring: accounts knows nothing of them), and the
ended sessions' access tokens are refused from then on (ended_sessions.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from tortoise.transactions import in_transaction

from domain.accounts import attempts, errors
from domain.accounts import events as ev
from domain.accounts.adapters import deps
from domain.accounts.ended_sessions import ENDED_REASON, ended_sessions
from domain.accounts.models import RefreshToken, User
from domain.accounts.passwords import check_password, hash_secret, verify_secret
from domain.accounts.sessions import ensure_not_locked
from domain.accounts.sms_codes import SMS_PURPOSE_LOGIN, redeem_code
from domain.common import clock, events
from domain.common.actors import Actor
from domain.common.errors import PermissionDenied, raises
from domain.common.events import Audience, use_case
from domain.common.ids import InvalidPhoneNumber, normalize_mobile
from domain.common.storage import lock

# what else a password change ends, given (actor, user id, now) and answering how many it revoked, in the transaction
Revoker = Callable[[Actor, int, datetime], Awaitable[int]]
_revokers: list[Revoker] = []


def plug(revoker: Revoker) -> None:
    """Registers what else a password change revokes (domain/wiring)."""
    if revoker not in _revokers:
        _revokers.append(revoker)


def _limits(actor: Actor, user_id: int) -> list[attempts.Limit]:
    """A wrong current password counts as a failed sign-in does: per user and per client address."""
    return attempts.limits(
        actor,
        f"password-change:{user_id}",
        deps.signin_failures_per_number,
        "signin-address",
        deps.signin_failures_per_address,
    )


@raises(
    errors.CurrentPasswordWrong,
    errors.WeakPassword,
    errors.PasswordUnchanged,
    errors.AccountLocked,
    errors.AccountDisabled,
)
async def change_password(actor: Actor, current_password: str, new_password: str) -> int:
    """Replaces the signed-in user's password when the current one is right and the new one strong enough; every
    other session of the user and every plugged grant (client systems') is revoked in the same transaction, the
    caller's session continues. Past the failures allowed, RateLimited before any hashing. Answers how many sessions
    and grants ended."""
    if actor.user_id is None or actor.session_id is None or actor.terminal_id is not None:
        raise PermissionDenied()
    user_id = actor.user_id
    check_password(new_password)
    return await attempts.guarded(
        _limits(actor, user_id),
        (errors.CurrentPasswordWrong,),
        lambda: _change(actor, user_id, current_password, new_password),
    )


@use_case("user.password_change", "User", lambda actor, *a, **k: str(actor.user_id))
async def _change(actor: Actor, user_id: int, current_password: str, new_password: str) -> int:
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise PermissionDenied()
    ensure_not_locked(user, clock.now())
    if not await verify_secret(user.password_hash, current_password):
        raise errors.CurrentPasswordWrong()
    if new_password == current_password:
        raise errors.PasswordUnchanged()
    new_hash = await hash_secret(new_password)
    return await _replace(actor, user_id, new_hash, actor.session_id)


async def _replace(actor: Actor, user_id: int, new_hash: str, kept_session: str | None) -> int:
    """The new hash, and every session of the user but `kept_session` and every plugged grant revoked, at once."""
    async with in_transaction():
        user = await lock(User.filter(id=user_id)).get()
        now = clock.now()
        user.password_hash = new_hash
        fields = ["password_hash"]
        if kept_session is None and user.locked_until is not None:
            # a reset by SMS code proves the phone: the lock against password guessing is lifted with it
            user.locked_until, user.next_check_at, user.failed_logins = None, None, 0
            fields += ["locked_until", "next_check_at", "failed_logins"]
        await user.save(update_fields=fields)
        tokens = RefreshToken.filter(user_id=user_id, revoked_at=None)
        if kept_session is not None:
            tokens = tokens.exclude(family=kept_session)
        sessions = {str(f) for f in await tokens.values_list("family", flat=True)}
        ended = await tokens.update(revoked_at=now, revoked_reason=ENDED_REASON)
        grants = 0
        for revoke in _revokers:
            grants += await revoke(actor, user_id, now)
        await events.record(
            ev.PasswordChanged(
                object_id=str(user_id),
                refresh_tokens_revoked=int(ended),
                client_tokens_revoked=grants,
                reset=kept_session is None,
                audience=Audience(users=(user_id,)),
            ),
            Actor(user_id=user_id, org_id=user.organisation_id, ip=actor.ip) if actor.user_id is None else actor,
        )
    ended_sessions.note(sessions, now)  # their access tokens are refused from now on, here at once (api/auth.py)
    return int(ended) + grants


@raises(InvalidPhoneNumber, errors.SmsCodeInvalid, errors.SmsCodeExhausted, errors.WeakPassword, errors.AccountDisabled)
@use_case("user.password_reset", "User")
async def reset_password(actor: Actor, phone: str, code: str, new_password: str) -> int:
    """忘记密码: a new password for the holder of the number's latest sign-in SMS code (authSmsCodeRequest), which
    proves the phone as an SMS sign-in does; every session of the user and every plugged grant ends, a lock is lifted.
    Answers how many sessions and grants ended."""
    check_password(new_password)
    number = normalize_mobile(phone)

    async def holder(now: datetime) -> User | None:
        user = await User.get_or_none(phone=number)
        if user is not None and not user.is_active:
            raise errors.AccountDisabled()
        return user

    user = await redeem_code(number, SMS_PURPOSE_LOGIN, code, holder)
    return await _replace(actor, user.id, await hash_secret(new_password), None)
