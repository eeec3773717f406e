"""What a negotiation (竞争性谈判) or consultation (竞争性磋商) can refuse."""

from __future__ import annotations

from typing import ClassVar

from domain.common.errors import DomainError


class NotNegotiated(DomainError):
    code = "NOT_A_NEGOTIATION"
    message_zh = "该标段不采用竞争性谈判或竞争性磋商方式"
    message_en = "This lot is not traded by competitive negotiation or consultation"


class NegotiationNotStarted(DomainError):
    code = "NEGOTIATION_NOT_STARTED"
    message_zh = "谈判（磋商）尚未开始"
    message_en = "The negotiation has not started"


class NotOnPanel(DomainError):
    code = "NOT_ON_PANEL"
    message_zh = "只有谈判（磋商）小组成员可以进行此操作"
    message_en = "Only members of the negotiation panel may do this"


class NotNegotiating(DomainError):
    code = "NOT_NEGOTIATING"
    message_zh = "该供应商未参加本次谈判（磋商）"
    message_en = "This supplier does not take part in the negotiation"


class NegotiationClosed(DomainError):
    code = "NEGOTIATION_CLOSED"
    message_zh = "谈判（磋商）轮次已结束，不能再交换谈判文件"
    message_en = "The negotiation rounds are over: no more documents can be exchanged"


class RoundClosed(DomainError):
    code = "NEGOTIATION_ROUND_CLOSED"
    message_zh = "第 {round} 轮谈判（磋商）已于 {closes_at} 截止，不再接收响应文件"
    message_en = "Round {round} of the negotiation closed at {closes_at}: no more responses are accepted"
    exposed: ClassVar[dict[str, str]] = {"round": "int", "closes_at": "datetime"}


class RoundLimitReached(DomainError):
    code = "NEGOTIATION_ROUNDS_EXHAUSTED"
    message_zh = "已达到谈判文件规定的最多轮次（{size} 轮）"
    message_en = "The negotiation already held the most rounds its documents allow ({size})"
    exposed: ClassVar[dict[str, str]] = {"size": "int"}


class RoundsNotHeld(DomainError):
    code = "NEGOTIATION_ROUNDS_NOT_HELD"
    message_zh = "谈判文件规定至少进行 {size} 轮谈判后方可要求最后报价"
    message_en = "The negotiation documents require {size} round(s) before the final offers"
    exposed: ClassVar[dict[str, str]] = {"size": "int"}


class TooFewSuppliers(DomainError):
    """政府采购法 第三十八条: at least three suppliers negotiate (财库〔2014〕214号 第二十一条: two in its cases)."""

    code = "NEGOTIATION_TOO_FEW_SUPPLIERS"
    message_zh = "有效响应的供应商少于 {size} 家，不能开始谈判（磋商）"
    message_en = "Fewer than {size} suppliers responded validly: the negotiation cannot start"
    exposed: ClassVar[dict[str, str]] = {"size": "int"}


class FinalOffersNotCalled(DomainError):
    code = "FINAL_OFFERS_NOT_CALLED"
    message_zh = "谈判（磋商）小组尚未要求提交最后报价"
    message_en = "The panel has not called for final offers yet"


class FinalOfferOutsideWindow(DomainError):
    """财政部令第74号 第三十三条: every supplier offers its final price within the same set time."""

    code = "FINAL_OFFER_OUTSIDE_WINDOW"
    message_zh = "最后报价须在规定时间内提交（{opens_at} 至 {closes_at}）"
    message_en = "Final offers are taken only in their window ({opens_at} to {closes_at})"
    exposed: ClassVar[dict[str, str]] = {"opens_at": "datetime", "closes_at": "datetime"}


class PanelComposition(DomainError):
    """The panel breaks its procedure's rule (procedures.panel_rule): 政府采购法 第三十八条, 财政部令第74号 第七条,
    财库〔2014〕214号 第十四条."""

    code = "NEGOTIATION_PANEL_COMPOSITION"
    message_zh = (
        "谈判（磋商）小组由采购人代表和评审专家共 {minimum} 人以上单数组成，评审专家不得少于成员总数的三分之二"
        "（当前专家 {experts} 人、采购人代表 {representatives} 人；{basis}）"
    )
    message_en = (
        "The panel must be an odd number of at least {minimum} purchaser's representatives and experts, two thirds "
        "of them experts at least ({experts} experts and {representatives} representatives now; {basis})"
    )
    exposed: ClassVar[dict[str, str]] = {
        "minimum": "int",
        "experts": "int",
        "representatives": "int",
        "fault": "str",
        "basis": "str",
    }


class NotPurchaserRepresentative(DomainError):
    """财政部令第74号 第七条: the purchaser's representative is the purchaser's own; never its agency's staff."""

    code = "NOT_PURCHASER_REPRESENTATIVE"
    message_zh = "采购人代表须为采购人本单位的用户（采购代理机构人员不得参加评审）"
    message_en = "A purchaser's representative must be a user of the purchaser itself (never of its agency)"


class TooFewInvited(DomainError):
    """财政部令第74号 第十二条 / 财库〔2014〕214号 第六条: at least three qualified suppliers invited."""

    code = "NEGOTIATION_TOO_FEW_INVITED"
    message_zh = "应当邀请不少于 {size} 家符合资格条件的供应商参加（当前 {count} 家；{basis}）"
    message_en = "At least {size} qualified suppliers must be invited ({count} invited; {basis})"
    exposed: ClassVar[dict[str, str]] = {"size": "int", "count": "int", "basis": "str"}


class PurchaserRecommendsTooMany(DomainError):
    """财政部令第74号 第十二条 / 财库〔2014〕214号 第六条: 采购人推荐供应商的比例不得高于推荐供应商总数的50%."""

    code = "PURCHASER_RECOMMENDS_TOO_MANY"
    message_zh = "采购人推荐的供应商不得超过推荐供应商总数的50%（采购人 {purchaser} 家，共 {total} 家）"
    message_en = "The purchaser may recommend at most half of the suppliers recommended ({purchaser} of {total})"
    exposed: ClassVar[dict[str, str]] = {"purchaser": "int", "total": "int"}


class SupplierEliminated(DomainError):
    code = "NEGOTIATION_SUPPLIER_ELIMINATED"
    message_zh = "该供应商已在第 {round} 轮后被谈判（磋商）小组淘汰，不能继续参加"
    message_en = "The panel eliminated this supplier after round {round}: it takes no further part"
    exposed: ClassVar[dict[str, str]] = {"round": "int"}
