"""Procedure types and their configuration: national defaults, overridable within legal bounds.

As Prozorro does with procedure types plus config flags: every lot carries a full configuration
whose defaults come from its procedure and whose overrides are checked against the bounds here.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from domain.common.errors import DomainError, InvalidInput


class Procedure(StrEnum):
    OPEN_TENDER = "open_tender"  # 公开招标
    INVITED_TENDER = "invited_tender"  # 邀请招标
    COMPETITIVE_NEGOTIATION = "competitive_negotiation"  # 竞争性谈判
    COMPETITIVE_CONSULTATION = "competitive_consultation"  # 竞争性磋商
    INQUIRY = "inquiry"  # 询价
    LISTING = "listing"  # 挂牌
    ONLINE_AUCTION = "online_auction"  # 网络竞价 / 拍卖
    REVERSE_AUCTION = "reverse_auction"  # 反向竞价: procurement, the price goes down


TENDERING = frozenset({Procedure.OPEN_TENDER, Procedure.INVITED_TENDER})
# 竞争性谈判 and 竞争性磋商: the panel negotiates with each supplier over rounds, then sealed final offers (最后报价)
NEGOTIATED = frozenset({Procedure.COMPETITIVE_NEGOTIATION, Procedure.COMPETITIVE_CONSULTATION})
# procedures whose offers are sealed bids opened at a remote opening (domain/tendering): tenders, the inquiry's one
# quotation (询价: 政府采购法 第四十条 一次报出不得更改的价格) and the first responses of a negotiation or consultation
SEALED = TENDERING | NEGOTIATED | {Procedure.INQUIRY}
# procedures the drawn committee evaluates with score sheets after the opening (domain/evaluation/scoring)
EVALUATED = TENDERING | {Procedure.INQUIRY}
SALES = frozenset({Procedure.LISTING, Procedure.ONLINE_AUCTION})


class ConfigOutOfBounds(InvalidInput):
    code = "CONFIG_OUT_OF_BOUNDS"
    message_zh = "配置项 {field} 须在 {low} 至 {high} 之间"
    message_en = "Setting {field} must be between {low} and {high}"

    def __init__(self, field: str, low: Any, high: Any) -> None:
        super().__init__(field=field, low=low, high=high)


class SecurityOverCap(InvalidInput):
    """招标投标法实施条例 第二十六条: bid security at most 2% of the estimated price."""

    code = "SECURITY_OVER_CAP"
    message_zh = "投标保证金不得超过估算价的 2%（本标段上限 {cap_fen} 分）"
    message_en = "Bid security may not exceed 2% of the estimated price (at most {cap_fen} fen for this lot)"
    exposed: ClassVar[dict[str, str]] = {"field": "str", "cap_fen": "fen"}

    def __init__(self, cap_fen: int) -> None:
        super().__init__(field="securityAmountFen", cap_fen=cap_fen)


class LocalProtectionBanned(DomainError):
    """Qingdao 2(二)1: no locality restrictions without a legal basis."""

    code = "LOCAL_PROTECTION_BANNED"
    message_zh = (
        "资格条件“{rule}”构成地方保护：严禁设置在本地注册登记、设立分支机构（办事处）、强制要求在当地投资、"
        "具备当地业绩等没有法律法规依据的限制性条件（青政办字〔2020〕50号 二（二）1）"
    )
    message_en = (
        "Eligibility rule '{rule}' is local protection: requiring local registration, a local branch, local "
        "investment, local performance or similar without a legal basis is banned (Qingdao plan 2(II)1)"
    )
    exposed = {"rule": "str"}  # noqa: RUF012


class EvaluationWeightsNot100(InvalidInput):
    """综合评估法: the price, technical and commercial weights share 100 points."""

    code = "EVALUATION_WEIGHTS_NOT_100"
    message_zh = "价格、技术、商务分值权重之和须为 100（当前为 {total}）"
    message_en = "The price, technical and commercial weights must add up to 100 (they add up to {total})"
    exposed: ClassVar[dict[str, str]] = {"field": "str", "total": "int"}

    def __init__(self, total: int) -> None:
        super().__init__(field="priceWeight", total=total)


@dataclass(frozen=True, slots=True)
class Bound:
    default: int
    low: int
    high: int


# Integer settings: (default, lowest allowed, highest allowed), per procedure where they differ.
# Sources: 招标投标法 / 实施条例 (>= 20 days to submit, >= 3 bidders, candidates publicised >= 3 days,
# security <= 2% of the estimate, complaints within 10 days), 政府采购法 and 竞价/挂牌 practice.
_COMMON: dict[str, Bound] = {
    "min_bids": Bound(3, 3, 50),
    "candidate_publicity_days": Bound(3, 3, 30),
    "complaint_window_days": Bound(10, 10, 30),
    "objection_answer_days": Bound(3, 1, 3),
    "deposit_cap_basis_points": Bound(200, 0, 200),
    "auction_countdown_seconds": Bound(300, 60, 1800),
    "min_submission_days": Bound(20, 20, 180),
    "decryption_window_minutes": Bound(60, 15, 240),
    "bid_validity_days": Bound(90, 30, 365),
    # 答疑: bidders' questions close this many days before the bid deadline (moving with it). Default 10 as the
    # objections to the tender documents (招标投标法实施条例 第二十二条: 投标截止时间10日前提出)
    "question_cutoff_days": Bound(10, 1, 30),
    # after the contract-overdue flag (招标投标法 第四十六条: 30 days), this many days more before the platform
    # withdraws the award on the ground contract_not_signed (实施条例 第五十五条、第七十四条); 0: never by itself, the
    # tenderer does
    "contract_grace_days": Bound(0, 0, 60),
}
_PER_PROCEDURE: dict[Procedure, dict[str, Bound]] = {
    Procedure.COMPETITIVE_NEGOTIATION: {
        "min_submission_days": Bound(3, 3, 60),
        "candidate_publicity_days": Bound(1, 1, 30),
        "question_cutoff_days": Bound(1, 1, 10),
    },
    # 政府采购竞争性磋商采购方式管理暂行办法 第十条: >= 10 days from the consultation documents to the first responses;
    # 第二十一条: at least 3 final offers, 2 allowed for 政府购买服务 and the cases of 第三条第四项 (the lot's min_bids)
    Procedure.COMPETITIVE_CONSULTATION: {
        "min_submission_days": Bound(10, 10, 60),
        "candidate_publicity_days": Bound(1, 1, 30),
        "min_bids": Bound(3, 2, 50),
        "question_cutoff_days": Bound(3, 1, 10),
    },
    Procedure.INQUIRY: {
        "min_submission_days": Bound(3, 3, 60),
        "candidate_publicity_days": Bound(1, 1, 30),
        "question_cutoff_days": Bound(1, 1, 10),
    },
    Procedure.LISTING: {"min_bids": Bound(1, 1, 50), "min_submission_days": Bound(10, 10, 180)},
    Procedure.ONLINE_AUCTION: {"min_bids": Bound(1, 1, 50), "min_submission_days": Bound(20, 20, 180)},
    Procedure.REVERSE_AUCTION: {
        "min_bids": Bound(2, 2, 50),
        "min_submission_days": Bound(3, 3, 60),
        "candidate_publicity_days": Bound(1, 1, 30),
        "question_cutoff_days": Bound(1, 1, 10),
    },
}


# 澄清、修改: a change that may affect how bids are prepared must reach every bidder at least this long before the
# bid deadline, else the deadline is moved (顺延) so that it does. Per procedure, with the law that sets it; the
# open and invited tender cite the procurement rule for government procurement and the tender law otherwise.
@dataclass(frozen=True, slots=True)
class ClarificationMinimum:
    days: int
    working_days: bool  # counted in working days (工作日, domain/common/calendar) rather than calendar days
    basis: str


_TENDER_LAW = ClarificationMinimum(15, False, "招标投标法 第二十三条；招标投标法实施条例 第二十一条")
_GP_TENDER = ClarificationMinimum(15, False, "政府采购货物和服务招标投标管理办法（财政部令第87号）第二十七条")
_CLARIFICATION_MINIMUMS: dict[Procedure, ClarificationMinimum] = {
    Procedure.OPEN_TENDER: _TENDER_LAW,
    Procedure.INVITED_TENDER: _TENDER_LAW,
    Procedure.COMPETITIVE_CONSULTATION: ClarificationMinimum(5, False, "政府采购竞争性磋商采购方式管理暂行办法 第十条"),
    Procedure.COMPETITIVE_NEGOTIATION: ClarificationMinimum(
        3, True, "政府采购非招标采购方式管理办法（财政部令第74号）第二十九条"
    ),
    Procedure.INQUIRY: ClarificationMinimum(3, True, "政府采购非招标采购方式管理办法（财政部令第74号）第四十五条"),
    # listing, auctions and the reverse auction: no statutory minimum; their managers move the times themselves
}


def clarification_minimum(procedure: Procedure, category: str) -> ClarificationMinimum | None:
    """How long before the bid deadline a change to the documents must reach the bidders, and why (None: no rule)."""
    minimum = _CLARIFICATION_MINIMUMS.get(procedure)
    if minimum is _TENDER_LAW and category == "government_procurement":
        return _GP_TENDER
    return minimum


# Evaluation (评标) of sealed tenders: the method and, for 综合评估法, the weights of the price, technical and
# commercial parts in points out of 100. The price weight is at least 10 (政府采购货物和服务招标投标管理办法
# 第五十五条: price at least 10% for services, 30% for goods); the parts always add up to 100.
class EvaluationMethod(StrEnum):
    LOWEST_PRICE = "lowest_price"  # 经评审的最低投标价法
    COMPREHENSIVE = "comprehensive"  # 综合评估法


_EVALUATION: dict[str, Bound] = {
    "price_weight": Bound(30, 10, 100),
    "technical_weight": Bound(50, 0, 90),
    "commercial_weight": Bound(20, 0, 90),
}
# 竞争性磋商 uses 综合评分法 (财库〔2014〕214号 第二十三条); 第二十四条: the price weight is 30% to 60% for goods and
# 10% to 30% for services, so the lot's price weight stays within 10 to 60
_CONSULTATION_EVALUATION: dict[str, Bound] = {
    "price_weight": Bound(30, 10, 60),
    "technical_weight": Bound(50, 0, 90),
    "commercial_weight": Bound(20, 0, 90),
}
WEIGHT_SETTINGS = tuple(_EVALUATION)
# Negotiation rounds and the final-offer window (竞争性谈判 / 磋商): 政府采购法 第三十八条 (四)(五) and 财政部令第74号
# 第三十一条至第三十三条 leave the number of rounds to the negotiation documents; the final offers of every supplier
# still negotiating are due in one window (第三十三条; 财库〔2014〕214号 第二十一条)
_NEGOTIATION: dict[str, Bound] = {
    "negotiation_rounds_min": Bound(1, 1, 10),
    "negotiation_rounds_max": Bound(3, 1, 10),
    "final_offer_window_minutes": Bound(60, 15, 1440),
}
NEGOTIATION_SETTINGS = tuple(_NEGOTIATION)
TIME_SETTINGS = ("registration_opens_at", "registration_closes_at", "bid_deadline", "opening_at")
# require_signed_bids: bids carry a certificate signature; require_two_factor_for_bids: bidders signed in with a
# certificate and an SMS code (domain/certificates)
# tender_threshold_reached: a negotiated lot at the public-tender threshold (公开招标数额标准), whose panel needs five
# credit_commitment_required: registrations and sealed bids need the signed credit commitment (信用承诺制,
# domain/registration/commitments); on by default for public tenders
# evaluation_signatures_required: the candidates wait for the evaluation report signed by every member of the
# committee (签章完毕, 招标投标法实施条例 第五十三条; domain/evaluation/signing.report_pending); on by default for
# tenders configured since it exists (a lot configured before has no key and waits for nothing)
FLAG_SETTINGS = (
    "credit_commitment_required",
    "deposit_required",
    "evaluation_signatures_required",
    "registrants_secret",
    "require_signed_bids",
    "require_two_factor_for_bids",
    "tender_threshold_reached",
)


# The panel of a negotiation or consultation (谈判小组 / 磋商小组): the purchaser's representatives and drawn experts,
# an odd number of at least `members` (at least `members_at_threshold` for a lot at the public-tender threshold),
# the experts at least `expert_share` of them.
@dataclass(frozen=True, slots=True)
class PanelRule:
    members: int
    members_at_threshold: int
    odd: bool
    expert_share: tuple[int, int]  # (numerator, denominator): experts >= members x numerator / denominator
    basis: str

    def minimum(self, config: dict[str, Any]) -> int:
        return self.members_at_threshold if config.get("tender_threshold_reached") else self.members

    def fault(self, experts: int, representatives: int, config: dict[str, Any]) -> str | None:
        """Why a panel of this many experts and purchaser's representatives breaks the rule, or None."""
        total = experts + representatives
        if total < self.minimum(config):
            return "too_few"
        if self.odd and total % 2 == 0:
            return "even"
        num, den = self.expert_share
        if experts * den < total * num:
            return "too_few_experts"
        return None


_PANELS: dict[Procedure, PanelRule] = {
    # 政府采购法 第三十八条(一): 采购人的代表和有关专家共三人以上的单数组成，专家不得少于成员总数的三分之二; 财政部令
    # 第74号 第七条: the same, and 5人以上单数 for projects at the public-tender threshold
    Procedure.COMPETITIVE_NEGOTIATION: PanelRule(
        3, 5, True, (2, 3), "政府采购法 第三十八条；政府采购非招标采购方式管理办法（财政部令第74号）第七条"
    ),
    # 财库〔2014〕214号 第十四条: 磋商小组由采购人代表和评审专家共3人以上单数组成，评审专家不得少于成员总数的2/3
    Procedure.COMPETITIVE_CONSULTATION: PanelRule(
        3, 3, True, (2, 3), "政府采购竞争性磋商采购方式管理暂行办法（财库〔2014〕214号）第十四条"
    ),
}


def panel_rule(procedure: Procedure) -> PanelRule | None:
    """How the panel of a negotiated procedure is composed, with its legal basis (None: not a negotiated one)."""
    return _PANELS.get(procedure)


# How suppliers come to a negotiation or consultation (财政部令第74号 第十二条; 财库〔2014〕214号 第六条): an
# announcement, a random draw from the supplier pool of a provincial or higher finance department, or written
# recommendation by the purchaser and the experts (the purchaser's at most half of those recommended); at least
# min_bids suppliers. An invited tender's are letters (招标投标法 第十七条).
class InvitationMethod(StrEnum):
    LETTER = "letter"  # 投标邀请书 (invited tender)
    ANNOUNCEMENT = "announcement"  # 发布公告
    POOL_DRAW = "pool_draw"  # 从供应商库中随机抽取
    RECOMMENDATION = "recommendation"  # 采购人和评审专家书面推荐


@dataclass(frozen=True, slots=True)
class InvitationRule:
    methods: frozenset[InvitationMethod]
    purchaser_share: tuple[int, int]  # the purchaser's recommendations at most this share of all recommendations
    basis: str

    def purchaser_over_share(self, by_purchaser: int, recommended: int) -> bool:
        """Whether the purchaser recommended more than its share of the suppliers recommended."""
        num, den = self.purchaser_share
        return by_purchaser * den > recommended * num


_NON_TENDER_INVITATION = frozenset(
    {InvitationMethod.ANNOUNCEMENT, InvitationMethod.POOL_DRAW, InvitationMethod.RECOMMENDATION}
)
_INVITATIONS: dict[Procedure, InvitationRule] = {
    Procedure.INVITED_TENDER: InvitationRule(frozenset({InvitationMethod.LETTER}), (1, 1), "招标投标法 第十七条"),
    Procedure.COMPETITIVE_NEGOTIATION: InvitationRule(
        _NON_TENDER_INVITATION, (1, 2), "政府采购非招标采购方式管理办法（财政部令第74号）第十二条"
    ),
    Procedure.COMPETITIVE_CONSULTATION: InvitationRule(
        _NON_TENDER_INVITATION, (1, 2), "政府采购竞争性磋商采购方式管理暂行办法（财库〔2014〕214号）第六条"
    ),
}


def invitation_rule(procedure: Procedure) -> InvitationRule | None:
    """How a procedure invites its participants (None: anyone may register)."""
    return _INVITATIONS.get(procedure)


def bounds(procedure: Procedure) -> dict[str, Bound]:
    evaluation = _EVALUATION if procedure in TENDERING else {}
    if procedure is Procedure.COMPETITIVE_CONSULTATION:
        evaluation = _CONSULTATION_EVALUATION
    negotiation = _NEGOTIATION if procedure in NEGOTIATED else {}
    return {**_COMMON, **_PER_PROCEDURE.get(procedure, {}), **evaluation, **negotiation}


@dataclass(frozen=True, slots=True)
class EvaluationSettings:
    method: EvaluationMethod
    price_weight: int
    technical_weight: int
    commercial_weight: int

    def weights(self) -> dict[str, int]:
        return {"price": self.price_weight, "technical": self.technical_weight, "commercial": self.commercial_weight}


def evaluation_settings(procedure: Procedure, config: dict[str, Any]) -> EvaluationSettings | None:
    """How a sealed tender, an inquiry or a negotiation's final offers are evaluated (None for other procedures);
    defaults for lots configured before the settings existed."""
    if procedure is Procedure.INQUIRY or procedure is Procedure.COMPETITIVE_NEGOTIATION:
        # 政府采购法 第三十八条(五)、第四十条(四): 符合采购需求、质量和服务相等且报价最低 (财政部令第74号 第三十五条)
        default = _EVALUATION
        return EvaluationSettings(
            method=EvaluationMethod.LOWEST_PRICE,
            price_weight=default["price_weight"].default,
            technical_weight=default["technical_weight"].default,
            commercial_weight=default["commercial_weight"].default,
        )
    if procedure is Procedure.COMPETITIVE_CONSULTATION:
        # 财库〔2014〕214号 第二十三条: 综合评分法
        weights = _CONSULTATION_EVALUATION
        return EvaluationSettings(
            method=EvaluationMethod.COMPREHENSIVE,
            price_weight=int(config.get("price_weight", weights["price_weight"].default)),
            technical_weight=int(config.get("technical_weight", weights["technical_weight"].default)),
            commercial_weight=int(config.get("commercial_weight", weights["commercial_weight"].default)),
        )
    if procedure not in TENDERING:
        return None
    return EvaluationSettings(
        method=EvaluationMethod(config.get("evaluation_method", EvaluationMethod.COMPREHENSIVE.value)),
        price_weight=int(config.get("price_weight", _EVALUATION["price_weight"].default)),
        technical_weight=int(config.get("technical_weight", _EVALUATION["technical_weight"].default)),
        commercial_weight=int(config.get("commercial_weight", _EVALUATION["commercial_weight"].default)),
    )


def security_cap_fen(estimated_price_fen: int, config: dict[str, Any]) -> int:
    """The most a lot may ask as bid security: deposit_cap_basis_points of the estimate (2% by law)."""
    return estimated_price_fen * int(config["deposit_cap_basis_points"]) // 10000


def security_amount_fen(estimated_price_fen: int, config: dict[str, Any]) -> int:
    """The security each bidder must put up (deposit or guarantee); 0 when none is required."""
    if not config.get("deposit_required"):
        return 0
    amount = config.get("security_amount_fen")
    return int(amount) if amount is not None else security_cap_fen(estimated_price_fen, config)


def configure(
    procedure: Procedure,
    overrides: dict[str, Any],
    published_at: datetime | None = None,
    estimated_price_fen: int | None = None,
) -> dict[str, Any]:
    """The full configuration of a lot: defaults, then overrides checked against legal bounds."""
    limits = bounds(procedure)
    config: dict[str, Any] = {name: b.default for name, b in limits.items()}
    config["deposit_required"] = procedure in TENDERING or procedure in SALES
    config["registrants_secret"] = procedure in SEALED  # sealed offers: list secret until opening
    config["credit_commitment_required"] = procedure is Procedure.OPEN_TENDER
    config["evaluation_signatures_required"] = procedure in TENDERING
    if procedure in TENDERING:
        config["evaluation_method"] = EvaluationMethod.COMPREHENSIVE.value
    for name, value in overrides.items():
        field = _camel(name)
        if name == "security_amount_fen":
            if value is None:
                config.pop(name, None)
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidInput(field=field)
            config[name] = value
        elif name in limits:
            if not isinstance(value, int) or isinstance(value, bool):
                raise InvalidInput(field=field)
            bound = limits[name]
            if not bound.low <= value <= bound.high:
                raise ConfigOutOfBounds(field, bound.low, bound.high)
            config[name] = value
        elif name in FLAG_SETTINGS:
            if not isinstance(value, bool):
                raise InvalidInput(field=field)
            config[name] = value
        elif name == "evaluation_method" and procedure in TENDERING:
            if value not in {m.value for m in EvaluationMethod}:
                raise InvalidInput(field=field)
            config[name] = str(value)
        elif name in TIME_SETTINGS:
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise InvalidInput(field=field)
            config[name] = value.isoformat()
        else:
            raise InvalidInput(field=field)
    _check_times(config, published_at)
    if procedure in TENDERING or procedure is Procedure.COMPETITIVE_CONSULTATION:
        total = sum(int(config[w]) for w in WEIGHT_SETTINGS)
        if total != 100:
            raise EvaluationWeightsNot100(total)
    if procedure in NEGOTIATED and config["negotiation_rounds_min"] > config["negotiation_rounds_max"]:
        raise ConfigOutOfBounds("negotiationRoundsMin", 1, config["negotiation_rounds_max"])
    if estimated_price_fen is not None and config.get("security_amount_fen") is not None:
        cap = security_cap_fen(estimated_price_fen, config)
        if config["security_amount_fen"] > cap:
            raise SecurityOverCap(cap)
    return config


def _check_times(config: dict[str, Any], published_at: datetime | None) -> None:
    times = {k: datetime.fromisoformat(config[k]) for k in TIME_SETTINGS if k in config}
    order = [k for k in TIME_SETTINGS if k in times]
    for earlier, later in itertools.pairwise(order):
        if times[later] < times[earlier]:
            raise InvalidInput(field=_camel(later))
    deadline = times.get("bid_deadline")
    # documents available >= min_submission_days before the deadline (招标投标法 第二十四条)
    if (
        deadline is not None
        and published_at is not None
        and (deadline - published_at).total_seconds() < config["min_submission_days"] * 86400
    ):
        raise ConfigOutOfBounds("bidDeadline", f"{config['min_submission_days']} days", "-")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


# ---------------------------------------------------------------- eligibility rules

_BANNED_KINDS = frozenset(
    {
        "local_registration",
        "local_branch",
        "local_office",
        "local_performance",
        "local_investment",
        "local_tax",
        "local_social_insurance",
        "local_qualification",
        "forced_guarantee",
    }
)
_LOCAL = r"(本地|本市|本省|本区|本县|当地|属地|驻地|青岛|山东|[^\s，。,]{1,8}(市|省|区|县)(内|范围内))"
_LOCALITY_PATTERNS = [
    re.compile(_LOCAL + r".{0,12}(注册|登记|设立|成立|注册地|营业执照)"),
    re.compile(r"(设立|设有|成立|开设).{0,12}(分支机构|分公司|办事处|子公司|常驻机构)"),
    re.compile(_LOCAL + r".{0,12}(业绩|项目经验|类似项目|纳税|缴纳社保|社保|投资|入库|备案)"),
    re.compile(r"(在|于)" + _LOCAL + r".{0,6}(投资|纳税|缴纳社保)"),
    re.compile(r"\b(local(ly)?\s+(registration|registered|branch|office|performance|investment|tax))\b", re.I),
]


def check_eligibility(rules: list[dict[str, str]]) -> list[dict[str, str]]:
    """Keeps lawful eligibility rules; any locality restriction is refused (Qingdao 2(二)1)."""
    checked = []
    for rule in rules:
        kind = str(rule.get("kind", "")).strip()
        text = str(rule.get("text", "")).strip()
        if not kind or not text or len(text) > 1000:
            raise InvalidInput(field="eligibility")
        if kind in _BANNED_KINDS or any(p.search(text) for p in _LOCALITY_PATTERNS):
            raise LocalProtectionBanned(rule=text)
        checked.append({"kind": kind, "text": text})
    return checked
