"""Unified social credit codes (GB 32100-2015), mainland mobile numbers and bank account numbers, as users type
them."""

from __future__ import annotations

import pytest

from domain.common.errors import InvalidInput
from domain.common.ids import (
    InvalidBankAccount,
    InvalidCreditCode,
    InvalidPhoneNumber,
    bank_account_key,
    is_valid_uscc,
    mask_mobile,
    normalize_bank_account,
    normalize_mobile,
    normalize_uscc,
    uscc_check_char,
)

# Printed on published business licences; each was checked with the GB 32100-2015 algorithm.
PUBLISHED_CODES = ["91350100M000100Y43", "91440300708461136T", "91110108551385082Q"]


def with_check(first17: str) -> str:
    return first17 + uscc_check_char(first17)


def test_check_character_of_published_codes():
    for code in PUBLISHED_CODES:
        # when the check character is computed from the first 17 characters
        check = uscc_check_char(code[:17])

        # then it is the one printed, and the code is accepted as is
        assert check == code[17]
        assert is_valid_uscc(code)
        assert normalize_uscc(code) == code


def test_check_character_by_hand():
    # given a body whose weighted sum is known: 9*1 + 1*3 + 3*9 + 7*27 + 2*19 = 266, 266 mod 31 = 18
    first17 = "91372" + "0" * 12

    # then the check character is the 31 - 18 = 13th of the character set
    assert uscc_check_char(first17) == "D"
    # and a remainder of 0 gives the check character 0, not the 31st
    assert uscc_check_char("0" * 17) == "0"


@pytest.mark.parametrize(
    "first17",
    [
        "91370200MA3C12345",  # an enterprise (工商, 企业)
        "12370200MB1234567",  # a public institution (机构编制, 事业单位)
        "51370200MJ0000001",  # a social organisation (民政, 社会团体)
        "Y1370200X00000001",  # other (其他)
        "A1110000MB0000001",  # a military institution (中央军委改革和编制办公室)
        "N2370212MF0000001",  # a village collective economic organisation (农业, 村级)
    ],
)
def test_every_registration_department_of_the_standard(first17):
    # given a code of each registration management department of GB 32100-2015
    code = with_check(first17)

    # then it is valid
    assert normalize_uscc(code) == code


def test_wrong_check_character_is_refused():
    for code in PUBLISHED_CODES:
        for wrong in "0123456789ABCDEFGHJKLMNPQRTUWXY":
            if wrong == code[17]:
                continue
            # when any other check character is given
            forged = code[:17] + wrong

            # then the code is refused
            assert not is_valid_uscc(forged)
            with pytest.raises(InvalidCreditCode):
                normalize_uscc(forged)


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_letters_the_standard_forbids(letter):
    # given a valid code, then one body character replaced by a forbidden letter
    valid = with_check("91370200MA3C12345")
    body = valid[:10] + letter + valid[11:17]

    # then no check character makes it valid (the check character cannot be one either)
    assert not is_valid_uscc(body + valid[17])
    assert not is_valid_uscc(valid[:17] + letter)
    with pytest.raises(InvalidCreditCode):
        normalize_uscc(body + "0")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "91350100M000100Y4",  # 17 characters
        "91350100M000100Y433",  # 19 characters
        "01350100M000100Y43",  # department 0 does not exist
        "B1350100M000100Y43",  # nor does B
        "90350100M000100Y43",  # category 0 does not exist
        "9135010AM000100Y43",  # the region code is digits
        "91350100M000100Y4\n3",
        "91350100M000100Y4 3",
    ],
)
def test_malformed_codes(value):
    with pytest.raises(InvalidCreditCode) as raised:
        normalize_uscc(value)
    assert raised.value.field == "creditCode"


def test_lookalike_characters_are_refused_not_crashed_on():
    # given a code typed with full-width digits, and one with a trailing newline
    full_width = "91３５０１００M000100Y43"
    newline = PUBLISHED_CODES[0] + "\n"

    # then the predicate answers False, and validation raises the typed error (not a ValueError)
    assert not is_valid_uscc(full_width)
    assert not is_valid_uscc(newline)
    with pytest.raises(InvalidCreditCode):
        normalize_uscc(full_width)


def test_lowercase_and_surrounding_spaces_are_normalised():
    # when a user types a valid code in lower case with spaces around it
    typed = "  " + PUBLISHED_CODES[0].lower() + " \t"

    # then the stored form is upper case and trimmed
    assert normalize_uscc(typed) == PUBLISHED_CODES[0]


def test_credit_code_error_names_the_field_and_the_value():
    # when an invalid code is given for a named field
    with pytest.raises(InvalidCreditCode) as raised:
        normalize_uscc("91350100M000100Y40", field="guarantorCreditCode")

    # then the error carries a stable code, the field and the value, in both languages
    err = raised.value
    assert isinstance(err, InvalidInput)
    assert err.code == "INVALID_CREDIT_CODE"
    assert err.field == "guarantorCreditCode"
    assert "91350100M000100Y40" in err.message("zh")
    assert "统一社会信用代码" in err.message("zh")
    assert "unified social credit code" in err.message("en")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13812345678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("0086-138-1234-5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("86-138-1234-5678", "13812345678"),
        (" 138-1234-5678 ", "13812345678"),
        ("19912345678", "19912345678"),
        ("16612345678", "16612345678"),
    ],
)
def test_mobile_numbers_as_people_type_them(typed, stored):
    assert normalize_mobile(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "12345",
        "12012345678",  # no mobile network starts with 12
        "11012345678",
        "10012345678",
        "23812345678",
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "+85213812345678",  # Hong Kong, not the mainland
        "+861381234567",
        "0013812345678",
        "1381234567a",
        "13８12345678",  # full-width digits
        "138.1234.5678",
    ],
)
def test_numbers_that_are_not_mainland_mobiles(typed):
    with pytest.raises(InvalidPhoneNumber) as raised:
        normalize_mobile(typed)
    assert raised.value.code == "INVALID_PHONE_NUMBER"
    assert raised.value.field == "phone"


def test_86_is_only_a_prefix_when_thirteen_digits_remain():
    # an 11-digit number that happens to start with 86 is not stripped, and is no mobile
    with pytest.raises(InvalidPhoneNumber):
        normalize_mobile("86123456789")


def test_phone_error_names_the_field_and_the_value():
    with pytest.raises(InvalidPhoneNumber) as raised:
        normalize_mobile("12345", field="contactPhone")
    assert raised.value.field == "contactPhone"
    assert "'12345'" in raised.value.message("en")
    assert "mainland China mobile number" in raised.value.message("en")
    assert "手机号码" in raised.value.message("zh")


def test_masked_mobile_keeps_the_first_three_and_last_four():
    assert mask_mobile("13812345678") == "138****5678"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("6222021600012345678", "6222021600012345678"),
        (" 6222 0216 0001 2345 678 ", "6222021600012345678"),
        ("6222-0216-0001-2345-678", "6222021600012345678"),
        ("６２２２０２１６０００１２３４５６７８", "6222021600012345678"),  # full-width digits
        ("6222\u30000216", "62220216"),  # an ideographic space
        ("38010101040012345", "38010101040012345"),
    ],
)
def test_bank_accounts_as_people_type_them(typed, stored):
    assert normalize_bank_account(typed) == stored


@pytest.mark.parametrize(
    "typed", ["", "   ", "1234567", "1" * 33, "6222O21600012345678", "6222.0216.0001", "٦٢٢٢٠٢١٦٠٠"]
)
def test_what_is_no_bank_account(typed):
    with pytest.raises(InvalidBankAccount) as raised:
        normalize_bank_account(typed)
    assert raised.value.code == "INVALID_BANK_ACCOUNT"
    assert raised.value.field == "payerAccount"
    assert "8 至 32 位数字" in raised.value.message("zh")
    assert "8 to 32 digits" in raised.value.message("en")


def test_accounts_as_banks_send_them_compare_by_their_characters():
    # a bank callback's account, however spaced or wide, compares equal to the account typed in the app
    assert bank_account_key("6222 0216-0001 2345 678") == normalize_bank_account("6222021600012345678")
    assert bank_account_key("ｃｎ0001 2345") == "CN00012345"
