"""Drawn experts are told by text and by an automatic voice call (自动语音通知), and answer with the keypad or in the
app; a decline asks the operators for a replacement, whose expert is told the same way. Aliyun's official voice
SDK against a local server speaking its protocol; the texts through the development sender."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from domain.accounts.models import Expert
from domain.common import chronograph
from domain.evaluation import notices
from domain.publication.models import Lot
from mobile_contract.sealed_bid import new_key, seal
from notifications.voice.aliyun import AliyunVoice
from notifications.voice.dispatch import VoiceDispatcher
from tests import factories as f
from tests.scenarios.test_deposits import operator_phone
from tests.scenarios.test_expert_draw import COMMIT, REPLACE, SPECIALTY, add_expert, new_secret, reveal
from tests.scenarios.test_push import push_all
from tests.scenarios.test_push_channels import channels  # noqa: F401 (the JPush and APNs stubs' fixture)
from tests.scenarios.test_results import inbox
from tests.scenarios.test_sealed_bids import registered_bidder, sealed_lot, submit
from tests.schema.test_notifications import DEVICES, REGISTER_DEVICE, a_device
from tests.support import aliyun_voice_stub as voice_stub

ANSWER = """mutation($input: ExpertNoticeAnswerInput!) { expertNoticeAnswer(input: $input) {
  __typename ... on ExpertNoticeAnswered { answer } ... on Error { code message } } }"""


@pytest.fixture
async def voice(api: Any) -> AsyncIterator[tuple[voice_stub.AliyunVoiceStub, VoiceDispatcher]]:
    templates = {
        voice_stub.EXPERT_DRAWN: ("lot", "time", "place"),
        voice_stub.CONFIRMED_TTS: (),
        voice_stub.DECLINED_TTS: (),
    }
    async with voice_stub.running_stub(templates=templates) as stub:
        provider = AliyunVoice(
            stub.access_key_id,
            stub.access_key_secret,
            voice_stub.DEFAULT_SHOW_NUMBER,
            {"expert_drawn": voice_stub.EXPERT_DRAWN},
            endpoint=stub.endpoint,
            protocol="http",
        )
        dispatcher = VoiceDispatcher(provider, "voice-test")
        settings = api.services.settings
        api.services.settings = dataclasses.replace(settings, sms_callback_token="receipt-token-2")
        notices.configure(calls=True)
        try:
            yield stub, dispatcher
        finally:
            notices.configure(calls=False)
            api.services.settings = settings
            await dispatcher.close()


@dataclasses.dataclass
class Drawn:
    operator: str
    operator_at: str
    lot: dict[str, Any]
    revealed: dict[str, Any]
    bidder_names: list[str]


async def revealed_draw(
    api: Any, clock: Any, before_reveal: Callable[[list[int]], Awaitable[None]] | None = None
) -> Drawn:
    """A sealed tender with three bids and a pool of 7 experts; a draw of 5 committed before the deadline and
    revealed after it (the operator signed in again). `before_reveal` gets the pool's expert ids first."""
    operator_at = await operator_phone()
    operator = await f.login(api, operator_at)
    project, _, _ = await sealed_lot(api, clock, operator)
    lot = project["lots"][0]
    bidder_names = []
    for price in (1_200_000_000, 1_210_000_000, 1_220_000_000):
        _, token = await registered_bidder(api, operator, lot["id"])
        assert (await submit(api, token, lot["id"], seal(new_key(), lot["tradeCode"], price, {})))["__typename"] == (
            "BidSubmitted"
        )
        me = await api.gql("query { me { organisation { name } } }", token=token)
        bidder_names.append(me["data"]["me"]["organisation"]["name"])
    pool = [await add_expert(api, operator, f"专家{n}", [SPECIALTY]) for n in range(7)]
    if before_reveal is not None:
        await before_reveal(pool)
    secret, commitment = new_secret()
    form = {"lotId": lot["id"], "specialty": SPECIALTY, "size": 5, "commitment": commitment}
    await api.gql(COMMIT, {"input": form}, token=operator)
    clock.advance(timedelta(days=25, seconds=1))
    await chronograph.fire_due()
    operator = await f.login(api, operator_at)
    revealed = await reveal(api, operator, secret, lotId=lot["id"], round=1)
    return Drawn(operator, operator_at, lot, revealed, bidder_names)


async def test_drawn_experts_are_called_one_declines_and_the_replacement_is_called(api, manual_clock, voice):
    # given a sealed tender with three bids and a draw of 5 experts, revealed after the deadline (the voice
    # dispatcher then runs)
    stub, dispatcher = voice
    d = await revealed_draw(api, manual_clock)
    operator, lot, revealed, bidder_names = d.operator, d.lot, d.revealed, d.bidder_names
    drawn = [e["poolNumber"] for e in revealed["draw"]["selected"]]
    global_ids = {e["poolNumber"]: e["expertId"] for e in revealed["draw"]["selected"]}
    await api.send_texts()
    assert await dispatcher.run_once() == 5

    # then each drawn expert got a text and a call naming the lot, when and where to report, never a bidder
    phones = {e.id: e.phone for e in await Expert.filter(id__in=drawn)}
    texts = {to: text for to, text in api.sms if to in phones.values()}
    assert set(texts) == set(phones.values())
    lot_name = (await Lot.get(trade_code=lot["tradeCode"])).name
    assert all(lot_name in t and "报到" in t for t in texts.values())
    assert not any(name in t for t in texts.values() for name in bidder_names)
    assert {c.phone for c in stub.calls} == set(phones.values())
    assert all(c.params["lot"] == lot_name for c in stub.calls)

    # when the first presses 2 on the call, and the second confirms in the app
    declining, confirming = drawn[0], drawn[1]
    stub.answer(phones[declining], key="2")
    pushed = await stub.push_reports(f"{api.base_url}/callbacks/voice/aliyun?token=receipt-token-2")
    confirmed = await api.gql(
        ANSWER, {"input": {"lotId": lot["id"], "confirm": True}}, token=await f.expert_token(api, confirming)
    )
    await api.dispatch()

    # then the decline is recorded from the keypad, the confirmation from the app, and the operators are asked
    assert pushed.status_code == 200
    answers = {n.expert_id: (n.status, n.answered_by) for n in await notices.of_lot(await _lot_pk(lot["id"]))}
    assert answers[declining] == ("declined", "voice")
    assert answers[confirming] == ("confirmed", "app")
    assert confirmed["data"]["expertNoticeAnswer"]["answer"] == "confirmed"
    asked = [n for n in await inbox(api, operator) if n["kind"] == "EXPERT_REPLACEMENT_NEEDED"]
    assert len(asked) == 1

    # when the operator draws a replacement for the declining expert
    secret2, commitment2 = new_secret()
    replace = {
        "lotId": lot["id"],
        "expertIds": [global_ids[declining]],
        "reason": "专家拒绝参加",
        "commitment": commitment2,
    }
    replaced = (await api.gql(REPLACE, {"input": replace}, token=operator))["data"]["expertDrawReplace"]
    assert replaced["__typename"] == "ExpertDrawReplaceCommitted", replaced
    second = await reveal(api, operator, secret2, lotId=lot["id"], round=2)
    [newcomer] = [e["poolNumber"] for e in second["draw"]["selected"]]
    await api.send_texts()
    assert await dispatcher.run_once() == 1

    # then the replacement expert is texted and called the same way
    newcomer_phone = (await Expert.get(id=newcomer)).phone
    assert [c.phone for c in stub.calls][-1] == newcomer_phone
    assert any(to == newcomer_phone for to, _ in api.sms)


async def _lot_pk(global_id: str) -> int:
    from schema.relay import int_id

    return int_id(global_id, "Lot")


async def test_the_operator_sees_each_experts_call_and_answer(api, manual_clock, voice):
    # given a revealed draw whose experts were called, one declining on the keypad
    stub, dispatcher = voice
    d = await revealed_draw(api, manual_clock)
    operator, lot, revealed = d.operator, d.lot, d.revealed
    await dispatcher.run_once()
    first = revealed["draw"]["selected"][0]["poolNumber"]
    stub.answer((await Expert.get(id=first)).phone, key="2")
    await stub.push_reports(f"{api.base_url}/callbacks/voice/aliyun?token=receipt-token-2")

    # when the operator asks how the experts were told
    seen = await api.gql(
        """query($lotId: ID!) { expertNotices(lotId: $lotId) { poolNumber status answeredBy callStatus } }""",
        {"lotId": lot["id"]},
        token=operator,
    )

    # then every call was placed, and the first expert's decline came by the keypad
    rows = {r["poolNumber"]: r for r in seen["data"]["expertNotices"]}
    assert len(rows) == 5
    assert all(r["callStatus"] == "placed" for r in rows.values())
    assert (rows[first]["status"], rows[first]["answeredBy"]) == ("declined", "voice")


async def test_when_every_drawn_expert_confirms_the_committee_is_complete(api, manual_clock, voice):
    # given a revealed draw of five experts
    d = await revealed_draw(api, manual_clock)
    operator, lot, revealed = d.operator, d.lot, d.revealed

    # when each confirms in the app (one of them twice)
    for expert in (e["poolNumber"] for e in revealed["draw"]["selected"]):
        token = await f.expert_token(api, expert)
        await api.gql(ANSWER, {"input": {"lotId": lot["id"], "confirm": True}}, token=token)
    again = await api.gql(ANSWER, {"input": {"lotId": lot["id"], "confirm": False}}, token=token)
    await api.dispatch()

    # then a second answer is refused, and the operators are told once that the committee is complete
    assert again["data"]["expertNoticeAnswer"]["code"] == "EXPERT_NOTICE_ANSWERED"
    complete = [n for n in await inbox(api, operator) if n["kind"] == "COMMITTEE_COMPLETE"]
    assert len(complete) == 1
    assert "5 名" in complete[0]["body"]


async def test_drawn_experts_get_a_push_on_the_expert_app_and_find_it_in_their_inbox(api, manual_clock, channels):  # noqa: F811
    # given a pool of seven experts, each signed in to the expert app on a phone: Huawei phones through JPush
    # (routed to Huawei's channel) and iPhones through APNs
    jp, ap, sender = channels
    phones: dict[int, tuple[str, str]] = {}

    async def register_phones(pool: list[int]) -> None:
        for n, expert in enumerate(pool):
            token = await f.expert_token(api, expert)
            if n % 2:
                device = a_device("b2" * 32, provider="APNS", platform="IOS")
                device["token"] = f"{n:02d}" * 32
            else:
                device = a_device(f"huawei-expert-{expert}", provider="JPUSH", platform="ANDROID")
                jp.register(device["token"], "huawei")
            registered = await api.gql(REGISTER_DEVICE, {"input": device}, token=token)
            assert registered["data"]["deviceRegister"]["__typename"] == "DeviceRegistered", registered
            mine = await api.gql(DEVICES, token=token)
            assert len(mine["data"]["myDevices"]) == 1
            phones[expert] = (str(device["provider"]), str(device["token"]))

    # when five of them are drawn and the draw is revealed
    d = await revealed_draw(api, manual_clock, before_reveal=register_phones)
    drawn = [e["poolNumber"] for e in d.revealed["draw"]["selected"]]
    await api.dispatch()
    await push_all([sender], manual_clock)

    # then each drawn expert's phone got one time-critical push naming the lot and where to report, no bidder;
    # the two experts not drawn got nothing
    lot_name = (await Lot.get(trade_code=d.lot["tradeCode"])).name
    for expert, (provider, token) in phones.items():
        if provider == "JPUSH":
            got = [(x.title, x.body, x.priority) for x in jp.delivered_to("huawei") if x.registration_id == token]
        else:
            got = [
                (x.aps["alert"]["title"], x.aps["alert"]["body"], x.aps["interruption-level"])
                for x in ap.delivered_to(token)
            ]
        if expert not in drawn:
            assert got == [], expert
            continue
        [(title, body, urgency)] = got
        assert title == "评标专家抽取通知"
        assert lot_name in body
        assert "报到" in body
        assert not any(name in body for name in d.bidder_names)
        assert urgency in (2, "time-sensitive")

    # and the expert finds it in the expert app's inbox, signed in again, and answers there
    token = await f.expert_token(api, drawn[0])
    inbox_ = await api.gql("query { myNotifications { edges { node { kind title body } } } }", token=token)
    [notice] = [e["node"] for e in inbox_["data"]["myNotifications"]["edges"]]
    assert notice["kind"] == "EXPERT_DRAWN"
    assert lot_name in notice["body"]
    answered = await api.gql(ANSWER, {"input": {"lotId": d.lot["id"], "confirm": True}}, token=token)
    assert answered["data"]["expertNoticeAnswer"]["answer"] == "confirmed"

    # and the operator sees the five expert notices with the vendors' acceptance, told once each
    records = await api.gql(
        """query($lotId: ID!) { lotNotices(lotId: $lotId, kind: "expert_drawn") {
          expertPoolNumber timeCritical pushes { provider status } } }""",
        {"lotId": d.lot["id"]},
        token=d.operator,
    )
    told = records["data"]["lotNotices"]
    assert sorted(n["expertPoolNumber"] for n in told) == sorted(drawn)
    assert all(n["timeCritical"] and [p["status"] for p in n["pushes"]] == ["sent"] for n in told)


async def test_an_expert_session_sees_only_its_own_inbox_and_devices(api, manual_clock):
    # given two experts, one with a device
    d_operator = await f.login(api, await operator_phone())
    first, second = [await add_expert(api, d_operator, f"专家{n}", [SPECIALTY]) for n in range(2)]
    token_a, token_b = await f.expert_token(api, first), await f.expert_token(api, second)
    registered = await api.gql(REGISTER_DEVICE, {"input": a_device("expert-a-token-0001")}, token=token_a)
    assert registered["data"]["deviceRegister"]["__typename"] == "DeviceRegistered"

    # when the second lists its devices and unregisters the first one's token
    mine = await api.gql(DEVICES, token=token_b)
    gone = await api.gql(
        """mutation($input: DeviceUnregisterInput!) { deviceUnregister(input: $input) {
          ... on DeviceUnregistered { removed } } }""",
        {"input": {"token": "expert-a-token-0001"}},
        token=token_b,
    )

    # then it sees none and removes nothing; an expert has no notification preferences (those are a user's)
    assert mine["data"]["myDevices"] == []
    assert gone["data"]["deviceUnregister"]["removed"] is False
    prefs = await api.gql(
        "query { myNotificationPreferences { quietHours { starts } } }", token=token_a, expect_errors=True
    )
    assert prefs["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
