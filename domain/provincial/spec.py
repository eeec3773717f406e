"""The national data specification the provincial platform receives, and the one table mapping PalmTrade's data to it.

Target: 全国公共资源交易平台系统数据规范 (V2.0), the data items of its transaction-information data sets (交易信息
数据集: 公告信息, 中标/成交结果信息, 合同信息). The Chinese item names below are the specification's as the provincial
interface documents quote them; the English item codes (the JSON keys sent) are PalmTrade's own: the specification's
official item identifiers and code lists could not be verified here (no copy of the text was at hand), so every row
carries `verified=False` and the integrator must check each code against the province's interface document before
going live (a province usually publishes its own key names; the table is the one place to change them).

Amounts are sent in yuan with two decimals (the specification's 元; unverified), times as ISO 8601 in Beijing time,
the platform identifier (交易平台标识码) from PROVINCIAL_PLATFORM_CODE.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SPEC_VERSION = "V2.0"

NOTICE, RESULT, CONTRACT = "NOTICE", "RESULT", "CONTRACT"  # the data sets: 公告信息, 中标/成交结果信息, 合同信息


@dataclass(frozen=True, slots=True)
class Item:
    code: str  # the JSON key sent
    name: str  # the specification's data item (数据项名称)
    source: str  # where PalmTrade takes it from
    data_sets: tuple[str, ...]
    required: bool = True
    verified: bool = False  # the code checked against the specification's text


ALL = (NOTICE, RESULT, CONTRACT)

# the mapping: one row per data item sent (the order is the order in the message)
ITEMS: tuple[Item, ...] = (
    Item("PLATFORM_CODE", "交易平台标识码", "setting PROVINCIAL_PLATFORM_CODE", ALL),
    Item("TENDER_PROJECT_CODE", "项目编号", "Project.trade_code (统一交易标识码, lot 000)", ALL),
    Item("TENDER_PROJECT_NAME", "项目名称", "Project.name", ALL),
    Item("BID_SECTION_CODE", "标段(包)编号", "Lot.trade_code", ALL, required=False),
    Item("BID_SECTION_NAME", "标段(包)名称", "Lot.name", ALL, required=False),
    Item("TRADE_CATEGORY", "交易类别", "Project.category (catalogue)", ALL),
    Item("REGION_CODE", "行政区划代码", "Project.region_code (GB/T 2260)", ALL),
    Item("TENDERER_NAME", "招标人名称", "the tenderer organisation's name", ALL),
    Item("TENDERER_CODE", "招标人统一社会信用代码", "the tenderer organisation's credit code", ALL),
    Item("BULLETIN_TYPE", "公告类型", "Announcement.type, by BULLETIN_TYPES", (NOTICE,)),
    Item("BULLETIN_NAME", "公告标题", "Announcement.title", (NOTICE,)),
    Item("BULLETIN_CONTENT", "公告内容", "Announcement.body_text", (NOTICE,)),
    Item("BULLETIN_ISSUE_TIME", "发布时间", "Announcement.published_at (Beijing time)", ALL),
    Item(
        "CORRECTS_BULLETIN", "更正公告原公告编号", "the corrected announcement's message id", (NOTICE,), required=False
    ),
    Item("WIN_BIDDER_NAME", "中标人名称", "the award's organisation name", (RESULT, CONTRACT)),
    Item("WIN_BIDDER_CODE", "统一社会信用代码", "the award's organisation credit code", (RESULT, CONTRACT)),
    Item("BID_AMOUNT", "中标金额", "Award.price_fen, in yuan", (RESULT, CONTRACT)),
    Item("CONTRACT_CODE", "合同编号", "Contract.contract_no", (CONTRACT,)),
    Item("CONTRACT_AMOUNT", "合同金额", "Contract.amount_fen, in yuan", (CONTRACT,)),
    Item("CONTRACT_SIGN_TIME", "合同签署时间", "Contract.signed_on", (CONTRACT,)),
)

# 公告类型: the announcement types of PalmTrade by the code sent (code list unverified)
BULLETIN_TYPES: dict[str, str] = {
    "tender": "1",  # 招标/采购/出让公告
    "qualification_result": "2",  # 资格预审结果公告
    "change": "3",  # 变更/澄清公告
    "candidate_publicity": "4",  # 中标候选人公示
    "result": "5",  # 中标/成交结果公告
    "contract": "6",  # 合同公告
    "performance": "7",  # 履约信息
    "termination": "8",  # 终止公告
    "contract_change": "9",  # 合同变更公告
}

DATA_SET_OF: dict[str, str] = {
    "candidate_publicity": RESULT,
    "result": RESULT,
    "contract": CONTRACT,
    "contract_change": CONTRACT,
}


def data_set(kind: str) -> str:
    """Which data set an announcement of this type goes in: its result or its contract, else the notice."""
    return DATA_SET_OF.get(kind, NOTICE)


def items(of: str) -> tuple[Item, ...]:
    return tuple(i for i in ITEMS if of in i.data_sets)


def yuan(fen: int | None) -> str | None:
    return None if fen is None else f"{fen // 100}.{fen % 100:02d}"


def missing(of: str, values: dict[str, Any]) -> list[str]:
    """The required items of the data set left empty, by their codes."""
    return [i.code for i in items(of) if i.required and values.get(i.code) in (None, "")]


def fields_of(of: str, values: dict[str, Any]) -> dict[str, Any]:
    """The data set's items in table order, absent optional ones left out."""
    return {i.code: values.get(i.code) for i in items(of) if values.get(i.code) not in (None, "") or i.required}
