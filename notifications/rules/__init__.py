"""Which events notify whom, with which template: the one place a new trigger is added.

A rule reads what it needs to address and word the notification and returns one
NewNotification per recipient; the store makes each once per (event, user). A frequent event (an outbid comes with
nearly every accepted bid) has a batch rule instead, which does the same for all the batch's events of its types in a
few queries.

The rules live by area (accounts, publication, registration, auctions, tendering, experts, results,
complaints), the recipients they share in common.py; RULES and BATCH_RULES below are the registries the dispatcher
reads.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.common.models import OutboxEvent
from domain.notifications.services import NewNotification
from notifications.rules.accounts import credit_recorded, organisation_reviewed, password_changed, punishment_listed
from notifications.rules.auctions import (
    AUCTION_NOTICES,
    auction_ended,
    auction_notices,
    listing_ended,
    listing_outbid,
)
from notifications.rules.clarifications import (
    clarification_published,
    invitation_sent,
    question_asked,
    sealed_bid_flagged,
    sealed_bid_returned,
)
from notifications.rules.common import BatchRule, Rule
from notifications.rules.complaints import (
    collusion_alert,
    complaint_notice,
    complaint_overdue,
    lot_suspension,
    objection_answered,
    objection_overdue,
    objection_raised,
    report_status_changed,
)
from notifications.rules.credit import credit_repair_decided
from notifications.rules.experts import committee_complete, expert_drawn, expert_replacement_needed
from notifications.rules.negotiation import final_offers, message_posted, round_opened, supplier_eliminated
from notifications.rules.publication import (
    announcement_to_registrants,
    lot_ended,
    saved_search_matched,
    tender_document_changed,
)
from notifications.rules.registration import deposit_changed, deposit_due, guarantee_changed, registered
from notifications.rules.results import (
    award_withdrawn,
    bid_rejected_at_qualification,
    candidates_published,
    contract_moved,
    contract_overdue,
    evaluation_reported,
    result_notice,
)
from notifications.rules.settlement import treasury_paid
from notifications.rules.supervision import statistics_report_ready
from notifications.rules.tendering import deadline_approaching, decryption_window

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
    "clarification.published": clarification_published,
    "sealed_bid.flagged": sealed_bid_flagged,
    "sealed_bid.returned": sealed_bid_returned,
    "invitation.sent": invitation_sent,
    "question.asked": question_asked,
    "lot.status_changed": lot_ended,
    "lot.suspended": lot_suspension,
    "lot.suspension_lifted": lot_suspension,
    "report.status_changed": report_status_changed,
    "evaluation.reported": evaluation_reported,
    "qualification.bid_rejected": bid_rejected_at_qualification,
    "negotiation.round_opened": round_opened,
    "negotiation.message_posted": message_posted,
    "negotiation.supplier_eliminated": supplier_eliminated,
    "negotiation.final_offers_called": final_offers,
    "negotiation.final_offers_closed": final_offers,
    "result.candidates_published": candidates_published,
    "result.awarded": result_notice,
    "result.not_awarded": result_notice,
    "result.contract_overdue": contract_overdue,
    "result.award_withdrawn": award_withdrawn,
    "result.contract": contract_moved,
    "statistics.report_ready": statistics_report_ready,
    "treasury.payment": treasury_paid,
    **{
        f"guarantee.{step}": guarantee_changed
        for step in (
            "applied",
            "issued",
            "declined",
            "claimed",
            "claim_paid",
            "claim_rejected",
            "released",
            "validity_short",
            "extension_requested",
            "extended",
            "extension_declined",
        )
    },
    "deposit.paid": deposit_changed,
    "deposit.refund_scheduled": deposit_changed,
    "deposit.refunded": deposit_changed,
    "deposit.due_approaching": deposit_due,
    "auction.phase_changed": auction_ended,
    "listing.ended": listing_ended,
    "listing.outbid": listing_outbid,
    "registration.created": registered,
    "saved_search.matched": saved_search_matched,
    "organisation.approved": organisation_reviewed,
    "organisation.rejected": organisation_reviewed,
    "credit.recorded": credit_recorded,
    "credit.repair_decided": credit_repair_decided,
    "punishment.listed": punishment_listed,
    "user.password_changed": password_changed,
}


BATCH_RULES: dict[str, BatchRule] = dict.fromkeys(AUCTION_NOTICES, auction_notices)


async def notifications_for(events: Sequence[OutboxEvent]) -> list[NewNotification]:
    """Everything the committed events in this batch notify, in the events' order."""
    made: dict[int, list[NewNotification]] = {}
    batched: dict[BatchRule, list[tuple[int, OutboxEvent]]] = {}
    for i, event in enumerate(events):
        if event.outcome != "success":
            continue
        batch_rule = BATCH_RULES.get(event.type)
        if batch_rule is not None:
            batched.setdefault(batch_rule, []).append((i, event))
            continue
        rule = RULES.get(event.type)
        if rule is not None:
            made[i] = await rule(event)
    for batch_rule, numbered in batched.items():
        for (i, _), notifications in zip(numbered, await batch_rule([e for _, e in numbered]), strict=True):
            made[i] = notifications
    return [n for i in sorted(made) for n in made[i]]
