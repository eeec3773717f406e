"""What each notification says, in Chinese and English; rules fill in the fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.complaints.states import (
    DECISION_ZH,
    STAGE_ZH,
    SUBJECT_ZH,
    ComplaintSubject,
    Decision,
    ObjectionStage,
    ReportStatus,
)


@dataclass(frozen=True, slots=True)
class Template:
    title_zh: str
    body_zh: str
    title_en: str
    body_en: str

    def render(self, **fields: Any) -> tuple[str, str, str, str]:
        return (
            self.title_zh.format(**fields),
            self.body_zh.format(**fields),
            self.title_en.format(**fields),
            self.body_en.format(**fields),
        )


TEMPLATES: dict[str, Template] = {
    "saved_search.matched": Template(
        "订阅“{search}”有新公告",
        "{title}（{trade_code}）",
        "New announcement for “{search}”",
        "{title} ({trade_code})",
    ),
    "organisation.approved": Template(
        "主体信息审核通过",
        "{name}已通过审核，现在可以报名参与交易。",
        "Registration approved",
        "{name} was approved and may now take part in trading.",
    ),
    "organisation.rejected": Template(
        "主体信息审核未通过",
        "{name}未通过审核：{reason}。请修改后重新提交。",
        "Registration rejected",
        "{name} was not approved: {reason}. Please correct it and submit again.",
    ),
    "credit.recorded.bad": Template(
        "新增不良信用记录",
        "{name}被记录一条不良信用记录（{category}）：{description}",
        "Bad credit record added",
        "A bad credit record was added for {name} ({category}): {description}",
    ),
    "credit.recorded.good": Template(
        "新增良好信用记录",
        "{name}获得一条良好信用记录（{category}）：{description}",
        "Good credit record added",
        "A good credit record was added for {name} ({category}): {description}",
    ),
    "credit.repair_decided.approved": Template(
        "信用修复申请已通过",
        "“{title}”的信用修复申请已通过，该记录已撤下公示。{note}",
        "Credit repair approved",
        "The credit repair of “{title}” was approved; the record has left public view. {note}",
    ),
    "credit.repair_decided.rejected": Template(
        "信用修复申请未通过",
        "“{title}”的信用修复申请未通过：{note}",
        "Credit repair rejected",
        "The credit repair of “{title}” was rejected: {note}",
    ),
    "registration.created": Template(
        "报名成功",
        "已报名“{lot}”（{trade_code}）。{security_zh}",
        "Registered",
        "You registered for “{lot}” ({trade_code}). {security_en}",
    ),
    "auction.starting_soon": Template(
        "网络竞价即将开始",
        "“{lot}”将于{starts_at}开始竞价，请准时进入竞价大厅。",
        "Auction starting soon",
        "Bidding on “{lot}” starts at {starts_at}. Be in the auction room on time.",
    ),
    "auction.outbid": Template(
        "您的出价已被超越",
        "“{lot}”当前价 {price} 元，您已不是最高出价者。",
        "You were outbid",
        "“{lot}” is now at CNY {price}; you no longer hold the highest bid.",
    ),
    "auction.ended.sold": Template(
        "网络竞价已结束",
        "“{lot}”竞价结束，成交价 {price} 元，竞得人竞买号 {bidder_no}。",
        "Auction ended",
        "Bidding on “{lot}” ended at CNY {price}; bidder number {bidder_no} won.",
    ),
    "auction.ended.failed": Template(
        "网络竞价已结束（流拍）",
        "“{lot}”竞价结束，未达到保留价，本次竞价流拍。",
        "Auction ended without a sale",
        "Bidding on “{lot}” ended below the reserve price; the lot was not sold.",
    ),
    "listing.outbid": Template(
        "您的挂牌报价已被超越",
        "“{lot}”挂牌价已更新为 {price} 元，您已不是最高报价者。",
        "Your listing offer was topped",
        "The listed price of “{lot}” is now CNY {price}; you no longer hold the highest offer.",
    ),
    "listing.ended.sold": Template(
        "挂牌成交",
        "“{lot}”挂牌期满，仅一名竞买人报价，以 {price} 元挂牌成交，竞得人竞买号 {bidder_no}。",
        "Listing sold",
        "The listing of “{lot}” ended with one offer: sold at CNY {price} to bidder number {bidder_no}.",
    ),
    "listing.ended.auction": Template(
        "挂牌转网络竞价",
        "“{lot}”挂牌期满，有 {offerers} 名竞买人报价，转入网络竞价：{starts_at}开始，起始价 {price} 元（最高报价）。",
        "Listing goes to auction",
        "The listing of “{lot}” ended with {offerers} bidders: an online auction starts at {starts_at} from the "
        "highest offer, CNY {price}.",
    ),
    "listing.ended.failed": Template(
        "挂牌不成交",
        "“{lot}”挂牌期满，无人报价或报价低于底价，挂牌不成交。",
        "Listing not sold",
        "The listing of “{lot}” ended without an offer at or above the reserve; it was not sold.",
    ),
    "auction.won": Template(
        "恭喜竞得",
        "您以 {price} 元竞得“{lot}”，成交确认书编号 {confirmation_no}。",
        "You won",
        "You won “{lot}” at CNY {price}. Confirmation number {confirmation_no}.",
    ),
    "deposit.paid": Template(
        "投标保证金已到账",
        "“{lot}”的投标保证金 {amount} 元已到账（子账号 {reference}）。",
        "Bid deposit received",
        "Your deposit of CNY {amount} for “{lot}” arrived (sub-account {reference}).",
    ),
    "deposit.refund_scheduled": Template(
        "投标保证金将退还",
        "“{lot}”的投标保证金 {amount} 元将于{due}前退还。",
        "Bid deposit to be refunded",
        "Your deposit of CNY {amount} for “{lot}” will be refunded by {due}.",
    ),
    "deposit.refunded": Template(
        "投标保证金已退还",
        "“{lot}”的投标保证金已退还 {amount} 元。",
        "Bid deposit refunded",
        "CNY {amount} of your deposit for “{lot}” was refunded.",
    ),
    "guarantee.applied": Template(
        "收到电子保函申请",
        "“{lot}”有一份保函申请待处理，金额 {amount} 元。",
        "New guarantee application",
        "A guarantee application for “{lot}” awaits you: CNY {amount}.",
    ),
    "guarantee.issued": Template(
        "电子保函已出具",
        "“{lot}”的投标保函 {letter_no} 已出具，金额 {amount} 元。",
        "Guarantee issued",
        "Bid guarantee {letter_no} for “{lot}” was issued: CNY {amount}.",
    ),
    "guarantee.declined": Template(
        "电子保函申请未通过",
        "“{lot}”的保函申请被拒绝：{reason}",
        "Guarantee declined",
        "Your guarantee application for “{lot}” was declined: {reason}",
    ),
    "guarantee.claimed": Template(
        "电子保函被索赔",
        "保函 {letter_no}（“{lot}”）被提出索赔：{reason}",
        "Claim on a guarantee",
        "A claim was made on guarantee {letter_no} (“{lot}”): {reason}",
    ),
    "guarantee.claim_paid": Template(
        "保函索赔已赔付",
        "保函 {letter_no}（“{lot}”）的索赔已赔付。",
        "Guarantee claim paid",
        "The claim on guarantee {letter_no} (“{lot}”) was paid.",
    ),
    "guarantee.claim_rejected": Template(
        "保函索赔被拒绝",
        "保函 {letter_no}（“{lot}”）的索赔被拒绝：{reason}",
        "Guarantee claim rejected",
        "The claim on guarantee {letter_no} (“{lot}”) was rejected: {reason}",
    ),
    "guarantee.released": Template(
        "电子保函已解除",
        "“{lot}”已有结果，保函 {letter_no} 已解除。",
        "Guarantee released",
        "“{lot}” has its result; guarantee {letter_no} is released.",
    ),
    "guarantee.validity_short": Template(
        "保函有效期不足",
        "“{lot}”投标截止时间已顺延至 {deadline}，保函 {letter_no} 的有效期不再覆盖投标有效期，"
        "须至少至 {required_until}：请申请延期或更换投标保证。",
        "Guarantee validity too short",
        "The bid deadline of “{lot}” moved to {deadline}: guarantee {letter_no} no longer covers the bid validity "
        "period, which needs it valid until at least {required_until}. Have it extended or give other security.",
    ),
    "guarantee.extension_requested": Template(
        "保函展期申请",
        "“{lot}”的保函 {letter_no} 申请展期至 {extension_until}（须至少至 {required_until}），"
        "请出具保函修改书或说明理由。",
        "Guarantee extension asked",
        "Guarantee {letter_no} for “{lot}” is asked to be extended until {extension_until} (at least {required_until} "
        "is needed): issue the amended letter or refuse with a reason.",
    ),
    "guarantee.extended": Template(
        "保函已展期",
        "“{lot}”的保函 {letter_no} 已展期至 {valid_until}，重新覆盖投标截止时间加投标有效期，"
        "保函有效期不足的问题已解决。",
        "Guarantee extended",
        "Guarantee {letter_no} for “{lot}” is extended until {valid_until} and covers the bid deadline plus the bid "
        "validity period again: the shortfall is settled.",
    ),
    "guarantee.extension_declined": Template(
        "保函展期被拒绝",
        "担保机构拒绝将“{lot}”的保函 {letter_no} 展期至 {extension_until}：{reason}。请另行提交投标保证。",
        "Guarantee extension refused",
        "The guarantor refused to extend guarantee {letter_no} for “{lot}” until {extension_until}: {reason}. "
        "Give other security.",
    ),
    "evaluation.reported": Template(
        "评标报告已提交",
        "“{lot}”（{trade_code}）评标结束，评标委员会推荐中标候选人 {candidates} 名。请及时发布中标候选人公示。",
        "Evaluation report ready",
        "The committee reported on “{lot}” ({trade_code}) with {candidates} candidate(s). "
        "Publish the candidate publicity.",
    ),
    "evaluation.reported.failed": Template(
        "评标结束：全部投标被否决",
        "“{lot}”（{trade_code}）评标结束，无投标通过符合性审查，本次招标失败（流标）。",
        "Evaluation ended: every bid rejected",
        "No bid for “{lot}” ({trade_code}) complied; the tender failed.",
    ),
    "qualification.bid_rejected": Template(
        "投标未通过资格审查",
        "您对“{lot}”（{trade_code}）的投标经评标委员会资格审查（资格后审），不符合招标文件规定的资格条件，已被否决"
        "（招标投标法实施条例 第五十一条）。否决理由请在资格审查结果中查看。",
        "Bid rejected at qualification",
        "The committee found that your bid for “{lot}” ({trade_code}) does not meet the qualification conditions of "
        "the tender documents; it is rejected. The reasons are in your qualification outcome.",
    ),
    "result.candidates_published": Template(
        "中标候选人公示已发布",
        "“{lot}”（{trade_code}）中标候选人公示已发布，公示期至{ends}。如有异议，请在公示期内提出。",
        "Candidates publicised",
        "The candidates for “{lot}” ({trade_code}) are publicised until {ends}. "
        "Raise any objection within that period.",
    ),
    "result.awarded": Template(
        "中标通知书",
        "恭喜！您已中标“{lot}”（{trade_code}），中标价 {price} 元，成交确认书编号 {confirmation_no}。"
        "请于{due}前与招标人签订书面合同。",
        "Award notice",
        "You won “{lot}” ({trade_code}) at CNY {price}; confirmation number {confirmation_no}. "
        "Sign the written contract with the tenderer by {due}.",
    ),
    "result.not_awarded": Template(
        "中标结果通知书",
        "“{lot}”（{trade_code}）已确定中标人：{winner}，中标价 {price} 元。"
        "您未中标，投标保证金将退还、投标保函将解除。",
        "Result notice",
        "“{lot}” ({trade_code}) was awarded to {winner} at CNY {price}. Your bid did not win; "
        "your bid security will be returned.",
    ),
    "result.contract_overdue": Template(
        "合同逾期未签订",
        "“{lot}”（{trade_code}）应于{due}前签订书面合同（成交确认书 {confirmation_no}），至今未登记合同。",
        "Contract overdue",
        "The contract for “{lot}” ({trade_code}, confirmation {confirmation_no}) was due by {due} "
        "and has not been recorded.",
    ),
    "result.award_withdrawn": Template(
        "中标资格变更",
        "“{lot}”（{trade_code}）原排名第 {rank} 名的中标人因{ground}（{basis}）不再作为中标人。"
        "招标人将依次确定下一名中标候选人为中标人。",
        "Award withdrawn",
        "The award of “{lot}” ({trade_code}) left the candidate ranked {rank} ({basis}). "
        "The tenderer awards the next candidate.",
    ),
    "result.award_withdrawn.failed": Template(
        "中标候选人均不符合中标条件",
        "“{lot}”（{trade_code}）原排名第 {rank} 名的中标人因{ground}（{basis}）不再作为中标人，"
        "已无其他中标候选人，本次招标失败（流标）。招标人可依法重新招标。",
        "No candidate remains",
        "The award of “{lot}” ({trade_code}) left the candidate ranked {rank} ({basis}) and no candidate "
        "remains: the lot failed.",
    ),
    "result.contract.drafted": Template(
        "请签署合同",
        "“{lot}”（{trade_code}）合同（编号 {contract_no}，金额 {amount} 元）已拟定，请使用数字证书签署。",
        "Contract to sign",
        "The contract {contract_no} for “{lot}” ({trade_code}), CNY {amount}, awaits your signature.",
    ),
    "treasury.paid": Template(
        "国库已支付",
        "国库集中支付系统已向贵单位支付 {amount} 元（支付申请 {request_no}）。",
        "Paid by the treasury",
        "The treasury's centralised payment system paid CNY {amount} to your organisation (request {request_no}).",
    ),
    "result.contract.signed": Template(
        "对方已签署合同",
        "“{lot}”（{trade_code}）合同（编号 {contract_no}）对方已签署，请使用数字证书签署。",
        "The other party signed",
        "The other party signed contract {contract_no} for “{lot}” ({trade_code}); it awaits your signature.",
    ),
    "result.contract.changed": Template(
        "合同{step_zh}",
        "“{lot}”（{trade_code}）合同（编号 {contract_no}）已{step_zh}，合同金额 {amount} 元。",
        "Contract {step_en}",
        "Contract {contract_no} for “{lot}” ({trade_code}) was {step_en}; amount CNY {amount}.",
    ),
    "objection.raised": Template(
        "收到异议",
        "“{lot}”（{trade_code}）收到对{stage_zh}的异议，请于{due}前答复。",
        "Objection received",
        "An objection to {stage_en} of “{lot}” ({trade_code}) was raised. Answer it by {due}.",
    ),
    "objection.answered": Template(
        "异议已获答复",
        "您对“{lot}”（{trade_code}）提出的{stage_zh}异议已获招标人答复。",
        "Objection answered",
        "The tenderer answered your objection to {stage_en} of “{lot}” ({trade_code}).",
    ),
    "objection.overdue": Template(
        "异议逾期未答复",
        "“{lot}”（{trade_code}）的{stage_zh}异议逾期未答复（应于{due}前答复）。",
        "Objection not answered in time",
        "The objection to {stage_en} of “{lot}” ({trade_code}) was to be answered by {due} and has no answer.",
    ),
    "complaint.filed": Template(
        "收到投诉",
        "收到对“{lot}”（{trade_code}）的投诉（{subject_zh}），请于{due}前决定是否受理。",
        "Complaint received",
        "A complaint about “{lot}” ({trade_code}) was filed ({subject_en}). Accept or refuse it by {due}.",
    ),
    "complaint.accepted": Template(
        "投诉已受理",
        "对“{lot}”（{trade_code}）的投诉已受理，将于{due}前作出处理决定。",
        "Complaint accepted",
        "The complaint about “{lot}” ({trade_code}) was accepted; the decision is due by {due}.",
    ),
    "complaint.refused": Template(
        "投诉不予受理",
        "您对“{lot}”（{trade_code}）的投诉不予受理：{reason}",
        "Complaint not accepted",
        "Your complaint about “{lot}” ({trade_code}) was not accepted: {reason}",
    ),
    "complaint.decided": Template(
        "投诉处理决定已公布",
        "“{lot}”（{trade_code}）投诉处理决定已公布：{decision_zh}。",
        "Complaint decided",
        "The decision on the complaint about “{lot}” ({trade_code}) is published: {decision_en}.",
    ),
    "complaint.overdue.accept": Template(
        "投诉受理逾期",
        "对“{lot}”（{trade_code}）的投诉受理已逾期，应于{due}前完成。",
        "Complaint acceptance overdue",
        "Accepting or refusing the complaint about “{lot}” ({trade_code}) was due by {due}.",
    ),
    "complaint.overdue.decide": Template(
        "投诉处理逾期",
        "对“{lot}”（{trade_code}）的投诉处理已逾期，应于{due}前完成。",
        "Complaint decision overdue",
        "The decision on the complaint about “{lot}” ({trade_code}) was due by {due}.",
    ),
    "lot.suspended": Template(
        "标段已暂停",
        "“{lot}”（{trade_code}）已被行政监督部门暂停：{reason}",
        "Lot suspended",
        "“{lot}” ({trade_code}) was suspended by the supervisory authority: {reason}",
    ),
    "expert_notice.replacement_needed": Template(
        "需要补抽评标专家",
        "“{lot}”（{trade_code}）抽取的专家（专家库编号 {expert}）{answer}，请发起补抽。",
        "An expert must be replaced",
        "The expert drawn for “{lot}” ({trade_code}) (pool number {expert}) {answer_en}: commit a replacement draw.",
    ),
    "expert_draw.revealed": Template(
        "评标专家抽取通知",
        "您已被抽取为“{lot}”的评标专家，请于 {time} 到 {place} 报到。请在 {answer_by} 前确认或拒绝参加。",
        "You have been drawn as an evaluation expert",
        "You were drawn to evaluate “{lot}”: report at {place} at {time}. Confirm or decline by {answer_by}.",
    ),
    "expert_notice.committee_complete": Template(
        "评标委员会已组建",
        "“{lot}”（{trade_code}）抽取的 {size} 名评标专家均已确认参加评标。",
        "The committee is complete",
        "All {size} experts drawn for “{lot}” ({trade_code}) have confirmed.",
    ),
    "opening.started": Template(
        "开标解密已开始",
        "“{lot}”（{trade_code}）已开标，请在 {ends} 前在手机上完成投标文件解密，逾期未解密的投标将被视为撤销。",
        "Decrypt your bid now",
        "The opening of “{lot}” ({trade_code}) has begun: hand over your key by {ends}, or your bid is void.",
    ),
    "tendering.decryption_closing": Template(
        "解密即将截止",
        "“{lot}”（{trade_code}）的解密将于 {ends} 截止，您的投标尚未解密，请立即操作。",
        "Decryption closes soon",
        "Decryption for “{lot}” ({trade_code}) closes at {ends} and your bid is still sealed: decrypt it now.",
    ),
    "negotiation.round_opened": Template(
        "谈判（磋商）进入第 {round} 轮",
        "“{lot}”（{trade_code}）的谈判（磋商）小组已开始第 {round} 轮，请留意小组向您发送的谈判文件。",
        "Negotiation round {round}",
        "The panel of “{lot}” ({trade_code}) opened round {round}: watch for its documents to you.",
    ),
    "negotiation.message_to_supplier": Template(
        "收到第 {round} 轮谈判文件",
        "“{lot}”（{trade_code}）的谈判（磋商）小组向您发送了第 {round} 轮谈判文件，请查看并答复。",
        "A negotiation document for you",
        "The panel of “{lot}” ({trade_code}) sent you a document of round {round}: read and answer it.",
    ),
    "negotiation.message_to_panel": Template(
        "供应商提交了第 {round} 轮响应",
        "“{lot}”（{trade_code}）的一家供应商提交了第 {round} 轮谈判响应文件。",
        "A supplier answered",
        "A supplier of “{lot}” ({trade_code}) answered in round {round}.",
    ),
    "negotiation.supplier_eliminated": Template(
        "您已被谈判（磋商）小组淘汰",
        "“{lot}”（{trade_code}）的谈判（磋商）小组在第 {round} 轮后淘汰了您的响应，理由：{reason}。"
        "您不再参加后续谈判和最后报价。",
        "Eliminated by the panel",
        "The panel of “{lot}” ({trade_code}) eliminated your response after round {round}: {reason}. You take no "
        "further part.",
    ),
    "statistics.report_ready": Template(
        "统计报表已生成",
        "{label} 交易统计报表（{period}）已生成，请在监管端查阅。",
        "Statistics report ready",
        "The trading statistics report for {label} ({period}) is ready in the supervision view.",
    ),
    "negotiation.final_offers_called": Template(
        "请提交最后报价",
        "“{lot}”（{trade_code}）谈判（磋商）结束，请在 {closes} 前在手机上加密提交最后报价，逾期不予接收。",
        "Submit your final offer",
        "Negotiation on “{lot}” ({trade_code}) has ended: seal and submit your final offer by {closes}.",
    ),
    "negotiation.final_offers_closed": Template(
        "请解密最后报价",
        "“{lot}”（{trade_code}）最后报价已截止，请在 {ends} 前完成最后报价解密，逾期未解密的报价无效。",
        "Decrypt your final offer",
        "Final offers for “{lot}” ({trade_code}) are closed: hand over your key by {ends}, or your offer is void.",
    ),
    "tendering.deadline_approaching": Template(
        "投标即将截止",
        "您报名的“{lot}”（{trade_code}）将于 {deadline} 截止投标，您尚未递交投标文件。",
        "Bid deadline approaching",
        "Bids for “{lot}” ({trade_code}), which you registered for, close at {deadline}; you have not sealed a bid.",
    ),
    "deposit.due_approaching": Template(
        "保证金即将截止缴纳",
        "您报名的“{lot}”（{trade_code}）的投标保证金 {amount} 元须于 {deadline} 前到达子账号 {reference}，"
        "目前尚未到账；也可提交电子保函。",
        "Deposit due soon",
        "The deposit of CNY {amount} for “{lot}” ({trade_code}) must reach sub-account {reference} by {deadline} "
        "and has not arrived; an electronic guarantee also serves.",
    ),
    "clarification.published": Template(
        "招标文件澄清",
        "您报名的“{lot}”（{trade_code}）发布了澄清/修改：{title}。投标截止时间 {deadline}。",
        "Tender clarified",
        "A clarification was published for “{lot}” ({trade_code}), which you registered for: {title}. "
        "Bids close at {deadline}.",
    ),
    "clarification.deadline_moved": Template(
        "投标截止时间顺延",
        "您报名的“{lot}”（{trade_code}）发布了澄清/修改：{title}。"
        "依法顺延投标截止时间至 {deadline}，开标时间随之顺延。",
        "Bid deadline moved",
        "A change was published for “{lot}” ({trade_code}), which you registered for: {title}. By law the bid "
        "deadline moves to {deadline}, and the opening with it.",
    ),
    "sealed_bid.flagged": Template(
        "请确认投标文件",
        "“{lot}”（{trade_code}）的招标文件在您递交投标文件后发生实质性修改，请在 {deadline} 前确认或重新递交，"
        "否则该投标文件不予开标。",
        "Confirm your bid",
        "The documents of “{lot}” ({trade_code}) changed after you sealed your bid: confirm or replace it before "
        "{deadline}, or it will not be opened.",
    ),
    "sealed_bid.returned": Template(
        "投标文件已退回",
        "“{lot}”（{trade_code}）不再开标（流标或终止招标），您递交的投标文件未经开启即退回。",
        "Bid returned",
        "The tender “{lot}” ({trade_code}) will not be opened (it failed or was terminated): your sealed bid is "
        "returned unopened.",
    ),
    "invitation.sent": Template(
        "投标邀请书",
        "贵单位受邀参加“{lot}”（{trade_code}）邀请招标，投标截止时间 {deadline}，请报名并递交投标文件。",
        "Invitation to tender",
        "Your organisation is invited to tender for “{lot}” ({trade_code}); bids close at {deadline}. "
        "Register and seal your bid.",
    ),
    "question.asked": Template(
        "收到投标人提问",
        "“{lot}”（{trade_code}）收到一条答疑提问，请在澄清中统一答复。",
        "A bidder asked a question",
        "A question was asked on “{lot}” ({trade_code}); answer it in a clarification to every registrant.",
    ),
    "announcement.change": Template(
        "招标公告有变更",
        "您报名的“{lot}”（{trade_code}）发布了变更/澄清公告：{title}",
        "The tender was changed",
        "A change or clarification was published for “{lot}” ({trade_code}), which you registered for: {title}",
    ),
    "lot.ended.failed": Template(
        "标段流标",
        "您报名的“{lot}”（{trade_code}）因有效投标不足已流标。",
        "Lot failed",
        "“{lot}” ({trade_code}), which you registered for, failed for lack of valid bids.",
    ),
    "lot.ended.terminated": Template(
        "标段已终止",
        "您报名的“{lot}”（{trade_code}）已终止招标。",
        "Lot terminated",
        "The procedure for “{lot}” ({trade_code}), which you registered for, was terminated.",
    ),
    "document.tender_document_changed": Template(
        "招标文件已更新",
        "您报名的“{lot}”（{trade_code}）的招标文件“{name}”已更新为第 {version} 版，请下载最新版本。",
        "Tender documents updated",
        "The tender document “{name}” of “{lot}” ({trade_code}), which you registered for, is now version {version}; "
        "download the new version.",
    ),
    "lot.suspension_lifted": Template(
        "标段已恢复",
        "“{lot}”（{trade_code}）已恢复招标投标活动。",
        "Lot resumed",
        "The suspension of “{lot}” ({trade_code}) was lifted; tendering resumes.",
    ),
    "report.status_changed": Template(
        "举报状态已更新",
        "您的举报状态已更新为{status_zh}。",
        "Report status updated",
        "Your report is now {status_en}.",
    ),
    "supervision.alert_raised": Template(
        "围标串标预警",
        "“{lot}”（{trade_code}）出现预警信号：{signal_zh}，请核查。",
        "Collusion alert",
        "“{lot}” ({trade_code}) shows a collusion signal: {signal_en}. Please review it.",
    ),
    "user.password_changed": Template(
        "账户密码已修改",
        "你的掌上交易密码已于{at}（北京时间）修改，其他设备和业务系统的登录均已退出。如非本人操作，请立即联系交易中心。",
        "Your password was changed",
        "Your PalmTrade password was changed at {at} (Beijing time); your other devices and business systems were "
        "signed out. If this was not you, contact the trading centre at once.",
    ),
    "punishment.listed": Template(
        "已被列入联合惩戒名单",
        "{name}已被列入联合惩戒名单（{reason}），{until_zh}不能报名参与交易。",
        "Placed under joint punishment",
        "{name} is under joint punishment ({reason}) and may not register for lots {until_en}.",
    ),
}

# the words for the values the complaint events carry: (zh, en); zh as domain/complaints words them
STAGE_WORDS: dict[str, tuple[str, str]] = {
    ObjectionStage.DOCUMENTS: (STAGE_ZH[ObjectionStage.DOCUMENTS], "the tender documents"),
    ObjectionStage.OPENING: (STAGE_ZH[ObjectionStage.OPENING], "the bid opening"),
    ObjectionStage.PUBLICITY: (STAGE_ZH[ObjectionStage.PUBLICITY], "the evaluation result"),
    ObjectionStage.CANCELLATION: (STAGE_ZH[ObjectionStage.CANCELLATION], "the cancellation"),
}
SUBJECT_WORDS: dict[str, tuple[str, str]] = {
    ComplaintSubject.DOCUMENTS: (SUBJECT_ZH[ComplaintSubject.DOCUMENTS], "tender documents"),
    ComplaintSubject.OPENING: (SUBJECT_ZH[ComplaintSubject.OPENING], "bid opening"),
    ComplaintSubject.CANDIDATES: (SUBJECT_ZH[ComplaintSubject.CANDIDATES], "evaluation result (candidates)"),
    ComplaintSubject.OTHER: (SUBJECT_ZH[ComplaintSubject.OTHER], "other matters"),
}
DECISION_WORDS: dict[str, tuple[str, str]] = {
    Decision.UPHELD: (DECISION_ZH[Decision.UPHELD], "complaint upheld"),
    Decision.PARTLY_UPHELD: (DECISION_ZH[Decision.PARTLY_UPHELD], "complaint partly upheld"),
    Decision.DISMISSED: (DECISION_ZH[Decision.DISMISSED], "complaint dismissed"),
}
REPORT_STATUS_WORDS: dict[str, tuple[str, str]] = {
    ReportStatus.RECEIVED: ("已收到", "received"),
    ReportStatus.INVESTIGATING: ("调查中", "under investigation"),
    ReportStatus.CLOSED: ("已办结", "closed"),
}

# the words for the collusion signals of domain/supervision/alerts.py
SIGNAL_WORDS: dict[str, tuple[str, str]] = {
    "same_device": ("不同投标人使用同一设备", "different bidders used one device"),
    "same_network": ("不同投标人使用同一网络地址", "different bidders used one network address"),
    "shared_download_device": (
        "不同投标人的招标文件由同一设备下载",
        "one device downloaded the tender documents of different bidders",
    ),
    "identical_documents": ("不同投标人的投标文件哈希相同", "identical bid documents across bidders"),
    "shared_payment_account": (
        "不同投标人的保证金或保函保费从同一账户缴纳",
        "deposits or guarantee premiums of different bidders paid from one account",
    ),
    "price_band": ("报价异常接近", "prices suspiciously close to each other"),
    "price_spacing": ("报价呈等差排列", "prices equally spaced"),
    "price_near_estimate": ("报价均异常接近估算价", "all prices suspiciously close to the estimate"),
    "shared_contact": ("不同投标人联系电话相同", "the same contact phone across bidders"),
    "shared_contact_name": (
        "不同投标人的联系人同名且另有关联",
        "the same contact person across bidders linked in another way",
    ),
    "bid_rotation": ("投标人总是同时出现并轮流中标", "bidders that always bid together and take turns winning"),
}


def words(table: dict[str, tuple[str, str]], value: object) -> tuple[str, str]:
    """The zh and en words for a value, the value itself when the table has none."""
    text = str(value or "")
    return table.get(text, (text, text))
