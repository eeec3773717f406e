"""The domain's composition root: every timed transition, periodic job and cross-area reaction, in one place.

Nothing in the domain registers itself when it is imported. `wire()` registers the chronograph's
time-driven transitions and the award blockers, and returns the reactions the outbox dispatcher runs;
`periodic_jobs()` lists the leased periodic jobs. api/services.build_services calls both, for the web
server and for the worker (api/manage.py), so a worker that never builds the GraphQL schema still
fires every transition and runs every workflow.

Where to look: a deadline is a `chronograph.register` line below, a reaction to another area's event
is a `reactions.on` line below (its handler lives in `domain/<area>/workflows.py`), a check that holds
an award back is a `results.register_award_blocker` line below.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from domain.access import scope
from domain.accounts import credentials, sessions
from domain.accounts import retention as account_retention
from domain.accounts.models import User
from domain.accounts.tokens import KeyRing, rotate_if_due
from domain.auctions import listing as listings
from domain.auctions import services as auctions
from domain.auctions import workflows as auction_workflows
from domain.auctions.listing import ListingEnded
from domain.auctions.models import Auction, Listing
from domain.auctions.services import AuctionPhaseChanged
from domain.audit import services as audit
from domain.certificates import services as certificates
from domain.common import chronograph, idempotency, retention
from domain.common.chronograph import PeriodicJob
from domain.common.reactions import Reactions
from domain.common.retention import Retention
from domain.complaints import complaints, objections, reports, suspension
from domain.complaints.events import LotSuspensionLifted
from domain.complaints.models import Complaint, Objection
from domain.credit import exchange as credit_exchange
from domain.credit import rating as credit_rating
from domain.credit.models import CreditPublication
from domain.credit.services import CreditRecorded, PunishmentLifted, PunishmentListed
from domain.credit_public import commitments as credit_commitments
from domain.credit_public import publicity as credit_publicity
from domain.credit_public.repair import RepairDecided
from domain.deposits import services as deposits
from domain.deposits import workflows as deposit_workflows
from domain.deposits.models import DepositAccount
from domain.documents import bid_files, malware, records, uploads
from domain.documents import holds as document_holds
from domain.documents import references as document_references
from domain.evaluation import draw as expert_draw
from domain.evaluation import notices as expert_notices
from domain.evaluation import signing as evaluation_signing
from domain.evaluation import witnesses
from domain.evaluation.models import ExpertNotice
from domain.experts import service as expert_pool
from domain.guarantees import release as guarantee_release
from domain.guarantees import workflows as guarantee_workflows
from domain.guarantees.models import Guarantee
from domain.negotiation import files as negotiation_files
from domain.negotiation import services as negotiation
from domain.negotiation import workflows as negotiation_workflows
from domain.negotiation.models import Negotiation
from domain.notifications import retention as notification_retention
from domain.provincial import exchange as provincial
from domain.provincial.models import ProvincialMessage
from domain.publication import holds as publication_holds
from domain.publication import pauses, search
from domain.publication.events import AnnouncementPublished, LotDeadlineMoved, LotStatusChanged
from domain.registration import invitations
from domain.registration import security as registration_security
from domain.registration.services import RegistrationWithdrawn
from domain.results import cancellation as cancellations
from domain.results import files as result_files
from domain.results import finality as result_finality
from domain.results import sequence as award_sequence
from domain.results import services as results
from domain.results.models import Award, Cancellation
from domain.results.sequence import AwardWithdrawn
from domain.settlement.models import TreasuryPayment
from domain.sms import services as sms
from domain.sso import services as single_sign_on
from domain.supervision import reports as statistics_reports
from domain.supervision.evidence import LOT_OBJECTS
from domain.tendering import opening, reminders
from domain.tendering import workflows as tendering_workflows
from domain.tendering.models import Opening
from domain.tendering.opening import OpeningFailed
from domain.venues import workflows as venue_workflows
from domain.venues.models import Booking


@dataclass(frozen=True, slots=True)
class Wiring:
    reactions: Reactions


def wire() -> Wiring:
    """Registers every timed transition, award blocker and security kind (idempotent); returns the reactions."""
    _timed_transitions()
    _award_blockers()
    _security()
    _lot_pauses()
    _supervisory_scope()
    return Wiring(reactions=reactions())


def _timed_transitions() -> None:
    chronograph.register("user.unlock", User, sessions.unlock_due)
    chronograph.register("auction.advance", Auction, auctions._fire)
    chronograph.register("listing.advance", Listing, listings._fire)
    chronograph.register("objection.answer_due", Objection, objections.flag_objection_overdue)
    chronograph.register("complaint.deadlines", Complaint, complaints.flag_complaint_overdue)
    chronograph.register("deposit.refund_overdue", DepositAccount, deposits.flag_overdue)
    chronograph.register("guarantee.expire", Guarantee, guarantee_release.expire)
    chronograph.register("award.contract_due", Award, results.flag_contract_overdue)
    chronograph.register("cancellation.take_effect", Cancellation, cancellations.take_effect)
    chronograph.register("opening.advance", Opening, opening._fire)
    chronograph.register("negotiation.advance", Negotiation, negotiation.fire_due)
    chronograph.register("credit.publicity_end", CreditPublication, credit_publicity.end_publicity)


def _award_blockers() -> None:
    """Checks results asks before every award (domain/results pause_of); the first that answers pauses it.
    A new check (an area that may hold an award back) is one more line here, never a registration at import."""
    results.register_award_blocker(results.unanswered_opening_objection)
    results.register_award_blocker(objections.unanswered_objection)
    results.register_award_blocker(suspension.suspended)
    # the draw leaves out the experts the pool keeps out: suspended, busy that day, a declared conflict (domain/experts)
    expert_draw.plug_exclusion(expert_pool.excluded)
    opening.plug_attendee(witnesses.assigned)  # 见证: assigned witnesses watch the opening
    cancellations.register_unanswered(objections.cancellation_objection_waits)
    award_sequence.plug_upheld(complaints.upheld_on)
    # candidates are publicised and a lot awarded only once every member signed the evaluation report (签章完毕)
    result_finality.plug(evaluation_signing.report_pending)
    result_files.plug(document_references.current_clean)
    negotiation_files.plug(document_references.held_by)  # a round's document names files on its thread
    # a sold auction, reverse auction or listing awards its winner, whose contract follows as a tender's
    auctions.plug_sale(results.award_sale)


async def _suspension_reason(lot_id: int) -> str | None:
    found = await suspension.suspension_of(lot_id)
    return None if found is None else found.reason


def _lot_pauses() -> None:
    """What publication asks before a lot moves (domain/publication/pauses): a supervisor's suspension; and before
    a notice is published (domain/publication/holds): its files scanned."""
    pauses.plug(_suspension_reason)
    # what holds a notice back: its files (and its lot's tender documents) not yet scanned for malware
    publication_holds.plug(document_holds.ensure_scanned)
    # an invited tender's tender notice waits for its three invitees (招标投标法 第十七条)
    publication_holds.plug(invitations.ensure_enough)


def _supervisory_scope() -> None:
    """What domain/access/scope reads a supervisor's audit trail by without importing the areas: the lot-bound
    objects an evidence package names (and the experts' notices), and the reports kept by their own category."""
    scope.plug_lot_bound(
        {
            **dict(LOT_OBJECTS),
            "ExpertNotice": ExpertNotice,
            # a lot's venue bookings, the treasury payments of its contract and its messages to the province (a
            # payment of a service fee and a message of no lot have none: operators read those alone)
            "Booking": Booking,
            "TreasuryPayment": TreasuryPayment,
            "ProvincialMessage": ProvincialMessage,
        }
    )
    scope.plug_categorised("Report", reports.of_categories)
    scope.plug_categorised("Cancellation", cancellations.of_categories)


def _security() -> None:
    """What registration asks of deposits and guarantees without importing them (domain/registration/security):
    a registration for a lot asking security opens its deposit account in the same transaction; a paid deposit
    or an issued guarantee covering the lot's current deadline plus the bid validity is the bidder's security, and one
    a moved deadline left short says so (GUARANTEE_VALIDITY_SHORT)."""
    registration_security.plug(open_account=deposits.open_account, held=deposit_workflows.paid)
    registration_security.plug(held=guarantee_workflows.in_force, shortfall=guarantee_workflows.shortfall)
    # a changed password also ends the grants client systems hold for the user (single sign-on)
    credentials.plug(single_sign_on.revoke_user_grants)


def reactions() -> Reactions:
    """Cross-area workflows, run by the outbox dispatcher in its transaction, in this order."""
    wired = Reactions()
    # an auction that ended is announced: the result awarding the lot, or its failure (流拍)
    wired.on(AuctionPhaseChanged, auction_workflows.publish_result_when_ended, workflow="auction_results")
    # a listing sold to its lone offerer or failed is announced (挂牌成交 / 挂牌不成交)
    wired.on(ListingEnded, auction_workflows.publish_listing_result_when_ended, workflow="auction_results")
    # a published sealed tender gets its opening; a lot that failed at its deadline is announced
    wired.on(LotStatusChanged, tendering_workflows.schedule_opening_when_open, workflow="tendering")
    wired.on(OpeningFailed, tendering_workflows.announce_failed_opening, workflow="tendering")
    # a lot terminated before its opening returns its sealed bids unopened, flagged ones too
    wired.on(LotStatusChanged, tendering_workflows.return_bids_when_terminated, workflow="tendering")
    # an invited tender that opened sends the invitations made while it was a draft (投标邀请书)
    wired.on(LotStatusChanged, invitations.send_when_open, workflow="invitations")
    # a lifted suspension gives a negotiation's running window (final offers, keys) back its held time
    wired.on(LotSuspensionLifted, negotiation_workflows.extend_windows_when_lifted, workflow="negotiation")
    # a lot's result (or failure) refunds deposits and releases guarantees; a withdrawal does, for that bidder
    wired.on(LotStatusChanged, deposit_workflows.refund_on_lot_result, workflow="security")
    wired.on(LotStatusChanged, guarantee_workflows.release_on_lot_result, workflow="security")
    # a moved deadline (a clarification) re-checks every issued guarantee's validity against it
    wired.on(LotDeadlineMoved, guarantee_workflows.recheck_on_deadline_moved, workflow="security")
    wired.on(RegistrationWithdrawn, deposit_workflows.refund_on_withdrawal, workflow="security")
    wired.on(RegistrationWithdrawn, guarantee_workflows.release_on_withdrawal, workflow="security")
    # a credit record or a punishment (listed here or imported from a partner platform) rates its organisation again
    wired.on(CreditRecorded, credit_rating.rerate_on_record, workflow="credit_rating")
    wired.on(PunishmentListed, credit_rating.rerate_on_punishment, workflow="credit_rating")
    wired.on(PunishmentLifted, credit_rating.rerate_on_punishment, workflow="credit_rating")
    wired.on(RepairDecided, credit_rating.rerate_on_repair, workflow="credit_rating")
    # a bad record or a punishment is published for its period (不良行为记录信息公开发布); a lifted one withdrawn;
    # a winner that declines or fails to sign breaks the commitment it signed (信用承诺书): a bad record
    wired.on(CreditRecorded, credit_publicity.publish_recorded, workflow="credit_publicity")
    wired.on(PunishmentListed, credit_publicity.publish_punishment, workflow="credit_publicity")
    wired.on(PunishmentLifted, credit_publicity.withdraw_lifted, workflow="credit_publicity")
    wired.on(AwardWithdrawn, credit_commitments.breach_on_award_withdrawn, workflow="credit_publicity")
    # every published announcement (notice, result, contract) is queued for the provincial platform (domain/provincial)
    wired.on(AnnouncementPublished, provincial.queue_announcement, workflow="provincial_exchange")
    # a lot's rooms follow its moved deadline (lot.deadline_moved) and are given back when it fails or is terminated
    wired.on(LotDeadlineMoved, venue_workflows.follow_moved_deadline, workflow="venues")
    wired.on(LotStatusChanged, venue_workflows.release_when_ended, workflow="venues")
    return wired


async def _credit_daily(now: datetime) -> int:
    """Imported credit items whose entity has registered since are attached; then every rating is computed again
    (a rule version published since, records growing old)."""
    await credit_exchange.attach_pending(now)
    return await credit_rating.recompute_all(now)


def periodic_jobs(
    *,
    keyring: KeyRing,
    audit_export_path: Path | None,
    audit_export_every: timedelta,
    fetch_crl: Callable[[str], Awaitable[bytes]],
    keep: Retention | None = None,
) -> list[PeriodicJob]:
    """The leased periodic jobs: each runs in one process per period (domain/common/chronograph); `keep` is how long
    the tables that only grow keep their rows (domain/common/retention, the defaults when None)."""
    kept = keep or Retention()

    def export_head(now: datetime) -> Awaitable[object]:
        return audit.export_head(audit_export_path)

    def rotate(now: datetime) -> Awaitable[object]:
        return rotate_if_due(keyring.policy, now, keyring.keks)

    def refresh_crls(now: datetime) -> Awaitable[object]:
        return certificates.refresh_crls(fetch_crl, now)

    def purging(purge: Callable[[datetime, Retention], Awaitable[int]]) -> Callable[[datetime], Awaitable[object]]:
        return lambda now: purge(now, kept)

    return [
        PeriodicJob("idempotency.purge", timedelta(hours=1), idempotency.purge_expired),
        PeriodicJob("audit.export_head", audit_export_every, export_head),
        PeriodicJob("signing_key.rotate", timedelta(hours=1), rotate),
        PeriodicJob("search.roll_recent_index", timedelta(hours=6), search.roll_recent_index),
        PeriodicJob("certificate_challenge.purge", timedelta(hours=1), certificates.purge_challenges),
        PeriodicJob("certificate_authority.refresh_crls", timedelta(hours=1), refresh_crls),
        PeriodicJob("documents.expire_uploads", timedelta(minutes=10), uploads.expire_uploads),
        PeriodicJob("documents.rescan_pending", timedelta(minutes=2), malware.rescan_pending),
        PeriodicJob("documents.open_bid_files", timedelta(minutes=1), bid_files.open_bid_files),
        PeriodicJob("documents.render_records", timedelta(minutes=1), records.render_due),
        PeriodicJob("sms.expire", timedelta(minutes=5), sms.expire),
        PeriodicJob("tendering.reminders", timedelta(minutes=1), reminders.remind),
        PeriodicJob("expert_notices.expire", timedelta(minutes=1), expert_notices.expire),
        PeriodicJob("credit.daily", timedelta(days=1), _credit_daily),
        # scheduled statistics reports to supervisors, made once after each period ends (domain/supervision/reports)
        PeriodicJob("statistics.reports", timedelta(hours=1), statistics_reports.produce_due),
        # 数据质量核查: every lot checked against the data-quality rules, held messages released; the province asked
        # what it holds of yesterday and today (domain/provincial)
        PeriodicJob("data_quality.nightly", timedelta(days=1), provincial.nightly),
        PeriodicJob("provincial.reconcile", timedelta(days=1), provincial.reconcile_recent),
        # retention (README: Settings, *_RETENTION_*): bounded batches, a backlog goes over several runs
        PeriodicJob("outbox.purge", timedelta(minutes=10), purging(retention.purge_outbox)),
        PeriodicJob(
            "push_delivery.purge", timedelta(minutes=10), purging(notification_retention.purge_push_deliveries)
        ),
        PeriodicJob("notification.purge", timedelta(hours=1), purging(notification_retention.purge_notifications)),
        PeriodicJob("refresh_token.purge", timedelta(hours=1), purging(account_retention.purge_refresh_tokens)),
    ]
