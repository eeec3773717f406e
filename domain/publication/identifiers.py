"""The unified trade identifier (统一交易标识码): one lifelong code for a deal.

Shape: region (6, GB/T 2260) + category (2) + year (4) + serial (6) + lot (3) + check (1) = 22
characters. The project's code carries lot 000; each lot's code its number. The check character
uses the GB 32100-2015 algorithm over the first 21 characters, so a mistyped code is caught.
"""

from __future__ import annotations

from domain.common.catalogue import Category
from domain.common.ids import USCC_CHARSET

CATEGORY_CODES = {c: f"{i:02d}" for i, c in enumerate(Category, start=1)}
_WEIGHTS = [pow(3, i, 31) for i in range(21)]


def check_char(first21: str) -> str:
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first21, _WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def trade_code(region: str, category: Category, year: int, serial: int, lot_no: int = 0) -> str:
    body = f"{region}{CATEGORY_CODES[category]}{year:04d}{serial:06d}{lot_no:03d}"
    return body + check_char(body)


def is_valid_trade_code(value: str) -> bool:
    return len(value) == 22 and value[:21].isdigit() and check_char(value[:21]) == value[21]


def lot_code(project_code: str, lot_no: int) -> str:
    body = project_code[:18] + f"{lot_no:03d}"
    return body + check_char(body)
