"""The committee signs the evaluation report (签章完毕) over GraphQL, as experts do on their phones: a recognised CA
issues each member a personal certificate, the member binds it (expertCertificateBind) and signs the report's
canonical text (evaluationToSign, evaluationSign). A tender's candidates wait for this (evaluation_signatures_required,
domain/results/finality.py), so every test that drives a tender's evaluation and then publishes its candidates calls
sign_report after the last sheet."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from domain.common import clock
from tests.scenarios.test_certificates import challenge, recognise
from tests.support.pki import Leaf, TestCA

BIND = """mutation($input: ExpertCertificateBindInput!) { expertCertificateBind(input: $input) {
  __typename ... on Error { code message } } }"""
TO_SIGN = """query($lotId: ID!, $kind: EvaluationSignKind!) { evaluationToSign(lotId: $lotId, kind: $kind) {
  toSign } }"""
SIGN = """mutation($input: EvaluationSignInput!) { evaluationSign(input: $input) {
  __typename ... on EvaluationSigned { reportFinal } ... on Error { code message } } }"""
_authorities = itertools.count(1)


async def certify(api: Any, operator: str, members: list[str]) -> list[Leaf]:
    """A newly recognised CA issues each member (by expert token) a personal certificate, which the member binds."""
    ca = TestCA(f"评标签章CA{next(_authorities)}")
    now = clock.now()
    await recognise(api, operator, ca, at=now)
    leaves = []
    for n, who in enumerate(members, start=1):
        leaf = ca.issue(f"评标专家{n}", person=f"评标专家{n}", not_before=now - timedelta(days=1))
        c = await challenge(api, "BIND")
        form = {"certificate": leaf.pem, "challenge": c["challenge"], "signature": leaf.sign(c["toSign"])}
        bound = (await api.gql(BIND, {"input": form}, token=who))["data"]["expertCertificateBind"]
        assert bound["__typename"] == "ExpertCertificateBound", bound
        leaves.append(leaf)
    return leaves


async def sign_as(api: Any, member: str, leaf: Leaf, lot_id: str) -> dict[str, Any]:
    """One member signs the report as it stands (the lot's global id); the evaluationSign answer."""
    text = (await api.gql(TO_SIGN, {"lotId": lot_id, "kind": "REPORT"}, token=member))["data"]["evaluationToSign"]
    form = {"lotId": lot_id, "kind": "REPORT", "certificate": leaf.pem, "signature": leaf.sign(text["toSign"])}
    return (await api.gql(SIGN, {"input": form}, token=member))["data"]["evaluationSign"]  # type: ignore[no-any-return]


async def sign_report(api: Any, operator: str, lot_id: str, members: list[str]) -> None:
    """Every member (expert tokens, the whole committee) certifies and signs the lot's report: the report is final."""
    leaves = await certify(api, operator, members)
    signed = [await sign_as(api, who, leaf, lot_id) for who, leaf in zip(members, leaves, strict=True)]
    assert all(s["__typename"] == "EvaluationSigned" for s in signed), signed
    assert signed[-1]["reportFinal"] is True, signed
