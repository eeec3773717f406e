"""Parties of objections and complaints for the domain tests, and the GraphQL documents the scenarios send."""

from __future__ import annotations

import hashlib
from typing import Any

from domain.common.actors import Actor, Role
from domain.complaints.shared import Evidence
from tests.domain.factories import organisation
from tests.support.tendering import person

CATEGORY = "engineering_construction"


async def supervisor(category: str = CATEGORY) -> Actor:
    """A supervisor (行政监督部门) of the category, signed in."""
    org = await organisation(kinds=["supervisor"])
    return Actor(
        user_id=person(org, Role.SUPERVISOR).user_id,
        org_id=org.id,
        roles=frozenset({Role.SUPERVISOR}),
        supervised_categories=frozenset({category}),
    )


async def interested_party() -> Actor:
    """An approved bidder organisation's user, not (yet) bidding on anything."""
    return person(await organisation(kinds=["bidder"]), Role.BIDDER)


def evidence(name: str = "证据.pdf") -> list[Evidence]:
    return [Evidence(name=name, size=2048, sha256=hashlib.sha256(name.encode()).hexdigest())]


def evidence_input(name: str = "证据.pdf") -> list[dict[str, Any]]:
    return [{"name": name, "size": 2048, "sha256": hashlib.sha256(name.encode()).hexdigest()}]


OBJECTION_RAISE = """mutation($input: ObjectionRaiseInput!) { objectionRaise(input: $input) {
  __typename ... on ObjectionRaised { objection { id status stage answerDueAt evidence { sha256 } } }
  ... on Error { code message } ... on FieldError { field } } }"""
OBJECTION_ANSWER = """mutation($input: ObjectionAnswerInput!) { objectionAnswer(input: $input) {
  __typename ... on ObjectionAnswered { objection { id status answer answeredAt } } ... on Error { code message } } }"""
COMPLAINT_FILE = """mutation($input: ComplaintFileInput!) { complaintFile(input: $input) {
  __typename ... on ComplaintFiled { complaint { id status subject acceptDueAt objectionId } }
  ... on ComplaintTooLate { deadline days } ... on ObjectionRequired { subject }
  ... on Error { code message } ... on FieldError { field } } }"""
COMPLAINT_ACCEPT = """mutation($input: ComplaintActInput!) { complaintAccept(input: $input) {
  __typename ... on ComplaintUpdated { complaint { id status acceptedAt decideDueAt } }
  ... on Error { code message } } }"""
COMPLAINT_SUSPEND = """mutation($input: ComplaintSuspendLotInput!) { complaintSuspendLot(input: $input) {
  __typename ... on LotSuspensionChanged { suspension { reason suspendedAt liftedAt } complaint { id } }
  ... on Error { code message } } }"""
COMPLAINT_LIFT = """mutation($input: ComplaintActInput!) { complaintLiftSuspension(input: $input) {
  __typename ... on LotSuspensionChanged { suspension { liftedAt } } ... on Error { code message } } }"""
COMPLAINT_DECIDE = """mutation($input: ComplaintDecideInput!) { complaintDecide(input: $input) {
  __typename ... on ComplaintUpdated { complaint { id status decision decidedAt announcementId } }
  ... on Error { code message } } }"""
COMPLAINT = """query($id: ID!) { complaint(id: $id) { id status decision suspension { liftedAt } } }"""
REPORT_FILE = """mutation($input: ReportFileInput!) { reportFile(input: $input) {
  __typename ... on ReportFiled { trackingCode status } ... on Error { code message } } }"""
REPORT_STATUS = """query($code: String!) { reportStatus(trackingCode: $code) { status outcome receivedAt } }"""
SUPERVISED_REPORTS = """query { supervisedReports { edges { node { id status anonymous text } } } }"""
REPORT_INVESTIGATE = """mutation($input: ReportActInput!) { reportInvestigate(input: $input) {
  __typename ... on ReportUpdated { report { status } } ... on Error { code message } } }"""
REPORT_CLOSE = """mutation($input: ReportActInput!) { reportClose(input: $input) {
  __typename ... on ReportUpdated { report { status outcome } } ... on Error { code message } } }"""
OVERDUE_OBJECTIONS = """query { overdueObjections { edges { node { id status overdueAt } } } }"""
