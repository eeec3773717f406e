"""Titles and bodies of the seeded announcements, worded as the platform's real ones are."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from api.bulk_seed.plans import Plan
from api.bulk_seed.vocabulary import CONTACTS, PHONES, WINNERS
from domain.common import clock
from domain.common.catalogue import Category
from domain.publication.procedures import SALES, Procedure
from domain.publication.states import AnnouncementType

T = AnnouncementType


def _tender_word(plan: Plan) -> str:
    if plan.procedure in SALES:
        if plan.category in (Category.LAND_USE_RIGHTS, Category.MINING_RIGHTS):
            return "挂牌出让公告" if plan.procedure is Procedure.LISTING else "拍卖出让公告"
        if plan.category is Category.STATE_OWNED_PROPERTY:
            return "转让公告"
        if plan.category is Category.ENVIRONMENTAL_RIGHTS:
            return "竞价公告"
        return "交易公告"
    return {
        Procedure.OPEN_TENDER: "招标公告" if plan.category is Category.ENGINEERING_CONSTRUCTION else "公开招标公告",
        Procedure.INVITED_TENDER: "邀请招标公告",
        Procedure.COMPETITIVE_NEGOTIATION: "竞争性谈判公告",
        Procedure.INQUIRY: "询价公告",
    }[plan.procedure]


def announcement_title(plan: Plan, kind: AnnouncementType) -> str:
    if kind is T.TENDER:
        suffix = ("施工" if plan.category is Category.ENGINEERING_CONSTRUCTION else "") + _tender_word(plan)
    elif kind is T.CHANGE:
        suffix = "变更公告（第1号）"
    elif kind is T.CANDIDATE_PUBLICITY:
        suffix = "中标候选人公示"
    elif kind is T.RESULT:
        suffix = "成交结果公告" if plan.procedure in SALES or plan.procedure is Procedure.INQUIRY else "中标结果公告"
    else:
        suffix = "终止公告"
    return f"{plan.name}{suffix}"[:300]


def _date(value: datetime, minutes: bool = False) -> str:
    local = clock.to_shanghai(value)
    text = f"{local.year}年{local.month}月{local.day}日"
    return text + f"{local.hour}时{local.minute:02d}分" if minutes else text


def _contact(rng: random.Random, plan: Plan) -> str:
    rows = [
        f"<tr><td>招标人：{plan.tenderer.name}</td><td>联系人：{rng.choice(CONTACTS)}</td>"
        f"<td>电话：{rng.choice(PHONES)}</td></tr>"
    ]
    if plan.agency is not None:
        rows.append(
            f"<tr><td>招标代理机构：{plan.agency.name}</td><td>联系人：{rng.choice(CONTACTS)}</td>"
            f"<td>电话：{rng.choice(PHONES)}</td></tr>"
        )
    return "<h3>联系方式</h3><table>" + "".join(rows) + "</table>"


def announcement_body(rng: random.Random, plan: Plan, kind: AnnouncementType, at: datetime) -> str:
    deadline = datetime.fromisoformat(plan.config["bid_deadline"])
    estimate = f"{plan.estimate_wan}万元"
    if kind is T.TENDER:
        return _tender_body(rng, plan, at, deadline, estimate) + _contact(rng, plan)
    if kind is T.CHANGE:
        moved = deadline + timedelta(days=rng.choice([3, 5, 7]))
        return (
            f"<p>各潜在投标人：</p><p>现对本项目（{plan.name}）的招标（采购）文件作如下澄清和修改：</p>"
            f"<p>一、投标文件递交截止时间及开标时间顺延。原截止时间：{_date(deadline, True)}；"
            f"调整后截止时间：{_date(moved, True)}。</p>"
            f"<p>二、评分办法中“类似项目业绩”的认定范围调整为近三年（自{_date(at - timedelta(days=1095))}起）"
            "完成的项目。</p>"
            "<p>三、其他内容不变。本澄清和修改内容为招标文件的组成部分，与招标文件具有同等法律效力。</p>"
            + _contact(rng, plan)
        )
    if kind is T.CANDIDATE_PUBLICITY:
        ranked = "".join(
            f"<tr><td>第{place}名</td><td>{name}，</td><td>投标报价：{price}万元</td></tr>"
            for place, name, price in zip(
                "一二三",
                rng.sample(WINNERS, 3),
                sorted(round(plan.estimate_wan * rng.uniform(0.86, 0.99), 2) for _ in range(3)),
                strict=True,
            )
        )
        ends = at + timedelta(days=plan.config["candidate_publicity_days"])
        return (
            f"<p>本项目（{plan.name}）评标工作已结束，根据评标委员会的书面评标报告，现将中标候选人公示如下：</p>"
            "<table><tr><th>排名</th><th>中标候选人</th><th>投标报价</th></tr>" + ranked + "</table>"
            f"<p>公示期：{_date(at)}至{_date(ends)}。投标人或者其他利害关系人对评标结果有异议的，"
            "应当在中标候选人公示期间以书面形式向招标人提出。</p>" + _contact(rng, plan)
        )
    if kind is T.RESULT:
        winner = rng.choice(WINNERS)
        price = round(plan.estimate_wan * rng.uniform(0.85, 1.0 if plan.procedure not in SALES else 1.6), 2)
        word = "成交人" if plan.procedure in SALES or plan.procedure is Procedure.INQUIRY else "中标人"
        return (
            f"<p>本项目（{plan.name}）已按规定程序完成，现将结果公告如下：</p>"
            f"<p>{word}：{winner}；{word[:2]}金额：{price}万元；预算金额（起始价）：{estimate}。</p>"
            f"<p>请{word}自本公告发布之日起30日内与招标人签订合同。感谢各投标人的积极参与。</p>" + _contact(rng, plan)
        )
    return (
        f"<p>因采购需求发生重大变化，经{plan.tenderer.name}研究决定，本项目（{plan.name}）终止本次交易活动。</p>"
        "<p>已缴纳投标保证金的投标人，保证金将在五个工作日内原路退还。由此给各潜在投标人带来的不便，敬请谅解。</p>"
        + _contact(rng, plan)
    )


def _tender_body(rng: random.Random, plan: Plan, at: datetime, deadline: datetime, estimate: str) -> str:
    d = plan.details
    opens = datetime.fromisoformat(plan.config["registration_opens_at"])
    closes = datetime.fromisoformat(plan.config["registration_closes_at"])
    rules = "".join(f"<li>{r['text']}；</li>" for r in plan.eligibility)
    if plan.category is Category.ENGINEERING_CONSTRUCTION:
        overview = (
            f"<p>本项目（{plan.name}）已由{d['place']}发展和改革局批准建设，项目业主：{plan.tenderer.name}，"
            f"建设资金来自财政资金，项目出资比例为100%。项目已具备招标条件，现对该项目的施工进行公开招标。</p>"
            f"<p>建设地点：{d['location']}；建设规模：{d['scale']}；计划工期：{d['days']}日历天；"
            f"招标范围：{d['scope']}工程；最高投标限价：{estimate}。</p>"
        )
    elif plan.category in (Category.GOVERNMENT_PROCUREMENT, Category.MEDICAL_CONSUMABLES, Category.OTHER):
        overview = (
            f"<p>{plan.tenderer.name}就本项目（{plan.name}）进行采购，欢迎合格的供应商参加。</p>"
            f"<p>采购内容：{d['goods']}（{d['kind']}类）；预算金额：{estimate}；"
            f"合同履行期限：{d['days']}日；本项目不接受进口产品。</p>"
        )
    elif plan.category is Category.STATE_OWNED_PROPERTY:
        overview = (
            f"<p>经有关国有资产监督管理机构批准，现将本项目（{plan.name}）公开挂牌，征集意向受让方。</p>"
            f"<p>转让底价：{estimate}；信息披露期：自{_date(at)}起20个工作日。</p>"
        )
    else:
        overview = (
            f"<p>经{d['place']}人民政府批准，现将本项目（{plan.name}）公开交易。</p>"
            f"<p>起始价：{estimate}；出让（流转）年限：{d.get('years', 20)}年；竞买保证金为起始价的20%。</p>"
        )
    return (
        "<h3>一、项目概况</h3>"
        + overview
        + "<h3>二、投标人（竞买人）资格要求</h3><ul>"
        + rules
        + "<li>未被列入失信被执行人、重大税收违法失信主体名单；</li><li>本项目不接受联合体。</li></ul>"
        + "<h3>三、文件的获取</h3>"
        + f"<p>获取时间：{_date(opens)}—{_date(closes)}。凡有意参加者，请登录公共资源交易电子服务系统下载电子文件。</p>"
        + "<h3>四、文件的递交</h3>"
        + f"<p>递交截止时间：{_date(deadline, True)}。开标（竞价）时间同截止时间，通过掌上交易远程解密。</p>"
    )


def lot_name(plan: Plan) -> str:
    if plan.category is Category.ENGINEERING_CONSTRUCTION:
        return "施工"
    if plan.procedure in SALES:
        return "标的"
    return "采购包1"
