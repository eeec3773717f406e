"""A contract's life over HTTP: the tenderer drafts it with its file, the winner and the tenderer sign it with their
bound certificates (a signature over other content refused), it is announced; a change is proposed by one party and
in force only once both signed it (a stranger's and a repeated signature refused, a second proposal while one waits
refused, a supplement over 10% refused), a termination proposed by the winner is declined; the contract is accepted,
paid (an overpayment refused), its performance record published; the OCDS record carries the contract, its one
amendment in force and its implementation. A termination signed by both ends the contract; a contract recorded by
contractRecord is a contract object too."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from mobile_contract.signing import contract_change_content, contract_sign_content
from tests import factories as f
from tests.domain.disclosure.test_ocds import assert_valid
from tests.scenarios.test_deposits import operator_phone
from tests.scenarios.test_results import AWARD, PRICES, PUBLISH, bid, inbox, opened, status_of, today
from tests.scenarios.test_results import CONTRACT as RECORD
from tests.scenarios.test_sealed_bids import registered_bidder, sealed_lot
from tests.support import contract_flow as cf
from tests.support.contract_flow import ACCEPT, ANNOUNCEMENTS, PAY, PUBLIC, pdf, upload

__all__ = ["awarded_lot", "pdf", "upload"]  # test_cancellation and test_sequential_award take them from here
OCDS = "query($lotId: ID!) { ocdsRecord(lotId: $lotId) }"
PRICE = 1_188_000_000  # the lowest of PRICES wins


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


async def test_a_contract_signed_by_both_changed_by_both_accepted_paid_and_in_the_ocds_record(
    api, manual_clock, tmp_path
):
    # given an awarded lot, a CA the operator recognises, and certificates the tenderer's and winner's users bound
    t = await awarded_lot(api, manual_clock)
    lot_id, code = t["lot"]["id"], t["lot"]["tradeCode"]
    parties = await cf.contract_parties(api, manual_clock, t["tenderer_phone"], t["phones"][1])  # the lowest bid
    tenderer, winner = await parties.token("tenderer"), await parties.token("winner")

    # when the tenderer drafts the contract at another amount, then at the winning price
    wrong = await cf.draft(api, parties, tmp_path, lot_id, PRICE + 1, "HT-2026-0101")
    drafted = await cf.draft(api, parties, tmp_path, lot_id, PRICE, "HT-2026-0101")
    await api.dispatch()
    # then the first is refused, the second waits for both signatures, and the winner is asked to sign
    assert wrong["code"] == "CONTRACT_AMOUNT_MISMATCH", wrong
    assert drafted["__typename"] == "ContractUpdated", drafted
    contract = drafted["contract"]
    assert (contract["status"], contract["amountFen"], len(contract["documentsSha256"])) == ("PENDING", PRICE, 1)
    assert contract["origin"] == "PLATFORM"
    content = contract_sign_content(code, "HT-2026-0101", PRICE, contract["documentsSha256"])
    assert contract["toSign"] == content
    assert "请签署合同" in [n["title"] for n in await inbox(api, winner)]
    assert (await api.gql(PUBLIC, {"lotId": lot_id}))["data"]["lotResult"]["contract"] is None  # not public yet
    # and a contract drafted here is concluded by both signatures only, not recorded by the tenderer alone
    bypass = {"lotId": lot_id, "contractNo": "HT-2026-0101", "amountFen": PRICE, "signedOn": today(manual_clock)}
    recorded = (await api.gql(RECORD, {"input": bypass}, token=tenderer))["data"]["contractRecord"]
    assert (recorded["code"], await status_of(api, lot_id)) == ("INVALID_TRANSITION", "AWARDED")

    # when a bidder that is no party signs the pending contract, and the operator, who keeps the lot, tries
    stranger = await f.login(api, t["phones"][0])
    hidden = await cf.sign(api, parties, lot_id, "winner", content, token=stranger)
    keeper = await cf.sign(api, parties, lot_id, "tenderer", content, token=await f.login(api, t["operator_phone"]))
    # then the stranger does not learn that a draft exists; the keeper, who reads it, is told it is no party
    assert hidden["code"] == "NOT_FOUND", hidden
    assert keeper["code"] == "NOT_CONTRACT_PARTY", keeper

    # when the winner signs other content, then the contract; and signs again
    forged = content.replace(str(PRICE), str(PRICE - 100))
    bad = await cf.sign(api, parties, lot_id, "winner", forged)
    first = await cf.sign(api, parties, lot_id, "winner", content)
    twice = await cf.sign(api, parties, lot_id, "winner", content)
    # then the forgery and the repeat are refused; the contract waits for the tenderer
    assert bad["code"] == "CERTIFICATE_SIGNATURE_INVALID", bad
    assert first["__typename"] == "ContractUpdated", first
    assert (first["contract"]["status"], first["contract"]["buyerSignedAt"]) == ("PENDING", None)
    assert twice["code"] == "CONTRACT_SIGNED_ALREADY", twice
    assert await status_of(api, lot_id) == "AWARDED"

    # when the tenderer signs
    signed = await cf.sign(api, parties, lot_id, "tenderer", content)
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
    # and now that it is public, a stranger's signature is refused as no party's
    stranger = await f.login(api, t["phones"][0])
    alien = await cf.sign(api, parties, lot_id, "winner", content, token=stranger)
    assert alien["code"] == "NOT_CONTRACT_PARTY", alien

    # when the tenderer proposes adding 5% (a supplement), and proposes another change while it waits
    plus5 = PRICE + PRICE * 5 // 100
    proposed = await cf.propose_change(
        api, parties, tmp_path, lot_id, "tenderer", "SUPPLEMENT", plus5, "增加配套道路 300 米"
    )
    waiting = await cf.propose_change(api, parties, tmp_path, lot_id, "winner", "NON_SUBSTANTIVE", PRICE, "变更联系人")
    await api.dispatch()
    # then the proposal changes nothing yet and is not public; the second waits its turn; the winner is asked to sign
    assert proposed["__typename"] == "ContractUpdated", proposed
    change = cf.proposal(proposed["contract"], 1)
    assert (change["status"], change["kind"], change["proposedBy"]) == ("PROPOSED", "CHANGE", "BUYER")
    assert (proposed["contract"]["amountFen"], proposed["contract"]["changes"]) == (PRICE, [])
    assert change["toSign"] == contract_change_content(
        code, "HT-2026-0101", 1, "change", "supplement", PRICE, plus5, change["documentsSha256"]
    )
    assert (waiting["code"], waiting["seq"]) == ("CONTRACT_CHANGE_PENDING", 1)
    assert (await api.gql(PUBLIC, {"lotId": lot_id}))["data"]["lotResult"]["contract"]["proposals"] == []
    assert "合同提出变更，待您签署" in [n["title"] for n in await inbox(api, await parties.token("winner"))]

    # when a bidder that is no party signs it, then the tenderer, then the tenderer again
    alien = await cf.sign_change(api, parties, lot_id, "winner", 1, change["toSign"], token=stranger)
    mine = await cf.sign_change(api, parties, lot_id, "tenderer", 1, change["toSign"])
    again = await cf.sign_change(api, parties, lot_id, "tenderer", 1, change["toSign"])
    # then the stranger is no party, the tenderer's signature waits for the winner's, a repeat is refused
    assert alien["code"] == "NOT_CONTRACT_PARTY", alien
    assert mine["__typename"] == "ContractUpdated", mine
    assert cf.proposal(mine["contract"], 1)["status"] == "PROPOSED"
    assert mine["contract"]["amountFen"] == PRICE
    assert again["code"] == "CONTRACT_SIGNED_ALREADY", again

    # when the winner countersigns, and then signs once more
    countersigned = await cf.sign_change(api, parties, lot_id, "winner", 1, change["toSign"])
    late = await cf.sign_change(api, parties, lot_id, "winner", 1, change["toSign"])
    # then the change is in force, published as 合同变更公告; a decided change takes no more signatures
    assert countersigned["__typename"] == "ContractUpdated", countersigned
    [effective] = countersigned["contract"]["changes"]
    assert (effective["seq"], effective["beforeFen"], effective["afterFen"]) == (1, PRICE, plus5)
    assert "第四十九条" in effective["basis"]
    assert countersigned["contract"]["amountFen"] == plus5
    assert (await api.gql(ANNOUNCEMENTS, {"id": effective["announcementId"]}))["data"]["node"]["type"] == (
        "CONTRACT_CHANGE"
    )
    assert (late["code"], late["status"]) == ("CONTRACT_CHANGE_DECIDED", "effective")

    # when another 6% is proposed, and the winner proposes a termination the tenderer declines
    too_much = await cf.propose_change(
        api, parties, tmp_path, lot_id, "tenderer", "SUPPLEMENT", PRICE + PRICE * 11 // 100
    )
    ending = await cf.propose_termination(api, parties, tmp_path, lot_id, "winner", "MUTUAL_AGREEMENT")
    declined = await cf.decline_change(api, parties, lot_id, "tenderer", 2, "工程尚在施工，不同意解除")
    undo = await cf.decline_change(api, parties, lot_id, "winner", 2, "撤回")
    # then the supplement passes 10% of the original and is refused; the termination is declined, nothing ends
    assert too_much["code"] == "CONTRACT_CHANGE_TOO_LARGE", too_much
    assert too_much["limitFen"] == PRICE // 10
    assert cf.proposal(ending["contract"], 2)["kind"] == "TERMINATION", ending
    assert declined["__typename"] == "ContractUpdated", declined
    assert cf.proposal(declined["contract"], 2)["status"] == "DECLINED"
    assert declined["contract"]["status"] == "ACTIVE"
    assert (undo["code"], undo["status"]) == ("CONTRACT_CHANGE_DECIDED", "declined")

    # when the work is accepted and paid in two instalments, then overpaid
    manual_clock.advance(timedelta(days=90))
    tenderer = await parties.token("tenderer")
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
    total = plus5
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
    performed = await cf.perform(api, manual_clock, parties, lot_id, "工程按期完工，验收合格，款项结清。")
    # then the lot and the contract are completed
    assert performed["__typename"] == "PerformanceRecorded", performed
    assert (await api.gql(PUBLIC, {"lotId": lot_id}))["data"]["lotResult"]["contract"]["status"] == "COMPLETED"

    # and the OCDS record carries the contract, its one amendment in force and its implementation
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
    # and anyone reads the payments, without the vouchers, and not the acceptance report; the change in force only
    public = (await api.gql(PUBLIC, {"lotId": lot_id}))["data"]["lotResult"]["contract"]
    assert [(p["amountFen"], p["reference"]) for p in public["payments"]] == [
        (total * 7 // 10, None),
        (total - total * 7 // 10, None),
    ]
    assert (public["paidFen"], public["acceptancePassed"], public["acceptanceSummary"]) == (total, True, None)
    assert [(p["seq"], p["status"]) for p in public["proposals"]] == [(1, "EFFECTIVE")]


async def test_a_termination_signed_by_both_ends_the_contract_and_a_withdrawn_one_does_not(api, manual_clock, tmp_path):
    # given a contract both parties signed
    t = await awarded_lot(api, manual_clock)
    lot_id = t["lot"]["id"]
    parties = await cf.contract_parties(api, manual_clock, t["tenderer_phone"], t["phones"][1])
    await cf.signed_contract(api, parties, tmp_path, lot_id, t["lot"]["tradeCode"], PRICE)

    # when the winner proposes a termination and withdraws it, then proposes it again and both sign
    first = await cf.propose_termination(api, parties, tmp_path, lot_id, "winner", "FORCE_MAJEURE", "地震")
    withdrawn = await cf.decline_change(api, parties, lot_id, "winner", 1, "已恢复施工")
    again = await cf.propose_termination(api, parties, tmp_path, lot_id, "winner", "MUTUAL_AGREEMENT")
    content = cf.proposal(again["contract"], 2)["toSign"]
    half = await cf.sign_change(api, parties, lot_id, "winner", 2, content)
    done = await cf.sign_change(api, parties, lot_id, "tenderer", 2, content)

    # then the first is withdrawn with the contract in force; the second ends it once both signed, announced
    assert first["__typename"] == "ContractUpdated", first
    assert cf.proposal(withdrawn["contract"], 1)["status"] == "WITHDRAWN"
    assert (half["contract"]["status"], cf.proposal(half["contract"], 2)["status"]) == ("ACTIVE", "PROPOSED")
    assert done["__typename"] == "ContractUpdated", done
    assert (done["contract"]["status"], done["contract"]["terminationGround"]) == ("TERMINATED", "MUTUAL_AGREEMENT")
    assert cf.proposal(done["contract"], 2)["status"] == "EFFECTIVE"
    assert done["contract"]["changes"] == []  # a termination is no amendment
    record = (await api.gql(OCDS, {"lotId": lot_id}))["data"]["ocdsRecord"]
    [compiled] = record["compiledRelease"]["contracts"]
    assert (compiled["status"], compiled.get("amendments")) == ("terminated", None)


async def test_a_contract_recorded_by_contract_record_is_a_contract_object(api, manual_clock):
    # given an awarded lot
    t = await awarded_lot(api, manual_clock)
    lot_id = t["lot"]["id"]
    tenderer = await f.login(api, t["tenderer_phone"])

    # when the tenderer records a contract signed off the platform
    form = {"lotId": lot_id, "contractNo": "HT-OFF-1", "amountFen": PRICE, "signedOn": today(manual_clock)}
    recorded = (await api.gql(RECORD, {"input": form}, token=tenderer))["data"]["contractRecord"]

    # then the lot has its contract, as anyone reads it, and in the OCDS record
    assert recorded["__typename"] == "ContractRecorded", recorded
    public = (await api.gql(PUBLIC, {"lotId": lot_id}))["data"]["lotResult"]["contract"]
    assert (public["origin"], public["status"], public["contractNo"], public["amountFen"]) == (
        "RECORDED",
        "ACTIVE",
        "HT-OFF-1",
        PRICE,
    )
    assert (public["signatureIds"], public["announcementId"] is not None) == ([], True)
    record = (await api.gql(OCDS, {"lotId": lot_id}))["data"]["ocdsRecord"]
    [compiled] = record["compiledRelease"]["contracts"]
    assert compiled["value"] == {"amount": PRICE // 100, "currency": "CNY"}
