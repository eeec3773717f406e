"""Text messages (SMS): every template the platform sends, in one place; the queue they go through.

A message is queued in the transaction that asks for it (a sign-in code with its code row), sent at once
after the commit by the process that asked, and otherwise by the SMS dispatcher of any worker (leases, retries
with backoff, until it expires): none is lost when a process dies, none is sent twice by two senders. Its
parameters are sealed at rest and wiped once the message is final, so no code lingers in the database.

Providers require registered templates (a template code per provider, a sign name) and take only the
parameters: TEMPLATES lists each template's text as registered and its parameters; the settings map each
key to the provider's template code (README: SMS).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from domain.common import clock
from domain.common.storage import claim
from domain.sms.models import SmsAttempt, SmsMessage

log = logging.getLogger("palmtrade.sms")

SIGN_NAME = "掌上交易"


@dataclass(frozen=True, slots=True)
class SmsTemplate:
    text: str  # as registered with the providers, ${name} for each parameter (Aliyun's form)
    params: tuple[str, ...]
    kind: str  # 验证码 / 通知: providers register codes and notices separately


TEMPLATES: dict[str, SmsTemplate] = {
    "login_code": SmsTemplate("您的登录验证码为 ${code}，5 分钟内有效。请勿告诉他人。", ("code",), "验证码"),
    "expert_login_code": SmsTemplate(
        "您的评标专家登录验证码为 ${code}，5 分钟内有效。请勿告诉他人。", ("code",), "验证码"
    ),
    # time-critical notices that also go by text (notifications/inbox.py): a bidder who misses them loses its bid
    "decryption_window": SmsTemplate(
        "您投标的“${lot}”已开标，请于 ${ends} 前在手机上完成解密，逾期视为撤销投标。", ("lot", "ends"), "通知"
    ),
    "decryption_reminder": SmsTemplate(
        "“${lot}”的解密将于 ${ends} 截止，您的投标尚未解密，请立即操作。", ("lot", "ends"), "通知"
    ),
    # to an expert drawn for a lot: when and where to report, never the lot's bidders
    "expert_drawn": SmsTemplate(
        "您已被抽取为“${lot}”的评标专家，请于 ${time} 到 ${place} 报到。请接听语音电话按 1 确认、按 2 拒绝，"
        "或在专家端确认。",
        ("lot", "time", "place"),
        "通知",
    ),
}

_PARAM = re.compile(r"\$\{(\w+)\}")


def render(template: str, params: Mapping[str, str]) -> str:
    """The text a phone shows: the sign name in brackets, then the template with its parameters."""
    body = _PARAM.sub(lambda m: params.get(m.group(1), ""), TEMPLATES[template].text)
    return f"【{SIGN_NAME}】{body}"


def mask(phone: str) -> str:
    """A number as logs may show it: 138****0001."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 8 else "****"


class Status:
    QUEUED = "queued"
    SENT = "sent"  # accepted by a provider
    DELIVERED = "delivered"  # the provider's receipt says the phone got it
    UNDELIVERED = "undelivered"  # the receipt says it did not
    FAILED = "failed"  # refused by every provider, or expired before one accepted it


FINAL = (Status.SENT, Status.DELIVERED, Status.UNDELIVERED, Status.FAILED)
LEASE = timedelta(seconds=30)
BACKOFF = (timedelta(seconds=2), timedelta(seconds=10), timedelta(seconds=30), timedelta(minutes=2))


def _key(secret: bytes) -> bytes:
    return hmac.new(secret, b"palmtrade sms params v1", hashlib.sha256).digest()


def seal(params: Mapping[str, str], secret: bytes, message_ref: str) -> str:
    """The parameters encrypted (AES-256-GCM, bound to the message) for the time the message waits."""
    nonce = os.urandom(12)
    sealed = AESGCM(_key(secret)).encrypt(nonce, json.dumps(dict(params)).encode(), message_ref.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(token: str, secret: bytes, message_ref: str) -> dict[str, str]:
    """The parameters of a queued message; {} when they cannot be opened (another key: it is then failed)."""
    try:
        raw = base64.urlsafe_b64decode(token)
        plain = AESGCM(_key(secret)).decrypt(raw[:12], raw[12:], message_ref.encode())
    except (ValueError, InvalidTag):
        return {}
    params = json.loads(plain)
    return {str(k): str(v) for k, v in params.items()} if isinstance(params, dict) else {}


_sealing = {"secret": b""}


def configure(secret: bytes) -> None:
    """The key that seals queued parameters (SECRET_KEY), for callers that do not hold it."""
    _sealing["secret"] = secret


async def queue(
    phone: str,
    template: str,
    params: Mapping[str, str],
    *,
    ttl: timedelta,
    secret: bytes | None = None,
    time_critical: bool = True,
) -> SmsMessage:
    """Queues a message in the caller's transaction; it is worthless (never sent) after `ttl`."""
    secret = secret if secret is not None else _sealing["secret"]
    if template not in TEMPLATES or set(params) != set(TEMPLATES[template].params):
        raise ValueError(f"SMS template {template!r} takes {TEMPLATES.get(template)}")
    now = clock.now()
    message = await SmsMessage.create(
        phone=phone,
        template=template,
        params_sealed=None,
        status=Status.QUEUED,
        time_critical=time_critical,
        due_at=now,
        expires_at=now + ttl,
        created_at=now,
    )
    message.params_sealed = seal(params, secret, str(message.id))
    await message.save(update_fields=["params_sealed"])
    return message


async def lease(owner: str, limit: int, ids: Sequence[int] | None = None) -> list[SmsMessage]:
    """Due queued messages for this sender alone (a lease of LEASE), oldest first."""
    now = clock.now()
    async with in_transaction():
        query = SmsMessage.filter(status=Status.QUEUED, due_at__lte=now)
        if ids is not None:
            query = query.filter(id__in=list(ids))
        free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
        rows = await claim(query.filter(free)).order_by("due_at").limit(limit)
        for row in rows:
            row.lease_until, row.lease_owner = now + LEASE, owner
            await row.save(update_fields=["lease_until", "lease_owner"])
    return list(rows)


@dataclass(frozen=True, slots=True)
class Tried:
    """One provider's answer, as the dispatcher records it."""

    provider: str
    outcome: str  # sent, retry, invalid_number, rate_limited, failed
    provider_id: str | None = None
    code: str | None = None


async def record(message: SmsMessage, tries: Sequence[Tried], owner: str) -> SmsMessage:
    """Records a round of tries (one attempt row each) and moves the message on: sent when a provider accepted
    it; failed for an invalid number, a per-number limit, every provider refusing, or past its time; else
    queued again after a backoff. Final messages lose their sealed parameters."""
    now = clock.now()
    async with in_transaction():
        current = await SmsMessage.get(id=message.id)
        if current.status != Status.QUEUED or current.lease_owner != owner:
            return current  # another sender's lease expired into ours: it has answered
        for t in tries:
            await SmsAttempt.create(
                message_id=current.id,
                provider=t.provider,
                outcome=t.outcome,
                code=t.code,
                provider_id=t.provider_id,
                at=now,
            )
        current.attempts += 1
        last = tries[-1] if tries else None
        sent = next((t for t in tries if t.outcome == "sent"), None)
        if sent is not None:
            current.status, current.provider, current.provider_id = Status.SENT, sent.provider, sent.provider_id
            current.sent_at, current.last_code = now, None
        elif last is not None and last.outcome in ("invalid_number", "rate_limited", "failed"):
            current.status, current.last_code = Status.FAILED, f"{last.provider}:{last.code or last.outcome}"
        else:
            delay = BACKOFF[min(current.attempts - 1, len(BACKOFF) - 1)]
            current.last_code = f"{last.provider}:{last.code or last.outcome}" if last else "no provider"
            if now + delay >= current.expires_at:
                current.status = Status.FAILED
            else:
                current.due_at = now + delay
        if current.status in FINAL:
            current.params_sealed = None  # type: ignore[assignment]
        current.lease_until, current.lease_owner = None, None
        await current.save()
    return current


async def expire(now: datetime) -> int:
    """Queued messages past their time (a code no longer valid): failed, parameters wiped."""
    return await SmsMessage.filter(status=Status.QUEUED, expires_at__lte=now).update(
        status=Status.FAILED, params_sealed=None, last_code="expired"
    )


async def apply_receipt(provider: str, provider_id: str | None, delivered: bool, code: str | None) -> bool:
    """A provider's delivery receipt: the sent message it names becomes delivered or undelivered."""
    if not provider_id:
        return False
    updated = await SmsMessage.filter(
        provider=provider, provider_id=provider_id, status__in=[Status.SENT, Status.UNDELIVERED, Status.DELIVERED]
    ).update(
        status=Status.DELIVERED if delivered else Status.UNDELIVERED,
        reported_at=clock.now(),
        last_code=None if delivered else f"{provider}:{code or 'undelivered'}",
    )
    return updated > 0


class SmsOutbox(Protocol):
    """What the domain asks of the SMS dispatcher wired at the composition root."""

    async def send_now(self, message_id: int) -> None:
        """Tries to send a just-queued message now; what fails stays queued for the workers."""
        ...


class LogOutbox:
    """The development sender: writes each message to the log (number masked) and keeps the last 200 texts in
    memory for a developer or a test to read; production refuses it (api/settings.py)."""

    name = "log"

    def __init__(self, secret: bytes = b"", keep: int = 200) -> None:
        self.secret = secret
        self._sent: deque[tuple[str, str]] = deque(maxlen=keep)

    @property
    def sent(self) -> list[tuple[str, str]]:
        """(number, text) of the last messages, oldest first."""
        return list(self._sent)

    async def send_now(self, message_id: int) -> None:
        for message in await lease("log", 1, [message_id]):
            await self.deliver(message)

    async def run_once(self) -> int:
        done = 0
        for message in await lease("log", 50):
            await self.deliver(message)
            done += 1
        return done

    async def deliver(self, message: SmsMessage) -> None:
        params = unseal(message.params_sealed or "", self.secret, str(message.id))
        text = render(message.template, params)
        self._sent.append((message.phone, text))
        log.warning("SMS (development, not sent) to %s: %s", mask(message.phone), text)
        await record(message, [Tried(provider="log", outcome="sent", provider_id=f"log-{message.id}")], "log")
