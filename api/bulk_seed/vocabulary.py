"""What the seeded announcements say: where, what kind of trade, by which procedure, with which words."""

from __future__ import annotations

from functools import cache, lru_cache

from domain.common.catalogue import Category
from domain.publication.procedures import Procedure, check_eligibility
from domain.publication.regions import REGIONS

CITY_OF = {"3701": "济南市", "3702": "青岛市"}
# region code -> weight; Qingdao's districts carry most of the platform's trading
REGION_WEIGHTS = {
    "370202": 8,
    "370203": 8,
    "370211": 12,
    "370212": 5,
    "370213": 5,
    "370214": 7,
    "370215": 7,
    "370281": 5,
    "370283": 4,
    "370285": 3,
    "370200": 6,
    "370102": 3,
    "370103": 2,
    "370112": 3,
    "370114": 2,
    "370100": 3,
    "370300": 1,
    "370600": 2,
    "370700": 2,
    "370800": 1,
    "371000": 1,
    "371100": 1,
    "371300": 1,
}
CATEGORY_WEIGHTS = {
    Category.ENGINEERING_CONSTRUCTION: 34,
    Category.GOVERNMENT_PROCUREMENT: 34,
    Category.LAND_USE_RIGHTS: 7,
    Category.STATE_OWNED_PROPERTY: 6,
    Category.MEDICAL_CONSUMABLES: 6,
    Category.MINING_RIGHTS: 2,
    Category.NATURAL_RESOURCE_ASSETS: 2,
    Category.ENVIRONMENTAL_RIGHTS: 2,
    Category.RURAL_COLLECTIVE_PROPERTY: 4,
    Category.OTHER: 3,
}
PROCEDURES: dict[Category, tuple[tuple[Procedure, int], ...]] = {
    Category.ENGINEERING_CONSTRUCTION: ((Procedure.OPEN_TENDER, 85), (Procedure.INVITED_TENDER, 15)),
    Category.GOVERNMENT_PROCUREMENT: (
        (Procedure.OPEN_TENDER, 50),
        (Procedure.COMPETITIVE_NEGOTIATION, 30),
        (Procedure.INQUIRY, 20),
    ),
    Category.LAND_USE_RIGHTS: ((Procedure.LISTING, 70), (Procedure.ONLINE_AUCTION, 30)),
    Category.STATE_OWNED_PROPERTY: ((Procedure.LISTING, 60), (Procedure.ONLINE_AUCTION, 40)),
    Category.MEDICAL_CONSUMABLES: ((Procedure.OPEN_TENDER, 100),),
    Category.MINING_RIGHTS: ((Procedure.LISTING, 100),),
    Category.NATURAL_RESOURCE_ASSETS: ((Procedure.LISTING, 100),),
    Category.ENVIRONMENTAL_RIGHTS: ((Procedure.ONLINE_AUCTION, 100),),
    Category.RURAL_COLLECTIVE_PROPERTY: ((Procedure.LISTING, 100),),
    Category.OTHER: ((Procedure.INQUIRY, 100),),
}
ROADS = [
    "长江路",
    "香港中路",
    "辽阳西路",
    "重庆中路",
    "黑龙江路",
    "胶州湾大道",
    "滨海大道",
    "株洲路",
    "山东路",
    "福州路",
    "杭州路",
    "海尔路",
    "青威路",
    "烟台路",
    "正阳路",
    "春阳路",
    "九水东路",
    "金水路",
    "唐河路",
    "漓江路",
    "经十路",
    "旅游路",
    "工业南路",
    "二环东路",
]
WORKS = [
    ("道路综合整治", "道路全长约{km}公里，红线宽度{width}米", "道路、排水、照明、绿化及交通设施"),
    ("雨污分流改造", "改造雨污水管线约{km}公里", "雨水、污水管道及附属构筑物"),
    ("老旧小区改造", "改造住宅楼{n}栋，建筑面积约{area}万平方米", "外墙保温、屋面防水、管网及环境提升"),
    ("供热管网改造", "改造一次供热管网约{km}公里", "管网、阀门井及换热站设备"),
    ("中小学校新建", "总建筑面积约{area}万平方米，设{n}个教学班", "土建、安装、室外配套"),
    ("污水处理厂提标改造", "处理规模{n}万立方米/日", "土建、工艺设备安装及调试"),
    ("河道综合治理", "治理河道长度约{km}公里", "清淤、护岸、生态修复及景观"),
    ("公园绿化提升", "绿化面积约{area}万平方米", "绿化种植、园路铺装及照明"),
    ("桥梁维修加固", "桥梁{n}座，全长约{km}公里", "上部结构加固、伸缩缝更换及桥面铺装"),
    ("农贸市场改造提升", "建筑面积约{area}万平方米", "土建、水电安装及消防"),
]
BUYER_UNITS = [
    "青岛市市立医院",
    "青岛市第二中学",
    "青岛市公安局交通警察支队",
    "青岛市城市管理局",
    "青岛市市南区教育和体育局",
    "青岛市黄岛区人民医院",
    "青岛市中心医院",
    "青岛市图书馆",
    "青岛市大数据发展管理局",
    "济南市历下区政务服务中心",
    "青岛市城阳区人民政府办公室",
    "青岛市气象局",
]
GOODS = [
    ("医用耗材", "货物"),
    ("智慧教室设备", "货物"),
    ("办公家具", "货物"),
    ("信息化系统运维服务", "服务"),
    ("物业管理服务", "服务"),
    ("食材配送服务", "服务"),
    ("公务用车租赁服务", "服务"),
    ("网络安全设备", "货物"),
    ("图书资料", "货物"),
    ("消防设施维护保养服务", "服务"),
    ("视频监控系统升级", "货物"),
    ("数据中心云服务", "服务"),
    ("保洁服务", "服务"),
    ("电梯维保服务", "服务"),
]
CONSUMABLES = ["冠脉支架", "人工晶体", "骨科创伤类耗材", "吻合器", "血液透析器", "心脏起搏器", "医用敷料", "输液器"]
COMPANIES = [
    "青岛国信实业有限公司",
    "青岛城运控股集团有限公司",
    "青岛华通国有资本投资运营集团有限公司",
    "青岛港国际股份有限公司",
    "山东鲁信投资控股集团有限公司",
    "青岛海发国有资本投资运营集团有限公司",
]
ASSETS = [
    "所持青岛某物流有限公司{pct}%股权",
    "闲置办公用房出租",
    "报废车辆及设备",
    "临街商铺五年租赁权",
    "所持青岛某科技有限公司{pct}%股权",
    "仓储厂房及附属设施",
]
HILLS = ["大珠山", "小珠山", "铁橛山", "藏马山", "马山", "大泽山"]
VILLAGES = ["南泉", "东障", "大信", "王哥庄", "李家", "小庄", "前海", "后疃"]
RURAL_ASSETS = ["土地", "果园", "鱼塘", "厂房", "林地"]
POLLUTANTS = ["化学需氧量", "氨氮", "二氧化硫", "氮氧化物"]
WINNERS = [
    "青岛海湾路桥建设有限公司",
    "中铁十四局集团有限公司",
    "山东高速路桥集团股份有限公司",
    "青岛建设集团股份有限公司",
    "中建八局第一建设有限公司",
    "青岛海信网络科技股份有限公司",
    "国药控股青岛有限公司",
    "山东鲁信工程集团有限公司",
    "青岛城市建设投资（集团）有限责任公司",
    "浪潮软件集团有限公司",
    "青岛润德物业管理有限公司",
    "青岛康大食品有限公司",
]
CONTACTS = ["王工", "李工", "张女士", "刘先生", "陈女士", "赵工", "孙先生", "周女士"]
PHONES = [f"0532-{n}" for n in range(85871200, 85871260)] + [f"0531-{n}" for n in range(66601100, 66601120)]
ESTIMATES_WAN = sorted({int(round(10 ** (1 + 3.2 * i / 400), -1 if i > 150 else 0)) or 10 for i in range(400)})
ELIGIBILITY: dict[Category, list[dict[str, str]]] = {
    Category.ENGINEERING_CONSTRUCTION: [
        {"kind": "qualification", "text": "具有市政公用工程施工总承包二级及以上资质"},
        {"kind": "personnel", "text": "拟派项目经理须具备市政公用工程专业二级及以上注册建造师执业资格"},
    ],
    Category.GOVERNMENT_PROCUREMENT: [
        {"kind": "capacity", "text": "具有独立承担民事责任的能力，近三年内无重大违法记录"},
    ],
    Category.MEDICAL_CONSUMABLES: [
        {"kind": "qualification", "text": "具有医疗器械经营许可证或备案凭证"},
    ],
}


@lru_cache(maxsize=1)
def eligibility_rules() -> dict[Category, list[dict[str, str]]]:
    """The seed's eligibility rules, through the same check that refuses locality restrictions."""
    return {c: check_eligibility(rules) for c, rules in ELIGIBILITY.items()}


@cache
def region_name(code: str) -> str:
    """370211 -> 青岛市黄岛区, 370200 -> 青岛市."""
    names = {c: n for c, n, _ in REGIONS}
    if code.endswith("00"):
        return names[code]
    return CITY_OF.get(code[:4], "") + names[code]
