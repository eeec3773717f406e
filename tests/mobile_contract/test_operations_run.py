"""Every stored operation runs against the served API, sent as its client sends it.

The app sends with a bidder's access token (the evaluation screens an expert's, the objection answer
the tenderer's, the supervisor screens a supervisor's, the working calendar an operator's, reports
none), an integrator with its client-credentials token, a kiosk with its terminal token (none to
sign in), and the kiosk's QR session reads with the session token the kiosk redeemed after the app
approved its QR code.
A typed Error member or a null for an object the caller may not see is a fine answer; a top-level
GraphQL error is not.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tongsuopy.crypto import serialization as sm_serialization
from tongsuopy.crypto.asymciphers import ec as sm_ec

from domain.accounts import third_party
from domain.credit import exchange as credit_exchange
from mobile_contract import gate
from mobile_contract.sealed_bid import new_key, seal
from schema.relay import to_global_id
from tests import factories as f
from tests.scenarios.test_auction import START_PRICE, auction_lot
from tests.scenarios.test_deposits import supervisor_phone
from tests.scenarios.test_expert_draw import EXPERT_ADD, SPECIALTY, id_number
from tests.scenarios.test_kiosk import kiosk_terminal
from tests.scenarios.test_live_events import next_message, ws_connect
from tests.scenarios.test_results import today
from tests.scenarios.test_sealed_bids import registered_bidder, sealed_lot
from tests.scenarios.test_third_party_systems import WRITES, accredited, authorise, project_form, token_for
from tests.scenarios.test_witness import witness
from tests.schema.test_integrators import client_token, create_client
from tests.support.complaints import evidence_input
from tests.support.guarantor import Guarantor
from tests.support.pki import TestCA, pem

DOCUMENTS = {op.name: op for op in gate.load_operations()}
PRICE = 1_199_000_000


@dataclass
class World:
    """What the operations need: a published sealed tender, an auction, a bidder, an expert, an integrator,
    the tender's supervisor and a signed-in terminal."""

    lot_id: str
    trade_code: str
    project_id: str
    auction_id: str
    announcement_id: str
    bidder_phone: str
    expert_phone: str
    guarantor_id: str
    today: str
    terminal_device_id: str
    terminal_secret: str
    tokens: dict[str, str | None]
    got: dict[str, Any] = field(default_factory=dict)


async def build_world(api: Any, clock: Any) -> World:
    operator = await f.operator_token(api)
    project, tenderer, _ = await sealed_lot(api, clock, operator)
    lot = project["lots"][0]
    bidder_phone, bidder = await registered_bidder(api, operator, lot["id"])
    auction_id, _, _ = await auction_lot(api, clock, operator, reserve=START_PRICE)
    guarantor = await Guarantor.open(api, operator)
    expert_phone = f.new_phone()
    form = {"name": "王专家", "idNumber": id_number(), "phone": expert_phone, "specialties": [SPECIALTY]}
    added = (await api.gql(EXPERT_ADD, {"input": form}, token=operator))["data"]["expertAdd"]
    assert added["__typename"] == "ExpertAdded", added
    scopes = ["announcements:read", "results:read", "feed:read", "ocds:read", "entities:read", "credit:read"]
    client = await create_client(api, operator, scopes=[*scopes, "credit:write"])
    integrator = (await client_token(api, client["client"]["clientId"], client["clientSecret"]))["access_token"]
    supervisor = await f.login(api, await supervisor_phone(api, operator))
    # the platform's SM2 key for SM2SM3 credit exports (the api fixture plugs the environment's, none, back next test)
    credit_exchange.configure_sm2(
        sm_ec.generate_private_key(sm_ec.SM2()).private_bytes(
            sm_serialization.Encoding.PEM, sm_serialization.PrivateFormat.PKCS8, sm_serialization.NoEncryption()
        )
    )
    terminal, secret = await kiosk_terminal(api, operator)
    _, witness_token, _ = await witness(api, operator)
    # an accredited third-party system the tenderer authorised for every write scope: its delegated token
    system_client, system = await accredited(api, clock, operator, scopes=[*WRITES, "results:write"])
    granted = await authorise(api, clock, tenderer, system, sorted(third_party.WRITE_SCOPES))
    assert granted["__typename"] == "ThirdPartyAuthorised", granted
    tenderer_org = (await api.gql("query { me { organisation { id } } }", token=tenderer))["data"]["me"]
    delegated = await token_for(api, system_client, tenderer_org["organisation"]["id"])
    assert delegated.status_code == 200, delegated.text
    credential = {"input": {"deviceId": terminal["deviceId"], "secret": secret}}
    signed = (await send(api, "TerminalSignIn", credential, None))["data"]["terminalSignIn"]
    assert signed["__typename"] == "TerminalSignedIn", signed
    await api.dispatch()
    listed = await api.gql("query { announcements(first: 1) { nodes { id } } }")
    return World(
        lot_id=lot["id"],
        trade_code=lot["tradeCode"],
        project_id=project["id"],
        auction_id=auction_id,
        announcement_id=listed["data"]["announcements"]["nodes"][0]["id"],
        bidder_phone=bidder_phone,
        expert_phone=expert_phone,
        guarantor_id=guarantor.org_id,
        today=today(clock),
        terminal_device_id=terminal["deviceId"],
        terminal_secret=secret,
        tokens={
            "app": bidder,
            TENDERER: tenderer,
            SUPERVISOR: supervisor,
            OPERATOR: operator,
            ANONYMOUS: None,
            "kiosk": signed["session"]["accessToken"],
            KIOSK_DEVICE: None,
            "integrator": integrator,
            THIRD_PARTY: delegated.json()["access_token"],
            WITNESS: witness_token,
        },
    )


def sms_code(api: Any, phone: str) -> str:
    text = [t for to, t in api.sms if to == phone][-1]
    return re.search(r"(\d{6})", text).group(1)  # type: ignore[union-attr]


Vars = Callable[[World], dict[str, Any]]
EXPERT = "expert"  # the app's evaluation screens send the expert's token
TENDERER = "tenderer"  # the app's tenderer answers objections
SUPERVISOR = "supervisor"  # the app's supervisor screens (complaints, reports, alerts of its category)
OPERATOR = "operator"  # the app's operator screens (the working-day calendar)
ANONYMOUS = "anonymous"  # the app without a token (reports)
KIOSK_DEVICE = "kiosk-device"  # a kiosk before it signs in
KIOSK_SESSION = "kiosk-session"  # a kiosk's QR session for the app user who approved it
THIRD_PARTY = "third-party"  # an accredited system acting for the tenderer (an integrator's delegated token)
WITNESS = "witness"  # the app's witness screens (见证): a person of a witness organisation
CLIENT_OF = {
    "app": "app",
    EXPERT: "app",
    TENDERER: "app",
    SUPERVISOR: "app",
    OPERATOR: "app",
    ANONYMOUS: "app",
    "kiosk": "kiosk",
    KIOSK_DEVICE: "kiosk",
    KIOSK_SESSION: "kiosk",
    "integrator": "integrator",
    THIRD_PARTY: "integrator",
    WITNESS: "app",
}

# In the order a client would send them: later ones use what earlier answers gave (world.got).
APP: list[tuple[str, Vars] | tuple[str, Vars, str]] = [
    ("Catalogue", lambda w: {"parent": "370000"}),
    ("AnnouncementList", lambda w: {"filter": {"regions": ["370200"]}, "first": 5}),
    ("AnnouncementSearch", lambda w: {"query": "道路 维修"}),
    ("AnnouncementDetail", lambda w: {"id": w.announcement_id}),
    ("ProjectDetail", lambda w: {"id": w.project_id}),
    ("LotDetail", lambda w: {"id": w.lot_id}),
    ("CreditPublicRecords", lambda w: {"first": 5}, ANONYMOUS),
    ("CreditCommitmentText", lambda w: {}),
    ("CreditCommitmentSign", lambda w: {"input": {"lotId": w.lot_id, "stage": "REGISTRATION", "version": 1}}),
    ("MyCreditRepairs", lambda w: {}),
    ("TreasuryPayments", lambda w: {"lotId": w.lot_id}),
    (
        "TreasuryPaymentRequest",
        lambda w: {
            "input": {
                "kind": "CONTRACT",
                "lotId": w.lot_id,
                "amountFen": 100,
                "payeeAccount": "6222020000000000001",
                "purpose": "进度款",
                "idempotencyKey": "treasury-1",
            }
        },
    ),
    (
        "CreditRepairApply",
        lambda w: {
            "input": {
                "publicationId": to_global_id("CreditPublication", 1),
                "statement": "已整改",
                "documentIds": [to_global_id("Document", 1)],
            }
        },
    ),
    ("SignUp", lambda w: {"input": f.registration()}),
    ("SignIn", lambda w: {"input": {"phone": w.bidder_phone, "password": f.PASSWORD}}),
    ("RefreshSession", lambda w: {"input": {"refreshToken": w.got["SignIn"]["session"]["refreshToken"]}}),
    ("SmsCodeRequest", lambda w: {"input": {"phone": w.bidder_phone}}),
    ("SmsSignIn", lambda w: {"input": {"phone": w.bidder_phone, "code": w.got["sms"]}}),
    ("Me", lambda w: {}),
    # certificates (CA互认): the operator recognises a CA with its CRL, the bidder binds a certificate of it,
    # signs in with it and an SMS code, lists and unbinds it; a supervisor checks a signature
    ("CertificateAuthorityRegister", lambda w: ca_register(w, "root"), OPERATOR),
    ("CertificateCrlUpload", lambda w: crl_upload(w, "root"), OPERATOR),
    ("CertificateAuthorityRegister", lambda w: ca_register(w, "intermediate"), OPERATOR),
    ("CertificateCrlUpload", lambda w: crl_upload(w, "intermediate"), OPERATOR),
    ("CertificateAuthorities", lambda w: {"first": 10}, OPERATOR),
    ("CertificateChallenge", lambda w: {"input": {"purpose": "BIND"}}),
    ("CertificateBind", lambda w: certificate_proof(w)),
    ("MyCertificates", lambda w: {}),
    ("CertificateChallenge", lambda w: {"input": {"purpose": "SIGN_IN"}}, ANONYMOUS),
    ("CertificateSignIn", lambda w: certificate_proof(w), ANONYMOUS),
    ("SignatureVerify", lambda w: {"signatureId": to_global_id("ActSignature", 1)}, SUPERVISOR),
    ("CertificateUnbind", lambda w: {"input": {"certificateId": w.got["CertificateBind"]["certificate"]["id"]}}),
    ("MySavedSearches", lambda w: {}),
    ("SavedSearchCreate", lambda w: {"input": {"name": "道路工程", "keywords": "道路", "regions": ["370200"]}}),
    ("SavedSearchDelete", lambda w: {"input": {"savedSearchId": w.got["SavedSearchCreate"]["savedSearch"]["id"]}}),
    ("LotRegister", lambda w: {"input": {"lotId": w.auction_id}}),
    ("LotWithdraw", lambda w: {"input": {"lotId": w.auction_id}}),
    ("MyRegistrations", lambda w: {}),
    ("MyCreditRating", lambda w: {}),
    ("LotCreditIncentives", lambda w: {"lotId": w.lot_id}),
    ("MySecurityRelief", lambda w: {"lotId": w.lot_id}),
    ("Guarantors", lambda w: {}),
    (
        "GuaranteeApply",
        lambda w: {
            "input": {
                "lotId": w.lot_id,
                "guarantorId": w.guarantor_id,
                "amountFen": 1_000_000,
                "validUntil": "2099-01-01T00:00:00+00:00",
                "payerAccount": "6222 0216 0001 2345 678",
            }
        },
    ),
    ("MyGuarantees", lambda w: {"lotId": w.lot_id}),
    ("BidSubmitLots", lambda w: {"input": {"bids": [{"lotId": w.lot_id, "sealedBid": w.got["sealed"]}]}}),
    ("BidSubmit", lambda w: {"input": {"lotId": w.lot_id, "sealedBid": w.got["sealed"]}}),
    ("BidWithdraw", lambda w: {"input": {"lotId": w.lot_id}}),
    ("MySealedBids", lambda w: {"lotId": w.lot_id}),
    ("QuestionAsk", lambda w: {"input": {"lotId": w.lot_id, "text": "工期能否调整？"}}),
    ("LotQuestions", lambda w: {"lotId": w.lot_id}),
    (
        "ClarificationPublish",
        lambda w: {
            "input": {"lotId": w.lot_id, "changesDocuments": False, "title": "澄清（第1号）", "bodyHtml": "<p>说明</p>"}
        },
        TENDERER,
    ),
    ("LotClarifications", lambda w: {"lotId": w.lot_id}),
    ("BidConfirm", lambda w: {"input": {"lotId": w.lot_id}}),
    ("LotInvite", lambda w: {"input": {"lotId": w.lot_id, "organisationIds": []}}, TENDERER),
    ("LotInvitations", lambda w: {"lotId": w.lot_id}, TENDERER),
    ("MyInvitations", lambda w: {}),
    ("BidDecrypt", lambda w: {"input": {"lotId": w.lot_id, "key": w.got["key"]}}),
    ("OpeningObject", lambda w: {"input": {"lotId": w.lot_id, "text": "报价明显低于成本"}}),
    ("OpeningRecord", lambda w: {"lotId": w.lot_id}),
    ("ExpertCodeRequest", lambda w: {"input": {"phone": w.expert_phone}}),
    ("ExpertSignIn", lambda w: {"input": {"phone": w.expert_phone, "code": w.got["expertSms"]}}),
    ("ExpertMe", lambda w: {}, EXPERT),
    ("Evaluation", lambda w: {"lotId": w.lot_id}, EXPERT),
    ("EvaluationBids", lambda w: {"lotId": w.lot_id}, EXPERT),
    ("ExpertNoticeAnswer", lambda w: {"input": {"lotId": w.lot_id, "confirm": True}}, EXPERT),
    ("MyScoreSheet", lambda w: {"lotId": w.lot_id}, EXPERT),
    ("EvaluationSheetSubmit", lambda w: {"input": {"lotId": w.lot_id, "entries": []}}, EXPERT),
    # the expert app: availability, conflicts, its record, certificates and signing (the lot is not being evaluated:
    # typed refusals or nothing to sign); tests/mobile_contract/test_expert_app.py runs the signing journey itself
    ("ExpertAvailabilitySet", lambda w: {"input": {"days": [w.today], "busy": True}}, EXPERT),
    (
        "ExpertConflictDeclare",
        lambda w: {"input": {"relation": "former_employer", "entityName": "青岛某设计院"}},
        EXPERT,
    ),
    (
        "ExpertConflictReport",
        lambda w: {"input": {"lotId": w.lot_id, "conflict": {"relation": "named_entity", "entityName": "某公司"}}},
        EXPERT,
    ),
    ("ExpertRecord", lambda w: {"expertId": w.got["ExpertSignIn"]["session"]["expert"]["id"]}, EXPERT),
    ("MyExpertCertificates", lambda w: {}, EXPERT),
    ("ExpertCertificateBind", lambda w: {"input": {"certificate": "x", "challenge": "x", "signature": "x"}}, EXPERT),
    ("EvaluationToSign", lambda w: {"lotId": w.lot_id, "kind": "SHEET"}, EXPERT),
    ("EvaluationFaceStart", lambda w: {"input": {"lotId": w.lot_id, "kind": "SHEET"}}, EXPERT),
    ("EvaluationSign", lambda w: {"input": {"lotId": w.lot_id, "kind": "SHEET"}}, EXPERT),
    ("EvaluationSignatures", lambda w: {"lotId": w.lot_id}, EXPERT),
    (
        "ExpertApply",
        lambda w: {
            "input": {
                "name": "李申请",
                "idNumber": id_number(),
                "phone": f.new_phone(),
                "specialties": [SPECIALTY],
                "title": "高级工程师",
                "employerName": "青岛某设计院",
                "documentIds": [],
            }
        },
    ),
    ("ExpertApplications", lambda w: {}),
    # a witness (见证) not assigned to the lot: nothing of it to read, typed refusals
    ("MyWitnessLots", lambda w: {}, WITNESS),
    ("WitnessRecords", lambda w: {"lotId": w.lot_id}, WITNESS),
    (
        "WitnessObserve",
        lambda w: {"input": {"lotId": w.lot_id, "stage": "OPENING", "kind": "OBSERVATION", "text": "开标准时"}},
        WITNESS,
    ),
    ("WitnessRecordToSign", lambda w: {"lotId": w.lot_id}, WITNESS),
    ("WitnessRecordSign", lambda w: {"input": {"lotId": w.lot_id, "certificate": "x", "signature": "x"}}, WITNESS),
    # post-qualification (资格后审): this lot has no criteria, so the judgement answers NO_QUALIFICATION_CRITERIA
    ("QualificationCriteria", lambda w: {"lotId": w.lot_id}),
    ("QualificationReview", lambda w: {"lotId": w.lot_id}, EXPERT),
    (
        "QualificationJudge",
        lambda w: {
            "input": {
                "lotId": w.lot_id,
                "entries": [
                    {
                        "sealedBidId": to_global_id("SealedBidReceipt", 1),
                        "criterionId": to_global_id("QualificationCriterion", 1),
                        "passed": True,
                    }
                ],
            }
        },
        EXPERT,
    ),
    ("MyQualificationOutcome", lambda w: {"lotId": w.lot_id}),
    (
        "LotQualificationCriteriaSet",
        lambda w: {"input": {"lotId": w.lot_id, "criteria": [{"kind": "QUALIFICATION", "description": "二级资质"}]}},
        TENDERER,
    ),
    # negotiation and consultation (this lot is a tender: each answers NOT_A_NEGOTIATION or null)
    ("Negotiation", lambda w: {"lotId": w.lot_id}),
    ("NegotiationThread", lambda w: {"lotId": w.lot_id}),
    ("NegotiationOffers", lambda w: {"lotId": w.lot_id}, EXPERT),
    ("NegotiationStart", lambda w: {"input": {"lotId": w.lot_id}}, OPERATOR),
    ("NegotiationRoundOpen", lambda w: {"input": {"lotId": w.lot_id}}, TENDERER),
    ("NegotiationPost", lambda w: {"input": {"lotId": w.lot_id, "text": "第1轮：交货期说明"}}),
    ("NegotiationFinalOffersCall", lambda w: {"input": {"lotId": w.lot_id}}, TENDERER),
    ("NegotiationSuppliers", lambda w: {"lotId": w.lot_id}, TENDERER),
    (
        "NegotiationEliminate",
        lambda w: {
            "input": {
                "lotId": w.lot_id,
                "organisationId": to_global_id("Organisation", 1),
                "reason": "技术响应不满足要求",
            }
        },
        TENDERER,
    ),
    ("FinalOfferSubmit", lambda w: {"input": {"lotId": w.lot_id, "sealedOffer": w.got["sealed"]}}),
    ("FinalOfferDecrypt", lambda w: {"input": {"lotId": w.lot_id, "key": w.got["key"]}}),
    ("NegotiationSheetSubmit", lambda w: {"input": {"lotId": w.lot_id, "entries": []}}, EXPERT),
    ("AuctionState", lambda w: {"lotId": w.auction_id}),
    ("MyBidderNumber", lambda w: {"lotId": w.auction_id}),
    ("BidPlace", lambda w: {"input": {"lotId": w.auction_id, "amountFen": START_PRICE}}),
    ("AuctionBidsAfter", lambda w: {"lotId": w.auction_id, "afterSeq": 0}),
    # a listing's screens, asked of the auction's lot (no listing: null, an empty history, NOT_FOUND)
    ("ListingState", lambda w: {"lotId": w.auction_id}),
    ("ListingOffers", lambda w: {"lotId": w.auction_id, "afterSeq": 0}),
    ("ListingOfferPlace", lambda w: {"input": {"lotId": w.auction_id, "amountFen": START_PRICE}}),
    ("LotResult", lambda w: {"lotId": w.lot_id}),
    ("ResultConfirm", lambda w: {"input": {"lotId": w.lot_id}}),
    # after the award (none here: each answers a union member) and the lot's contract and cancellations
    ("AwardWithdraw", lambda w: {"input": {"lotId": w.lot_id, "ground": "DECLINED", "detail": "放弃中标"}}),
    ("AwardNext", lambda w: {"input": {"lotId": w.lot_id, "candidateRank": 2}}, TENDERER),
    (
        "CancellationPublish",
        lambda w: {
            "input": {
                "projectId": to_global_id("Project", 10**9),
                "lotId": w.lot_id,
                "ground": "TENDER_TERMINATED",
                "explanation": "终止招标",
                "documentIds": [to_global_id("Document", 10**9)],
            }
        },
        TENDERER,
    ),
    (
        "ContractDraft",
        lambda w: {
            "input": {
                "lotId": w.lot_id,
                "contractNo": "HT-1",
                "amountFen": PRICE,
                "documentIds": [to_global_id("Document", 10**9)],
            }
        },
        TENDERER,
    ),
    (
        "ContractSign",
        lambda w: {"input": {"lotId": w.lot_id, "signature": {"certificate": "MIIB", "signature": "AAAA"}}},
    ),
    (
        "ContractChange",
        lambda w: {
            "input": {
                "lotId": w.lot_id,
                "ground": "SUPPLEMENT",
                "rationale": "追加",
                "amountFen": PRICE + 1,
                "documentIds": [to_global_id("Document", 10**9)],
            }
        },
        TENDERER,
    ),
    (
        "ContractTerminate",
        lambda w: {"input": {"lotId": w.lot_id, "ground": "BREACH", "explanation": "违约", "documentIds": []}},
        TENDERER,
    ),
    (
        "ContractAccept",
        lambda w: {
            "input": {
                "lotId": w.lot_id,
                "acceptedOn": "2026-01-05",
                "passed": True,
                "summary": "合格",
                "documentIds": [to_global_id("Document", 10**9)],
            }
        },
        TENDERER,
    ),
    (
        "ContractPaymentRecord",
        lambda w: {
            "input": {
                "lotId": w.lot_id,
                "amountFen": 100,
                "paidOn": "2026-01-05",
                "milestone": "进度款",
                "reference": "PZ-1",
            }
        },
        TENDERER,
    ),
    ("LotAfterAward", lambda w: {"lotId": w.lot_id}),
    (
        "DeviceRegister",
        lambda w: {
            "input": {
                "provider": "FCM",
                "token": "contract-test-push-token-000001",
                "platform": "ANDROID",
                "appVersion": "1.0.0",
                "locale": "zh-CN",
                "installationId": "install-1",
            }
        },
    ),
    ("MyDevices", lambda w: {}),
    ("MySsoConsents", lambda w: {}),
    ("SsoConsentRevoke", lambda w: {"input": {"clientId": "sso_0000000000000000"}}),
    ("SsoCertificateApprove", lambda w: {"input": {"challenge": "x" * 43, "certificate": "x", "signature": "x"}}),
    ("PasswordChange", lambda w: {"input": {"currentPassword": "not-the-password1", "newPassword": "qingdao2027new"}}),
    (
        "PasswordReset",
        lambda w: {"input": {"phone": "13700009999", "code": "000000", "newPassword": "qingdao2027new"}},
        ANONYMOUS,
    ),
    ("Inbox", lambda w: {"first": 10}),
    ("NotificationsMarkRead", lambda w: {"input": {"ids": w.got["inbox"][:1]}}),
    ("NotificationsMarkAllRead", lambda w: {"input": {}}),
    ("NotificationsDelete", lambda w: {"input": {"ids": w.got["inbox"][:1]}}),
    ("NotificationPreferences", lambda w: {}),
    (
        "NotificationPreferencesUpdate",
        lambda w: {
            "input": {
                "muted": [{"kind": "SAVED_SEARCH_MATCHED", "channel": "PUSH"}],
                "quietHoursStarts": "22:00",
                "quietHoursEnds": "07:00",
            }
        },
    ),
    ("DeviceUnregister", lambda w: {"input": {"token": "contract-test-push-token-000001"}}),
    ("SignOut", lambda w: {"input": {"refreshToken": w.got["SmsSignIn"]["session"]["refreshToken"]}}),
    # objections: raised and withdrawn, raised again and answered by the tenderer
    ("ObjectionRaise", lambda w: objection_form(w, "contract-objection-1")),
    ("ObjectionWithdraw", lambda w: {"input": {"objectionId": w.got["ObjectionRaise"]["objection"]["id"]}}),
    ("ObjectionRaise", lambda w: objection_form(w, "contract-objection-2")),
    (
        "ObjectionAnswer",
        lambda w: {"input": {"objectionId": w.got["ObjectionRaise"]["objection"]["id"], "answer": "评分标准已修改"}},
        TENDERER,
    ),
    ("MyObjections", lambda w: {}),
    ("Objection", lambda w: {"id": w.got["ObjectionRaise"]["objection"]["id"]}),
    ("OverdueObjections", lambda w: {}, SUPERVISOR),
    ("SupervisedObjections", lambda w: {"status": "ANSWERED"}, SUPERVISOR),
    # complaints: filed and withdrawn, filed again, accepted, the lot suspended and lifted, decided
    ("ComplaintFile", lambda w: complaint_form(w, "contract-complaint-1")),
    ("ComplaintWithdraw", lambda w: complaint_act(w)),
    ("ComplaintFile", lambda w: complaint_form(w, "contract-complaint-2")),
    ("MyComplaints", lambda w: {}),
    ("Complaint", lambda w: {"id": w.got["ComplaintFile"]["complaint"]["id"]}),
    ("SupervisedComplaints", lambda w: {"status": "SUBMITTED"}, SUPERVISOR),
    ("ComplaintAccept", lambda w: complaint_act(w), SUPERVISOR),
    (
        "ComplaintSuspendLot",
        lambda w: {"input": {"complaintId": w.got["ComplaintFile"]["complaint"]["id"], "reason": SUSPENDED}},
        SUPERVISOR,
    ),
    ("KioskLotSuspension", lambda w: {"lotId": w.lot_id}, "kiosk"),  # the hall shows it while in force
    ("ComplaintLiftSuspension", lambda w: complaint_act(w), SUPERVISOR),
    (
        "ComplaintDecide",
        lambda w: {
            "input": {
                "complaintId": w.got["ComplaintFile"]["complaint"]["id"],
                "decision": "UPHELD",
                "reasons": "招标人与投标人存在控股关系，投诉成立",
            }
        },
        SUPERVISOR,
    ),
    ("OverdueComplaints", lambda w: {}, SUPERVISOR),
    # a third complaint, refused (不予受理)
    ("ComplaintFile", lambda w: complaint_form(w, "contract-complaint-3")),
    (
        "ComplaintRefuse",
        lambda w: {"input": {"complaintId": w.got["ComplaintFile"]["complaint"]["id"], "reason": REFUSED}},
        SUPERVISOR,
    ),
    # reports: anyone, without signing in
    (
        "ReportFile",
        lambda w: {
            "input": {"lotId": w.lot_id, "text": "有投标人借用资质投标", "evidence": evidence_input("照片.jpg")}
        },
        ANONYMOUS,
    ),
    ("ReportStatus", lambda w: {"trackingCode": w.got["ReportFile"]["trackingCode"]}, ANONYMOUS),
    # the supervisor investigates the report and closes it
    ("SupervisedReports", lambda w: {"status": "RECEIVED"}, SUPERVISOR),
    ("ReportInvestigate", lambda w: {"input": {"reportId": report_id(w)}}, SUPERVISOR),
    ("ReportClose", lambda w: {"input": {"reportId": report_id(w), "outcome": CLOSED}}, SUPERVISOR),
    # supervision: collusion alerts (none raised on this lot: a missing one reads null, moves NOT_FOUND)
    ("CollusionAlerts", lambda w: {"lotId": w.lot_id}, SUPERVISOR),
    ("CollusionAlert", lambda w: {"id": alert_id(w)}, SUPERVISOR),
    (
        "CollusionAlertUpdate",
        lambda w: {"input": {"alertId": alert_id(w), "status": "INVESTIGATING", "note": "调取设备登记信息"}},
        SUPERVISOR,
    ),
    ("TradingStatistics", lambda w: statistics_range(w), SUPERVISOR),
    ("TradingStatisticsCsv", lambda w: statistics_range(w), SUPERVISOR),
    ("LotAuditTrail", lambda w: {"lotId": w.lot_id}, SUPERVISOR),
    ("EvidencePackage", lambda w: {"lotId": w.lot_id}, SUPERVISOR),
    ("EvidencePackageVerify", lambda w: {"jws": w.got["EvidencePackage"]["jws"]}, SUPERVISOR),
    ("LotArchiveBuild", lambda w: {"input": {"lotId": w.lot_id}}, SUPERVISOR),
    # files: the bidder asks for an upload grant for a bid file, reads the upload, lists and asks for a link
    (
        "DocumentUploadStart",
        lambda w: {
            "input": {
                "purpose": "BID_FILE",
                "ownerId": w.lot_id,
                "name": "技术标.pdf.age",
                "size": 2_000_000,
                "sha256": "ab" * 32,
            }
        },
    ),
    ("DocumentUpload", lambda w: {"id": (w.got["DocumentUploadStart"].get("upload") or {}).get("id", "none")}),
    ("Documents", lambda w: {"purpose": "TENDER_DOCUMENT", "ownerId": w.lot_id}),
    ("DocumentDownload", lambda w: {"input": {"documentId": to_global_id("Document", 1)}}),
    # the operator sets a day of a far year's calendar, reads it and clears it again
    (
        "CalendarDaySet",
        lambda w: {"input": {"day": CALENDAR_DAY, "working": False, "name": "合同测试休息日"}},
        OPERATOR,
    ),
    ("WorkingCalendar", lambda w: {"year": int(CALENDAR_DAY[:4])}, OPERATOR),
    ("CalendarDayClear", lambda w: {"day": CALENDAR_DAY}, OPERATOR),
    # the to-do screen; the operator keeps a room, books the lot's rooms, reads and cancels the booking
    ("MyTasks", lambda w: {}),
    ("RoomSave", lambda w: {"input": {"name": "合同测试开标室", "kind": "OPENING_HALL", "seats": 50}}, OPERATOR),
    ("Rooms", lambda w: {"kind": "OPENING_HALL"}, OPERATOR),
    ("VenueBook", lambda w: {"input": {"lotId": w.lot_id, "seats": 10, "idempotencyKey": "venue-1"}}, OPERATOR),
    ("LotBookings", lambda w: {"lotId": w.lot_id}, OPERATOR),
    ("VenueCancel", lambda w: {"input": {"bookingId": booking_id(w)}}, OPERATOR),
]
KIOSK: list[tuple[str, Vars] | tuple[str, Vars, str]] = [
    (
        "TerminalSignIn",
        lambda w: {"input": {"deviceId": w.terminal_device_id, "secret": w.terminal_secret}},
        KIOSK_DEVICE,
    ),
    ("KioskCatalogue", lambda w: {}),
    ("KioskCreditPublicRecords", lambda w: {"first": 5}),
    ("KioskAnnouncements", lambda w: {"filter": {"regions": ["370200"]}}),
    ("KioskAnnouncementSearch", lambda w: {"query": "道路"}),
    ("KioskAnnouncement", lambda w: {"id": w.announcement_id}),
    ("KioskLotResult", lambda w: {"lotId": w.lot_id}),
    ("KioskGuaranteeVerify", lambda w: {"letterNo": "BH-2026-000001", "verificationCode": "ABCD-1234"}),
    ("KioskAuction", lambda w: {"lotId": w.auction_id}),
    ("KioskAuctionBids", lambda w: {"lotId": w.auction_id, "afterSeq": 0}),
    ("KioskOpeningRecord", lambda w: {"lotId": w.lot_id}),
    ("KioskDocuments", lambda w: {"purpose": "TENDER_DOCUMENT", "ownerId": w.lot_id}),
    ("KioskDocumentDownload", lambda w: {"input": {"documentId": to_global_id("Document", 1)}}),
    ("KioskComplaintDecisions", lambda w: {}),
    ("KioskHallSchedule", lambda w: {}),
    # QR sign-in: the kiosk shows a code and polls, the bidder approves it on the app, the kiosk redeems it
    ("TerminalQrChallenge", lambda w: {}),
    ("TerminalQrRedeem", lambda w: {"input": {"challenge": w.got["TerminalQrChallenge"]["qr"]["challenge"]}}),
    ("QrApprove", lambda w: {"input": {"challenge": w.got["TerminalQrChallenge"]["qr"]["qrPayload"]}}, "app"),
    ("TerminalQrRedeem", lambda w: {"input": {"challenge": w.got["TerminalQrChallenge"]["qr"]["challenge"]}}),
    ("KioskMyRegistrations", lambda w: {}, KIOSK_SESSION),
    ("KioskMySealedBids", lambda w: {"lotId": w.lot_id}, KIOSK_SESSION),
    ("KioskMyGuarantees", lambda w: {"lotId": w.lot_id}, KIOSK_SESSION),
    ("KioskMyNotifications", lambda w: {}, KIOSK_SESSION),
    ("KioskMyUnreadNotificationCount", lambda w: {}, KIOSK_SESSION),
    ("KioskMyTasks", lambda w: {}, KIOSK_SESSION),
]
INTEGRATOR: list[tuple[str, Vars]] = [
    ("PublicAnnouncements", lambda w: {"first": 10}),
    ("ChangeFeed", lambda w: {"first": 50}),
    ("ChangedObject", lambda w: {"id": w.got["change"]}),
    ("OcdsReleases", lambda w: {"lotId": w.lot_id}),
    ("OcdsRecord", lambda w: {"lotId": w.lot_id}),
    ("IntegratorLotResult", lambda w: {"lotId": w.lot_id}),
    ("CreditExchangeExport", lambda w: {}),
    ("CreditExchangeSm2Key", lambda w: {}),
    ("CreditExchangeExportSm2", lambda w: {}),  # signed with the SM2 key build_world configured
    # the platform's own package sent back: signed by no partner key, a typed CREDIT_PARTNER_UNKNOWN
    ("CreditExchangeImport", lambda w: {"input": {"package": w.got["CreditExchangeExport"]["package"]}}),
]


def third_party_lot(w: World) -> str:
    return str(w.got["ThirdPartyProjectCreate"]["project"]["lots"][0]["id"])


# an accredited system writing for the tenderer with the app's own mutations (its scopes: schema/delegation_guard.py);
# the results mutations answer a typed error on a lot that was never evaluated
THIRD_PARTY_WRITES: list[tuple[str, Vars]] = [
    ("ThirdPartyProjectCreate", lambda w: {"input": project_form()}),
    (
        "ThirdPartyProjectIndustrySet",
        lambda w: {"input": {"projectId": w.got["ThirdPartyProjectCreate"]["project"]["id"], "industry": "A02"}},
    ),
    ("ThirdPartyLotConfigure", lambda w: {"input": {"lotId": third_party_lot(w), "config": {"minBids": 3}}}),
    (
        "ThirdPartyAnnouncementDraft",
        lambda w: {
            "input": {
                "projectId": w.got["ThirdPartyProjectCreate"]["project"]["id"],
                "lotId": third_party_lot(w),
                "type": "TENDER",
                "title": "市南区道路维修工程招标公告",
                "bodyHtml": "<p>招标。</p>",
            }
        },
    ),
    (
        "ThirdPartyAnnouncementPublish",
        lambda w: {"input": {"announcementId": w.got["ThirdPartyAnnouncementDraft"]["announcement"]["id"]}},
    ),
    ("ThirdPartyCandidatesPublish", lambda w: {"input": {"lotId": third_party_lot(w)}}),
    ("ThirdPartyResultAward", lambda w: {"input": {"lotId": third_party_lot(w)}}),
    (
        "ThirdPartyContractRecord",
        lambda w: {
            "input": {"lotId": third_party_lot(w), "contractNo": "HT-2026-001", "amountFen": 1, "signedOn": w.today}
        },
    ),
    (
        "ThirdPartyPerformanceRecord",
        lambda w: {"input": {"lotId": third_party_lot(w), "summary": "按期完工", "completedOn": w.today}},
    ),
]
SUBSCRIPTIONS: dict[str, Callable[[World], dict[str, Any]]] = {
    "AuctionUpdates": lambda w: {"lotId": w.auction_id},
    "AuctionLatestUpdates": lambda w: {"lotId": w.auction_id},
    "OpeningUpdates": lambda w: {"lotId": w.lot_id},
    "Notifications": lambda w: {},
    "KioskAuctionUpdates": lambda w: {"lotId": w.auction_id},
    "ListingUpdates": lambda w: {"lotId": w.auction_id},  # a lot without a listing: completes at once
}


SUSPENDED = "投诉调查期间暂停"
REFUSED = "投诉事项已经处理，不予受理"
CLOSED = "经查，投标人未借用资质"
CALENDAR_DAY = "2099-06-15"  # far from any deadline the journey computes


def objection_form(w: World, key: str) -> dict[str, Any]:
    reasons = "评分标准倾向特定品牌"
    form = {"lotId": w.lot_id, "stage": "DOCUMENTS", "reasons": reasons, "evidence": evidence_input("招标文件.pdf")}
    return {"input": {**form, "idempotencyKey": key}}


def complaint_form(w: World, key: str) -> dict[str, Any]:
    form = {
        "lotId": w.lot_id,
        "subject": "OTHER",
        "knewOn": w.today,
        "reasons": "招标人与某投标人存在利害关系",
        "requests": "暂停招标并调查",
        "evidence": evidence_input(),
    }
    return {"input": {**form, "idempotencyKey": key}}


def complaint_act(w: World) -> dict[str, Any]:
    return {"input": {"complaintId": w.got["ComplaintFile"]["complaint"]["id"]}}


def booking_id(w: World) -> str:
    """The lot's first booking the operator made, or one that does not exist."""
    made = w.got["VenueBook"].get("bookings") or [{"id": to_global_id("Booking", 0)}]
    return str(made[0]["id"])


def report_id(w: World) -> str:
    return str(w.got["SupervisedReports"]["edges"][0]["node"]["id"])


def alert_id(w: World) -> str:
    """The lot's first alert, or one that does not exist."""
    edges = w.got["CollusionAlerts"]["edges"]
    return str(edges[0]["node"]["id"]) if edges else to_global_id("CollusionAlert", 0)


def statistics_range(w: World) -> dict[str, Any]:
    year = int(w.today[:4])
    return {"period": "QUARTER", "startsOn": f"{year}-01-01", "endsOn": f"{year + 1}-01-01"}


def contract_ca(w: World) -> TestCA:
    if "ca" not in w.got:
        w.got["ca"] = TestCA("合同测试CA")
    return w.got["ca"]  # type: ignore[no-any-return]


def ca_register(w: World, which: str) -> dict[str, Any]:
    ca = contract_ca(w)
    cert = ca.root if which == "root" else ca.intermediate
    return {"input": {"name": f"合同测试CA {which}", "certificate": pem(cert)}}


def crl_upload(w: World, which: str) -> dict[str, Any]:
    ca = contract_ca(w)
    crl = ca.root_crl() if which == "root" else ca.intermediate_crl()
    return {"input": {"authorityId": w.got["CertificateAuthorityRegister"]["authority"]["id"], "crl": crl}}


def certificate_proof(w: World) -> dict[str, Any]:
    """The bidder's certificate and its signature of the challenge just issued."""
    if "leaf" not in w.got:
        organisation = w.got["Me"]["organisation"]
        w.got["leaf"] = contract_ca(w).issue(organisation["name"], organisation["creditCode"])
    leaf, challenge = w.got["leaf"], w.got["CertificateChallenge"]["challenge"]
    return {
        "input": {
            "certificate": leaf.pem,
            "challenge": challenge["challenge"],
            "signature": leaf.sign(challenge["toSign"]),
        }
    }


async def send(api: Any, name: str, variables: dict[str, Any], token: str | None) -> dict[str, Any]:
    """Posts the stored document exactly as the manifest hashes it."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = {"query": DOCUMENTS[name].text, "operationName": name, "variables": variables}
    response = await api.http.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200, (name, response.text)
    return response.json()  # type: ignore[no-any-return]


def remember(world: World, api: Any, name: str, data: dict[str, Any]) -> None:
    """Keeps what later operations of the journey need."""
    root = next(iter(data.values()))
    world.got[name] = root
    if name == "SmsCodeRequest":
        world.got["sms"] = sms_code(api, world.bidder_phone)
    elif name == "ExpertCodeRequest":
        world.got["expertSms"] = sms_code(api, world.expert_phone)
    elif name == "ExpertSignIn":
        assert root["__typename"] == "ExpertSignedIn", root
        world.tokens[EXPERT] = root["session"]["accessToken"]
    elif name == "Inbox":
        world.got["inbox"] = [e["node"]["id"] for e in data["myNotifications"]["edges"]]
    elif name == "ChangeFeed":
        world.got["change"] = root["entries"][0]["objectId"]
    elif name == "TerminalSignIn":
        assert root["__typename"] == "TerminalSignedIn", root
        world.tokens["kiosk"] = root["session"]["accessToken"]
    elif name == "TerminalQrRedeem":
        world.got[root["__typename"]] = root
        if root["__typename"] == "KioskSignedIn":
            world.tokens[KIOSK_SESSION] = root["session"]["accessToken"]


async def test_every_operation_runs_as_its_client_sends_it(api, manual_clock):
    # given a city with a sealed tender, an auction, a bidder, an expert and an integrator
    world = await build_world(api, manual_clock)
    key = new_key()
    world.got.update(key=key, sealed=seal(key, world.trade_code, PRICE, {"商务标.pdf": b"%PDF-1.7"}))
    plan = [(n, v, c[0] if c else "app") for n, v, *c in APP]
    plan += [(n, v, c[0] if c else "kiosk") for n, v, *c in KIOSK] + [(n, v, "integrator") for n, v in INTEGRATOR]
    plan += [(n, v, THIRD_PARTY) for n, v in THIRD_PARTY_WRITES]

    # when each operation is sent with its client's token
    failures: dict[str, Any] = {}
    for name, variables, sender in plan:
        body = await send(api, name, variables(world), world.tokens[sender])
        if "errors" in body or not body.get("data"):
            failures[name] = body
            continue
        remember(world, api, name, body["data"])

    # then none had a top-level error, every mutation answered a union member, and every document ran
    assert failures == {}, json.dumps(failures, ensure_ascii=False, indent=1)
    mutations = [n for n, op in DOCUMENTS.items() if op.kind == "mutation"]
    assert all("__typename" in world.got[n] for n in mutations)
    assert world.got["SignIn"]["__typename"] == "SignedIn"
    assert world.got["RefreshSession"]["__typename"] == "SignedIn"
    assert world.got["SmsSignIn"]["__typename"] == "SignedIn"
    assert world.got["BidSubmitLots"]["__typename"] == "LotBidsSubmitted", world.got["BidSubmitLots"]
    assert world.got["BidSubmit"]["__typename"] == "BidSubmitted"
    assert world.got["BidWithdraw"]["__typename"] == "BidWithdrawn"
    assert world.got["DeviceRegister"]["__typename"] == "DeviceRegistered"
    assert world.got["CertificateBind"]["__typename"] == "CertificateBound", world.got["CertificateBind"]
    assert world.got["CertificateSignIn"]["__typename"] == "SignedIn", world.got["CertificateSignIn"]
    assert world.got["CertificateUnbind"]["__typename"] == "CertificateUnbound"
    ran = {name for name, _, _ in plan} | set(SUBSCRIPTIONS)
    assert ran == set(DOCUMENTS), f"operations without a run: {sorted(set(DOCUMENTS) - ran)}"
    for name, _, sender in plan:
        assert DOCUMENTS[name].client == CLIENT_OF[sender], name

    # and the complaints journey went through: objections, complaints, the suspension, the decision, a report
    assert world.got["ObjectionWithdraw"]["objection"]["status"] == "WITHDRAWN", world.got["ObjectionWithdraw"]
    assert world.got["ObjectionAnswer"]["objection"]["status"] == "ANSWERED", world.got["ObjectionAnswer"]
    assert world.got["Objection"]["status"] == "ANSWERED"
    assert world.got["ComplaintWithdraw"]["complaint"]["status"] == "WITHDRAWN", world.got["ComplaintWithdraw"]
    assert world.got["ComplaintAccept"]["complaint"]["status"] == "ACCEPTED", world.got["ComplaintAccept"]
    assert world.got["ComplaintSuspendLot"]["__typename"] == "LotSuspensionChanged", world.got["ComplaintSuspendLot"]
    assert world.got["KioskLotSuspension"]["reason"] == SUSPENDED
    assert world.got["ComplaintLiftSuspension"]["suspension"]["liftedAt"], world.got["ComplaintLiftSuspension"]
    decided = world.got["ComplaintDecide"]["complaint"]
    assert decided["decision"] == "UPHELD", world.got["ComplaintDecide"]
    assert decided["id"] in {e["node"]["id"] for e in world.got["SupervisedComplaints"]["edges"]}
    assert len(world.got["MyComplaints"]["edges"]) == 2
    assert world.got["ReportFile"]["__typename"] == "ReportFiled", world.got["ReportFile"]
    assert world.got["ReportStatus"]["status"] == "RECEIVED"
    assert world.got["ComplaintRefuse"]["complaint"]["status"] == "REFUSED", world.got["ComplaintRefuse"]
    assert world.got["ComplaintRefuse"]["complaint"]["refusedReason"] == REFUSED
    assert world.got["SupervisedObjections"]["edges"], world.got["SupervisedObjections"]
    assert world.got["ReportInvestigate"]["report"]["status"] == "INVESTIGATING", world.got["ReportInvestigate"]
    assert world.got["ReportClose"]["report"]["outcome"] == CLOSED, world.got["ReportClose"]
    # and the supervision screens read the lot: its audit trail, a signed evidence package that verifies
    assert world.got["LotAuditTrail"]["edges"], world.got["LotAuditTrail"]
    verified = world.got["EvidencePackageVerify"]
    assert verified["ok"], verified
    assert verified["lotId"] == world.lot_id, verified
    assert isinstance(world.got["TradingStatistics"], list)
    assert world.got["TradingStatisticsCsv"].splitlines()[0], world.got["TradingStatisticsCsv"]
    # and the operator's calendar day was set, shown and cleared
    assert world.got["CalendarDaySet"]["day"]["day"] == CALENDAR_DAY, world.got["CalendarDaySet"]
    assert CALENDAR_DAY in {d["day"] for d in world.got["WorkingCalendar"]["days"]}
    assert world.got["CalendarDayClear"]["__typename"] == "CalendarDayUpdated", world.got["CalendarDayClear"]
    # and the kiosk shows the published decision, signs a bidder in by QR and reads only what is theirs
    assert decided["announcementId"] in {a["id"] for a in world.got["KioskComplaintDecisions"]["nodes"]}
    assert world.got["QrPending"]["expiresAt"] == world.got["TerminalQrChallenge"]["qr"]["expiresAt"]
    assert world.got["QrApprove"]["__typename"] == "QrApproved", world.got["QrApprove"]
    assert world.got["KioskSignedIn"]["session"]["userName"]
    assert registered_lot_ids(world.got["KioskMyRegistrations"]) >= {world.lot_id}
    assert isinstance(world.got["KioskMyUnreadNotificationCount"], int)
    # and the accredited system created, configured and published for the tenderer with its delegated token
    assert world.got["ThirdPartyLotConfigure"]["__typename"] == "LotConfigured", world.got["ThirdPartyLotConfigure"]
    assert world.got["ThirdPartyProjectIndustrySet"]["project"]["industry"] == "A02"
    assert world.got["ThirdPartyAnnouncementPublish"]["announcement"]["status"] == "PUBLISHED"


def registered_lot_ids(registrations: dict[str, Any]) -> set[str]:
    return {e["node"]["lot"]["id"] for e in registrations["edges"]}


async def test_every_subscription_starts_and_closes_over_websocket(api, manual_clock):
    # given the world, where the app's bidder has a sealed bid (so it may watch the opening)
    world = await build_world(api, manual_clock)
    sealed = seal(new_key(), world.trade_code, PRICE, {})
    submitted = await send(
        api, "BidSubmit", {"input": {"lotId": world.lot_id, "sealedBid": sealed}}, world.tokens["app"]
    )
    assert submitted["data"]["bidSubmit"]["__typename"] == "BidSubmitted", submitted
    for name, variables in SUBSCRIPTIONS.items():
        op = DOCUMENTS[name]
        token = world.tokens[op.client]
        ws = await ws_connect(api.ws_url, {"authorization": f"Bearer {token}"} if token else {})
        try:
            assert (await next_message(ws))["type"] == "connection_ack"
            payload = {"query": op.text, "operationName": name, "variables": variables(world)}

            # when it subscribes
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))

            # then it gets data or nothing yet, never an error, and completes cleanly
            try:
                message = await next_message(ws, within=0.5)
            except TimeoutError:
                message = None
            if message is not None and message["type"] != "complete":
                assert message["type"] == "next", (name, message)
                assert "errors" not in message["payload"], (name, message)
            if name in ("AuctionUpdates", "AuctionLatestUpdates", "KioskAuctionUpdates"):
                assert message is not None, name
                assert message["payload"]["data"]["auctionUpdates"]["kind"] == "snapshot"
            await ws.send(json.dumps({"id": "1", "type": "complete"}))
            await asyncio.sleep(0.05)
        finally:
            await ws.close()


async def test_an_app_token_cannot_read_the_integrator_feed(api, manual_clock):
    # given an app bidder
    operator = await f.operator_token(api)
    _, _, bidder = await f.approved_org(api, operator)

    # when the app sends the integrator's change feed
    body = await send(api, "ChangeFeed", {}, bidder)

    # then it is refused at the top level as FORBIDDEN
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
