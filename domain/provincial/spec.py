"""The national data specification the provincial platform receives, and the one table mapping PalmTrade's data to it.

Target: 全国公共资源交易平台系统数据规范 (V2.0), the data items of its transaction-information data sets (公告信息,
中标/成交结果信息, 合同信息). No copy of the specification's text was at hand, so its item identifiers (the JSON keys
sent) were rebuilt from public source code of platforms that implement it, and each row says how far
that goes (`status`):

- "corroborated": at least two independent implementations use this key for this Chinese item;
- "single": one implementation uses it (several of its classes may, they count once);
- "own": no implementation found: PalmTrade's own key, to be checked against the province's interface document.

The implementations read (field names and their Chinese labels only, as facts; no code taken):

- GGZY: lishanling/GGZY, a Fujian public-resource platform in C# (Dos.ORM entity classes whose comments are the
  items' Chinese names: GGZYJD.DbEntity.YG_WIN_RESULT_ANNO (中标结果公告), GGZYFW.DbEntity.PURCHASE_CONTRACT and
  PERFORMANCE_INFO (合同, 履约), TENDER_CANDIDATE_ANNOUNCE; and its data-exchange validators, e.g.
  GGZY/Businesses/GGZY.DataV4Service/Validators/Context/Table/Imp/BID_AMOUNT_TableValidator.cs).
- SHANXI: the JAXB classes of package com.itender.ms.platform.shanxi (Java, @XmlElement names with Chinese comments:
  GCJSNOTICE, root GCJS_NOTICE, 招标公告与资格预审公告; GCJSRESULTNOTICE, root GCJS_RESULT_NOTICE, 中标结果公告), the
  Shanxi provincial interface; the index did not name its repository.
- NOTICE-DEMO: a Python interface test building a tender notice (公告类型 1 招标公告 2 资审公告; 公告性质 1 首次公告
  2 更正公告 3 澄清公告), and a Vue form listing 公告性质 as 正常公告, 更正公告 in that order (repositories not named).

Amounts (BID_AMOUNT 中标金额, CONTRACT_AMOUNT 合同金额) go in 万元 with PRICE_UNIT "1": SHANXI documents BID_AMOUNT as
"中标金额（单位：万元）"; GGZY carries a PRICE_UNIT (价格单位) beside each amount and its BID_AMOUNT validator reads
PRICE_UNIT "1" as 万元 (anything else as 元). Neither states decimal places (GGZY decimal, SHANXI BigDecimal/String),
so the amount is written with 6 decimals: 1 分 = 0.000001 万元, an exact image of the integer fen (Decimal, no float, no
rounding). Times are ISO 8601 in Beijing time; the platform identifier (交易系统标识码) from PROVINCIAL_PLATFORM_CODE.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

SPEC_VERSION = "V2.0"

NOTICE, RESULT, CONTRACT = "NOTICE", "RESULT", "CONTRACT"  # the data sets: 公告信息, 中标/成交结果信息, 合同信息
ALL = (NOTICE, RESULT, CONTRACT)

Status = Literal["corroborated", "single", "own"]

GGZY = "lishanling/GGZY"
SHANXI = "com.itender.ms.platform.shanxi (GCJSNOTICE, GCJSRESULTNOTICE)"
NOTICE_DEMO = "tender-notice interface test and 公告性质 form (unnamed repositories)"


@dataclass(frozen=True, slots=True)
class Item:
    code: str  # the JSON key sent
    name: str  # the item's Chinese name as the implementations label it
    source: str  # where PalmTrade takes it from
    data_sets: tuple[str, ...]
    status: Status
    evidence: tuple[str, ...] = ()  # the independent implementations that use this key for this item
    required: bool = True

    @property
    def agreeing(self) -> int:
        """How many independent implementations use this key."""
        return len(self.evidence)


_CORROBORATED = (GGZY, SHANXI)

# the mapping: one row per data item sent (the order is the order in the message)
ITEMS: tuple[Item, ...] = (
    Item("PLATFORM_CODE", "交易系统标识码", "setting PROVINCIAL_PLATFORM_CODE", ALL, "corroborated", _CORROBORATED),
    Item(
        "TENDER_PROJECT_CODE",
        "招标项目编号",
        "Project.trade_code (the project's 统一交易标识码)",
        ALL,
        "corroborated",
        _CORROBORATED,
    ),
    Item("TENDER_PROJECT_NAME", "招标项目名称", "Project.name", ALL, "single", (GGZY,)),
    # the notice names every lot it concerns (plural keys), the result and the contract one lot
    Item("BID_SECTION_CODES", "相关标段（包）编号", "Lot.trade_code", (NOTICE,), "corroborated", _CORROBORATED, False),
    Item("BID_SECTION_CODE", "标段（包）编号", "Lot.trade_code", (RESULT, CONTRACT), "corroborated", _CORROBORATED),
    Item("BID_SECTION_NAME", "标段（包）名称", "Lot.name", ALL, "single", (GGZY,), False),
    Item("UNIFIED_DEAL_CODES", "统一交易标识码", "Lot.trade_code", (NOTICE,), "corroborated", _CORROBORATED, False),
    Item("UNIFIED_DEAL_CODE", "统一交易标识码", "Lot.trade_code", (RESULT, CONTRACT), "corroborated", _CORROBORATED),
    Item("TRADE_CATEGORY", "交易类别", "Project.category (catalogue)", ALL, "own"),
    Item("REGION_CODE", "标段（包）所在行政区域代码", "Project.region_code (GB/T 2260)", ALL, "single", (GGZY,)),
    Item("TENDERER_NAME", "招标人名称", "the tenderer organisation's name", ALL, "corroborated", _CORROBORATED),
    Item("TENDERER_CODE", "招标人代码", "the tenderer organisation's credit code", ALL, "corroborated", _CORROBORATED),
    Item("NOTICE_NAME", "公告标题", "Announcement.title", ALL, "corroborated", _CORROBORATED),
    Item("NOTICE_CONTENT", "公告内容", "Announcement.body_text", ALL, "corroborated", _CORROBORATED),
    Item(
        "NOTICE_SEND_TIME",
        "公告发布时间",
        "Announcement.published_at (Beijing time)",
        ALL,
        "corroborated",
        _CORROBORATED,
    ),
    Item("NOTICE_NATURE", "公告性质", "a correction or not, by NOTICE_NATURES", ALL, "corroborated", _CORROBORATED),
    Item("BULLETIN_TYPE", "公告类型", "Announcement.type, by BULLETIN_TYPES", ALL, "corroborated", _CORROBORATED),
    Item(
        "CORRECTS_BULLETIN",
        "更正公告原公告编号",
        "the corrected announcement's message id",
        ALL,
        "own",
        required=False,
    ),
    Item(
        "WIN_BIDDER_NAME",
        "中标投标人名称",
        "the award's organisation name",
        (RESULT, CONTRACT),
        "corroborated",
        _CORROBORATED,
    ),
    Item(
        "WIN_BIDDER_CODE",
        "中标投标人代码",
        "the award's organisation credit code",
        (RESULT, CONTRACT),
        "corroborated",
        _CORROBORATED,
    ),
    Item("BID_AMOUNT", "中标金额", "Award.price_fen, in 万元 (wan)", (RESULT, CONTRACT), "corroborated", _CORROBORATED),
    Item("PRICE_UNIT", "价格单位", "always PRICE_UNIT_WAN (1 = 万元)", (RESULT, CONTRACT), "single", (GGZY,)),
    Item("CONTRACT_CODE", "合同编号", "Contract.contract_no", (CONTRACT,), "own"),
    Item("CONTRACT_AMOUNT", "合同金额", "Contract.amount_fen, in 万元 (wan)", (CONTRACT,), "single", (GGZY,)),
    Item("CONTRACT_SIGNING_TIME", "合同签订时间", "Contract.signed_on", (CONTRACT,), "single", (GGZY,)),
    Item(
        "DATA_TIMESTAMP", "数据时间戳", "when the message was made (Beijing time)", ALL, "corroborated", _CORROBORATED
    ),
)

PRICE_UNIT_WAN = "1"  # 价格单位: "1" is 万元 (GGZY's BID_AMOUNT validator; SHANXI's BID_AMOUNT is in 万元)

# 公告性质: "1" first publication, "2" a correction (NOTICE-DEMO's codes; its form lists 正常公告, 更正公告 so)
NOTICE_NATURES: dict[str, str] = {"first": "1", "correction": "2"}
NOTICE_NATURE_STATUS: Status = "single"

# 公告类型 (BULLETIN_TYPE) by PalmTrade's announcement type: "1" 招标公告 is NOTICE-DEMO's code and SHANXI's GCJS_NOTICE
# carries 招标公告 and 资格预审公告 under this one item; the other codes are PalmTrade's own (status per code below).
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
BULLETIN_TYPE_STATUS: dict[str, Status] = {kind: ("single" if kind == "tender" else "own") for kind in BULLETIN_TYPES}

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


_WAN = Decimal(1_000_000)  # fen in one 万元
_SIX_PLACES = Decimal("0.000001")


def wan(fen: int | None) -> str | None:
    """Integer fen as 万元 with 6 decimals, exactly (1 分 = 0.000001 万元; Decimal, never a float)."""
    if fen is None:
        return None
    return str((Decimal(fen) / _WAN).quantize(_SIX_PLACES))


def fen_of_wan(text: str) -> int:
    """The integer fen a 万元 amount stands for; ValueError when it is not a whole number of fen."""
    fen = Decimal(text) * _WAN
    if fen != fen.to_integral_value():
        raise ValueError(f"{text} 万元 is not a whole number of fen")
    return int(fen)


def missing(of: str, values: dict[str, Any]) -> list[str]:
    """The required items of the data set left empty, by their codes."""
    return [i.code for i in items(of) if i.required and values.get(i.code) in (None, "")]


def fields_of(of: str, values: dict[str, Any]) -> dict[str, Any]:
    """The data set's items in table order, absent optional ones left out."""
    return {i.code: values.get(i.code) for i in items(of) if values.get(i.code) not in (None, "") or i.required}
