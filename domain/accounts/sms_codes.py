"""Sign-in codes sent by SMS, to users and to experts alike: their limits per number, their keyed hashes, and
redeeming one within its tries."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from tortoise.transactions import in_transaction

from domain.accounts import errors
from domain.accounts.adapters import deps
from domain.accounts.models import SmsCode
from domain.common import clock
from domain.common.errors import RateLimited
from domain.common.storage import lock
from domain.sms import services as sms

log = logging.getLogger("palmtrade.accounts")

SMS_CODE_TTL = timedelta(minutes=5)
SMS_MAX_ATTEMPTS = 5
SMS_MIN_INTERVAL = timedelta(seconds=60)
SMS_MAX_PER_HOUR = 5
SMS_MAX_PER_DAY = 10
SMS_PURPOSE_LOGIN = "login"
SMS_PURPOSE_EXPERT = "expert"

H = TypeVar("H")


def code_hash(phone: str, code: str) -> str:
    return hmac.new(deps.code_secret, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class CodeSent:
    expires_at: datetime
    retry_after: datetime


async def send_code(number: str, purpose: str, template: str, has_holder: Callable[[], Awaitable[bool]]) -> CodeSent:
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
            code_hash=code_hash(number, code),
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


async def redeem_code(number: str, purpose: str, code: str, holder: Callable[[datetime], Awaitable[H | None]]) -> H:
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
        good = hmac.compare_digest(sms.code_hash, code_hash(number, code.strip())) and who is not None
        if good:
            sms.used_at = now
        else:
            sms.attempts += 1
        await sms.save(update_fields=["used_at", "attempts"])
    if not good or who is None:
        raise errors.SmsCodeExhausted() if sms.attempts >= SMS_MAX_ATTEMPTS else errors.SmsCodeInvalid()
    return who
