"""The national data specification the provincial platform receives, and the one table mapping PalmTrade's data to it.

Target: 全国公共资源交易平台系统数据规范 (V2.0), the data items of its transaction-information data sets (公告信息,
中标/成交结果信息, 合同信息). No copy of the specification's text was at hand (its table of contents is public; the
items and code sets are not, nor are those of DB35/T 2167-2024, the Fujian interface standard that carries the code
sets in its annex B), so its item identifiers (the JSON keys sent) and code values were rebuilt from public source code
of platforms that implement it, and each row and code says how far that goes (`status`):

- "corroborated": at least two independent implementations use this key (code) for this Chinese item;
- "single": one implementation uses it (several of its classes may, they count once);
- "own": no implementation found: PalmTrade's own choice, to be checked against the province's interface document.

The implementations read (field names, labels and code values only, as facts; no code taken), with the searches
that found nothing in docs/provincial-spec-sources.md:

- GGZY: lishanling/GGZY, a Fujian public-resource platform in C#: its data-exchange configuration (one JSON file per
  data set of the specification, GGZY/Presentations/FuWu/DataV4/Config/DataConfig/V4/*.json: item key, Chinese name,
  validators and code-set numbers, e.g. 503 招标公告与资格预审公告, 511 中标候选人公示, 512 合同, 513 中标结果公告),
  its validators (EnumMatchFieldValidator: PRICE_UNIT 0 元 / 1 万元) and the services that read the codes (FuWu/
  MvJyxxService.cs, TenderProjectService.cs, WinResultAnnoService.cs: BULLETIN_TYPE 1 招标公告, 2 资格预审公告, 3 on
  the 中标结果公告; NOTICE_NATURE 2 is the 变更公告), the Dos.ORM entities (TENDER_CANDIDATE_ANNOUNCE,
  CONTRACT_PERFORMANCE, PERFORMANCE_INFO, PURCHASE_CONTRACT) and, for the 电子招标投标 exchange beside it,
  GGZYFW.DbEntity/T_EC2_AMENDBULLETIN.cs (变更公告: ORIGINALBULLETINCODE 原公告编号, ORIGINALBULLETINTYPE 原公告类型).
- SHANXI: the JAXB classes of package com.itender.ms.platform.shanxi (Java, @XmlElement names with Chinese comments:
  GCJSNOTICE, root GCJS_NOTICE, 招标公告与资格预审公告; GCJSRESULTNOTICE, root GCJS_RESULT_NOTICE, 中标结果公告;
  GCJSWINCANDIDATE), the Shanxi provincial interface; the index did not name its repository.
- BIDLINK: gumiemie/mytest, src/main/java/pubService/notice/NoticeProcessor.java (必联网 sending its notices to the
  电子招标投标公共服务平台): its comments give the code sets "公告类型: 1 招标公告, 2 资格预审公告, 9 其他" and
  "公示类型 1 正常 2 更正 9 其他", and a 变更公告 names the original by originalBulletinCode / originalBulletinType.
- NOTICE-DEMO: a Python interface test building a tender notice (公告类型 1 招标公告 2 资审公告; 公告性质 1 首次公告
  2 更正公告 3 澄清公告), and a Vue form listing 公告性质 as 正常公告, 更正公告 in that order (repositories not named).
- REVIEW-PAGE: a Vue 中标公告审核 page showing notice_nature '1' 正常公告, '2' 变更公告, '9' 其他 (repository not named;
  index file id 21121763989).
- HBZB: dusizhong/hbzb-cloud, an e-tendering system: hbzbdb.sql and hbzb-tas-server's AnnounceController.java give
  公告类型 1 招标公告, 2 资格预审公告, 9 其他 and 公告性质 1 正常公告, 2 更正公告 (变更公告 in the table), 9 其他; its
  变更公告 keeps the original's 公告类型 and points to it by 原公告uid.
- ASYYSY: allon-huang/asyysy, an e-tendering system's Oracle upgrade script (webs/docs/sql/05.SQL升级/bd/00.已发测试/
  upgrade.style.bd.1.0.0.00.sql, table BD_CCNOTICE 澄清/变更公告): 公告性质 1-正常公告 2-更正公告 9-其他, 公告类型
  1-招标公告 2-资格预审公告 9-其他.

Amounts (BID_AMOUNT 中标金额, CONTRACT_AMOUNT 合同金额) go in 万元 with PRICE_UNIT "1": SHANXI documents BID_AMOUNT as
"中标金额（单位：万元）"; GGZY carries a PRICE_UNIT (价格单位) beside each amount, its enumeration is 0 元 / 1 万元
and its BID_AMOUNT validator reads PRICE_UNIT "1" as 万元. GGZY's configuration allows 14 integer and 6 decimal digits
for every amount, so the amount is written with 6 decimals: 1 分 = 0.000001 万元, an exact image of the integer fen
(Decimal, no float, no rounding). Times are yyyyMMddHHmmss in Beijing time, as GGZY's receiver validates them
(`DateMatch` with that format on 512's CONTRACT_SIGN_TIME and SUBMIT_TIME; single: no second source gives the wire
format); a day alone (a contract's signing day) is that day at 000000. The platform identifier (交易系统标识码) from
PROVINCIAL_PLATFORM_CODE.

The trade (工程建设, 政府采购, 土地 ...) is no item: each message declares the specification's data set of its project's
trade (DATA_SETS: number, English and Chinese name, as GGZY's receiver reads them from a message's title), which is how
both GGZY and SHANXI tell the trades apart. An engineering project's industry goes as TENDER_PROJECT_TYPE 招标项目类型
(TENDER_PROJECT_TYPE_CODES).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from domain.common import clock
from domain.publication.industries import INDUSTRIES
from domain.publication.industries import INDUSTRY_CATEGORY as INDUSTRY_CATEGORY_ENUM

SPEC_VERSION = "V2.0"

NOTICE, RESULT, CONTRACT = "NOTICE", "RESULT", "CONTRACT"  # the data sets: 公告信息, 中标/成交结果信息, 合同信息
# engineering construction's own sets (GGZY 511 中标候选人公示 and 512 合同, with items of their own): the candidates'
# publicity and the contract of an engineering project go in them; every other trade keeps NOTICE and CONTRACT
PUBLICITY, WORKS_CONTRACT = "PUBLICITY", "WORKS_CONTRACT"
ALL = (NOTICE, RESULT, CONTRACT, PUBLICITY, WORKS_CONTRACT)
ANNOUNCED = (NOTICE, RESULT, CONTRACT)  # the sets carrying the announcement's items (公告标题, 公告类型 ...)

Status = Literal["corroborated", "single", "own"]

GGZY = "lishanling/GGZY"
SHANXI = "com.itender.ms.platform.shanxi (GCJSNOTICE, GCJSRESULTNOTICE)"
BIDLINK = "gumiemie/mytest (src/main/java/pubService/notice/NoticeProcessor.java)"
NOTICE_DEMO = "tender-notice interface test and 公告性质 form (unnamed repositories)"
REVIEW_PAGE = "Vue 中标公告审核 page (unnamed repository)"
HBZB = "dusizhong/hbzb-cloud (hbzbdb.sql, hbzb-tas-server .../controller/AnnounceController.java)"
ASYYSY = "allon-huang/asyysy (webs/docs/sql/05.SQL升级/bd/00.已发测试/upgrade.style.bd.1.0.0.00.sql)"
PUBLICITY_PAGE = "JavaScript 中标候选人公示 list (unnamed repository; index file ids 47595643599, 47507631452)"
SOURCES = (GGZY, SHANXI, BIDLINK, NOTICE_DEMO, REVIEW_PAGE, HBZB, ASYYSY, PUBLICITY_PAGE)  # independent of one another


@dataclass(frozen=True, slots=True)
class Item:
    code: str  # the JSON key sent
    name: str  # the item's Chinese name as the implementations label it
    source: str  # where PalmTrade takes it from
    data_sets: tuple[str, ...]
    status: Status
    evidence: tuple[str, ...] = ()  # the independent implementations that use this key for this item
    required: bool = True
    required_in: tuple[str, ...] = ()  # the sets where an item otherwise optional is required

    def required_for(self, of: str) -> bool:
        return self.required or of in self.required_in

    @property
    def agreeing(self) -> int:
        """How many independent implementations use this key."""
        return len(self.evidence)


@dataclass(frozen=True, slots=True)
class Code:
    """One value of a code set (代码集) as sent, with the implementations that give it this meaning."""

    value: str
    label: str
    status: Status
    evidence: tuple[str, ...] = ()


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
    # (GGZY's 511 names the lots of a publicity by BID_SECTION_CODES, required there, and UNIFIED_DEAL_CODE)
    Item(
        "BID_SECTION_CODES",
        "相关标段（包）编号",
        "Lot.trade_code",
        (NOTICE, PUBLICITY),
        "corroborated",
        _CORROBORATED,
        False,
        required_in=(PUBLICITY,),
    ),
    Item(
        "BID_SECTION_CODE",
        "标段（包）编号",
        "Lot.trade_code",
        (RESULT, CONTRACT, WORKS_CONTRACT),
        "corroborated",
        _CORROBORATED,
    ),
    Item("BID_SECTION_NAME", "标段（包）名称", "Lot.name", ALL, "single", (GGZY,), False),
    Item("UNIFIED_DEAL_CODES", "统一交易标识码", "Lot.trade_code", (NOTICE,), "corroborated", _CORROBORATED, False),
    Item(
        "UNIFIED_DEAL_CODE",
        "统一交易标识码",
        "Lot.trade_code",
        (RESULT, CONTRACT, PUBLICITY, WORKS_CONTRACT),
        "corroborated",
        _CORROBORATED,
    ),
    # 招标项目类型, the engineering project's industry (code set TENDER_PROJECT_TYPE_CODES): an item of the 招标项目
    # data set in both implementations (GGZY 501 TENDER_PROJECT, required, 3 characters, code set 10; SHANXI
    # GCJS_TENDER_PROJECT, required). PalmTrade sends no data set of the project's own, so, like TENDER_PROJECT_NAME,
    # the project's items ride on each message; sent for engineering projects only, and optional until every project
    # has one (a project made before Project.industry has none: data-quality rule DQ-REQ-002 names it)
    Item(
        "TENDER_PROJECT_TYPE",
        "招标项目类型",
        "Project.industry (engineering projects)",
        ALL,
        "corroborated",
        _CORROBORATED,
        required=False,
    ),
    Item("REGION_CODE", "标段（包）所在行政区域代码", "Project.region_code (GB/T 2260)", ALL, "single", (GGZY,)),
    Item("TENDERER_NAME", "招标人名称", "the tenderer organisation's name", ALL, "corroborated", _CORROBORATED),
    Item(
        "TENDERER_CODE",
        "招标人代码",
        "the tenderer organisation's credit code",
        (*ANNOUNCED, PUBLICITY),
        "corroborated",
        _CORROBORATED,
    ),
    # GGZY's 512 spells the tenderer's code TENDER_CODE (required there)
    Item("TENDER_CODE", "招标人代码", "the tenderer organisation's credit code", (WORKS_CONTRACT,), "single", (GGZY,)),
    Item("NOTICE_NAME", "公告标题", "Announcement.title", ANNOUNCED, "corroborated", _CORROBORATED),
    Item("NOTICE_CONTENT", "公告内容", "Announcement.body_text", ANNOUNCED, "corroborated", _CORROBORATED),
    Item(
        "NOTICE_SEND_TIME",
        "公告发布时间",
        "Announcement.published_at (Beijing time)",
        ANNOUNCED,
        "corroborated",
        _CORROBORATED,
    ),
    Item(
        "NOTICE_NATURE", "公告性质", "a correction or not, by notice_nature()", ANNOUNCED, "corroborated", _CORROBORATED
    ),
    Item(
        "BULLETIN_TYPE", "公告类型", "Announcement.type, by bulletin_type()", ANNOUNCED, "corroborated", _CORROBORATED
    ),
    # 中标候选人公示 (GGZY 511 TENDER_CANDIDATE_ANNOUNCE; the keys are its configuration's and its entity's, one
    # implementation): required there (NotNull) are the title, content, the time it was submitted, the type, the
    # period and the way to object; the candidates' names and credit codes are optional. 511 carries no amount: the
    # candidates' prices are in PUBLICITY_CONTENT (the publicity's table), not in items of their own.
    Item("PUBLICITY_NAME", "公示标题", "Announcement.title", (PUBLICITY,), "single", (GGZY,)),
    Item("PUBLICITY_CONTENT", "公示内容", "Announcement.body_text", (PUBLICITY,), "single", (GGZY,)),
    Item(
        "PUBLICITY_REFER_TIME",
        "公示提交时间",
        "Announcement.published_at (Beijing time)",
        (PUBLICITY,),
        "single",
        (GGZY,),
    ),
    Item("PUBLICITY_TYPE", "公示类型", "a correction or not, by publicity_type()", (PUBLICITY,), "single", (GGZY,)),
    Item(
        "PUBLICITY_START_TIME",
        "公示开始时间",
        "Announcement.publicity_starts_at (else published_at)",
        (PUBLICITY,),
        "single",
        (GGZY,),
    ),
    Item("PUBLICITY_END_TIME", "公示结束时间", "Announcement.publicity_ends_at", (PUBLICITY,), "single", (GGZY,)),
    Item(
        "OBJECTION_METHOD",
        "提出异议的渠道和方式",
        "OBJECTION_METHOD_TEXT (the publicity's own sentence on objections)",
        (PUBLICITY,),
        "single",
        (GGZY,),
    ),
    # also required (NotNull) in GGZY's 511: where the publicity appeared, its address there, who published it and
    # who at the platform answers for the data (settings PROVINCIAL_NOTICE_MEDIA, PROVINCIAL_PUBLIC_URL,
    # PROVINCIAL_EXAMINER_NAME; unset, the item is left out and a receiver as strict as GGZY's refuses the set)
    Item("NOTICE_MEDIA", "公示发布媒体", "setting PROVINCIAL_NOTICE_MEDIA", (PUBLICITY,), "single", (GGZY,)),
    Item(
        "URL", "公示源URL", "setting PROVINCIAL_PUBLIC_URL with {id}: the announcement", (PUBLICITY,), "single", (GGZY,)
    ),
    Item(
        "BULLETIN_DUTY",
        "公示发布责任人",
        "the publishing user's name (Announcement.published_by), else the tenderer's contact",
        (PUBLICITY,),
        "single",
        (GGZY,),
    ),
    Item(
        "EXAMINER_NAME",
        "交易平台数据验证责任人姓名",
        "setting PROVINCIAL_EXAMINER_NAME",
        (PUBLICITY,),
        "single",
        (GGZY,),
    ),
    *(
        Item(
            f"{rank}_BIDDER_{key}",
            f"{label}中标候选人{what}",
            f"Candidate rank {n}: {source}",
            (PUBLICITY,),
            "single",
            (GGZY,),
            False,
        )
        for n, (rank, label) in enumerate((("FIRST", "第一"), ("SECOND", "第二"), ("THIRD", "第三")), 1)
        for key, what, source in (
            ("NAME", "名称", "the organisation's name"),
            ("CODE", "统一社会信用代码", "the organisation's credit code"),
        )
    ),
    # no data set of the specification found names the notice a correction corrects (GGZY's 503 and 513 carry none:
    # a correction is NOTICE_NATURE 2 on the same TENDER_PROJECT_CODE); the 电子招标投标 exchange beside it does, as
    # 原公告编号 (GGZY T_EC2_AMENDBULLETIN.ORIGINALBULLETINCODE, BIDLINK originalBulletinCode; HBZB keeps 原公告uid,
    # SHANXI its own PSP_RELATE_NOTICE_ID): the key is that name in the specification's spelling, one implementation's
    # column
    Item(
        "ORIGINAL_BULLETIN_CODE",
        "原公告编号",
        "the corrected announcement's message id",
        ALL,
        "single",
        (GGZY,),
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
    # GGZY's 512 names the winner BIDDER_NAME / BIDDER_CODE 中标人名称 / 代码 (required there)
    Item("BIDDER_NAME", "中标人名称", "the award's organisation name", (WORKS_CONTRACT,), "single", (GGZY,)),
    Item("BIDDER_CODE", "中标人代码", "the award's organisation credit code", (WORKS_CONTRACT,), "single", (GGZY,)),
    Item("BID_AMOUNT", "中标金额", "Award.price_fen, in 万元 (wan)", (RESULT, CONTRACT), "corroborated", _CORROBORATED),
    Item(
        "PRICE_UNIT",
        "价格单位",
        "always PRICE_UNIT_WAN (1 = 万元)",
        (RESULT, CONTRACT, WORKS_CONTRACT),
        "single",
        (GGZY,),
    ),
    # GGZY's 合同 data set (512, 工程建设) has CONTRACT_CODE 合同编号 as a required item
    Item("CONTRACT_CODE", "合同编号", "Contract.contract_no", (CONTRACT, WORKS_CONTRACT), "single", (GGZY,)),
    # and CONTRACT_NAME 合同名称 (required): PalmTrade's contract has no name, the lot's is taken (标段名称 + 合同)
    Item("CONTRACT_NAME", "合同名称", 'Lot.name + "合同"', (WORKS_CONTRACT,), "single", (GGZY,)),
    # PRICE_FORM_CODE 价款形式代码 (required, PRICE_FORM_CODES): every PalmTrade bid, award and contract is a sum in
    # fen (no rate, unit-price or other form is tendered), so an engineering contract is 1 金额 (PRICE_FORM_AMOUNT)
    Item(
        "PRICE_FORM_CODE",
        "价款形式代码",
        "PRICE_FORM_AMOUNT (PalmTrade prices are sums)",
        (WORKS_CONTRACT,),
        "single",
        (GGZY,),
    ),
    Item("CONTRACT_CONTENT", "合同主要内容", "Announcement.body_text", (WORKS_CONTRACT,), "single", (GGZY,)),
    # GGZY spells the amount and the day differently by data set: CONTRACT_AMOUNT / SIGNING_TIME in 采购合同 (554),
    # CONTRACT_AMOUNT / CONTRACT_SIGNING_TIME in 履约信息 (305), CONTRACT_PRICE / CONTRACT_SIGN_TIME in the 工程建设
    # 合同 (512); PalmTrade's contract set of the other trades keeps CONTRACT_AMOUNT (two of the three) and
    # CONTRACT_SIGNING_TIME (履约信息's, the data set closest to a contract announcement of any category); the
    # engineering contract (WORKS_CONTRACT, 512) uses 512's keys
    Item("CONTRACT_AMOUNT", "合同金额", "Contract.amount_fen, in 万元 (wan)", (CONTRACT,), "single", (GGZY,)),
    Item("CONTRACT_SIGNING_TIME", "合同签署时间", "Contract.signed_on", (CONTRACT,), "single", (GGZY,)),
    # the engineering contract in 512's own spelling: CONTRACT_PRICE (optional there), CONTRACT_SIGN_TIME (required)
    Item(
        "CONTRACT_PRICE",
        "合同金额",
        "Contract.amount_fen, in 万元 (wan)",
        (WORKS_CONTRACT,),
        "single",
        (GGZY,),
        required=False,
    ),
    Item("CONTRACT_SIGN_TIME", "合同签署时间", "Contract.signed_on", (WORKS_CONTRACT,), "single", (GGZY,)),
    Item(
        "DATA_TIMESTAMP", "数据时间戳", "when the message was made (Beijing time)", ALL, "corroborated", _CORROBORATED
    ),
)

PRICE_UNIT_WAN = "1"  # 价格单位: "1" is 万元 (GGZY's PRICE_UNIT enumeration and BID_AMOUNT validator)

# 价格单位 (PRICE_UNIT): GGZY's EnumMatchFieldValidator; SHANXI states BID_AMOUNT in 万元 but carries no unit item
PRICE_UNIT_CODES: dict[str, Code] = {
    "0": Code("0", "元", "single", (GGZY,)),
    "1": Code("1", "万元", "single", (GGZY,)),
}

# 公告性质 (NOTICE_NATURE): "1" a first publication, "2" a correction (GGZY reads NOTICE_NATURE 2 with
# BULLETIN_TYPE 1 as its 变更公告; HBZB and ASYYSY 1 正常公告, 2 更正公告, 9 其他; REVIEW-PAGE 1 正常公告, 2 变更公告,
# 9 其他; NOTICE-DEMO 1 首次公告, 2 更正公告)
NOTICE_NATURE_CODES: dict[str, Code] = {
    "1": Code("1", "正常公告", "corroborated", (GGZY, HBZB, ASYYSY, REVIEW_PAGE, NOTICE_DEMO)),
    "2": Code("2", "更正/变更公告", "corroborated", (GGZY, HBZB, ASYYSY, REVIEW_PAGE, NOTICE_DEMO)),
    "9": Code("9", "其他", "corroborated", (HBZB, ASYYSY, REVIEW_PAGE)),
}
NOTICE_NATURES: dict[str, str] = {"first": "1", "correction": "2"}

# 公示类型 (PUBLICITY_TYPE) of the 中标候选人公示 (GGZY 511: required, 1 character, code set 13, whose table is in its
# database, not in the repository). BIDLINK's sender of the 中标候选人公示 states the set ("公示类型 1 正常 2 更正 9
# 其他": 1, or 9 when there is no candidate); PUBLICITY-PAGE, a list of 中标候选人公示, shows publicityType 1 正常公示,
# 2 变更公示 under the same comment
PUBLICITY_TYPE_CODES: dict[str, Code] = {
    "1": Code("1", "正常", "corroborated", (BIDLINK, PUBLICITY_PAGE)),
    "2": Code("2", "更正", "corroborated", (BIDLINK, PUBLICITY_PAGE)),
    "9": Code("9", "其他", "single", (BIDLINK,)),
}
# what PalmTrade's publicity says of objections (domain/results/services.publish_candidates, 实施条例 第五十四条)
OBJECTION_METHOD_TEXT = "投标人或者其他利害关系人对评标结果有异议的，应当在公示期间向招标人提出"

# 价款形式代码 (PRICE_FORM_CODE) of GGZY's 512 (EnumMatch PRICE_FORM_CODE: its enumeration dictionary, the only
# source found)
PRICE_FORM_CODES: dict[str, Code] = {
    "1": Code("1", "金额", "single", (GGZY,)),
    "2": Code("2", "费率/比率/优惠率/合格率等", "single", (GGZY,)),
    "3": Code("3", "单价", "single", (GGZY,)),
    "9": Code("9", "其他形式", "single", (GGZY,)),
}
PRICE_FORM_AMOUNT = "1"

# items GGZY's 511 and 512 require that PalmTrade does not send (no data of its own to fill them yet): the province's
# interface document decides whether its receiver asks for them
NOT_SENT: dict[str, str] = {}  # every item GGZY requires in the sets PalmTrade sends is mapped (the four of 511 above)
NOTICE_NATURE_STATUS: Status = "corroborated"

# 公告类型 (BULLETIN_TYPE). A change (变更/澄清公告) is no type of its own: it is sent with NOTICE_NATURE "2" and
# the type of the announcement it corrects (GGZY's 变更公告 is BULLETIN_TYPE 1 with NOTICE_NATURE 2; BIDLINK's
# 变更公告 names its originalBulletinType 1 or 2; HBZB's copies the original's type). The notice's code set is 1, 2,
# 9 in BIDLINK, HBZB and ASYYSY; "3" is GGZY's code on the 中标结果公告 (WIN_RESULT_ANNO, validated against the same
# code set 32 as the notice, read as 结果公告), the only implementation that codes a result. The sources disagree on
# a result: BIDLINK sends 1 (a winner) or 9 (none) in its result bulletin, which would read as a 招标公告 here, and
# the senders' 1/2/9 lists come from notice tables that never carry a result. GGZY is a receiving platform whose code
# set holds 3: "3" is kept for a result with a winner, and 9 for one without (GGZY's 中标结果公告 requires
# WIN_BIDDER_NAME; BIDLINK sends 9).
# No implementation gives a 公告类型 for the other kinds (the specification carries the candidates' publicity and
# the contract in data sets of their own, 中标候选人公示 with PUBLICITY_TYPE and 合同 without a type): they go under
# 9 其他 rather than a number of PalmTrade's own that may mean something else in the province's code set.
BULLETIN_TYPE_CODES: dict[str, Code] = {
    "1": Code("1", "招标公告", "corroborated", (GGZY, BIDLINK, HBZB, ASYYSY, NOTICE_DEMO)),
    "2": Code("2", "资格预审公告", "corroborated", (GGZY, BIDLINK, HBZB, ASYYSY, NOTICE_DEMO)),
    "3": Code("3", "中标结果公告", "single", (GGZY,)),
    "9": Code("9", "其他", "corroborated", (BIDLINK, HBZB, ASYYSY)),
}
OTHER_BULLETIN = "9"
# the kinds with a code of their own; every other kind is sent as OTHER_BULLETIN
BULLETIN_TYPES: dict[str, str] = {"tender": "1", "result": "3"}
# how far each PalmTrade announcement type's 公告类型 goes ("own": filed under 9 其他 by PalmTrade's choice)
BULLETIN_TYPE_STATUS: dict[str, Status] = {
    "tender": "corroborated",
    "change": "corroborated",  # the corrected announcement's type with NOTICE_NATURE 2
    "result": "single",
    "qualification_result": "own",
    "candidate_publicity": "own",
    "contract": "own",
    "performance": "own",
    "termination": "own",
    "contract_change": "own",
}
# 招标项目类型 (TENDER_PROJECT_TYPE), the industry of an engineering project: GGZY's table of it, GGZY/Businesses/
# GGZY.Services/DZBH/ParamModel/DictModel.cs ProjectTypeDict (labels as written there; 房建 is 房屋建筑 in its
# DashboardService's chart, the same repository); its receiver validates the item against code set 10 (501.json:
# NotNull, 3 characters, DomainMatch 10), whose table is in its database, not in the repository. SHANXI carries the
# item with no values. No second implementation of the codes was found (docs/provincial-spec-sources.md): single.
# The values and labels live in domain/publication/industries.py, where a project is checked against them.
# GGZY's procurement project (550 采购项目类型) uses the same code set with G01, G02 ... (an A code with G in front:
# TUserService), which PalmTrade does not send: only engineering projects carry an industry.
TENDER_PROJECT_TYPE_CODES: dict[str, Code] = {
    value: Code(value, label, "single", (GGZY,)) for value, label in INDUSTRIES.items()
}
INDUSTRY_CATEGORY: str = INDUSTRY_CATEGORY_ENUM.value  # the catalogue category whose projects carry 招标项目类型


def industry_of(category: str, industry: str | None) -> str | None:
    """The 招标项目类型 sent for a project: its industry when it is an engineering project, else none."""
    return industry if category == INDUSTRY_CATEGORY and industry else None


CODE_SETS: dict[str, dict[str, Code]] = {
    "TENDER_PROJECT_TYPE": TENDER_PROJECT_TYPE_CODES,
    "BULLETIN_TYPE": BULLETIN_TYPE_CODES,
    "NOTICE_NATURE": NOTICE_NATURE_CODES,
    "PRICE_UNIT": PRICE_UNIT_CODES,
    "PUBLICITY_TYPE": PUBLICITY_TYPE_CODES,
    "PRICE_FORM_CODE": PRICE_FORM_CODES,
}


def publicity_type(corrects_id: int | None, candidates: int) -> str:
    """公示类型: a correction 2, a publicity without a candidate 9 (BIDLINK), else 1 正常."""
    if corrects_id:
        return "2"
    return "1" if candidates else "9"


def bulletin_type(kind: str, *, corrects: str | None = None, winner: bool = True) -> str:
    """The 公告类型 of an announcement of this type: a change takes the type of the announcement it corrects (a
    tender notice when it names none), a result without a winner and every kind without a code is 9 其他."""
    if kind == "change":
        kind = corrects if corrects not in (None, "change") else "tender"
    if kind == "result" and not winner:
        return OTHER_BULLETIN
    return BULLETIN_TYPES.get(kind, OTHER_BULLETIN)


def notice_nature(kind: str, corrects_id: int | None) -> str:
    """公告性质: a change, or any announcement correcting another, is a correction (2); else a first publication (1)."""
    return NOTICE_NATURES["correction" if corrects_id or kind == "change" else "first"]


DATA_SET_OF: dict[str, str] = {
    "candidate_publicity": RESULT,
    "result": RESULT,
    "contract": CONTRACT,
    "contract_change": CONTRACT,
}


def data_set(kind: str) -> str:
    """Which data set an announcement of this type goes in: its result or its contract, else the notice."""
    return DATA_SET_OF.get(kind, NOTICE)


def trade_set(category: str, of: str, kind: str) -> str:
    """PalmTrade's set for a message of a project of this category: an engineering project's candidates' publicity
    goes in PUBLICITY (511) and its contract in WORKS_CONTRACT (512); every other trade keeps `of`."""
    sets = DATA_SETS.get(category, OTHER_TRADE)
    if kind == "candidate_publicity" and PUBLICITY in sets:
        return PUBLICITY
    if of == CONTRACT and WORKS_CONTRACT in sets:
        return WORKS_CONTRACT
    return of


@dataclass(frozen=True, slots=True)
class DataSet:
    """A data set of the specification as the receiver names it: its number (DATA_NO), its English name (DATA_EN)
    and its Chinese name (DATA_CN), with the implementations that give it."""

    no: str
    name: str
    label: str
    status: Status
    evidence: tuple[str, ...] = ()


def _ggzy(no: str, name: str, label: str) -> DataSet:
    return DataSet(no, name, label, "single", (GGZY,))


# How the province tells the trades apart: by the data set each message declares, never by an item. GGZY has one
# data set per trade and kind (its V4 configuration, one file per data set: DataNo, DataName, DataCnName), and its
# receiver reads the data set from the message's title (DATA_NO, DATA_EN, DATA_CN; Validators/Title: "DATA_EN与
# DATA_NO不匹配"); SHANXI sends each data set under its own type, the trade in its name (receiveInfo(..., "GCJS_
# CONTRACT_PERFORMANCE", ...): GCJS = 工程建设). That the trade goes by the data set is corroborated; the numbers and
# names below are GGZY's (SHANXI's own names, GCJS_NOTICE ..., differ): single.
# PalmTrade's three sets (NOTICE, RESULT, CONTRACT) are sent under the data set of the project's trade:
#   工程建设 503/511/513/512 (the candidates' publicity and the contract in PUBLICITY and WORKS_CONTRACT);
#   政府采购 551/553/554; 土地使用权 600/601; 矿业权 651/653 (采矿权: PalmTrade does not tell
#   探矿权 650/652 apart); 国有产权 700/701 (实物/产权 挂牌; the 股权 sets 750/753 are not told apart); 药品和医用耗材
#   1104/1107; every other trade 其他交易 1800/1801. A trade with no contract data set of its own sends its contract
#   as 履约信息 (305 PERFORMANCE_INFO, of every trade).
_OTHER = {
    NOTICE: _ggzy("1800", "OTHER_TRADE_PUB_INFO", "交易公告信息"),
    RESULT: _ggzy("1801", "OTHER_TRADE_RESULT_INFO", "成交公示信息"),
}
_PERFORMANCE = _ggzy("305", "PERFORMANCE_INFO", "履约信息")
DATA_SETS: dict[str, dict[str, DataSet]] = {
    "engineering_construction": {
        NOTICE: _ggzy("503", "TENDER_ANN_QUA_INQUERY_ANN", "招标公告与资格预审公告"),
        PUBLICITY: _ggzy("511", "TENDER_CANDIDATE_ANNOUNCE", "中标候选人公示"),
        RESULT: _ggzy("513", "WIN_RESULT_ANNO", "中标结果公告"),
        WORKS_CONTRACT: _ggzy("512", "CONTRACT_PERFORMANCE", "合同"),
    },
    "government_procurement": {
        NOTICE: _ggzy("551", "PURCHASE_QUALI_INQUERY_ANN", "采购（资格预审）公告"),
        RESULT: _ggzy("553", "BID_DEAL_ANNOUNCE", "中标(成交)结果公告"),
        CONTRACT: _ggzy("554", "PURCHASE_CONTRACT", "采购合同"),
    },
    "land_use_rights": {
        NOTICE: _ggzy("600", "DEAL_BEHAVIOR_INFO", "出让公告信息"),
        RESULT: _ggzy("601", "DEAL_LAND_INFO", "成交宗地信息"),
        CONTRACT: _PERFORMANCE,
    },
    "mining_rights": {
        NOTICE: _ggzy("651", "MINING_BID_AUCTION_TRANS_ANN", "采矿权招拍挂出让公告信息"),
        RESULT: _ggzy("653", "MINING_BID_AUC_TRANS_RES_ANN", "采矿权招拍挂出让结果公示信息"),
        CONTRACT: _PERFORMANCE,
    },
    "state_owned_property": {
        NOTICE: _ggzy("700", "LISTING_PUB_INFO", "挂牌披露信息"),
        RESULT: _ggzy("701", "TRADE_RESULT_INFO", "交易结果信息"),
        CONTRACT: _PERFORMANCE,
    },
    "medical_consumables": {
        NOTICE: _ggzy("1104", "DEA_MEDI_TENDER_ANNO", "招标公告信息"),
        RESULT: _ggzy("1107", "DEA_MEDI_WIN_BID_ANNO", "中标公告信息"),
        CONTRACT: _PERFORMANCE,
    },
}
OTHER_TRADE: dict[str, DataSet] = {**_OTHER, CONTRACT: _PERFORMANCE}
TRADE_DATA_SET_STATUS: Status = "corroborated"  # that a receiver tells the trade by the data set (GGZY, SHANXI)


def spec_data_set(category: str, of: str) -> DataSet:
    """The specification's data set a message of PalmTrade's set `of` goes in for a project of this category (a
    message queued before its trade had a set of its own goes in that set: an engineering CONTRACT in 512)."""
    sets = DATA_SETS.get(category, OTHER_TRADE)
    return sets.get(of) or sets[_FORMER.get(of, NOTICE)]


_FORMER = {CONTRACT: WORKS_CONTRACT, WORKS_CONTRACT: CONTRACT, PUBLICITY: NOTICE}


def declared(no: str, name: str) -> str | None:
    """PalmTrade's set (NOTICE, RESULT, CONTRACT) a message declaring this data set carries; None when the number
    and the name are no data set of the table or do not belong together (what a receiver refuses)."""
    for sets in (*DATA_SETS.values(), OTHER_TRADE):
        for of, ds in sets.items():
            if (ds.no, ds.name) == (no, name):
                return of
    return None


def items(of: str) -> tuple[Item, ...]:
    return tuple(i for i in ITEMS if of in i.data_sets)


_WAN = Decimal(1_000_000)  # fen in one 万元
_SIX_PLACES = Decimal("0.000001")


def wan(fen: int | None) -> str | None:
    """Integer fen as 万元 with 6 decimals, exactly (1 分 = 0.000001 万元; Decimal, never a float)."""
    if fen is None:
        return None
    return str((Decimal(fen) / _WAN).quantize(_SIX_PLACES))


TIME_FORMAT = "%Y%m%d%H%M%S"  # yyyyMMddHHmmss, GGZY's DateMatch format (single)


def time_text(at: datetime | None) -> str | None:
    """An instant as the specification's time: Beijing time, yyyyMMddHHmmss."""
    return None if at is None else clock.to_shanghai(at).strftime(TIME_FORMAT)


def day_text(day: date | None) -> str | None:
    """A day alone (a contract's signing day) as the specification's time: the day at 000000."""
    return None if day is None else f"{day:%Y%m%d}000000"


def fen_of_wan(text: str) -> int:
    """The integer fen a 万元 amount stands for; ValueError when it is not a whole number of fen."""
    fen = Decimal(text) * _WAN
    if fen != fen.to_integral_value():
        raise ValueError(f"{text} 万元 is not a whole number of fen")
    return int(fen)


def invalid_codes(values: dict[str, Any]) -> list[str]:
    """The coded items whose value is not in their code set, by their codes (what a province refuses)."""
    return [k for k, codes in CODE_SETS.items() if values.get(k) not in (None, "") and values[k] not in codes]


TIME_ITEMS = (
    "NOTICE_SEND_TIME",
    "DATA_TIMESTAMP",
    "CONTRACT_SIGNING_TIME",
    "CONTRACT_SIGN_TIME",
    "PUBLICITY_REFER_TIME",
    "PUBLICITY_START_TIME",
    "PUBLICITY_END_TIME",
)


def invalid_times(values: dict[str, Any]) -> list[str]:
    """The time items not written yyyyMMddHHmmss (a receiver's DateMatch refuses them), by their codes."""
    bad = []
    for key in TIME_ITEMS:
        value = values.get(key)
        if value in (None, ""):
            continue
        text = str(value)
        try:
            datetime.strptime(text, TIME_FORMAT).replace(tzinfo=clock.SHANGHAI)
        except ValueError:
            bad.append(key)
            continue
        if len(text) != len("yyyyMMddHHmmss"):  # strptime also takes unpadded fields
            bad.append(key)
    return bad


def missing(of: str, values: dict[str, Any]) -> list[str]:
    """The required items of the data set left empty, by their codes."""
    return [i.code for i in items(of) if i.required_for(of) and values.get(i.code) in (None, "")]


def fields_of(of: str, values: dict[str, Any]) -> dict[str, Any]:
    """The data set's items in table order, absent optional ones left out."""
    return {i.code: values.get(i.code) for i in items(of) if values.get(i.code) not in (None, "") or i.required_for(of)}
