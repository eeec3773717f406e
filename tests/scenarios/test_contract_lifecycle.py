"""A contract's life over HTTP: the tenderer drafts it with its file, the winner and the tenderer sign it with their
bound certificates (a signature over other content refused), it is announced; it is changed once (a supplement, a
second one over 10% refused), accepted, paid (an overpayment refused), its performance record published; the OCDS
record carries the contract, its amendment and its implementation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.x509.oid import NameOID

from mobile_contract.signing import contract_sign_content
from tests import factories as f
from tests.domain.disclosure.test_ocds import assert_valid
from tests.scenarios.test_certificates import ME, bind, recognise
from tests.scenarios.test_deposits import operator_phone
from tests.scenarios.test_results import AWARD, PRICES, PUBLISH, bid, inbox, opened, status_of, today
from tests.scenarios.test_results import CONTRACT as RECORD
from tests.scenarios.test_sealed_bids import registered_bidder, sealed_lot
from tests.support import documents as docs
from tests.support.pki import TestCA

CONTRACT = """fragment C on Contract { id contractNo status originalFen amountFen documentsSha256 toSign
  buyerSignedAt supplierSignedAt signatureIds signedOn announcementId
  changes { seq ground basis beforeFen afterFen announcementId }
  acceptedOn acceptancePassed acceptanceSummary payments { amountFen paidOn milestone reference } paidFen }"""
DRAFT = (
    """mutation($input: ContractDraftInput!) { contractDraft(input: $input) {
  __typename ... on ContractUpdated { contract { ...C } } ... on Error { code message }
  ... on FieldError { field } } }"""
    + CONTRACT
)
SIGN = (
    """mutation($input: ContractSignInput!) { contractSign(input: $input) {
  __typename ... on ContractUpdated { contract { ...C } } ... on Error { code message } } }"""
    + CONTRACT
)
CHANGE = (
    """mutation($input: ContractChangeInput!) { contractChange(input: $input) {
  __typename ... on ContractUpdated { contract { ...C } } ... on Error { code message }
  ... on ContractChangeTooLarge { limitFen } } }"""
    + CONTRACT
)
ACCEPT = (
    """mutation($input: ContractAcceptInput!) { contractAccept(input: $input) {
  __typename ... on ContractUpdated { contract { ...C } } ... on Error { code message } } }"""
    + CONTRACT
)
PAY = (
    """mutation($input: ContractPaymentRecordInput!) { contractPaymentRecord(input: $input) {
  __typename ... on ContractUpdated { contract { ...C } } ... on Error { code message }
  ... on PaymentsExceedContract { amountFen } } }"""
    + CONTRACT
)
PERFORMANCE = """mutation($input: PerformanceRecordInput!) { performanceRecord(input: $input) {
  __typename ... on PerformanceRecorded { result { award { status } } } ... on Error { code message } } }"""
PUBLIC = "query($lotId: ID!) { lotResult(lotId: $lotId) { contract { ...C } } }" + CONTRACT
OCDS = "query($lotId: ID!) { ocdsRecord(lotId: $lotId) }"
ANNOUNCEMENTS = """query($id: ID!) { node(id: $id) { ... on Announcement { type title } } }"""
PRICE = 1_188_000_000  # the lowest of PRICES wins


async def upload(api: Any, token: str, lot_id: str, path: Path, purpose: str = "CONTRACT") -> str:
    """A PDF handed in for the lot through the resumable endpoint; its document's global id."""
    granted = await docs.grant(api, token, purpose, lot_id, path)
    assert granted["__typename"] == "UploadGrant", granted
    await docs.tus_upload(granted, path)
    done = (await api.gql(docs.UPLOAD, {"id": granted["upload"]["id"]}, token=token))["data"]["documentUpload"]
    assert done["status"] == "COMPLETE", done
    return str(done["documentId"])


def pdf(path: Path, text: str) -> Path:
    path.write_bytes(b"%PDF-1.7\n" + text.encode() + b"\n%%EOF\n")
    return path


async def awarded_lot(api: Any, clock: Any) -> dict[str, Any]:
    """An open tender without security, three bids, opened, the candidates publicised and the lot awarded to the
    lowest bidder; the tokens' phones and the lot."""
    operator_at = await operator_phone()
    operator = await f.login(api, operator_at)
    project, _, tenderer_phone = await sealed_lot(api, clock, operator)
    lot = project["lots"][0]
    phones = []
    for price in PRICES[:3]:
        phone, token = await registered_bidder(api, operator, lot["id"])
        await bid(api, token, lot["id"], lot["tradeCode"], price)
        phones.append(phone)
    await opened(api, clock, lot["id"], phones)
    tenderer = await f.login(api, tenderer_phone)
    published = await api.gql(PUBLISH, {"input": {"lotId": lot["id"]}}, token=tenderer)
    assert published["data"]["candidatesPublish"]["__typename"] == "CandidatesPublished", published
    clock.advance(timedelta(days=3, seconds=1))
    tenderer = await f.login(api, tenderer_phone)
    awarded = (await api.gql(AWARD, {"input": {"lotId": lot["id"]}}, token=tenderer))["data"]["resultAward"]
    assert awarded["__typename"] == "LotAwarded", awarded
    return {
        "operator_phone": operator_at,
        "project": project,
        "lot": lot,
        "tenderer_phone": tenderer_phone,
        "phones": phones,
    }


async def test_a_contract_signed_by_both_changed_accepted_paid_and_in_the_ocds_record(api, manual_clock, tmp_path):
    # given an awarded lot, a CA the operator recognises, and certificates the tenderer's and winner's users bound
    t = await awarded_lot(api, manual_clock)
    lot_id, code = t["lot"]["id"], t["lot"]["tradeCode"]
    operator = await f.login(api, t["operator_phone"])
    ca = TestCA("湖北CA", key_kind="rsa", code_attribute=NameOID.ORGANIZATIONAL_UNIT_NAME)
    await recognise(api, operator, ca, at=manual_clock.now())
    tenderer = await f.login(api, t["tenderer_phone"])
    winner = await f.login(api, t["phones"][1])  # the second bid was the lowest
    leaves = {}
    for who, token in (("tenderer", tenderer), ("winner", winner)):
        org = (await api.gql(ME, token=token))["data"]["me"]["organisation"]
        leaves[who] = ca.issue(org["name"], org["creditCode"])
        assert (await bind(api, token, leaves[who]))["__typename"] == "CertificateBound"
    contract_file = await upload(api, tenderer, lot_id, pdf(tmp_path / "施工合同.pdf", "contract"))

    # when the tenderer drafts the contract at another amount, then at the winning price
    form = {"lotId": lot_id, "contractNo": "HT-2026-0101", "documentIds": [contract_file]}
    wrong = (await api.gql(DRAFT, {"input": {**form, "amountFen": PRICE + 1}}, token=tenderer))["data"]["contractDraft"]
    drafted = (await api.gql(DRAFT, {"input": {**form, "amountFen": PRICE}}, token=tenderer))["data"]["contractDraft"]
    await api.dispatch()
    # then the first is refused, the second waits for both signatures, and the winner is asked to sign
    assert wrong["code"] == "CONTRACT_AMOUNT_MISMATCH", wrong
    assert drafted["__typename"] == "ContractUpdated", drafted
    contract = drafted["contract"]
    assert (contract["status"], contract["amountFen"], len(contract["documentsSha256"])) == ("PENDING", PRICE, 1)
    content = contract_sign_content(code, "HT-2026-0101", PRICE, contract["documentsSha256"])
    assert contract["toSign"] == content
    assert "请签署合同" in [n["title"] for n in await inbox(api, winner)]
    assert (await api.gql(PUBLIC, {"lotId": lot_id}))["data"]["lotResult"]["contract"] is None  # not public yet
    # and a contract drafted here is concluded by both signatures only, not recorded by the tenderer alone
    bypass = {"lotId": lot_id, "contractNo": "HT-2026-0101", "amountFen": PRICE, "signedOn": today(manual_clock)}
    recorded = (await api.gql(RECORD, {"input": bypass}, token=tenderer))["data"]["contractRecord"]
    assert (recorded["code"], await status_of(api, lot_id)) == ("INVALID_TRANSITION", "AWARDED")

    def signature(leaf: Any, text: str) -> dict[str, Any]:
        return {"input": {"lotId": lot_id, "signature": {"certificate": leaf.pem, "signature": leaf.sign(text)}}}

    # when the winner signs other content, then the contract; and signs again
    forged = content.replace(str(PRICE), str(PRICE - 100))
    bad = (await api.gql(SIGN, signature(leaves["winner"], forged), token=winner))["data"]["contractSign"]
    first = (await api.gql(SIGN, signature(leaves["winner"], content), token=winner))["data"]["contractSign"]
    twice = (await api.gql(SIGN, signature(leaves["winner"], content), token=winner))["data"]["contractSign"]
    # then the forgery and the repeat are refused; the contract waits for the tenderer
    assert bad["code"] == "CERTIFICATE_SIGNATURE_INVALID", bad
    assert first["__typename"] == "ContractUpdated", first
    assert (first["contract"]["status"], first["contract"]["buyerSignedAt"]) == ("PENDING", None)
    assert twice["code"] == "CONTRACT_SIGNED_ALREADY", twice
    assert await status_of(api, lot_id) == "AWARDED"

    # when the tenderer signs
    signed = (await api.gql(SIGN, signature(leaves["tenderer"], content), token=tenderer))["data"]["contractSign"]
    await api.dispatch()
    # then it is in force: announced at once, the lot contracted, both signatures kept
    assert signed["__typename"] == "ContractUpdated", signed
    contract = signed["contract"]
    assert (contract["status"], contract["signedOn"]) == ("ACTIVE", today(manual_clock))
    assert len(contract["signatureIds"]) == 2
    notice = (await api.gql(ANNOUNCEMENTS, {"id": contract["announcementId"]}))["data"]["node"]
    assert notice["type"] == "CONTRACT"
    assert await status_of(api, lot_id) == "CONTRACTED"
    public = (await api.gql(PUBLIC, {"lotId": lot_id}))["data"]["lotResult"]["contract"]
    assert (public["status"], public["acceptanceSummary"]) == ("ACTIVE", None)

    # when the parties add 5% (a supplement), then another 6%
    change_file = await upload(api, tenderer, lot_id, pdf(tmp_path / "补充协议.pdf", "supplement"))
    supplement = {
        "lotId": lot_id,
        "ground": "SUPPLEMENT",
        "rationale": "增加配套道路 300 米",
        "amountFen": PRICE + PRICE * 5 // 100,
        "documentIds": [change_file],
    }
    changed = (await api.gql(CHANGE, {"input": supplement}, token=tenderer))["data"]["contractChange"]
    more = {**supplement, "amountFen": PRICE + PRICE * 11 // 100}
    too_much = (await api.gql(CHANGE, {"input": more}, token=tenderer))["data"]["contractChange"]
    # then the first is recorded and published as 合同变更公告; the second passes 10% of the original and is refused
    assert changed["__typename"] == "ContractUpdated", changed
    [change] = changed["contract"]["changes"]
    assert (change["seq"], change["beforeFen"], change["afterFen"]) == (1, PRICE, PRICE + PRICE * 5 // 100)
    assert "第四十九条" in change["basis"]
    assert (await api.gql(ANNOUNCEMENTS, {"id": change["announcementId"]}))["data"]["node"]["type"] == (
        "CONTRACT_CHANGE"
    )
    assert too_much["code"] == "CONTRACT_CHANGE_TOO_LARGE", too_much
    assert too_much["limitFen"] == PRICE // 10

    # when the work is accepted and paid in two instalments, then overpaid
    manual_clock.advance(timedelta(days=90))
    tenderer = await f.login(api, t["tenderer_phone"])
    report = await upload(api, tenderer, lot_id, pdf(tmp_path / "验收报告.pdf", "acceptance"))
    accepted = (
        await api.gql(
            ACCEPT,
            {
                "input": {
                    "lotId": lot_id,
                    "acceptedOn": today(manual_clock),
                    "passed": True,
                    "summary": "工程质量合格，同意验收。",
                    "documentIds": [report],
                }
            },
            token=tenderer,
        )
    )["data"]["contractAccept"]
    total = PRICE + PRICE * 5 // 100
    paid = []
    for amount, ref in ((total * 7 // 10, "PZ-001"), (total - total * 7 // 10, "PZ-002"), (1, "PZ-003")):
        pay = {"lotId": lot_id, "amountFen": amount, "paidOn": today(manual_clock), "milestone": "进度款"}
        paid.append((await api.gql(PAY, {"input": {**pay, "reference": ref}}, token=tenderer))["data"])
    # then the acceptance and two payments are recorded, and the third is refused
    assert accepted["__typename"] == "ContractUpdated", accepted
    assert (accepted["contract"]["acceptancePassed"], accepted["contract"]["acceptedOn"]) == (True, today(manual_clock))
    assert paid[1]["contractPaymentRecord"]["contract"]["paidFen"] == total
    assert paid[2]["contractPaymentRecord"]["code"] == "PAYMENTS_EXCEED_CONTRACT"
    assert paid[2]["contractPaymentRecord"]["amountFen"] == total

    # when the performance record is published
    done = {"lotId": lot_id, "summary": "工程按期完工，验收合格，款项结清。", "completedOn": today(manual_clock)}
    performed = (await api.gql(PERFORMANCE, {"input": done}, token=tenderer))["data"]["performanceRecord"]
    # then the lot and the contract are completed
    assert performed["__typename"] == "PerformanceRecorded", performed
    assert (await api.gql(PUBLIC, {"lotId": lot_id}))["data"]["lotResult"]["contract"]["status"] == "COMPLETED"

    # and the OCDS record carries the contract, its amendment and its implementation
    record = (await api.gql(OCDS, {"lotId": lot_id}))["data"]["ocdsRecord"]
    for release in [*record["releases"], record["compiledRelease"]]:
        assert_valid(release)
    tags = [tag for release in record["releases"] for tag in release["tag"]]
    assert {"contract", "contractAmendment", "implementation"} <= set(tags)
    [compiled] = record["compiledRelease"]["contracts"]
    assert compiled["value"] == {"amount": total // 100, "currency": "CNY"}
    assert compiled["dateSigned"].startswith(contract["signedOn"])
    [amendment] = compiled["amendments"]
    assert "增加配套道路" in amendment["rationale"]
    implementation = compiled["implementation"]
    assert [round(tr["value"]["amount"] * 100) for tr in implementation["transactions"]] == [
        total * 7 // 10,
        total - total * 7 // 10,
    ]
    assert implementation["transactions"][0]["payee"]["name"]
    assert implementation["milestones"] == [
        {
            "id": f"{code}-acceptance",
            "title": "履约验收",
            "type": "delivery",
            "status": "met",
            "dateMet": implementation["milestones"][0]["dateMet"],
        }
    ]
    assert compiled["status"] == "terminated"  # in force, and has now come to a close
    # and anyone reads the payments, without the vouchers, and not the acceptance report
    public = (await api.gql(PUBLIC, {"lotId": lot_id}))["data"]["lotResult"]["contract"]
    assert [(p["amountFen"], p["reference"]) for p in public["payments"]] == [
        (total * 7 // 10, None),
        (total - total * 7 // 10, None),
    ]
    assert (public["paidFen"], public["acceptancePassed"], public["acceptanceSummary"]) == (total, True, None)
