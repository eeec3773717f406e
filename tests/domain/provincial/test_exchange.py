"""The provincial exchange on the database against the stub province: what a published result and contract carry,
the receipt, backoff and the dead letter, a lost receipt never duplicated, an SM2-signed channel, reconciliation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tongsuopy.crypto import serialization
from tongsuopy.crypto.asymciphers import ec

from api.provincial import HttpProvincialPlatform, Signer
from domain.accounts.models import Organisation
from domain.common import clock
from domain.common.actors import Role
from domain.common.errors import PermissionDenied
from domain.provincial import exchange, spec
from domain.provincial.models import ProvincialMessage
from domain.publication.models import Announcement
from domain.publication.states import AnnouncementType
from domain.results import services as results
from domain.results.models import Candidate
from domain.wiring import wire
from notifications.dispatch import Dispatcher
from tests.domain.factories import organisation
from tests.support.provincial_platform import PUBLICITY_SETTINGS, ProvincialPlatformStub
from tests.support.results import evaluated_lot
from tests.support.tendering import person, published_tender

PRICES = [98_000_000, 95_500_000, 97_250_000, 99_000_000]


@pytest.fixture
async def province():
    stub = ProvincialPlatformStub()
    await stub.start()
    platform = HttpProvincialPlatform(stub.base_url, stub.platform_code, Signer(hmac_key=stub.hmac_key))
    exchange.configure(platform, stub.platform_code, max_attempts=3, **PUBLICITY_SETTINGS)
    yield stub
    exchange.configure(None)
    await platform.close()
    await stub.stop()


async def queued() -> int:
    return await Dispatcher([wire().reactions]).drain()


def test_the_mapping_names_its_spec_and_each_data_set_its_required_items():
    # the one table: every item in a data set, the notice never asks for a winner
    assert spec.SPEC_VERSION == "V2.0"
    assert "WIN_BIDDER_NAME" not in [i.code for i in spec.items(spec.NOTICE)]
    assert spec.missing(spec.CONTRACT, {"CONTRACT_CODE": "HT-1"})[:2] == ["PLATFORM_CODE", "TENDER_PROJECT_CODE"]
    assert "BID_SECTION_CODES" in [i.code for i in spec.items(spec.NOTICE)]
    assert "BID_SECTION_CODE" in [i.code for i in spec.items(spec.RESULT)]
    assert exchange.backoff(1) == timedelta(seconds=30)
    assert exchange.backoff(20) == exchange.MAX_BACKOFF


def honest(status: str, evidence: tuple[str, ...]) -> bool:
    """Corroborated by at least two independent implementations, single by one, own by none; all of them named."""
    agreeing = {"corroborated": len(evidence) >= 2, "single": len(evidence) == 1, "own": not evidence}
    return agreeing[status] and all(source in spec.SOURCES for source in evidence)


SENT_KINDS = {k.value for k in AnnouncementType} - {"complaint_decision", "bad_conduct"}  # the others go elsewhere


def test_every_row_states_its_evidence_honestly():
    # given the table: a corroborated key has two independent implementations or more, a single one, an own key none
    for item in spec.ITEMS:
        assert honest(item.status, item.evidence), item.code
    assert len({i.code for i in spec.ITEMS}) == len(spec.ITEMS)
    # and so has every code of every code set, each under its own value
    for name, codes in spec.CODE_SETS.items():
        assert name in {i.code for i in spec.ITEMS}
        for value, code in codes.items():
            assert code.value == value, (name, value)
            assert honest(code.status, code.evidence), (name, value)
    # and so has every data set a trade's messages are declared under, each PalmTrade set of each trade in one
    for category, sets in (*spec.DATA_SETS.items(), ("other", spec.OTHER_TRADE)):
        engineering = {spec.NOTICE, spec.PUBLICITY, spec.RESULT, spec.WORKS_CONTRACT}
        assert set(sets) == (engineering if category == "engineering_construction" else set(spec.ANNOUNCED))
        for ds in sets.values():
            assert honest(ds.status, ds.evidence), ds.name
    # and every announcement type sent has a 公告类型 in the code set and says how far it goes
    assert set(spec.BULLETIN_TYPE_STATUS) == SENT_KINDS
    for kind in SENT_KINDS:
        assert spec.bulletin_type(kind) in spec.BULLETIN_TYPE_CODES, kind
        if spec.BULLETIN_TYPE_STATUS[kind] == "own":
            assert spec.bulletin_type(kind) == spec.OTHER_BULLETIN, kind  # no code of PalmTrade's own is sent


def test_codes_follow_the_implementations():
    # a tender notice is 公告类型 1, a result with a winner 3, without one 9 其他, a kind no source codes 9
    assert spec.bulletin_type("tender") == "1"
    assert (spec.bulletin_type("result"), spec.bulletin_type("result", winner=False)) == ("3", "9")
    assert spec.bulletin_type("candidate_publicity") == spec.bulletin_type("contract") == "9"
    # a change takes the type of what it corrects (a tender notice when it names none) and is 公告性质 2
    assert spec.bulletin_type("change", corrects="tender") == spec.bulletin_type("change") == "1"
    assert spec.bulletin_type("change", corrects="result") == "3"
    assert spec.notice_nature("change", None) == spec.notice_nature("result", 7) == "2"
    assert spec.notice_nature("tender", None) == "1"
    # and a value outside its code set is found, as a province refuses it
    assert spec.invalid_codes({"BULLETIN_TYPE": "4", "NOTICE_NATURE": "2", "PRICE_UNIT": "1"}) == ["BULLETIN_TYPE"]
    assert spec.invalid_codes({"BULLETIN_TYPE": "1", "NOTICE_NATURE": "3", "PRICE_UNIT": None}) == ["NOTICE_NATURE"]


def test_the_trade_is_told_by_the_data_set_the_message_declares_not_by_an_own_item():
    # no item of PalmTrade's own is left: the trade is the data set the message declares (GGZY's DATA_NO / DATA_EN)
    assert "TRADE_CATEGORY" not in {i.code for i in spec.ITEMS}
    assert [i.status for i in spec.ITEMS if i.status == "own"] == []
    assert spec.TRADE_DATA_SET_STATUS == "corroborated"
    engineering = spec.spec_data_set("engineering_construction", spec.NOTICE)
    procurement = spec.spec_data_set("government_procurement", spec.NOTICE)
    assert (engineering.no, engineering.name) == ("503", "TENDER_ANN_QUA_INQUERY_ANN")
    assert (procurement.no, procurement.name) == ("551", "PURCHASE_QUALI_INQUERY_ANN")
    assert spec.spec_data_set("engineering_construction", spec.RESULT).name == "WIN_RESULT_ANNO"
    assert spec.spec_data_set("land_use_rights", spec.RESULT).name == "DEAL_LAND_INFO"
    # a trade with no data sets of its own goes as 其他交易, a contract with no contract set as 履约信息
    assert spec.spec_data_set("rural_collective_property", spec.NOTICE).name == "OTHER_TRADE_PUB_INFO"
    assert spec.spec_data_set("state_owned_property", spec.CONTRACT).name == "PERFORMANCE_INFO"
    # and the receiver finds the set by number and name together: a name under another set's number is none
    assert spec.declared("503", "TENDER_ANN_QUA_INQUERY_ANN") == spec.NOTICE
    assert spec.declared("305", "PERFORMANCE_INFO") == spec.CONTRACT
    assert spec.declared("513", "TENDER_ANN_QUA_INQUERY_ANN") is None
    assert spec.declared("503", "NOTICE") is None


def test_the_industry_is_sent_for_engineering_projects_in_the_specification_codes():
    # the 招标项目类型 codes are GGZY's table, A01 房屋建筑 to A99 其他, each single-sourced
    codes = spec.TENDER_PROJECT_TYPE_CODES
    assert list(codes)[:3] == ["A01", "A02", "A03"]
    assert list(codes)[-1] == "A99"
    assert (codes["A01"].label, codes["A07"].label, codes["A99"].label) == ("房屋建筑", "水利", "其他")
    assert {c.status for c in codes.values()} == {"single"}
    # sent for an engineering project only, and a value outside the table is found as a province refuses it
    assert spec.industry_of("engineering_construction", "A03") == "A03"
    assert spec.industry_of("government_procurement", "A03") is None
    assert spec.industry_of("engineering_construction", None) is None
    assert spec.invalid_codes({"TENDER_PROJECT_TYPE": "A50", "BULLETIN_TYPE": "1"}) == ["TENDER_PROJECT_TYPE"]
    assert "TENDER_PROJECT_TYPE" not in spec.missing(spec.NOTICE, {})  # optional while old projects have none


def test_amounts_go_in_wan_exactly_from_integer_fen():
    # 1 分 = 0.000001 万元: every fen survives, large and negative amounts too, and comes back the same
    assert spec.wan(95_500_001) == "95.500001"
    assert spec.wan(1) == "0.000001"
    assert spec.wan(0) == "0.000000"
    assert spec.wan(-150) == "-0.000150"
    assert spec.wan(None) is None
    big = 123_456_789_012_345_678  # beyond a float's 53 bits
    assert spec.wan(big) == "123456789012.345678"
    for fen in (0, 1, 99, 100, 95_500_001, big, -7):
        assert spec.fen_of_wan(spec.wan(fen) or "") == fen
    with pytest.raises(ValueError, match="whole number of fen"):
        spec.fen_of_wan("0.0000001")


async def test_without_an_adapter_the_queue_is_kept_and_nothing_is_sent(db, manual_clock):
    # given no provincial endpoint configured
    exchange.configure(None)
    # when a tender is published and the outbox delivered
    t = await published_tender()
    await queued()
    # then its message waits, queued
    assert await exchange.send_due("w1") == 0
    m = await ProvincialMessage.get(lot_id=t.lot.id)
    assert (m.status, m.attempts, m.data_type) == ("queued", 0, "NOTICE")


async def test_the_result_and_the_contract_reach_the_province_with_winner_and_amounts(db, manual_clock, province):
    # given a lot awarded and its contract recorded
    t, _ = await evaluated_lot(manual_clock, PRICES)
    await results.publish_candidates(t.tenderer, t.lot.id)
    manual_clock.advance(days=3, seconds=1)
    made = await results.award(t.tenderer, t.lot.id)
    today = clock.today()
    await results.record_contract(t.tenderer, t.lot.id, "HT-2026-007", made.price_fen, today)
    # when the outbox is delivered and the sender runs
    await queued()
    await exchange.send_due("w1")
    # then every announcement of the lot is at the province, each with its receipt
    sent = await ProvincialMessage.filter(lot_id=t.lot.id).order_by("id")
    assert {m.kind for m in sent} >= {"tender", "candidate_publicity", "result", "contract"}
    assert all(m.status == "sent" and m.receipt_id for m in sent)
    assert len(province.held) == len(sent)
    by_kind = {m.kind: province.held[m.message_id].message for m in sent}
    result, contract = by_kind["result"], by_kind["contract"]
    # the notice and the result with the 公告类型 of their kind, first publications
    assert {kind: by_kind[kind]["data"]["BULLETIN_TYPE"] for kind in ("tender", "result")} == {
        "tender": "1",
        "result": "3",
    }
    assert {by_kind[kind]["data"]["NOTICE_NATURE"] for kind in ("tender", "result")} == {"1"}
    # under the engineering trade's data sets (by number and name), with the project's 招标项目类型 (A02 市政)
    assert (result["dataNo"], result["dataType"], result["dataCn"]) == ("513", "WIN_RESULT_ANNO", "中标结果公告")
    assert by_kind["tender"]["dataType"] == "TENDER_ANN_QUA_INQUERY_ANN"
    assert {m["data"]["TENDER_PROJECT_TYPE"] for m in by_kind.values()} == {"A02"}
    assert "TRADE_CATEGORY" not in result["data"]
    assert result["specVersion"] == "V2.0"
    assert (result["data"]["BID_AMOUNT"], result["data"]["PRICE_UNIT"]) == ("95.500000", "1")
    assert result["data"]["WIN_BIDDER_CODE"]
    assert (contract["dataNo"], contract["dataType"]) == ("512", "CONTRACT_PERFORMANCE")
    assert (contract["data"]["CONTRACT_CODE"], contract["data"]["CONTRACT_PRICE"]) == ("HT-2026-007", "95.500000")
    assert contract["data"]["BID_SECTION_CODE"] == t.lot.trade_code
    # every time as GGZY's DateMatch reads it: yyyyMMddHHmmss in Beijing time, a signing day at 000000
    assert contract["data"]["CONTRACT_SIGN_TIME"] == today.strftime("%Y%m%d") + "000000"
    sent_at = clock.to_shanghai(clock.now()).strftime("%Y%m%d")
    assert all(m["data"]["DATA_TIMESTAMP"].startswith(sent_at) for m in by_kind.values())
    assert all(spec.invalid_times(m["data"]) == [] for m in by_kind.values())


async def test_an_engineering_publicity_and_contract_go_in_their_own_data_sets(db, manual_clock, province):
    # given an engineering lot evaluated (candidates ranked by price), publicised, awarded and its contract recorded
    t, _ = await evaluated_lot(manual_clock, PRICES)
    await results.publish_candidates(t.tenderer, t.lot.id)
    manual_clock.advance(days=3, seconds=1)
    made = await results.award(t.tenderer, t.lot.id)
    today = clock.today()
    await results.record_contract(t.tenderer, t.lot.id, "HT-2026-011", made.price_fen, today)
    # when they are sent
    await queued()
    await exchange.send_due("w1")
    sent = {m.kind: m for m in await ProvincialMessage.filter(lot_id=t.lot.id)}
    assert {m.status for m in sent.values()} == {"sent"}
    publicity = province.held[sent["candidate_publicity"].message_id].message
    contract = province.held[sent["contract"].message_id].message
    # then the candidates' publicity is GGZY's 511 with its items: 公示类型 1 正常, the period, the ranked candidates
    assert (publicity["dataNo"], publicity["dataType"], publicity["dataCn"]) == (
        "511",
        "TENDER_CANDIDATE_ANNOUNCE",
        "中标候选人公示",
    )
    assert sent["candidate_publicity"].data_type == spec.PUBLICITY
    data = publicity["data"]
    ann = await Announcement.get(id=sent["candidate_publicity"].object_id)
    assert (data["PUBLICITY_NAME"], data["PUBLICITY_TYPE"]) == (ann.title, "1")
    assert data["PUBLICITY_END_TIME"] == clock.to_shanghai(ann.publicity_ends_at).strftime("%Y%m%d%H%M%S")
    assert data["PUBLICITY_START_TIME"] < data["PUBLICITY_END_TIME"]
    assert (data["BID_SECTION_CODES"], data["UNIFIED_DEAL_CODE"]) == (t.lot.trade_code, t.lot.trade_code)
    assert data["OBJECTION_METHOD"] == spec.OBJECTION_METHOD_TEXT
    # with the items only the deployment knows, and who answers for it (the tenderer's contact: no user published)
    assert (data["NOTICE_MEDIA"], data["EXAMINER_NAME"]) == ("厦门市公共资源交易网", "林晓")
    assert data["URL"] == f"https://ggzy.example.gov.cn/announcements/{sent['candidate_publicity'].message_id}"
    assert data["BULLETIN_DUTY"]
    ranked = await Candidate.filter(lot_id=t.lot.id).order_by("rank")
    names = {o.id: o.name for o in await Organisation.filter(id__in=[c.organisation_id for c in ranked])}
    assert [data.get(f"{r}_BIDDER_NAME") for r in ("FIRST", "SECOND", "THIRD")] == [
        names[c.organisation_id] for c in ranked[:3]
    ]
    assert not {"BULLETIN_TYPE", "NOTICE_NAME"} & set(data)  # 511 has items of its own
    # and the contract is 512 with its required items: the name, 价款形式 1 金额, the price in 万元
    assert sent["contract"].data_type == spec.WORKS_CONTRACT
    c = contract["data"]
    assert (c["CONTRACT_NAME"], c["PRICE_FORM_CODE"], c["PRICE_UNIT"]) == (f"{t.lot.name}合同", "1", "1")
    assert (c["CONTRACT_CODE"], c["CONTRACT_PRICE"], c["CONTRACT_SIGN_TIME"]) == (
        "HT-2026-011",
        spec.wan(made.price_fen),
        today.strftime("%Y%m%d") + "000000",
    )
    assert all(c[k] for k in ("BIDDER_CODE", "TENDER_CODE", "CONTRACT_CONTENT"))
    assert spec.missing(spec.WORKS_CONTRACT, c) == []
    # every other trade keeps what it had: its publicity goes as a notice, its contract in its contract set
    assert spec.trade_set("government_procurement", spec.NOTICE, "candidate_publicity") == spec.NOTICE
    assert spec.trade_set("government_procurement", spec.CONTRACT, "contract") == spec.CONTRACT
    assert spec.spec_data_set("government_procurement", spec.CONTRACT).no == "554"


def test_the_publicity_and_contract_sets_require_the_items_ggzy_requires():
    # 511 and 512 as GGZY's configuration has them (NotNull), found by number and name
    assert spec.declared("511", "TENDER_CANDIDATE_ANNOUNCE") == spec.PUBLICITY
    assert spec.declared("512", "CONTRACT_PERFORMANCE") == spec.WORKS_CONTRACT
    assert {"PUBLICITY_NAME", "PUBLICITY_TYPE", "PUBLICITY_END_TIME", "BID_SECTION_CODES"} <= set(
        spec.missing(spec.PUBLICITY, {})
    )
    assert "BID_SECTION_CODES" not in spec.missing(spec.NOTICE, {})  # optional in the notice
    assert {"CONTRACT_NAME", "PRICE_FORM_CODE", "CONTRACT_CODE", "CONTRACT_SIGN_TIME"} <= set(
        spec.missing(spec.WORKS_CONTRACT, {})
    )
    assert "CONTRACT_NAME" not in spec.missing(spec.CONTRACT, {})  # the other trades' contract set unchanged
    # the code sets: 公示类型 1 正常 2 更正 9 其他 (BIDLINK, PUBLICITY-PAGE), 价款形式 1 金额 ... 9 (GGZY)
    assert (spec.publicity_type(None, 3), spec.publicity_type(7, 3), spec.publicity_type(None, 0)) == ("1", "2", "9")
    assert list(spec.PRICE_FORM_CODES) == ["1", "2", "3", "9"]
    assert spec.invalid_codes({"PUBLICITY_TYPE": "3", "PRICE_FORM_CODE": "5"}) == ["PUBLICITY_TYPE", "PRICE_FORM_CODE"]


@pytest.mark.parametrize(("kind", "item"), [("contract", "CONTRACT_NAME"), ("candidate_publicity", "PUBLICITY_TYPE")])
async def test_a_message_missing_a_required_item_of_its_set_is_refused(db, manual_clock, province, kind, item):
    # given an engineering lot's publicity and contract queued, one of them without a required item of its set
    t, _ = await evaluated_lot(manual_clock, PRICES)
    await results.publish_candidates(t.tenderer, t.lot.id)
    manual_clock.advance(days=3, seconds=1)
    made = await results.award(t.tenderer, t.lot.id)
    await results.record_contract(t.tenderer, t.lot.id, "HT-2026-012", made.price_fen, clock.today())
    await queued()
    m = await ProvincialMessage.get(lot_id=t.lot.id, kind=kind)
    await ProvincialMessage.filter(id=m.id).update(payload={k: v for k, v in m.payload.items() if k != item})
    # when it is sent, then the province refuses it naming the item and keeps nothing of it
    await exchange.send_due("w1")
    m = await ProvincialMessage.get(id=m.id)
    assert (m.status, m.last_error) == ("queued", f"2002: 必填数据项缺失：{item}")
    assert m.message_id not in province.held


async def test_a_code_outside_its_code_set_is_refused_by_the_province(db, manual_clock, province):
    # given a tender notice queued with a 公告类型 no implementation gives (the 4 PalmTrade once invented)
    t = await published_tender()
    await queued()
    m = await ProvincialMessage.get(lot_id=t.lot.id)
    await ProvincialMessage.filter(id=m.id).update(payload={**m.payload, "BULLETIN_TYPE": "4"})
    # when it is sent
    await exchange.send_due("w1")
    # then the province answers an error receipt naming the item, keeps nothing, and the message waits
    m = await ProvincialMessage.get(id=m.id)
    assert (m.status, m.attempts, m.last_error) == ("queued", 1, "2004: 代码值不在代码集内：BULLETIN_TYPE")
    assert province.held == {}


async def test_a_time_not_written_as_the_specification_reads_it_is_refused(db, manual_clock, province):
    # given a tender notice queued with its time in ISO 8601 (as PalmTrade sent times before), not yyyyMMddHHmmss
    t = await published_tender()
    await queued()
    m = await ProvincialMessage.get(lot_id=t.lot.id)
    assert spec.invalid_times(m.payload) == []
    iso = clock.to_shanghai(clock.now()).isoformat(timespec="seconds")
    await ProvincialMessage.filter(id=m.id).update(payload={**m.payload, "NOTICE_SEND_TIME": iso})
    # when it is sent, then the province refuses the item and keeps nothing
    await exchange.send_due("w1")
    m = await ProvincialMessage.get(id=m.id)
    assert (m.status, m.last_error) == ("queued", "2006: 时间格式错误（yyyyMMddHHmmss）：NOTICE_SEND_TIME")
    assert province.held == {}


async def test_a_publicity_without_the_deployments_items_is_refused_as_ggzy_would(db, manual_clock, province):
    # given a deployment that did not set 公示发布媒体, the public address and the data's responsible person
    exchange.deps.notice_media = exchange.deps.public_url = exchange.deps.examiner_name = ""
    t, _ = await evaluated_lot(manual_clock, PRICES)
    await results.publish_candidates(t.tenderer, t.lot.id)
    # when the candidates' publicity is sent
    await queued()
    await exchange.send_due("w1")
    # then the province refuses it naming the three items (the publisher is known), and the message waits
    m = await ProvincialMessage.get(lot_id=t.lot.id, kind="candidate_publicity")
    assert (m.status, m.last_error) == ("queued", "2002: 必填数据项缺失：NOTICE_MEDIA,URL,EXAMINER_NAME")


async def test_an_industry_outside_the_code_table_is_refused_by_the_province(db, manual_clock, province):
    # given a tender notice queued with a 招标项目类型 outside GGZY's table
    t = await published_tender()
    await queued()
    m = await ProvincialMessage.get(lot_id=t.lot.id)
    assert m.payload["TENDER_PROJECT_TYPE"] == "A02"
    await ProvincialMessage.filter(id=m.id).update(payload={**m.payload, "TENDER_PROJECT_TYPE": "A50"})
    # when it is sent, then the province refuses the item and keeps nothing
    await exchange.send_due("w1")
    m = await ProvincialMessage.get(id=m.id)
    assert (m.status, m.last_error) == ("queued", "2004: 代码值不在代码集内：TENDER_PROJECT_TYPE")
    assert province.held == {}


async def test_failures_back_off_then_go_dead_and_an_operator_sends_again(db, manual_clock, province):
    # given a published tender and a province answering 503 three times
    t = await published_tender()
    await queued()
    province.fail_next = 3
    # when the sender tries
    await exchange.send_due("w1")
    m = await ProvincialMessage.get(lot_id=t.lot.id)
    # then the message waits 30 s before its next try, and is not tried sooner
    assert (m.status, m.attempts, m.last_error) == ("queued", 1, "unavailable: HTTP 503")
    assert m.due_at == clock.now() + timedelta(seconds=30)
    assert await exchange.send_due("w1") == 0
    manual_clock.advance(seconds=30)
    await exchange.send_due("w1")
    manual_clock.advance(minutes=1)
    await exchange.send_due("w1")
    # and after the third failure it is dead
    m = await ProvincialMessage.get(lot_id=t.lot.id)
    assert (m.status, m.attempts) == ("dead", 3)
    manual_clock.advance(hours=2)
    assert await exchange.send_due("w1") == 0
    # when an operator sends it again (a tenderer may not)
    operator = person(await organisation(kinds=["operator"]), Role.OPERATOR)
    with pytest.raises(PermissionDenied):
        await exchange.retry_now(person(await organisation(kinds=["tenderer"]), Role.TENDERER), m.id)
    await exchange.retry_now(operator, m.id, "retry-1")
    await exchange.send_due("w1")
    # then it is at the province, and a second retry is refused
    m = await ProvincialMessage.get(id=m.id)
    assert (m.status, m.attempts) == ("sent", 1)
    assert province.held[m.message_id].receipt_id == m.receipt_id
    with pytest.raises(exchange.MessageNotRetryable):
        await exchange.retry_now(operator, m.id)


async def test_an_sm2_signed_channel_and_error_receipts(db, manual_clock):
    # given a province that knows PalmTrade's SM2 public key, and a message sent with the wrong key first
    ours, other = ec.generate_private_key(ec.SM2()), ec.generate_private_key(ec.SM2())
    pem = serialization.Encoding.PEM

    def private(key):
        return key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

    stub = ProvincialPlatformStub(
        hmac_key=None,
        sm2_public_pem=ours.public_key().public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo),
    )
    await stub.start()
    wrong = HttpProvincialPlatform(stub.base_url, stub.platform_code, Signer(sm2_key_pem=private(other)))
    right = HttpProvincialPlatform(stub.base_url, stub.platform_code, Signer(sm2_key_pem=private(ours)))
    try:
        t = await published_tender()
        await queued()
        exchange.configure(wrong, stub.platform_code, **PUBLICITY_SETTINGS)
        await exchange.send_due("w1")
        # then the signature is refused: an error receipt, retried later
        m = await ProvincialMessage.get(lot_id=t.lot.id)
        assert (m.status, m.attempts, m.last_error) == ("queued", 1, "1001: 签名验证失败")
        # when the message names another platform, the province answers an error receipt too
        exchange.configure(right, "T0000000000")
        manual_clock.advance(seconds=30)
        await exchange.send_due("w1")
        m = await ProvincialMessage.get(id=m.id)
        assert (m.attempts, m.last_error) == (2, "2003: 报文交易平台标识码不符")
        assert stub.refused == [(200, {"code": "2003", "message": "报文交易平台标识码不符"})]
        # when signed with the right key and code
        exchange.configure(right, stub.platform_code)
        manual_clock.advance(minutes=1)
        await exchange.send_due("w1")
        # then it is accepted, and held once
        m = await ProvincialMessage.get(id=m.id)
        assert (m.status, m.attempts) == ("sent", 3)
        assert list(stub.held) == [m.message_id]
    finally:
        exchange.configure(None)
        await wrong.close()
        await right.close()
        await stub.stop()


async def test_reconciliation_sends_again_what_the_province_holds_otherwise(db, manual_clock, province):
    # given a tender notice at the province, whose copy there was altered
    t = await published_tender()
    await queued()
    await exchange.send_due("w1")
    m = await ProvincialMessage.get(lot_id=t.lot.id)
    province.held[m.message_id].message["data"]["NOTICE_NAME"] = "篡改的标题"
    day = clock.today()
    # when the day is reconciled (the daily job)
    assert await exchange.reconcile_recent(clock.now()) == 1
    # then it is found differing, queued again and sent under the same id, and the province holds PalmTrade's copy
    assert (await ProvincialMessage.get(id=m.id)).status == "queued"
    await exchange.send_due("w1")
    assert province.held[m.message_id].message["data"]["NOTICE_NAME"] == "招标公告"
    again = await exchange.reconcile(day)
    assert (again.missing, again.differing, again.unknown) == ([], [], [])
    assert len(province.held) == 1
