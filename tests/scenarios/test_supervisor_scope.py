"""A supervisor (行政监督部门) reads the lots of the categories it supervises and nothing of any other lot:
registrants, deposits and their virtual accounts, sealed bids and their audit trail, and every other query."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from domain.access import scope
from domain.accounts.models import Expert
from domain.certificates.models import ActSignature
from domain.complaints.models import Complaint, Objection, Report
from domain.documents.models import Document
from domain.documents.purposes import PURPOSES
from domain.evaluation.models import ExpertDraw
from domain.registration.models import Registration
from domain.supervision.models import CollusionAlert
from domain.tendering.models import SealedBid
from mobile_contract.sealed_bid import new_key, seal
from schema.relay import int_id, to_global_id
from tests import factories as f
from tests.scenarios.test_live_events import next_message, ws_connect
from tests.scenarios.test_registration import REGISTER, open_lot
from tests.scenarios.test_sealed_bids import SUBMIT
from tests.scenarios.test_supervision import category_supervisor_phone
from tests.support.commitments import commit_over_api
from tests.support.results import evaluated_lot, issue_guarantees, pay_deposits
from tests.support.tendering import Tender

REGISTRANTS = """query($lotId: ID!) { lotRegistrations(lotId: $lotId) { edges { node { id organisation { name }
  deposit { reference } } } } }"""
DEPOSITS = """query($lotId: ID!) { lotDeposits(lotId: $lotId) { edges { node { payerAccount
  deposit { reference status } } } } }"""
TRAIL = """query($type: String) { auditTrail(objectType: $type, first: 100) { edges { node { action objectType
  objectId } } } }"""
LOT_BOUND_TYPES = {"Registration", "DepositAccount", "SealedBid", "Lot", "Project", "Announcement", "Opening"}


async def engineering_lot_with_a_sealed_bid(api: Any, manual_clock: Any) -> dict[str, Any]:
    """An engineering lot asking 2% security, a registered bidder whose deposit is paid and whose bid is sealed."""
    operator = await f.operator_token(api)
    project, _, _ = await open_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    _, _, bidder = await f.approved_org(api, operator)
    await commit_over_api(api, bidder, lot["id"], "registration")
    registered = (await api.gql(REGISTER, {"input": {"lotId": lot["id"]}}, token=bidder))["data"]["lotRegister"]
    assert registered["__typename"] == "LotRegistered", registered
    await commit_over_api(api, bidder, lot["id"], "bid")
    await pay_deposits(int_id(lot["id"], "Lot"))
    sealed = seal(new_key(), lot["tradeCode"], 1_234_567_00, {"商务标.pdf": b"%PDF-1.7 scope"})
    submitted = (await api.gql(SUBMIT, {"input": {"lotId": lot["id"], "sealedBid": sealed}}, token=bidder))["data"]
    assert submitted["bidSubmit"]["__typename"] == "BidSubmitted", submitted
    await api.dispatch()
    return {
        "operator": operator,
        "lot": lot,
        "reference": registered["registration"]["deposit"]["reference"],
        "engineering": await f.login(api, await category_supervisor_phone(api, operator, "ENGINEERING_CONSTRUCTION")),
        "procurement": await f.login(api, await category_supervisor_phone(api, operator, "GOVERNMENT_PROCUREMENT")),
    }


async def test_a_supervisor_of_another_category_reads_no_registrant_deposit_or_sealed_bid_of_the_lot(api, manual_clock):
    # given an engineering lot with a registrant, its paid deposit and a sealed bid
    seen = await engineering_lot_with_a_sealed_bid(api, manual_clock)
    lot_id = seen["lot"]["id"]
    # when the supervisor of government procurement reads the lot's registrants, deposits and audit trail
    other = seen["procurement"]
    registrants = (await api.gql(REGISTRANTS, {"lotId": lot_id}, token=other))["data"]["lotRegistrations"]
    deposits = (await api.gql(DEPOSITS, {"lotId": lot_id}, token=other))["data"]["lotDeposits"]
    sealed_trail = (await api.gql(TRAIL, {"type": "SealedBid"}, token=other))["data"]["auditTrail"]["edges"]
    whole_trail = (await api.gql(TRAIL, token=other))["data"]["auditTrail"]["edges"]
    # then nothing of the lot comes back: no registrant, no virtual account, no sealed-bid entry
    assert registrants is None
    assert deposits is None
    assert sealed_trail == []
    assert {e["node"]["objectType"] for e in whole_trail} & LOT_BOUND_TYPES == set()

    # and the supervisor of engineering construction reads all three
    mine = seen["engineering"]
    registrants = (await api.gql(REGISTRANTS, {"lotId": lot_id}, token=mine))["data"]["lotRegistrations"]["edges"]
    deposits = (await api.gql(DEPOSITS, {"lotId": lot_id}, token=mine))["data"]["lotDeposits"]["edges"]
    sealed_trail = (await api.gql(TRAIL, {"type": "SealedBid"}, token=mine))["data"]["auditTrail"]["edges"]
    assert [r["node"]["deposit"]["reference"] for r in registrants] == [seen["reference"]]
    assert [d["node"]["deposit"]["reference"] for d in deposits] == [seen["reference"]]
    assert [e["node"]["action"] for e in sealed_trail] == ["sealed_bid.submitted"]


# ---------------------------------------------------------------- every query a supervisor can call

# Query fields that read nothing bound to a lot, each with the reason; every other field is walked below.
NOT_LOT_BOUND = {
    "me": "the caller itself",
    "myTasks": "the caller's own next steps",
    "mySsoConsents": "the caller's own consents to business systems",
    "myThirdPartyAuthorisations": "the caller organisation's own authorisations of third-party systems",
    "myAgencyRatingSummary": "the caller agency's own averages, no rater named",
    "bidReceiptVerify": "answers to whoever holds a signed bid receipt what it attests (never a price)",
    "hallSchedule": "the public schedule of the trading centre's opening halls (kiosks)",
    "rooms": "the trading centre's rooms belong to no lot",
    "ssoClients": "the business systems signing users in belong to no lot (operators)",
    "thirdPartySystems": "accredited third-party systems belong to no lot",
    "invoices": "an organisation's invoices for the platform's service fees (the buyer and operators)",
    "statisticsReport": "a report made for one supervisor organisation, of its categories (statisticsReports walked)",
    "expertMe": "the signed-in expert itself",
    "organisations": "organisations belong to no lot (supervisors review them whatever their category)",
    "organisation": "an organisation belongs to no lot",
    "experts": "the expert pool belongs to no lot",
    "expertApplications": "applications to the expert pool belong to no lot (operators, or the applicant's own)",
    "auditVerify": "checks the chain's hashes, returns no entry",
    "searchAnnouncements": "published announcements are public (公开)",
    "searchAnnouncementsConnection": "published announcements are public (公开)",
    "announcements": "published announcements are public (公开)",
    "announcement": "a published announcement is public; a draft only to its project's managers",
    "catalogue": "the catalogue of categories",
    "regions": "the region codes",
    "mySavedSearches": "the caller's own searches",
    "changes": "the public change feed",
    "myNotifications": "the caller's own inbox",
    "myUnreadNotificationCount": "the caller's own inbox",
    "myDevices": "the caller's own devices",
    "myNotificationPreferences": "the caller's own preferences",
    "myRegistrations": "the caller organisation's own registrations",
    "myGuarantees": "the caller organisation's own guarantees",
    "guaranteeApplications": "a guarantor's own applications",
    "guaranteeVerify": "answers to whoever holds the letter number and its verification code",
    "guarantors": "guarantor organisations belong to no lot",
    "myPartnerKeys": "the caller organisation's own keys",
    "myBidderNumber": "the caller organisation's own entry",
    "mySealedBids": "the caller organisation's own bids",
    "myInvitations": "the caller organisation's own invitations",
    "myListingBidderNumber": "the caller organisation's own listing entry",
    "myQualificationOutcome": "the caller organisation's own bid's qualification outcome",
    "myScoreSheet": "the signed-in expert's own sheet",
    "myExpertCertificates": "the signed-in expert's own certificates",
    "myWitnessLots": "the signed-in witness's own assignments",
    "myComplaints": "the caller organisation's own complaints",
    "myObjections": "the caller organisation's own objections",
    "reportStatus": "answers to whoever holds the tracking code",
    "workingCalendar": "the working days of a year",
    "terminals": "self-service terminals belong to no lot",
    "evidencePackageVerify": "checks a package the caller already holds",
    "certificateAuthorities": "certificate authorities belong to no lot",
    "myCertificates": "the caller's own certificates",
    "serverTime": "the time",
    "creditRatingRules": "the credit rating rules are public (公开)",
    "creditRatingRuleVersions": "the credit rating rules are public (公开)",
    "myCreditRating": "the caller organisation's own rating",
    "organisationCreditRating": "an organisation's credit belongs to no lot",
    "creditRatingHistory": "an organisation's credit belongs to no lot",
    "mySecurityRelief": "the caller organisation's own relief",
    "creditExchangeExport": "the platform's credit records belong to no lot (integrators and operators)",
    "creditExchangeSm2Key": "the platform's public SM2 key for credit exchange packages: public, of no lot",
    "creditPartners": "partner platforms belong to no lot",
    "creditImports": "packages from partner platforms belong to no lot",
    "creditPublicRecords": "bad-conduct records in public view are public (公示), personal data masked",
    "creditPublicityPeriods": "the table of publicity periods",
    "creditPublications": "an organisation's credit publications belong to no lot (officials and itself)",
    "creditCommitmentText": "the commitment text signed on every lot",
    "myCreditCommitments": "the caller organisation's own commitments",
    "myCreditRepairs": "the caller organisation's own repair applications",
}
PUBLIC_WHEN_LOT_IS = "an unrelated bidder reads the same"


def _unwrap(ref: dict[str, Any]) -> dict[str, Any]:
    while ref.get("ofType"):
        ref = ref["ofType"]
    return ref


def _type_text(ref: dict[str, Any]) -> str:
    if ref["kind"] == "NON_NULL":
        return _type_text(ref["ofType"]) + "!"
    if ref["kind"] == "LIST":
        return "[" + _type_text(ref["ofType"]) + "]"
    return str(ref["name"])


class Selections:
    """Selection sets over the served schema: every field that needs no argument, to a depth."""

    def __init__(self, types: list[dict[str, Any]]) -> None:
        self.types = {t["name"]: t for t in types}

    def of(self, type_name: str, depth: int, only: str | None = None) -> str:
        """`only`: of an interface or a union, the one possible type to select (fields of two may conflict)."""
        if only is not None:
            return f"{{ __typename ... on {only} {self.of(only, depth - 1)} }}"
        t = self.types[type_name]
        if t["kind"] in ("SCALAR", "ENUM"):
            return ""
        parts = ["__typename"]
        if depth > 0:
            for field in t.get("fields") or []:
                if any(a["type"]["kind"] == "NON_NULL" and a["defaultValue"] is None for a in field["args"]):
                    continue
                inner = _unwrap(field["type"])["name"]
                if self.types[inner]["kind"] in ("SCALAR", "ENUM"):
                    parts.append(field["name"])
                elif depth > 1:
                    parts.append(field["name"] + " " + self.of(inner, depth - 1))
            for possible in t.get("possibleTypes") or []:
                parts.append(f"... on {possible['name']} {self.of(possible['name'], depth - 1)}")
        return "{ " + " ".join(parts) + " }"

    def document(self, field: dict[str, Any], args: dict[str, Any], depth: int, only: str | None = None) -> str:
        declared = {a["name"]: _type_text(a["type"]) for a in field["args"]}
        params = ", ".join(f"${name}: {declared[name]}" for name in args)
        passed = ", ".join(f"{name}: ${name}" for name in args)
        head = f"query({params})" if params else "query"
        call = f"{field['name']}({passed})" if passed else field["name"]
        return f"{head} {{ {call} {self.of(_unwrap(field['type'])['name'], depth, only)} }}"


INTROSPECT = """query { __schema { queryType { fields { ...Field } }
  types { name kind possibleTypes { name } fields { ...Field } } } }
fragment Field on __Field { name args { name defaultValue type { ...Ref } } type { ...Ref } }
fragment Ref on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }"""
PURPOSE_VALUES = 'query { __type(name: "DocumentPurpose") { enumValues { name } } }'


async def a_lot_with_every_record(manual_clock: Any) -> tuple[Tender, dict[str, list[str]], list[str]]:
    """An engineering tender in evaluation with everything a lot can hold: registrants with paid deposits and
    guarantees, sealed bids opened, a committee drawn, candidates, an objection, a complaint, a report, a
    collusion alert, an overdue refund and a document of every purpose. Returns the tender, the global ids of
    its objects by type, and the texts that belong to it alone (markers)."""
    tender, _ = await evaluated_lot(manual_clock, [1_110_000_00, 1_120_000_00, 1_130_000_00])
    lot_id, now = tender.lot.id, manual_clock.now()
    deposits = await pay_deposits(lot_id)
    deposits[0].status, deposits[0].overdue_flagged_at = "refund_due", now
    await deposits[0].save()
    letters = await issue_guarantees(lot_id)
    bidder = tender.bidders[0].org.id
    objection = await Objection.create(
        lot_id=lot_id,
        stage="publicity",
        organisation_id=bidder,
        raised_by=1,
        reasons="异议-scope-marker",
        evidence=[],
        status="overdue",
        raised_at=now,
        answer_due_at=now,
        overdue_at=now,
    )
    complaint = await Complaint.create(
        lot_id=lot_id,
        category="engineering_construction",
        organisation_id=bidder,
        filed_by=1,
        subject="candidates",
        knew_on=now.date(),
        reasons="投诉-scope-marker",
        requests="重新评标",
        evidence=[],
        status="submitted",
        filed_at=now,
        accept_due_at=now,
        overdue_at=now,
    )
    report = await Report.create(
        tracking_hash="0" * 64,
        lot_id=lot_id,
        category="engineering_construction",
        text="举报-scope-marker",
        evidence=[],
        status="received",
        received_at=now,
        updated_at=now,
    )
    alert = await CollusionAlert.create(
        lot_id=lot_id,
        signal="same_device",
        category="engineering_construction",
        region_code="370200",
        organisations=[{"id": bidder, "name": tender.bidders[0].org.name}],
        evidence=[{"note": "预警-scope-marker"}],
        status="new",
        raised_at=now,
        updated_at=now,
    )
    owners = {"Lot": lot_id, "Complaint": complaint.id, "Objection": objection.id, "Guarantee": letters[0].id}
    documents = []
    for name, purpose in PURPOSES.items():
        if purpose.owner_type not in owners:
            continue
        documents.append(
            await Document.create(
                sha256="a" * 64,
                size=1,
                name=f"{name}-scope-marker.pdf",
                media_type="application/pdf",
                kind="pdf",
                purpose=name,
                owner_type=purpose.owner_type,
                owner_id=owners[purpose.owner_type],
                lot_id=lot_id,
                organisation_id=bidder,
                scan_status="clean",
                created_at=now,
            )
        )
    registrations = await Registration.filter(lot_id=lot_id)
    bids = await SealedBid.filter(lot_id=lot_id)
    draws = await ExpertDraw.filter(lot_id=lot_id)
    ids = {
        "Lot": [lot_id],
        "Project": [tender.project.id],
        "Registration": [r.id for r in registrations],
        "DepositAccount": [d.id for d in deposits],
        "Guarantee": [g.id for g in letters],
        "SealedBidReceipt": [b.id for b in bids],
        "ExpertDraw": [d.id for d in draws],
        "Objection": [objection.id],
        "Complaint": [complaint.id],
        "Report": [report.id],
        "CollusionAlert": [alert.id],
        "Document": [d.id for d in documents],
        "ActSignature": [s.id for s in await ActSignature.filter(lot_id=lot_id)],
    }
    audited = {
        "Lot": [lot_id],
        **{k: ids[k] for k in ("Registration", "ExpertDraw")},
        "SealedBid": ids["SealedBidReceipt"],
    }
    gids = {kind: [to_global_id(kind, pk) for pk in pks] for kind, pks in ids.items()}
    experts = await Expert.filter(id__in=tender.committee).values_list("name", flat=True)
    markers = [
        *(g for kind, found in gids.items() if kind not in ("Lot", "Project") for g in found),
        *(d.reference for d in deposits),
        *(g.letter_no for g in letters),
        *(b.ciphertext_sha256 for b in bids),
        *(str(n) for n in experts),
        "scope-marker",
        # the lot's entries in an audit trail
        *(f'"objectType": "{kind}", "objectId": "{pk}"' for kind, pks in audited.items() for pk in pks),
    ]
    return tender, gids, markers


def lot_bound_calls(
    gids: dict[str, list[str]], purposes: list[str], committee: Sequence[int] = ()
) -> dict[str, list[dict[str, Any]]]:
    """The arguments each lot-bound query is walked with: the lot, its objects, or none for a list."""
    lot = {"lotId": gids["Lot"][0]}
    year = {"period": "YEAR", "startsOn": "2026-01-01", "endsOn": "2027-12-31"}
    owner_of = {name: p.owner_type for name, p in PURPOSES.items()}
    return {
        **{
            name: [lot]
            for name in (
                "ocdsReleases",
                "ocdsRecord",
                "lotRegistrations",
                "lotDeposits",
                "lotGuarantees",
                "auction",
                "auctionBids",
                "auctionBidBatch",
                "openingRecord",
                "expertDraws",
                "evaluation",
                "evaluationBids",
                "lotResult",
                "lotSuspension",
                "lotAuditTrail",
                "evidencePackage",
                "lotNotices",
                "lotNoticesConnection",
                "expertNotices",
                "expertConflictReports",
                "lotQuestions",
                "lotClarifications",
                "lotInvitations",
                "listing",
                "listingOffers",
                "negotiation",
                "negotiationThread",
                "negotiationOffers",
                "negotiationSuppliers",
                "qualificationCriteria",
                "qualificationReview",
                "lotCreditIncentives",
                "lotCreditCommitments",
                "evaluationSignatures",
                "witnessRecords",
                "witnessRecordToSign",
                "lotBookings",
                "treasuryPayments",
                "myPlatformRating",
            )
        },
        "provincialMessages": [{}, lot],
        "dataQualityReport": [{}, lot, {"category": "ENGINEERING_CONSTRUCTION"}],
        "statisticsReports": [{}],
        "treasuryMismatches": [{"day": "2026-11-02"}],
        "platformRatingReport": [year, {**year, "category": "ENGINEERING_CONSTRUCTION"}],
        "evaluationToSign": [{**lot, "kind": "SHEET"}, {**lot, "kind": "REPORT"}],
        **{
            name: [{}]
            for name in (
                "overdueRefunds",
                "supervisedComplaints",
                "supervisedObjections",
                "overdueComplaints",
                "overdueObjections",
                "supervisedReports",
                "expertStatistics",
                "supervisedCreditRepairs",
            )
        },
        "collusionAlerts": [{}, lot],
        "expertFees": [{}, lot],
        "expertRecord": [{"expertId": to_global_id("Expert", e)} for e in committee],
        "collusionAlert": [{"id": g} for g in gids["CollusionAlert"]],
        "complaint": [{"id": g} for g in gids["Complaint"]],
        "objection": [{"id": g} for g in gids["Objection"]],
        "signatureVerify": [{"signatureId": g} for g in gids["ActSignature"]],
        "auditTrail": [{}, *({"objectType": t} for t in sorted(scope.lot_bound_types()))],
        "tradingStatistics": [year, {**year, "category": "ENGINEERING_CONSTRUCTION"}],
        "tradingStatisticsCsv": [year, {**year, "category": "ENGINEERING_CONSTRUCTION"}],
        "documents": [
            {"purpose": purpose, "ownerId": gids[owner_of[purpose.lower()]][0]}
            for purpose in purposes
            if owner_of[purpose.lower()] in gids
        ],
        "documentUpload": [{"id": "no-such-upload"}],
        "node": [{"id": g, ON: kind} for kind, found in gids.items() for g in found],
        "nodes": [{"ids": found, ON: kind} for kind, found in gids.items() if found],
    }


ON = "__on"  # a call's key (not an argument): the Node type its id is of
REFUSALS = {"FORBIDDEN", "UNAUTHENTICATED", "NOT_FOUND"}
LIMITS = {"QUERY_TOO_DEEP", "QUERY_TOO_COSTLY", "TOO_MANY_TOKENS", "TOO_MANY_ALIASES"}
# what the supervisor of the lot's category reads in this walk: the proof that the markers are the lot's
KEEPER_READS = {
    "lotRegistrations",
    "lotDeposits",
    "lotGuarantees",
    "lotAuditTrail",
    "auditTrail",
    "overdueRefunds",
    "supervisedComplaints",
    "supervisedObjections",
    "overdueComplaints",
    "overdueObjections",
    "supervisedReports",
    "collusionAlerts",
    "collusionAlert",
    "complaint",
    "objection",
    "documents",
    "expertDraws",
    "node",
    "nodes",
}


async def test_every_query_a_supervisor_can_call_returns_nothing_of_a_lot_of_another_category(api, manual_clock):
    # given an engineering lot with every kind of record, the supervisors of its category and of another, and
    # a bidder that has nothing to do with the lot
    tender, gids, markers = await a_lot_with_every_record(manual_clock)
    await api.dispatch()
    operator = await f.operator_token(api)
    keeper = await f.login(api, await category_supervisor_phone(api, operator, "ENGINEERING_CONSTRUCTION"))
    other = await f.login(api, await category_supervisor_phone(api, operator, "GOVERNMENT_PROCUREMENT"))
    _, _, outsider = await f.approved_org(api, operator)
    served = (await api.gql(INTROSPECT, token=other))["data"]["__schema"]
    fields = {q["name"]: q for q in served["queryType"]["fields"]}
    purposes = (await api.gql(PURPOSE_VALUES))["data"]["__type"]["enumValues"]
    calls = lot_bound_calls(gids, [v["name"] for v in purposes], tender.committee)
    selections = Selections(served["types"])
    # then every query is classified: walked below, or not bound to a lot for a stated reason
    assert set(fields) - set(NOT_LOT_BOUND) - set(calls) == set(), "classify the new queries here"
    assert set(NOT_LOT_BOUND) & set(calls) == set()

    async def ask(token: str, name: str, call: dict[str, Any]) -> Any:
        args = {k: v for k, v in call.items() if k != ON}
        for depth in (5, 4, 3, 2):
            document = selections.document(fields[name], args, depth, call.get(ON))
            body = await api.gql(document, args, token=token, expect_errors=True)
            codes = {(e.get("extensions") or {}).get("code") for e in body.get("errors") or []}
            if not codes & LIMITS:
                assert codes <= REFUSALS, (name, args, body["errors"])
                return body.get("data")
        raise AssertionError(f"{name}: no selection within the limits")

    def leaks(answer: Any) -> list[str]:
        text = json.dumps(answer, ensure_ascii=False)
        return [m for m in markers if m in text]

    # when the supervisor of government procurement calls each of them about the lot and its objects
    kept, leaked = set(), []
    for name, arguments in calls.items():
        if name not in fields:
            continue
        for args in arguments:
            seen = await ask(other, name, args)
            # then nothing of the lot comes back, except what a bidder with no part in it reads as well
            if leaks(seen) and seen != await ask(outsider, name, args):
                leaked.append((name, args, leaks(seen)))
            if leaks(await ask(keeper, name, args)):
                kept.add(name)
    assert leaked == [], "\n".join(f"{name} {args}: {found[:3]}" for name, args, found in leaked)
    # and the supervisor of engineering construction reads the lot's records through the same calls
    assert KEEPER_READS - kept == set()


LIVE = """subscription { events(types: ["registration.created", "calendar.day_set"]) { type objectType payload } }"""
CALENDAR_SET = """mutation($input: CalendarDaySetInput!) { calendarDaySet(input: $input) { __typename } }"""


async def test_live_events_of_a_lot_reach_the_supervisors_of_its_category_only(api, manual_clock):
    # given an engineering lot, and its supervisor and a supervisor of government procurement watching live
    operator = await f.operator_token(api)
    project, _, _ = await open_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    _, _, bidder = await f.approved_org(api, operator)
    keeper = await f.login(api, await category_supervisor_phone(api, operator, "ENGINEERING_CONSTRUCTION"))
    other = await f.login(api, await category_supervisor_phone(api, operator, "GOVERNMENT_PROCUREMENT"))
    await api.dispatch()
    watching = []
    for token in (keeper, other):
        ws = await ws_connect(api.ws_url, {"authorization": f"Bearer {token}"})
        assert (await next_message(ws))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": LIVE}}))
        watching.append(ws)
    try:
        # when a bidder registers for the lot, and then the operator sets a day of the calendar (no lot's)
        await asyncio.sleep(0.2)  # the subscriptions are listening
        await commit_over_api(api, bidder, lot_id, "registration")
        registered = (await api.gql(REGISTER, {"input": {"lotId": lot_id}}, token=bidder))["data"]["lotRegister"]
        assert registered["__typename"] == "LotRegistered", registered
        await api.dispatch()
        day = {"day": "2027-01-01", "working": False, "name": "元旦"}
        assert (await api.gql(CALENDAR_SET, {"input": day}, token=operator))["data"]["calendarDaySet"][
            "__typename"
        ] == ("CalendarDayUpdated")
        await api.dispatch()
        # then the lot's supervisor hears of the registration, then of the calendar; the other of the calendar only
        heard = [
            [(await next_message(ws))["payload"]["data"]["events"]["type"] for _ in range(n)]
            for ws, n in zip(watching, (2, 1), strict=True)
        ]
        assert heard == [["registration.created", "calendar.day_set"], ["calendar.day_set"]]
    finally:
        for ws in watching:
            await ws.close()
