"""Identifiers the platform validates: unified social credit codes, mainland mobile numbers and bank account
numbers."""

from __future__ import annotations

import re
import unicodedata

from domain.common.errors import InvalidInput

# GB 32100-2015: 31 characters (no I, O, S, V, Z), weights 3^(i) mod 31 for positions 1..17.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Registration departments (first character): 1-9, A (military), N (agriculture: rural
# collective economic organisations), Y (other); ASCII only, the check sum indexes USCC_CHARSET.
_USCC_SHAPE = re.compile(r"[1-9ANY][1-9][0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# no national standard fixes the length: personal cards have 16 to 19 digits, settlement accounts 12 to 25
_BANK_ACCOUNT = re.compile(r"[0-9]{8,32}")


class InvalidCreditCode(InvalidInput):
    code = "INVALID_CREDIT_CODE"
    message_zh = "统一社会信用代码“{value}”无效（须为 18 位且校验码正确，GB 32100-2015）"
    message_en = (
        "'{value}' is not a valid unified social credit code "
        "(18 characters with a correct check character, GB 32100-2015)"
    )

    def __init__(self, value: str, field: str = "creditCode") -> None:
        super().__init__(field=field, value=value)


class InvalidPhoneNumber(InvalidInput):
    code = "INVALID_PHONE_NUMBER"
    message_zh = "“{value}”不是有效的中国大陆手机号码"
    message_en = "'{value}' is not a valid mainland China mobile number"

    def __init__(self, value: str, field: str = "phone") -> None:
        super().__init__(field=field, value=value)


class InvalidBankAccount(InvalidInput):
    code = "INVALID_BANK_ACCOUNT"
    message_zh = "银行账号须为 8 至 32 位数字（可含空格或连字符）"
    message_en = "A bank account number has 8 to 32 digits (spaces and hyphens allowed)"

    def __init__(self, field: str = "payerAccount") -> None:
        super().__init__(field=field)


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a credit code."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def is_valid_uscc(value: str) -> bool:
    if not _USCC_SHAPE.fullmatch(value):
        return False
    return uscc_check_char(value[:17]) == value[17]


def normalize_uscc(value: str, field: str = "creditCode") -> str:
    """Upper-cases and validates a unified social credit code, or raises InvalidCreditCode."""
    code = value.strip().upper()
    if not is_valid_uscc(code):
        raise InvalidCreditCode(value, field=field)
    return code


def normalize_mobile(value: str, field: str = "phone") -> str:
    """Accepts 13812345678, +86 138 1234 5678 or 86-138-1234-5678; returns the 11 digits."""
    digits = re.sub(r"[\s-]", "", value.strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _MOBILE.fullmatch(digits):
        raise InvalidPhoneNumber(value, field=field)
    return digits


def mask_mobile(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:]


def bank_account_key(value: str) -> str:
    """An account number as it is compared: full-width characters made half-width, spaces and hyphens
    dropped, letters upper-cased (for numbers as banks send them, which the platform does not validate)."""
    return re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", value)).upper()


def normalize_bank_account(value: str, field: str = "payerAccount") -> str:
    """Accepts 6222 0216 0001 2345 678, full-width digits or hyphens; returns the digits, or raises
    InvalidBankAccount."""
    digits = bank_account_key(value)
    if not _BANK_ACCOUNT.fullmatch(digits):
        raise InvalidBankAccount(field=field)
    return digits
