"""Which events notify whom, with which template: the one place a new trigger is added.

A rule reads what it needs to address and word the notification and returns one
NewNotification per recipient; the store makes each once per (event, user).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from domain.accounts.models import Organisation, User
from domain.accounts.states import OrgKind, OrgStatus
from domain.auctions.models import Auction, AuctionEntry
from domain.common.clock import shanghai_text
from domain.common.models import OutboxEvent
from domain.common.money import Money
from domain.common.queries import column
from domain.complaints.models import Report
from domain.credit.models import CreditRecord, JointPunishment
from domain.deposits.models import DepositAccount
from domain.evaluation.models import ExpertNotice
from domain.evaluation.notices import report_at
from domain.notifications.services import Kind, NewNotification, active_users_of
from domain.publication.models import Lot, Project, SavedSearch
from domain.registration.models import Registration
from domain.registration.services import RegistrationStatus
from domain.results import services as results
from domain.results.models import Award
from domain.tendering.models import SealedBid
from notifications.templates import (
    DECISION_WORDS,
    REPORT_STATUS_WORDS,
    SIGNAL_WORDS,
    STAGE_WORDS,
    SUBJECT_WORDS,
    TEMPLATES,
    words,
)

Rule = Callable[[OutboxEvent], Awaitable[list[NewNotification]]]


def _make(
    event: OutboxEvent,
    users: Sequence[int],
    kind: Kind,
    template: str,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    time_critical: bool = False,
    experts: Sequence[int] = (),
    **fields: object,
) -> list[NewNotification]:
    """One notification per user, and per expert (experts are not users: their inbox and devices are their own)."""
    title_zh, body_zh, title_en, body_en = TEMPLATES[template].render(**fields)
    recipients = [(user_id, None) for user_id in users] + [(None, expert_id) for expert_id in experts]
    return [
        NewNotification(
            user_id=user_id,
            expert_id=expert_id,
            kind=kind,
            title_zh=title_zh,
            body_zh=body_zh,
            title_en=title_en,
            body_en=body_en,
            object_type=object_type or event.object_type,
            object_id=object_id or event.object_id,
            event_id=event.event_id,
            time_critical=time_critical,
        )
        for user_id, expert_id in recipients
    ]


async def saved_search_matched(event: OutboxEvent) -> list[NewNotification]:
    saved = await SavedSearch.get_or_none(id=int(event.object_id))
    if saved is None:
        return []
    return _make(
        event,
        [saved.user_id],
        Kind.SAVED_SEARCH_MATCHED,
        event.type,
        object_type="Announcement",
        object_id=str(event.payload["announcement_id"]),
        search=saved.name,
        title=event.payload["title"],
        trade_code=event.payload["trade_code"],
    )


async def organisation_reviewed(event: OutboxEvent) -> list[NewNotification]:
    org = await Organisation.get_or_none(id=int(event.object_id))
    if org is None:
        return []
    reason = str(event.payload.get("reason", ""))
    return _make(event, await active_users_of([org.id]), Kind.ENTITY_REVIEWED, event.type, name=org.name, reason=reason)


async def credit_recorded(event: OutboxEvent) -> list[NewNotification]:
    record = await CreditRecord.get_or_none(id=int(event.object_id)).prefetch_related("organisation")
    if record is None:
        return []
    org: Organisation = record.organisation  # type: ignore[assignment]
    return _make(
        event,
        await active_users_of([org.id]),
        Kind.CREDIT_RECORDED,
        f"credit.recorded.{record.kind}",
        name=org.name,
        category=record.category,
        description=record.description,
    )


async def punishment_listed(event: OutboxEvent) -> list[NewNotification]:
    entry = await JointPunishment.get_or_none(id=int(event.object_id)).prefetch_related("organisation")
    if entry is None:
        return []
    org: Organisation = entry.organisation  # type: ignore[assignment]
    until = shanghai_text(entry.ends_at) if entry.ends_at else None
    return _make(
        event,
        await active_users_of([org.id]),
        Kind.PUNISHMENT_LISTED,
        event.type,
        name=org.name,
        reason=entry.reason,
        until_zh=f"至{until}前" if until else "在解除前",
        until_en=f"until {until}" if until else "until it is lifted",
    )


async def registered(event: OutboxEvent) -> list[NewNotification]:
    reg = await Registration.get_or_none(id=int(event.object_id)).prefetch_related("lot")
    if reg is None:
        return []
    lot: Lot = reg.lot  # type: ignore[assignment]
    account = await DepositAccount.get_or_none(registration_id=reg.id)
    if account is None:
        security_zh, security_en = "本标段无需投标保证金。", "This lot asks no bid security."
    else:
        yuan = Money(account.amount_due_fen).yuan_text()
        security_zh = f"请在投标截止前缴纳保证金 {yuan} 元至子账号 {account.reference}，或提交电子保函。"
        security_en = (
            f"Pay the deposit of CNY {yuan} into sub-account {account.reference} before the bid deadline, "
            "or provide an electronic guarantee."
        )
    return _make(
        event,
        await active_users_of([reg.organisation_id]),
        Kind.REGISTRATION_RESULT,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        trade_code=lot.trade_code,
        security_zh=security_zh,
        security_en=security_en,
    )


async def _auction_lot(event: OutboxEvent) -> tuple[Auction, Lot] | None:
    auction = await Auction.get_or_none(id=int(event.object_id))
    if auction is None:
        return None
    return auction, await Lot.get(id=auction.lot_id)


AUCTION_NOTICES = {
    "auction.starting_soon": Kind.AUCTION_STARTING_SOON,
    "auction.outbid": Kind.AUCTION_OUTBID,
    "auction.won": Kind.AUCTION_WON,
}


async def auction_notice(event: OutboxEvent) -> list[NewNotification]:
    """Starting soon, outbid, won: time-critical, to the organisations the event names."""
    found = await _auction_lot(event)
    if found is None:
        return []
    auction, lot = found
    return _make(
        event,
        await active_users_of(event.audience.get("orgs", [])),
        AUCTION_NOTICES[event.type],
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        time_critical=True,
        lot=lot.name,
        starts_at=shanghai_text(auction.starts_at),
        price=Money(int(event.payload.get("price_fen") or 0)).yuan_text(),
        confirmation_no=auction.confirmation_no or "",
    )


async def auction_ended(event: OutboxEvent) -> list[NewNotification]:
    phase = event.payload.get("phase")
    if phase not in ("sold", "failed"):
        return []
    found = await _auction_lot(event)
    if found is None:
        return []
    auction, lot = found
    orgs = await column(AuctionEntry.filter(auction_id=auction.id).values_list("organisation_id", flat=True), int)
    return _make(
        event,
        await active_users_of(int(o) for o in orgs),
        Kind.AUCTION_ENDED,
        f"auction.ended.{phase}",
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        price=Money(int(event.payload.get("price_fen") or 0)).yuan_text(),
        bidder_no=event.payload.get("leading_bidder_no") or "",
    )


async def deposit_changed(event: OutboxEvent) -> list[NewNotification]:
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    if lot is None:
        return []
    due = event.payload.get("refund_due_at")
    return _make(
        event,
        await active_users_of([int(event.payload["organisation_id"])]),
        Kind.DEPOSIT_RECEIVED if event.type == "deposit.paid" else Kind.DEPOSIT_REFUNDED,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        amount=Money(int(event.payload.get("amount_fen") or 0)).yuan_text(),
        reference=event.payload.get("reference", ""),
        due=shanghai_text(datetime.fromisoformat(due)) if due else "",
    )


async def guarantee_changed(event: OutboxEvent) -> list[NewNotification]:
    """Every step of a guarantee, to the organisations its event was meant for (secrecy already applied)."""
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    if lot is None:
        return []
    orgs = [int(o) for o in event.audience.get("orgs", [])]
    if event.type == "guarantee.applied":
        orgs = [int(event.payload["guarantor_id"])]
    return _make(
        event,
        await active_users_of(orgs),
        Kind.GUARANTEE,
        event.type,
        object_type="Guarantee",
        object_id=event.object_id,
        lot=lot.name,
        amount=Money(int(event.payload.get("amount_fen") or 0)).yuan_text(),
        letter_no=event.payload.get("letter_no") or "",
        reason=event.payload.get("reason") or "",
    )


async def _lot_and_project(lot_id: object) -> tuple[Lot, Project] | None:
    lot = await Lot.get_or_none(id=int(str(lot_id)))
    if lot is None:
        return None
    return lot, await Project.get(id=lot.project_id)


def _managers(project: Project) -> list[int]:
    return [o for o in (project.tenderer_id, project.agency_id) if o]


async def supervisors_of(category: str) -> list[int]:
    """Approved supervisor organisations whose supervised categories include this one."""
    orgs = await Organisation.filter(status=OrgStatus.APPROVED.value)
    return [
        o.id
        for o in orgs
        if OrgKind.SUPERVISOR.value in (o.kinds or []) and category in (o.supervised_categories or [])
    ]


async def evaluation_reported(event: OutboxEvent) -> list[NewNotification]:
    """To the tenderer (and its agency): the report is ready, publish the candidates; or the lot failed."""
    found = await _lot_and_project(event.payload["lot_id"])
    if found is None:
        return []
    lot, project = found
    failed = bool(event.payload.get("failed"))
    return _make(
        event,
        await active_users_of(_managers(project)),
        Kind.EVALUATION_REPORTED,
        "evaluation.reported.failed" if failed else "evaluation.reported",
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        trade_code=lot.trade_code,
        candidates=int(event.payload.get("candidates") or 0),
    )


async def candidates_published(event: OutboxEvent) -> list[NewNotification]:
    """To every bidder whose bid took part in the opening: the candidates are publicised until the end date."""
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    if lot is None:
        return []
    ends = event.payload.get("publicity_ends_at")
    return _make(
        event,
        await active_users_of(await results.bidders_of(lot.id)),
        Kind.CANDIDATE_PUBLICITY,
        event.type,
        object_type="Announcement",
        object_id=str(event.payload["announcement_id"]),
        lot=lot.name,
        trade_code=lot.trade_code,
        ends=shanghai_text(datetime.fromisoformat(ends)) if ends else "",
    )


async def result_notice(event: OutboxEvent) -> list[NewNotification]:
    """The award notice (中标通知书) to the winner, a result notice (结果通知书) to each other bidder."""
    award = await Award.get_or_none(id=int(event.object_id))
    if award is None:
        return []
    lot = await Lot.get(id=award.lot_id)
    awarded = event.type == "result.awarded"
    due = event.payload.get("contract_due_at")
    return _make(
        event,
        await active_users_of([int(event.payload["organisation_id"])]),
        Kind.AWARD_NOTICE if awarded else Kind.RESULT_NOTICE,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        trade_code=lot.trade_code,
        price=Money(int(event.payload.get("price_fen") or 0)).yuan_text(),
        confirmation_no=award.confirmation_no,
        due=shanghai_text(datetime.fromisoformat(due)) if due else "",
        winner=event.payload.get("winner") or "",
    )


async def contract_overdue(event: OutboxEvent) -> list[NewNotification]:
    """To the tenderer (and its agency) and the supervisors of the lot's category."""
    award = await Award.get_or_none(id=int(event.object_id))
    if award is None:
        return []
    found = await _lot_and_project(award.lot_id)
    if found is None:
        return []
    lot, project = found
    orgs = _managers(project) + await supervisors_of(project.category)
    return _make(
        event,
        await active_users_of(orgs),
        Kind.CONTRACT_OVERDUE,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        trade_code=lot.trade_code,
        confirmation_no=award.confirmation_no,
        due=shanghai_text(award.contract_due_at),
    )


def _time(event: OutboxEvent, name: str) -> str:
    value = event.payload.get(name)
    return shanghai_text(datetime.fromisoformat(str(value))) if value else ""


async def _objection(event: OutboxEvent, orgs: list[int], lot: Lot, kind: Kind) -> list[NewNotification]:
    stage_zh, stage_en = words(STAGE_WORDS, event.payload.get("stage"))
    return _make(
        event,
        await active_users_of(orgs),
        kind,
        event.type,
        lot=lot.name,
        trade_code=lot.trade_code,
        stage_zh=stage_zh,
        stage_en=stage_en,
        due=_time(event, "answer_due_at"),
    )


async def objection_raised(event: OutboxEvent) -> list[NewNotification]:
    """To the tenderer (and its agency): answer by the due time."""
    found = await _lot_and_project(event.payload["lot_id"])
    if found is None:
        return []
    lot, project = found
    return await _objection(event, _managers(project), lot, Kind.OBJECTION)


async def objection_answered(event: OutboxEvent) -> list[NewNotification]:
    """To the objector: the tenderer answered."""
    found = await _lot_and_project(event.payload["lot_id"])
    if found is None:
        return []
    return await _objection(event, [int(event.payload["organisation_id"])], found[0], Kind.OBJECTION)


async def objection_overdue(event: OutboxEvent) -> list[NewNotification]:
    """To the objector, the tenderer (and its agency) and the supervisors of the event's category."""
    found = await _lot_and_project(event.payload["lot_id"])
    if found is None:
        return []
    lot, project = found
    orgs = [int(event.payload["organisation_id"]), *_managers(project)]
    orgs += await supervisors_of(str(event.payload["category"]))
    return await _objection(event, orgs, lot, Kind.OBJECTION_OVERDUE)


async def complaint_notice(event: OutboxEvent) -> list[NewNotification]:
    """Filed: to the supervisors of the category; accepted or decided: to the complainant and the tenderer
    (and its agency); refused: to the complainant."""
    found = await _lot_and_project(event.payload["lot_id"])
    if found is None:
        return []
    lot, project = found
    complainant = [int(event.payload["organisation_id"])]
    if event.type == "complaint.filed":
        orgs = await supervisors_of(str(event.payload["category"]))
    elif event.type == "complaint.refused":
        orgs = complainant
    else:
        orgs = complainant + _managers(project)
    subject_zh, subject_en = words(SUBJECT_WORDS, event.payload.get("subject"))
    decision_zh, decision_en = words(DECISION_WORDS, event.payload.get("decision"))
    announcement = event.payload.get("announcement_id")
    return _make(
        event,
        await active_users_of(orgs),
        Kind.COMPLAINT,
        event.type,
        object_type="Announcement" if announcement else None,
        object_id=str(announcement) if announcement else None,
        lot=lot.name,
        trade_code=lot.trade_code,
        subject_zh=subject_zh,
        subject_en=subject_en,
        due=_time(event, "accept_due_at") or _time(event, "decide_due_at"),
        reason=event.payload.get("reason") or "",
        decision_zh=decision_zh,
        decision_en=decision_en,
    )


async def complaint_overdue(event: OutboxEvent) -> list[NewNotification]:
    """To the supervisors of the event's category: acceptance or decision late."""
    stage = event.payload.get("stage")
    if stage not in ("accept", "decide"):
        return []
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    if lot is None:
        return []
    return _make(
        event,
        await active_users_of(await supervisors_of(str(event.payload["category"]))),
        Kind.COMPLAINT_OVERDUE,
        f"complaint.overdue.{stage}",
        lot=lot.name,
        trade_code=lot.trade_code,
        due=_time(event, "due_at"),
    )


async def lot_suspension(event: OutboxEvent) -> list[NewNotification]:
    """Suspended or resumed: to the lot's registered bidders and the tenderer (and its agency)."""
    found = await _lot_and_project(event.payload["lot_id"])
    if found is None:
        return []
    lot, project = found
    return _make(
        event,
        await active_users_of([*await _registrants(lot.id), *_managers(project)]),
        Kind.LOT_SUSPENSION,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        trade_code=lot.trade_code,
        reason=event.payload.get("reason") or "",
    )


async def _registrants(lot_id: int) -> list[int]:
    return [
        int(o)
        for o in await column(
            Registration.filter(lot_id=lot_id, status=RegistrationStatus.REGISTERED.value).values_list(
                "organisation_id", flat=True
            ),
            int,
        )
    ]


async def _sealed_bidders(lot_id: int) -> list[int]:
    """Organisations whose bid on the lot is still sealed (submitted, not yet decrypted)."""
    return [
        int(o)
        for o in await column(
            SealedBid.filter(lot_id=lot_id, status="submitted").values_list("organisation_id", flat=True), int
        )
    ]


async def decryption_window(event: OutboxEvent) -> list[NewNotification]:
    """The opening began, or its window is closing: time-critical, to every bidder whose bid is still sealed
    (a bidder who misses the window loses its bid), on every channel it has, quiet hours or not."""
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    if lot is None:
        return []
    kind = Kind.DECRYPTION_WINDOW if event.type == "opening.started" else Kind.DECRYPTION_REMINDER
    return _make(
        event,
        await active_users_of(await _sealed_bidders(lot.id)),
        kind,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        time_critical=True,
        lot=lot.name,
        trade_code=lot.trade_code,
        ends=_time(event, "window_ends_at"),
    )


async def deadline_approaching(event: OutboxEvent) -> list[NewNotification]:
    """To registrants that have not sealed a bid yet."""
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    if lot is None:
        return []
    sealed = set(await _sealed_bidders(lot.id))
    orgs = [o for o in await _registrants(lot.id) if o not in sealed]
    return _make(
        event,
        await active_users_of(orgs),
        Kind.BID_DEADLINE_APPROACHING,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        time_critical=True,
        lot=lot.name,
        trade_code=lot.trade_code,
        deadline=_time(event, "deadline"),
    )


async def announcement_to_registrants(event: OutboxEvent) -> list[NewNotification]:
    """A change or clarification notice (变更/澄清公告) of a lot: to everyone registered for it."""
    if event.payload.get("kind") != "change" or not event.payload.get("lot_id"):
        return []
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    if lot is None:
        return []
    return _make(
        event,
        await active_users_of(await _registrants(lot.id)),
        Kind.LOT_CHANGED,
        "announcement.change",
        object_type="Announcement",
        lot=lot.name,
        trade_code=lot.trade_code,
        title=str(event.payload.get("title", "")),
    )


async def lot_ended(event: OutboxEvent) -> list[NewNotification]:
    """A lot failed (流标) or was terminated: to everyone registered for it."""
    after = event.payload.get("after")
    if after not in ("failed", "terminated") or (after == "terminated" and event.payload.get("before") == "failed"):
        return []  # a failed lot's termination notice follows its failure: the registrants were told once
    lot = await Lot.get_or_none(id=int(event.object_id))
    if lot is None:
        return []
    return _make(
        event,
        await active_users_of(await _registrants(lot.id)),
        Kind.LOT_ENDED,
        f"lot.ended.{after}",
        object_type="Lot",
        lot=lot.name,
        trade_code=lot.trade_code,
    )


async def operators() -> list[int]:
    """Approved operator organisations (the trading centre)."""
    orgs = await Organisation.filter(status=OrgStatus.APPROVED.value)
    return [o.id for o in orgs if OrgKind.OPERATOR.value in (o.kinds or [])]


async def expert_drawn(event: OutboxEvent) -> list[NewNotification]:
    """A revealed draw (or replacement draw): a time-critical push to each expert it selected, on the expert app,
    beside the text and the voice call; it names the lot, when and where to report, never a bidder."""
    notices = await ExpertNotice.filter(draw_id=int(event.object_id)).order_by("id")
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    if not notices or lot is None:
        return []
    time_text, place = report_at(lot)
    return _make(
        event,
        (),
        Kind.EXPERT_DRAWN,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        time_critical=True,
        experts=[n.expert_id for n in notices],
        lot=lot.name,
        time=time_text,
        place=place,
        answer_by=shanghai_text(notices[0].answer_due_at),
    )


async def expert_replacement_needed(event: OutboxEvent) -> list[NewNotification]:
    """A drawn expert declined or did not answer: the operators are asked for a replacement draw (补抽)."""
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    if lot is None:
        return []
    declined = event.payload.get("answer") == "declined"
    return _make(
        event,
        await active_users_of(await operators()),
        Kind.EXPERT_REPLACEMENT_NEEDED,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        time_critical=True,
        lot=lot.name,
        trade_code=lot.trade_code,
        expert=event.payload["expert_id"],
        answer="已拒绝" if declined else "未在规定时间内答复",
        answer_en="declined" if declined else "did not answer in time",
    )


async def committee_complete(event: OutboxEvent) -> list[NewNotification]:
    """Every drawn expert confirmed: the operators and the tenderer (and its agency) are told."""
    found = await _lot_and_project(event.payload["lot_id"])
    if found is None:
        return []
    lot, project = found
    return _make(
        event,
        await active_users_of([*await operators(), *_managers(project)]),
        Kind.COMMITTEE_COMPLETE,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        trade_code=lot.trade_code,
        size=event.payload["size"],
    )


async def tender_document_changed(event: OutboxEvent) -> list[NewNotification]:
    """A new version of a tender document (with a change notice or clarification): to every registered bidder."""
    if event.payload.get("purpose") != "tender_document" or not event.payload.get("supersedes"):
        return []
    found = await _lot_and_project(event.payload["lot_id"])
    if found is None:
        return []
    lot, _ = found
    return _make(
        event,
        await active_users_of(await _registrants(lot.id)),
        Kind.TENDER_DOCUMENT_CHANGED,
        "document.tender_document_changed",
        lot=lot.name,
        trade_code=lot.trade_code,
        name=event.payload["name"],
        version=event.payload["version"],
    )


async def report_status_changed(event: OutboxEvent) -> list[NewNotification]:
    """To the reporter when it reported signed in (an anonymous one follows with its tracking code)."""
    report = await Report.get_or_none(id=int(event.object_id))
    if report is None or report.reporter_user_id is None:
        return []
    if not await User.exists(id=report.reporter_user_id, is_active=True):
        return []
    status_zh, status_en = words(REPORT_STATUS_WORDS, event.payload.get("status"))
    return _make(
        event,
        [report.reporter_user_id],
        Kind.REPORT_STATUS,
        event.type,
        status_zh=status_zh,
        status_en=status_en,
    )


async def collusion_alert(event: OutboxEvent) -> list[NewNotification]:
    """To the supervisors of the lot's category only (围标串标预警)."""
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    if lot is None:
        return []
    signal_zh, signal_en = words(SIGNAL_WORDS, event.payload.get("signal"))
    return _make(
        event,
        await active_users_of(await supervisors_of(str(event.payload["category"]))),
        Kind.COLLUSION_ALERT,
        event.type,
        lot=lot.name,
        trade_code=lot.trade_code,
        signal_zh=signal_zh,
        signal_en=signal_en,
    )


RULES: dict[str, Rule] = {
    "supervision.alert_raised": collusion_alert,
    "objection.raised": objection_raised,
    "objection.answered": objection_answered,
    "objection.overdue": objection_overdue,
    **dict.fromkeys(
        ("complaint.filed", "complaint.accepted", "complaint.refused", "complaint.decided"), complaint_notice
    ),
    "complaint.overdue": complaint_overdue,
    "document.stored": tender_document_changed,
    "expert_draw.revealed": expert_drawn,
    "expert_notice.replacement_needed": expert_replacement_needed,
    "expert_notice.committee_complete": committee_complete,
    "opening.started": decryption_window,
    "tendering.decryption_closing": decryption_window,
    "tendering.deadline_approaching": deadline_approaching,
    "announcement.published": announcement_to_registrants,
    "lot.status_changed": lot_ended,
    "lot.suspended": lot_suspension,
    "lot.suspension_lifted": lot_suspension,
    "report.status_changed": report_status_changed,
    "evaluation.reported": evaluation_reported,
    "result.candidates_published": candidates_published,
    "result.awarded": result_notice,
    "result.not_awarded": result_notice,
    "result.contract_overdue": contract_overdue,
    **{
        f"guarantee.{step}": guarantee_changed
        for step in ("applied", "issued", "declined", "claimed", "claim_paid", "claim_rejected", "released")
    },
    "deposit.paid": deposit_changed,
    "deposit.refund_scheduled": deposit_changed,
    "deposit.refunded": deposit_changed,
    **dict.fromkeys(AUCTION_NOTICES, auction_notice),
    "auction.phase_changed": auction_ended,
    "registration.created": registered,
    "saved_search.matched": saved_search_matched,
    "organisation.approved": organisation_reviewed,
    "organisation.rejected": organisation_reviewed,
    "credit.recorded": credit_recorded,
    "punishment.listed": punishment_listed,
}


async def notifications_for(events: Sequence[OutboxEvent]) -> list[NewNotification]:
    """Everything the committed events in this batch notify."""
    out: list[NewNotification] = []
    for event in events:
        rule = RULES.get(event.type)
        if rule is not None and event.outcome == "success":
            out.extend(await rule(event))
    return out
