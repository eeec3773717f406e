"""The electronic guarantee letter (电子投标保函): what a guarantor signs and how the platform reads it.

A letter is a compact JWS (RFC 7515) signed by the guarantor with a key it registered for the
purpose `guarantee_letter` (ES256 on P-256, or RS256 on RSA >= 2048 bits); the header carries the
key's `kid` (its RFC 7638 thumbprint, as `partnerKeyRegister` returned it). The payload is one
JSON object, every member required:

    {
      "letterNo": "BH2026-000123",               guarantor's letter number: 1-64 characters, no
                                                  white space; unique on the platform
      "applicationNo": "42",                      Guarantee.applicationNo of the application
      "lotTradeCode": "3702112026...",            the lot's unified trade identifier (统一交易标识码)
      "applicant":   {"creditCode": "...", "name": "..."},   the bidder (投标人)
      "beneficiary": {"creditCode": "...", "name": "..."},   the tenderer (招标人)
      "guarantor":   {"creditCode": "...", "name": "..."},   the signing organisation
      "amountFen": 25600000,                      integer fen, exactly the applied amount
      "currency": "CNY",
      "validFrom": "2026-03-01T00:00:00+08:00",   in force from; not after the bid deadline
      "validUntil": "2026-08-28T09:30:00+00:00",  the same instant as the application's validUntil
      "issuedAt": "2026-03-02T10:15:00+08:00"     not in the future
    }

Times are ISO 8601 with an offset; instants are compared, not their spelling. Credit codes and
names are compared with what the platform holds for those organisations (names as registered,
credit codes upper case). The amount and the validity must equal the application exactly: a
guarantor that wants other terms declines and the bidder applies again, so the letter, the
application and what the bidder asked for never differ. Unknown members are ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError

from domain.guarantees.errors import LetterMalformed, LetterMismatch

MAX_LETTER_NO = 64
MAX_NAME = 200
CURRENCY = "CNY"


@dataclass(frozen=True, slots=True)
class Party:
    credit_code: str
    name: str


@dataclass(frozen=True, slots=True)
class Letter:
    letter_no: str
    application_no: str
    lot_trade_code: str
    applicant: Party
    beneficiary: Party
    guarantor: Party
    amount_fen: int
    currency: str
    valid_from: datetime
    valid_until: datetime
    issued_at: datetime


@dataclass(frozen=True, slots=True)
class Expected:
    """What the letter must say: taken from the application, the lot and the three organisations."""

    application_no: str
    lot_trade_code: str
    applicant: Party
    beneficiary: Party
    guarantor: Party
    amount_fen: int
    valid_until: datetime
    deadline: datetime


def _text(data: dict[str, Any], name: str, max_len: int, path: str = "") -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > max_len:
        raise LetterMalformed(field=path + name)
    return value.strip()


def _party(payload: dict[str, Any], name: str) -> Party:
    value = payload.get(name)
    if not isinstance(value, dict):
        raise LetterMalformed(field=name)
    return Party(
        credit_code=_text(value, "creditCode", 18, f"{name}.").upper(),
        name=_text(value, "name", MAX_NAME, f"{name}."),
    )


def _time(payload: dict[str, Any], name: str) -> datetime:
    raw = payload.get(name)
    try:
        value = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise LetterMalformed(field=name)
    return value


def parse(payload: dict[str, Any]) -> Letter:
    """The letter's fields; LetterMalformed naming the first that is missing or of the wrong shape."""
    letter_no = _text(payload, "letterNo", MAX_LETTER_NO)
    if any(ch.isspace() or not ch.isprintable() for ch in letter_no):
        raise LetterMalformed(field="letterNo")
    application_no = payload.get("applicationNo")
    if not isinstance(application_no, str) or not application_no:
        raise LetterMalformed(field="applicationNo")
    amount = payload.get("amountFen")
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount < 2**63:
        raise LetterMalformed(field="amountFen")
    return Letter(
        letter_no=letter_no,
        application_no=application_no,
        lot_trade_code=_text(payload, "lotTradeCode", 32),
        applicant=_party(payload, "applicant"),
        beneficiary=_party(payload, "beneficiary"),
        guarantor=_party(payload, "guarantor"),
        amount_fen=amount,
        currency=_text(payload, "currency", 3),
        valid_from=_time(payload, "validFrom"),
        valid_until=_time(payload, "validUntil"),
        issued_at=_time(payload, "issuedAt"),
    )


def check(letter: Letter, expected: Expected) -> None:
    """Raises LetterMismatch naming the first field of the letter that differs from the application."""
    pairs: list[tuple[str, object, object]] = [
        ("applicationNo", letter.application_no, expected.application_no),
        ("lotTradeCode", letter.lot_trade_code, expected.lot_trade_code),
    ]
    for role in ("applicant", "beneficiary", "guarantor"):
        said, held = getattr(letter, role), getattr(expected, role)
        pairs += [(f"{role}.creditCode", said.credit_code, held.credit_code), (f"{role}.name", said.name, held.name)]
    pairs += [
        ("amountFen", letter.amount_fen, expected.amount_fen),
        ("currency", letter.currency, CURRENCY),
        ("validUntil", letter.valid_until, expected.valid_until),
    ]
    for field, said, held in pairs:
        if said != held:
            raise LetterMismatch(field=field)
    # the guarantee must be in force when the bids close, and for a span of time
    if letter.valid_from > expected.deadline or letter.valid_from >= letter.valid_until:
        raise LetterMismatch(field="validFrom")


def payload_of(token: str) -> dict[str, Any]:
    """The payload of a letter the platform accepted earlier (its signature was verified then)."""
    try:
        data = json.loads(jws.extract_compact(token.encode()).payload)
    except (JoseError, ValueError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}
