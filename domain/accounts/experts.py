"""The expert pool (评标专家库): adding an expert, and an expert's sign-in by SMS code for one evaluation sitting."""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from domain.accounts import errors
from domain.accounts import events as ev
from domain.accounts.adapters import deps
from domain.accounts.models import Expert, Organisation
from domain.accounts.sms_codes import SMS_PURPOSE_EXPERT, CodeSent, redeem_code, send_code
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import InvalidInput, NotFound, PermissionDenied, RateLimited, raises, required_text
from domain.common.events import use_case
from domain.common.idempotency import run_once
from domain.common.ids import InvalidPhoneNumber, normalize_mobile
from domain.common.storage import lock_named

# An expert signs in once for a whole evaluation sitting (评标会) and gets no refresh token: the
# session ends with this access token, 4 hours after the sign-in, and a new SMS code starts another.
EXPERT_SESSION_TTL = timedelta(hours=4)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def check_id_number(value: str) -> str:
    """A resident identity number with its GB 11643 (ISO 7064 MOD 11-2) check character."""
    number = value.strip().upper()
    if not re.match(r"^\d{17}[\dX]$", number):
        raise errors.InvalidIdNumber()
    total = sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    if "10X98765432"[total % 11] != number[17]:
        raise errors.InvalidIdNumber()
    return number


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
    return await send_code(
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

    experts = await redeem_code(number, SMS_PURPOSE_EXPERT, code, holders)
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
