"""Electronic bid guarantees over HTTP: a bidder obtains one from a guarantor and its security is in
place; forged letters and a second claim are refused and change nothing; a kiosk checks a letter
without signing in; the result releases guarantees and the chronograph expires them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.common.chronograph import fire_due
from domain.common.models import OutboxEvent
from domain.guarantees.models import Guarantee
from tests import factories as f
from tests.scenarios.test_deposits import MINE as MY_REGISTRATIONS
from tests.scenarios.test_deposits import operator_phone, supervisor_phone
from tests.scenarios.test_publication import PROJECT_CREATE, publish, road_project
from tests.scenarios.test_registration import register
from tests.support.guarantor import LOT_GUARANTEES, MINE, Guarantor, apply, claim, verify

AMOUNT = 25_600_000  # 2% of the road works' estimate of 12.8 million yuan
VALIDITY = timedelta(days=90)  # the open tender's default bid validity


@dataclass
class Tender:
    """An open tender (bids due in 25 days), its tenderer, a guarantor and the operator (its phone, to sign in
    again after the clock moved)."""

    project: dict[str, Any]
    lot_id: str
    deadline: datetime
    tenderer_phone: str
    operator: str
    guarantor: Guarantor
    operator_phone: str

    @property
    def valid_until(self) -> datetime:
        return self.deadline + VALIDITY


async def open_tender(api: Any, clock: Any, **lot: Any) -> Tender:
    operator_at = await operator_phone()
    operator = await f.login(api, operator_at)
    guarantor = await Guarantor.open(api, operator)
    _, phone, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    created = await api.gql(
        PROJECT_CREATE, {"input": road_project(clock.now() + timedelta(days=25), **lot)}, token=tenderer
    )
    project = created["data"]["projectCreate"]["project"]
    await publish(api, tenderer, project, "TENDER", "2026年青岛市道路维修工程施工招标公告", "<p>黄岛区。</p>")
    lot_config = project["lots"][0]["config"]
    return Tender(
        project=project,
        lot_id=project["lots"][0]["id"],
        deadline=datetime.fromisoformat(lot_config["bidDeadline"]),
        tenderer_phone=phone,
        operator=operator,
        guarantor=guarantor,
        operator_phone=operator_at,
    )


async def registered_bidder(api: Any, t: Tender) -> tuple[str, str, str]:
    """(organisation id, phone, token) of a bidder registered for the tender's lot."""
    org_id, phone, token = await f.approved_org(api, t.operator)
    assert (await register(api, token, t.lot_id))["__typename"] == "LotRegistered"
    return org_id, phone, token


async def issued(api: Any, t: Tender) -> tuple[dict[str, Any], str]:
    """A registered bidder's issued guarantee and the bidder's phone."""
    _, phone, bidder = await registered_bidder(api, t)
    applied = await apply(api, bidder, t.lot_id, t.guarantor.org_id, AMOUNT, t.valid_until)
    assert applied["__typename"] == "GuaranteeApplied", applied
    done = await t.guarantor.issue_for(applied["guarantee"])
    assert done["__typename"] == "GuaranteeIssued", done
    return done["guarantee"], phone


async def events(kind: str) -> list[OutboxEvent]:
    return await OutboxEvent.filter(type=kind, outcome="success").order_by("id")


async def test_a_bidder_obtains_a_guarantee_that_puts_its_security_in_place_and_a_kiosk_checks_it(api, manual_clock):
    # given an open tender asking 2% security, a guarantor with a registered key, a registered bidder
    t = await open_tender(api, manual_clock)
    bidder_id, _, bidder = await registered_bidder(api, t)
    before = (await api.gql(MY_REGISTRATIONS, token=bidder))["data"]["myRegistrations"]["edges"][0]["node"]

    # when the bidder applies (the phone retries with the same key) and the guarantor issues the letter
    first = await apply(api, bidder, t.lot_id, t.guarantor.org_id, AMOUNT, t.valid_until, key="apply-1")
    retry = await apply(api, bidder, t.lot_id, t.guarantor.org_id, AMOUNT, t.valid_until, key="apply-1")
    [application] = await t.guarantor.applications("APPLIED")
    letter = t.guarantor.letter(application)
    done = await t.guarantor.issue(application["id"], t.guarantor.sign(letter), key="issue-1")

    # then one application reached the guarantor, naming the bidder and the tenderer as beneficiary
    assert first["__typename"] == retry["__typename"] == "GuaranteeApplied"
    assert retry["guarantee"]["id"] == first["guarantee"]["id"] == application["id"]
    assert application["applicant"]["id"] == bidder_id
    assert application["amountFen"] == AMOUNT
    assert datetime.fromisoformat(application["validUntil"]) == t.valid_until
    assert application["lot"]["tradeCode"] == t.project["lots"][0]["tradeCode"]

    # and the letter is accepted as the bidder's security, stored with its key and a verification code
    assert done["__typename"] == "GuaranteeIssued", done
    g = done["guarantee"]
    assert g["status"] == "ISSUED"
    assert g["letterNo"] == letter["letterNo"]
    assert g["keyId"] == t.guarantor.kid
    assert len(g["verificationCode"]) == 10
    assert len(g["letterSha256"]) == 64
    after = (await api.gql(MY_REGISTRATIONS, token=bidder))["data"]["myRegistrations"]["edges"][0]["node"]
    assert (before["securityInPlace"], after["securityInPlace"]) == (False, True)
    mine = (await api.gql(MINE, {"lotId": t.lot_id}, token=bidder))["data"]["myGuarantees"]["edges"]
    assert [e["node"]["status"] for e in mine] == ["ISSUED"]

    # and a kiosk, without a token, checks the letter by number and code (typed loosely), and learns
    # only what the letter says; a wrong code or number reveals nothing
    code = g["verificationCode"]
    shown = await verify(api, g["letterNo"], f" {code[:5].lower()}-{code[5:]} ")
    assert shown is not None
    assert shown["status"] == "ISSUED"
    assert shown["amountFen"] == AMOUNT
    assert shown["lotTradeCode"] == letter["lotTradeCode"]
    assert shown["beneficiary"] == letter["beneficiary"]
    assert shown["guarantor"] == letter["guarantor"]
    assert shown["applicant"] == letter["applicant"]
    assert shown["letterSha256"] == g["letterSha256"]
    wrong_code = "2222222222" if code != "2222222222" else "3333333333"
    assert await verify(api, g["letterNo"], wrong_code) is None
    assert await verify(api, "BH-NO-SUCH-LETTER", code) is None

    # and the events went to the bidder and the guarantor, not to the tenderer while registrants are secret
    [applied_event] = await events("guarantee.applied")
    [issued_event] = await events("guarantee.issued")
    guarantor_pk = (await Guarantee.get()).guarantor_id
    for event in (applied_event, issued_event):
        assert event.audience["orgs"] == [event.payload["applicant_id"], guarantor_pk]
        assert set(event.audience["roles"]) == {"operator", "supervisor"}
    assert issued_event.payload["letter_no"] == letter["letterNo"]
    assert issued_event.payload["amount_fen"] == AMOUNT
    tenderer = await f.login(api, t.tenderer_phone)
    hidden = await api.gql(LOT_GUARANTEES, {"lotId": t.lot_id}, token=tenderer)
    assert hidden["data"]["lotGuarantees"] is None


async def test_forged_or_altered_letters_get_typed_errors_and_change_nothing(api, manual_clock):
    # given an application, and another guarantor whose key is registered too
    t = await open_tender(api, manual_clock)
    other = await Guarantor.open(api, t.operator)
    _, _, bidder = await registered_bidder(api, t)
    await apply(api, bidder, t.lot_id, t.guarantor.org_id, AMOUNT, t.valid_until)
    [application] = await t.guarantor.applications()
    g = t.guarantor
    genuine = g.letter(application)
    stranger_credit = f.new_credit_code()

    # when forgeries arrive: an unregistered key, another guarantor's registered key, a foreign key under
    # the guarantor's kid, a genuine letter whose amount was edited after signing; then letters signed
    # by the guarantor's own key that say something else than the application; and a malformed one
    attempts = {
        "unregistered": g.forge_unregistered(genuine),
        "other_guarantor": other.sign(genuine),
        "foreign_key_my_kid": g.forge_under_my_kid(genuine),
        "edited_after_signing": g.tamper(g.sign(genuine), amountFen=AMOUNT * 10),
        "amount": g.sign(g.letter(application, amountFen=AMOUNT - 1)),
        "beneficiary": g.sign(
            g.letter(application, beneficiary={"creditCode": stranger_credit, "name": "青岛某某公司"})
        ),
        "validity": g.sign(g.letter(application, validUntil=(t.valid_until - timedelta(days=1)).isoformat())),
        "no_letter_no": g.sign(g.letter(application, letterNo=None)),
    }
    answers = {name: await g.issue(application["id"], token) for name, token in attempts.items()}

    # then each is a typed error naming what is wrong
    assert {k: (v["__typename"], v["code"]) for k, v in answers.items()} == {
        "unregistered": ("SignatureInvalid", "SIGNATURE_INVALID"),
        "other_guarantor": ("SignatureInvalid", "SIGNATURE_INVALID"),
        "foreign_key_my_kid": ("SignatureInvalid", "SIGNATURE_INVALID"),
        "edited_after_signing": ("SignatureInvalid", "SIGNATURE_INVALID"),
        "amount": ("LetterMismatch", "LETTER_MISMATCH"),
        "beneficiary": ("LetterMismatch", "LETTER_MISMATCH"),
        "validity": ("LetterMismatch", "LETTER_MISMATCH"),
        "no_letter_no": ("LetterMalformed", "LETTER_MALFORMED"),
    }
    assert [answers[k]["field"] for k in ("amount", "beneficiary", "validity", "no_letter_no")] == [
        "amountFen",
        "beneficiary.creditCode",
        "validUntil",
        "letterNo",
    ]

    # and nothing changed: still applied, no letter kept, no security, no issued event; each refusal audited
    row = await Guarantee.get()
    assert (row.status, row.letter_no, row.letter_jws, row.verification_code) == ("applied", None, None, None)
    assert await events("guarantee.issued") == []
    refused = await OutboxEvent.filter(type="guarantee.issue", outcome="failure").order_by("id")
    assert [e.payload["code"] for e in refused] == [a["code"] for a in answers.values()]

    # and the genuine letter is then accepted, while its number cannot serve another application
    assert (await g.issue(application["id"], g.sign(genuine)))["__typename"] == "GuaranteeIssued"
    _, _, second_bidder = await registered_bidder(api, t)
    await apply(api, second_bidder, t.lot_id, g.org_id, AMOUNT, t.valid_until)
    [second] = await g.applications("APPLIED")
    reused = await g.issue_for(second, letterNo=genuine["letterNo"])
    assert (reused["__typename"], reused["letterNo"]) == ("LetterNoTaken", genuine["letterNo"])
    assert (await Guarantee.get(id=int(second["applicationNo"]))).status == "applied"


async def test_the_tenderer_claims_once_after_the_deadline_and_the_guarantor_pays_or_rejects(api, manual_clock):
    # given two issued guarantees, of which the tenderer may not learn before the opening
    t = await open_tender(api, manual_clock)
    withdrawn, withdrawn_phone = await issued(api, t)
    refused_to_sign, _ = await issued(api, t)
    tenderer = await f.login(api, t.tenderer_phone)
    reason = "投标截止后撤销投标文件（实施条例第三十五条）"
    early = await claim(api, tenderer, withdrawn["id"], AMOUNT, reason)

    # when, after the deadline, the tenderer claims the first (its phone retries with the same key),
    # claims it again with another key, and the bidder tries to claim too
    manual_clock.advance(timedelta(days=26))
    tenderer = await f.login(api, t.tenderer_phone)
    claimed = await claim(api, tenderer, withdrawn["id"], AMOUNT, reason, key="claim-1")
    retry = await claim(api, tenderer, withdrawn["id"], AMOUNT, reason, key="claim-1")
    again = await claim(api, tenderer, withdrawn["id"], AMOUNT, reason, key="claim-2")
    too_much = await claim(api, tenderer, refused_to_sign["id"], AMOUNT + 1, "中标人拒签合同（第七十四条）")
    bidder = await f.login(api, withdrawn_phone)
    by_bidder = await api.gql(
        """mutation($input: GuaranteeClaimInput!) { guaranteeClaim(input: $input) { __typename } }""",
        {"input": {"guaranteeId": withdrawn["id"], "amountFen": 1, "reason": "x"}},
        token=bidder,
        expect_errors=True,
    )

    # then one claim stands; the repeat is a typed error and changed nothing
    assert early["code"] == "NOT_FOUND"  # before the opening the tenderer may not know who bids
    assert claimed["__typename"] == "GuaranteeClaimed"
    assert claimed["guarantee"]["status"] == "CLAIMED"
    assert claimed["guarantee"]["claimAmountFen"] == AMOUNT
    assert retry == claimed
    assert (again["__typename"], again["code"]) == ("GuaranteeAlreadyClaimed", "GUARANTEE_ALREADY_CLAIMED")
    assert (too_much["__typename"], too_much["code"]) == ("ClaimExceedsGuarantee", "CLAIM_EXCEEDS_GUARANTEE")
    assert by_bidder["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert len(await events("guarantee.claimed")) == 1
    row = await Guarantee.get(letter_no=withdrawn["letterNo"])
    assert (row.status, row.claim_reason, row.claim_amount_fen) == ("claimed", reason, AMOUNT)

    # when the guarantor pays the first and rejects a claim on the second
    g = t.guarantor
    await g.sign_in()
    paid = await g.pay(withdrawn["id"], key="pay-1")
    paid_again = await g.pay(withdrawn["id"])
    second = await claim(api, tenderer, refused_to_sign["id"], AMOUNT, "中标人拒签合同（第七十四条）")
    rejected = await g.reject(refused_to_sign["id"], "中标人已签订合同，索赔理由不成立")
    reclaim = await claim(api, tenderer, refused_to_sign["id"], AMOUNT, "再次索赔")

    # then each is final, and the tenderer now sees the lot's guarantees
    assert paid["guarantee"]["status"] == "PAID"
    assert paid["guarantee"]["claimDecidedAt"] is not None
    assert (paid_again["__typename"], paid_again["state"]) == ("InvalidTransition", "paid")
    assert second["__typename"] == "GuaranteeClaimed"
    assert rejected["guarantee"]["status"] == "REJECTED"
    assert rejected["guarantee"]["claimRejectReason"] == "中标人已签订合同，索赔理由不成立"
    assert reclaim["code"] == "GUARANTEE_ALREADY_CLAIMED"
    assert [len(await events(k)) for k in ("guarantee.claim_paid", "guarantee.claim_rejected")] == [1, 1]
    [paid_event] = await events("guarantee.claim_paid")
    assert len(paid_event.audience["orgs"]) == 3  # the bidder, the guarantor and, after the opening, the tenderer
    seen = await api.gql(LOT_GUARANTEES, {"lotId": t.lot_id}, token=tenderer)
    statuses = sorted(e["node"]["status"] for e in seen["data"]["lotGuarantees"]["edges"])
    assert statuses == ["PAID", "REJECTED"]
    shown = await verify(api, withdrawn["letterNo"], withdrawn["verificationCode"])
    assert shown is not None
    assert shown["status"] == "PAID"


async def test_the_contract_releases_issued_guarantees_once_and_a_claimed_one_waits(api, manual_clock):
    # given two issued guarantees, one of them claimed after the deadline
    t = await open_tender(api, manual_clock)
    kept, _ = await issued(api, t)
    claimed, _ = await issued(api, t)
    manual_clock.advance(timedelta(days=26))
    tenderer = await f.login(api, t.tenderer_phone)
    assert (await claim(api, tenderer, claimed["id"], AMOUNT, "中标人拒签合同"))["__typename"] == "GuaranteeClaimed"

    # when the result and the contract are published and the events delivered (twice)
    await publish(api, tenderer, t.project, "RESULT", "道路维修工程中标结果公告", "<p>中标人：甲公司。</p>")
    await api.dispatch()
    assert (await Guarantee.get(letter_no=kept["letterNo"])).status == "issued"  # not yet: no contract
    await publish(api, tenderer, t.project, "CONTRACT", "道路维修工程合同公告", "<p>合同。</p>")
    await api.dispatch()
    await api.dispatch()

    # then the issued one is released once, the claimed one waits for its decision
    released = await Guarantee.get(letter_no=kept["letterNo"])
    assert released.status == "released"
    assert released.released_at == manual_clock.now()
    assert released.next_check_at is None
    assert (await Guarantee.get(letter_no=claimed["letterNo"])).status == "claimed"
    [event] = await events("guarantee.released")
    assert event.payload["lot_status"] == "contracted"
    assert event.payload["letter_no"] == kept["letterNo"]
    assert len(event.audience["orgs"]) == 3
    shown = await verify(api, kept["letterNo"], kept["verificationCode"])
    assert shown is not None
    assert shown["status"] == "RELEASED"


async def test_the_chronograph_expires_a_guarantee_at_its_validity_end(api, manual_clock):
    # given an issued guarantee of a lot that never gets a result
    t = await open_tender(api, manual_clock)
    g, _ = await issued(api, t)
    valid_until = datetime.fromisoformat(g["validUntil"])

    # when the chronograph runs just before and just after the end of its validity
    manual_clock.set(valid_until - timedelta(seconds=1))
    await fire_due()
    still = (await Guarantee.get(letter_no=g["letterNo"])).status
    manual_clock.set(valid_until)
    await fire_due()
    await fire_due()

    # then it expired at its end, once, and can no longer be claimed
    assert still == "issued"
    row = await Guarantee.get(letter_no=g["letterNo"])
    assert (row.status, row.expired_at, row.next_check_at) == ("expired", valid_until, None)
    assert len(await events("guarantee.expired")) == 1
    tenderer = await f.login(api, t.tenderer_phone)
    late = await claim(api, tenderer, g["id"], AMOUNT, "中标人拒签合同")
    assert (late["__typename"], late["state"]) == ("InvalidTransition", "expired")
    shown = await verify(api, g["letterNo"], g["verificationCode"])
    assert shown is not None
    assert shown["status"] == "EXPIRED"


async def test_applications_outside_the_rules_are_refused_and_a_declined_one_may_be_replaced(api, manual_clock):
    # given a registered bidder, an unregistered one, and a bidder organisation posing as guarantor
    t = await open_tender(api, manual_clock)
    _, bidder_phone, bidder = await registered_bidder(api, t)
    _, _, unregistered = await f.approved_org(api, t.operator)
    not_a_guarantor, _, _ = await f.approved_org(api, t.operator)
    g = t.guarantor.org_id

    # when applications break each rule
    low = await apply(api, bidder, t.lot_id, g, AMOUNT - 1, t.valid_until)
    short = await apply(api, bidder, t.lot_id, g, AMOUNT, t.valid_until - timedelta(seconds=1))
    stranger = await apply(api, bidder, t.lot_id, not_a_guarantor, AMOUNT, t.valid_until)
    outsider = await apply(api, unregistered, t.lot_id, g, AMOUNT, t.valid_until)
    ok = await apply(api, bidder, t.lot_id, g, AMOUNT, t.valid_until)
    twice = await apply(api, bidder, t.lot_id, g, AMOUNT, t.valid_until)

    # then each names its rule, and one application stands
    assert (low["__typename"], low["requiredFen"]) == ("GuaranteeAmountTooLow", AMOUNT)
    assert short["__typename"] == "GuaranteeValidityTooShort"
    assert datetime.fromisoformat(short["requiredUntil"]) == t.valid_until
    assert [r["code"] for r in (stranger, outsider, twice)] == ["NOT_A_GUARANTOR", "NOT_REGISTERED", "GUARANTEE_EXISTS"]
    assert ok["__typename"] == "GuaranteeApplied"
    assert await Guarantee.all().count() == 1

    # when the guarantor declines it, the bidder applies again, and the bids close
    declined = await t.guarantor.decline(ok["guarantee"]["id"], "反担保材料不足")
    replaced = await apply(api, bidder, t.lot_id, g, AMOUNT, t.valid_until)
    manual_clock.advance(timedelta(days=25))
    late = await apply(api, await f.login(api, bidder_phone), t.lot_id, g, AMOUNT, t.valid_until)
    await t.guarantor.sign_in()
    late_letter = await t.guarantor.issue_for(replaced["guarantee"])

    # then the declined one carries its reason, the new one stays applied; nothing is taken after the deadline
    assert declined["guarantee"]["status"] == "DECLINED"
    assert declined["guarantee"]["declineReason"] == "反担保材料不足"
    assert replaced["__typename"] == "GuaranteeApplied"
    assert (late["__typename"], late_letter["__typename"]) == ("GuaranteeTooLate", "GuaranteeTooLate")
    assert (await Guarantee.get(id=int(replaced["guarantee"]["applicationNo"]))).status == "applied"
    [declined_event] = await events("guarantee.declined")
    assert declined_event.payload["reason"] == "反担保材料不足"
    assert len(declined_event.audience["orgs"]) == 2


async def test_a_lot_without_security_needs_no_guarantee(api, manual_clock):
    # given a tender that asks no security, and a registered bidder
    deadline = manual_clock.now() + timedelta(days=25)
    t = await open_tender(api, manual_clock, config={"bidDeadline": deadline.isoformat(), "depositRequired": False})
    _, _, bidder = await registered_bidder(api, t)

    # when the bidder applies
    answer = await apply(api, bidder, t.lot_id, t.guarantor.org_id, AMOUNT, t.valid_until)

    # then
    assert (answer["__typename"], answer["code"]) == ("NoSecurityRequired", "NO_SECURITY_REQUIRED")


async def test_the_bidder_and_the_guarantor_are_told_and_the_tenderer_is_not(api, manual_clock):
    # given an application and an issued letter
    t = await open_tender(api, manual_clock)
    _, _, bidder = await registered_bidder(api, t)
    await apply(api, bidder, t.lot_id, t.guarantor.org_id, AMOUNT, t.valid_until)
    [application] = await t.guarantor.applications("APPLIED")
    await t.guarantor.issue(application["id"], t.guarantor.sign(t.guarantor.letter(application)))
    # when the dispatcher runs
    await api.dispatch()
    # then the guarantor learned of the application, the bidder of the letter, the tenderer of nothing
    kinds = "query { myNotifications { edges { node { kind title } } } }"
    to_bidder = [e["node"]["title"] for e in (await api.gql(kinds, token=bidder))["data"]["myNotifications"]["edges"]]
    tenderer = await f.login(api, t.tenderer_phone)
    to_tenderer = (await api.gql(kinds, token=tenderer))["data"]["myNotifications"]["edges"]
    assert "电子保函已出具" in to_bidder
    assert all(e["node"]["kind"] != "GUARANTEE" for e in to_tenderer)
    guarantor_inbox = await api.gql(kinds, token=t.guarantor.token)
    titles = [e["node"]["title"] for e in guarantor_inbox["data"]["myNotifications"]["edges"]]
    assert "收到电子保函申请" in titles


async def test_a_bidder_that_withdraws_has_its_guarantee_released(api, manual_clock):
    # given an issued guarantee
    from tests.scenarios.test_registration import WITHDRAW

    t = await open_tender(api, manual_clock)
    guarantee, phone = await issued(api, t)
    bidder = await f.login(api, phone)
    # when the bidder withdraws before the deadline, and the event is delivered twice
    await api.gql(WITHDRAW, {"input": {"lotId": t.lot_id}}, token=bidder)
    await api.dispatch()
    await OutboxEvent.filter(type="registration.withdrawn").update(dispatched_at=None)
    await api.dispatch()
    # then the guarantee is released, once
    [g] = await Guarantee.all()
    assert g.status == "released"
    assert len(await events("guarantee.released")) == 1
    assert guarantee["status"] == "ISSUED"


async def test_a_kiosk_guessing_letters_is_slowed_down(api, manual_clock):
    # when one address checks 61 letters at once (a minute window may turn over in between: 2 x 30)
    answers = [
        await api.gql(
            'query($n: String!) { guaranteeVerify(letterNo: $n, verificationCode: "ABCDEFGHJK") { status } }',
            {"n": f"BH-{i}"},
            expect_errors=True,
        )
        for i in range(61)
    ]
    # then some are refused as rate limited, and the others found nothing
    refused = [a for a in answers if a.get("errors")]
    assert refused
    assert {a["errors"][0]["extensions"]["code"] for a in refused} == {"RATE_LIMITED"}
    assert all(a["data"]["guaranteeVerify"] is None for a in answers if not a.get("errors"))


async def test_the_premiums_payer_account_is_kept_as_digits_and_shown_to_the_bidder_the_guarantor_and_supervisors(
    api, manual_clock
):
    # given a registered bidder, and a supervisor
    t = await open_tender(api, manual_clock)
    _, bidder_phone, bidder = await registered_bidder(api, t)
    watching = await supervisor_phone(api, t.operator)

    # when it applies with an account that is not one, then with one typed in full-width digits and spaces
    bad = await apply(api, bidder, t.lot_id, t.guarantor.org_id, AMOUNT, t.valid_until, payer_account="6222-0216-OK")
    ok = await apply(
        api,
        bidder,
        t.lot_id,
        t.guarantor.org_id,
        AMOUNT,
        t.valid_until,
        payer_account="６２２２ ０２１６ 0001-2345-678",
    )

    # then the first names the field, and the account is kept as its digits for the bidder and the guarantor
    assert (bad["__typename"], bad["code"], bad["field"]) == (
        "InvalidBankAccount",
        "INVALID_BANK_ACCOUNT",
        "payerAccount",
    )
    assert ok["guarantee"]["payerAccount"] == "6222021600012345678"
    [application] = await t.guarantor.applications("APPLIED")
    assert application["payerAccount"] == "6222021600012345678"

    # when the letter is issued and, after the deadline, the tenderer and a supervisor list the lot's guarantees
    assert (await t.guarantor.issue_for(application))["__typename"] == "GuaranteeIssued"
    manual_clock.advance(timedelta(days=26))
    tenderer = await f.login(api, t.tenderer_phone)
    supervisor = await f.login(api, watching)
    by_tenderer = (await api.gql(LOT_GUARANTEES, {"lotId": t.lot_id}, token=tenderer))["data"]["lotGuarantees"]
    by_supervisor = (await api.gql(LOT_GUARANTEES, {"lotId": t.lot_id}, token=supervisor))["data"]["lotGuarantees"]
    mine = (await api.gql(MINE, {"lotId": t.lot_id}, token=await f.login(api, bidder_phone)))["data"]["myGuarantees"]

    # then the tenderer sees the guarantee but not the account; the supervisor and the bidder see it
    assert [e["node"]["payerAccount"] for e in by_tenderer["edges"]] == [None]
    assert [e["node"]["payerAccount"] for e in by_supervisor["edges"]] == ["6222021600012345678"]
    assert [e["node"]["payerAccount"] for e in mine["edges"]] == ["6222021600012345678"]
    # and no event carries it
    assert all("6222021600012345678" not in str(e.payload) for e in await OutboxEvent.all())
