"""Reading a guarantee letter: every malformed member and every difference from the application is named."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from domain.accounts import keys
from domain.guarantees import letter as letters
from domain.guarantees.errors import LetterMalformed, LetterMismatch
from tests.support.bank import new_key

DEADLINE = datetime.fromisoformat("2026-04-01T09:30:00+08:00")
VALID_UNTIL = DEADLINE + timedelta(days=90)
APPLICANT = letters.Party("91370200MA00000011", "青岛海湾路桥建设有限公司")
BENEFICIARY = letters.Party("91370200MA00000029", "青岛城市建设投资（集团）有限责任公司")
GUARANTOR = letters.Party("91370200MA00000037", "中国工商银行股份有限公司青岛分行")
EXPECTED = letters.Expected(
    application_no="42",
    lot_trade_code="370211202601000001001X",
    applicant=APPLICANT,
    beneficiary=BENEFICIARY,
    guarantor=GUARANTOR,
    amount_fen=25_600_000,
    valid_until=VALID_UNTIL,
    deadline=DEADLINE,
)


def party(p: letters.Party) -> dict[str, str]:
    return {"creditCode": p.credit_code, "name": p.name}


def payload(**changes: Any) -> dict[str, Any]:
    base = {
        "letterNo": "BH2026-000123",
        "applicationNo": "42",
        "lotTradeCode": "370211202601000001001X",
        "applicant": party(APPLICANT),
        "beneficiary": party(BENEFICIARY),
        "guarantor": party(GUARANTOR),
        "amountFen": 25_600_000,
        "currency": "CNY",
        "validFrom": "2026-03-02T00:00:00+08:00",
        "validUntil": VALID_UNTIL.astimezone().isoformat(),
        "issuedAt": "2026-03-02T10:15:00+08:00",
    }
    return {k: v for k, v in {**base, **changes}.items() if v is not ...}


def test_a_letter_as_the_format_says_is_read_and_matches():
    # when
    letter = letters.parse(
        payload(applicant={"creditCode": APPLICANT.credit_code.lower(), "name": f" {APPLICANT.name} "})
    )
    letters.check(letter, EXPECTED)
    # then the credit code is read upper case, names stripped, times as instants whatever their offset
    assert letter.applicant == APPLICANT
    assert letter.valid_until == VALID_UNTIL
    assert letter.amount_fen == 25_600_000


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"letterNo": ...}, "letterNo"),
        ({"letterNo": ""}, "letterNo"),
        ({"letterNo": "BH 2026"}, "letterNo"),
        ({"letterNo": "B" * 65}, "letterNo"),
        ({"applicationNo": 42}, "applicationNo"),
        ({"lotTradeCode": None}, "lotTradeCode"),
        ({"applicant": "青岛海湾路桥建设有限公司"}, "applicant"),
        ({"beneficiary": {"name": "某公司"}}, "beneficiary.creditCode"),
        ({"guarantor": {"creditCode": GUARANTOR.credit_code, "name": " "}}, "guarantor.name"),
        ({"amountFen": "25600000"}, "amountFen"),
        ({"amountFen": 0}, "amountFen"),
        ({"amountFen": 2.5}, "amountFen"),
        ({"amountFen": True}, "amountFen"),
        ({"currency": ...}, "currency"),
        ({"validFrom": "2026-03-02"}, "validFrom"),
        ({"validUntil": "2026-06-30T09:30:00"}, "validUntil"),
        ({"issuedAt": 1772330400}, "issuedAt"),
    ],
)
def test_a_malformed_letter_names_its_member(changes, field):
    # when / then
    with pytest.raises(LetterMalformed) as caught:
        letters.parse(payload(**changes))
    assert caught.value.field == field
    assert caught.value.code == "LETTER_MALFORMED"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"applicationNo": "43"}, "applicationNo"),
        ({"lotTradeCode": "370211202601000002001X"}, "lotTradeCode"),
        ({"applicant": party(BENEFICIARY)}, "applicant.creditCode"),
        ({"beneficiary": {"creditCode": BENEFICIARY.credit_code, "name": "青岛城投"}}, "beneficiary.name"),
        ({"guarantor": party(APPLICANT)}, "guarantor.creditCode"),
        ({"amountFen": 25_600_001}, "amountFen"),
        ({"amountFen": 25_599_999}, "amountFen"),
        ({"currency": "USD"}, "currency"),
        ({"validUntil": (VALID_UNTIL + timedelta(seconds=1)).isoformat()}, "validUntil"),
        ({"validUntil": (VALID_UNTIL - timedelta(days=1)).isoformat()}, "validUntil"),
        ({"validFrom": (DEADLINE + timedelta(seconds=1)).isoformat()}, "validFrom"),
    ],
)
def test_a_letter_that_differs_from_the_application_names_the_field(changes, field):
    # when / then
    with pytest.raises(LetterMismatch) as caught:
        letters.check(letters.parse(payload(**changes)), EXPECTED)
    assert caught.value.field == field
    assert caught.value.message("en") == f"The guarantee letter does not match the application: {field}"


def test_the_payload_of_an_accepted_letter_is_read_back_and_garbage_is_empty():
    # given
    token = keys.sign(payload(), new_key(), "kid-1")
    # when / then
    assert letters.payload_of(token)["letterNo"] == "BH2026-000123"
    assert letters.payload_of("not.a.jws") == {}
