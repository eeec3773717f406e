"""The expert app's signing journey, sent only by the manifest's hashes to a server with production's allow-lists and
no automatic registration: a drawn expert takes a BIND challenge (anonymously, as the app does before it binds),
binds its certificate, marks a busy day, reads the bids, hands in its sheet, signs it over the exact text the server
gives, and signs the report once the committee made it; the signatures show who signed. A text of the same
operation that is not the manifest's is refused to an anonymous caller."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.common.clock import to_shanghai
from schema.relay import to_global_id
from tests.scenarios.test_certificates import recognise
from tests.scenarios.test_third_party_systems import persisted, production  # noqa: F401
from tests.schema.test_scoring import START, entries, expert, sheet, token
from tests.support.pki import TestCA
from tests.support.tendering import OPERATOR, evaluating_tender


def data(body: dict[str, Any], field: str) -> Any:
    assert "errors" not in body, body
    return body["data"][field]


async def test_an_expert_binds_scores_and_signs_by_hash_under_the_production_allow_list(api, production, manual_clock):  # noqa: F811
    # given a started evaluation, its drawn committee and a recognised CA that issued the first member a certificate
    t = await evaluating_tender(manual_clock, [800_000_00, 700_000_00, 750_000_00])
    lot_id = to_global_id("Lot", t.lot.id)
    operator = token(api, OPERATOR)
    started = (await api.gql(START, {"input": {"lotId": lot_id}}, token=operator))["data"]["evaluationStart"]
    assert started["__typename"] == "EvaluationStarted", started
    ca = TestCA("评标CA")
    await recognise(api, operator, ca, at=manual_clock.now())
    leaf = ca.issue("专家甲", person="专家甲")
    members = [expert(api, e) for e in t.committee]
    me = members[0]

    # when the app binds the certificate, by hash only
    challenge = data(
        await persisted(production, "CertificateChallenge", {"input": {"purpose": "BIND"}}), "certificateChallenge"
    )
    form = {
        "certificate": leaf.pem,
        "challenge": challenge["challenge"]["challenge"],
        "signature": leaf.sign(challenge["challenge"]["toSign"]),
    }
    bound = data(await persisted(production, "ExpertCertificateBind", {"input": form}, me), "expertCertificateBind")
    mine = data(await persisted(production, "MyExpertCertificates", {}, me), "myExpertCertificates")
    # then
    assert bound["__typename"] == "ExpertCertificateBound", bound
    assert [c["fingerprint"] for c in mine] == [bound["certificate"]["fingerprint"]]

    # when it marks a day next month busy, reads the bids and hands in its sheet
    busy_day = (to_shanghai(manual_clock.now()) + timedelta(days=30)).date().isoformat()
    busy = data(
        await persisted(production, "ExpertAvailabilitySet", {"input": {"days": [busy_day], "busy": True}}, me),
        "expertAvailabilitySet",
    )
    bids = data(await persisted(production, "EvaluationBids", {"lotId": lot_id}, me), "evaluationBids")
    submitted = data(
        await persisted(
            production, "EvaluationSheetSubmit", {"input": {"lotId": lot_id, "entries": entries(bids)}}, me
        ),
        "evaluationSheetSubmit",
    )
    # then
    assert busy == {"__typename": "ExpertAvailabilitySet", "busyDays": [busy_day]}
    assert submitted["__typename"] == "ScoreSheetSubmitted", submitted

    # when it signs its sheet over the text the server gives, before the report exists and after
    sheet_text = data(
        await persisted(production, "EvaluationToSign", {"lotId": lot_id, "kind": "SHEET"}, me), "evaluationToSign"
    )
    signed_sheet = data(
        await persisted(
            production,
            "EvaluationSign",
            {
                "input": {
                    "lotId": lot_id,
                    "kind": "SHEET",
                    "certificate": leaf.pem,
                    "signature": leaf.sign(sheet_text["toSign"]),
                }
            },
            me,
        ),
        "evaluationSign",
    )
    too_early = data(
        await persisted(production, "EvaluationToSign", {"lotId": lot_id, "kind": "REPORT"}, me), "evaluationToSign"
    )
    for other in members[1:]:  # the rest of the committee hands in its sheets: the last makes the report
        assert (await sheet(api, other, lot_id, entries(bids, technical=4100)))["__typename"] == "ScoreSheetSubmitted"
    report_text = data(
        await persisted(production, "EvaluationToSign", {"lotId": lot_id, "kind": "REPORT"}, me), "evaluationToSign"
    )
    signed_report = data(
        await persisted(
            production,
            "EvaluationSign",
            {
                "input": {
                    "lotId": lot_id,
                    "kind": "REPORT",
                    "certificate": leaf.pem,
                    "signature": leaf.sign(report_text["toSign"]),
                    "idempotencyKey": "report-1",
                }
            },
            me,
        ),
        "evaluationSign",
    )
    status = data(await persisted(production, "EvaluationSignatures", {"lotId": lot_id}, me), "evaluationSignatures")

    # then both signatures are stored over the texts given; the report waits for the other four members
    assert signed_sheet["__typename"] == "EvaluationSigned", signed_sheet
    assert (signed_sheet["signature"]["kind"], signed_sheet["signature"]["method"]) == ("SHEET", "CERTIFICATE")
    assert signed_sheet["signature"]["contentSha256"] == sheet_text["sha256"]
    assert too_early is None
    assert signed_report["__typename"] == "EvaluationSigned", signed_report
    assert signed_report["signature"]["contentSha256"] == report_text["sha256"]
    assert signed_report["reportFinal"] is False
    me_id = to_global_id("Expert", t.committee[0])
    assert (status["sheetsSigned"], status["reportSigned"], status["reportFinal"]) == ([me_id], [me_id], False)

    # and an anonymous caller's text that is not the manifest's is refused before it runs
    ad_hoc = await production.http.post(
        "/graphql", json={"query": "mutation { certificateChallenge(input: {purpose: BIND}) { __typename } }"}
    )
    assert ad_hoc.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"
