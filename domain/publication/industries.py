"""招标项目类型: the industry of an engineering project, as the national data specification codes it (its item
TENDER_PROJECT_TYPE, sent to the provincial platform). The values and labels are lishanling/GGZY's table
(GGZY/Businesses/GGZY.Services/DZBH/ParamModel/DictModel.cs ProjectTypeDict, where A01 reads 房建; 房屋建筑 in the
same repository's DashboardService); the evidence for each code, and what no source confirms, is with the exchange's
other code sets in domain/provincial/spec.py (TENDER_PROJECT_TYPE_CODES) and docs/provincial-spec-sources.md. Kept
here, below the exchange, because a project is checked against it when it is made."""

from __future__ import annotations

from domain.common.catalogue import Category

INDUSTRIES: dict[str, str] = {
    "A01": "房屋建筑",
    "A02": "市政",
    "A03": "公路",
    "A04": "铁路",
    "A05": "民航",
    "A06": "水运",
    "A07": "水利",
    "A08": "能源",
    "A09": "邮电通信",
    "A10": "桥梁",
    "A11": "城市轨道",
    "A12": "矿产冶金",
    "A13": "信息网络",
    "A14": "工业制造",
    "A97": "海洋渔港项目",
    "A98": "园林绿化",
    "A99": "其他",
}

# the catalogue category whose projects carry an industry (GGZY's procurement projects code theirs G01 ...: not sent)
INDUSTRY_CATEGORY = Category.ENGINEERING_CONSTRUCTION
