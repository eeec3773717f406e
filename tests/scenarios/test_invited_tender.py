"""An invited tender (邀请招标): published only with three invitees, each told; only the invited register and bid,
and an uninvited entity is refused with a typed error; the three invitees' bids are opened, the candidates publicised,
the lowest awarded, and the contract signed by the tenderer and the winner with their certificates, announced,
accepted and performed."""

from __future__ import annotations

from datetime import timedelta

from mobile_contract.sealed_bid import new_key, seal
from tests import factories as f
from tests.scenarios.test_clarifications import CLARIFY
from tests.scenarios.test_publication import DRAFT, PROJECT_CREATE, PUBLISH, road_project
from tests.scenarios.test_results import AWARD, bid, inbox, opened, status_of
from tests.scenarios.test_results import PUBLISH as CANDIDATES_PUBLISH
from tests.scenarios.test_sealed_bids import submit
from tests.support import contract_flow

INVITE = """mutation($input: LotInviteInput!) { lotInvite(input: $input) {
  __typename ... on LotInvited { invitations { id organisationName sentAt } }
  ... on Error { code message } } }"""
REGISTER = """mutation($input: LotRegisterInput!) { lotRegister(input: $input) {
  __typename ... on Error { code message } } }"""
INVITATIONS = "query($lotId: ID!) { lotInvitations(lotId: $lotId) { organisationName } }"
MINE = "query { myInvitations { organisationName sentAt } }"


PRICES = [1_020_000_00, 998_000_00, 1_005_000_00]  # the invitees' bids, in invitation order


async def test_only_the_invited_register_and_bid_and_each_is_told_and_the_tender_runs_to_the_contract(
    api, manual_clock, tmp_path
):
    # given an invited-tender lot of a tenderer, three bidders it means to invite and one it does not
    operator = await f.operator_token(api)
    _, tenderer_phone, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    deadline = manual_clock.now() + timedelta(days=25)
    form = road_project(
        deadline,
        procedure="INVITED_TENDER",
        config={"bidDeadline": deadline.isoformat(), "depositRequired": False},
    )
    created = (await api.gql(PROJECT_CREATE, {"input": form}, token=tenderer))["data"]["projectCreate"]
    assert created["__typename"] == "ProjectCreated", created
    project, lot = created["project"], created["project"]["lots"][0]
    invited = [await f.approved_org(api, operator) for _ in range(3)]
    _, stranger_phone, stranger = await f.approved_org(api, operator)

    # when it invites two and tries to publish the tender
    two = await api.gql(
        INVITE, {"input": {"lotId": lot["id"], "organisationIds": [o for o, _, _ in invited[:2]]}}, token=tenderer
    )
    assert two["data"]["lotInvite"]["__typename"] == "LotInvited", two
    draft = await api.gql(
        DRAFT,
        {
            "input": {
                "projectId": project["id"],
                "lotId": lot["id"],
                "type": "TENDER",
                "title": "第一标段邀请招标公告",
                "bodyHtml": "<p>邀请招标。</p>",
            }
        },
        token=tenderer,
    )
    draft_id = draft["data"]["announcementDraft"]["announcement"]["id"]
    refused = (await api.gql(PUBLISH, {"input": {"announcementId": draft_id}}, token=tenderer))["data"][
        "announcementPublish"
    ]
    # then the law's three invitees are missing (招标投标法 第十七条), and nothing is published
    assert refused["code"] == "TOO_FEW_INVITEES", refused
    # when it invites the third and publishes
    third = await api.gql(INVITE, {"input": {"lotId": lot["id"], "organisationIds": [invited[2][0]]}}, token=tenderer)
    assert len(third["data"]["lotInvite"]["invitations"]) == 3
    published = (await api.gql(PUBLISH, {"input": {"announcementId": draft_id}}, token=tenderer))["data"][
        "announcementPublish"
    ]
    assert published["__typename"] == "AnnouncementPublished", published
    await api.dispatch()

    # then each invitee is told once, and finds its invitation
    for _, phone, _ in invited:
        token = await f.login(api, phone)
        assert [n["kind"] for n in await inbox(api, token)].count("LOT_INVITATION") == 1
        assert len((await api.gql(MINE, token=token))["data"]["myInvitations"]) == 1
    # and the invitation list is the tenderer's, not the stranger's
    assert len((await api.gql(INVITATIONS, {"lotId": lot["id"]}, token=tenderer))["data"]["lotInvitations"]) == 3
    assert (await api.gql(INVITATIONS, {"lotId": lot["id"]}, token=stranger))["data"]["lotInvitations"] is None

    # when the stranger registers and bids, and an invitee registers and bids
    strange = (await api.gql(REGISTER, {"input": {"lotId": lot["id"]}}, token=stranger))["data"]["lotRegister"]
    strange_bid = await submit(api, stranger, lot["id"], seal(new_key(), lot["tradeCode"], 1_000_000_00, {}))
    guest = await f.login(api, invited[0][1])
    welcome = (await api.gql(REGISTER, {"input": {"lotId": lot["id"]}}, token=guest))["data"]["lotRegister"]
    await bid(api, guest, lot["id"], lot["tradeCode"], PRICES[0])
    # then the stranger is refused, typed, and cannot bid; the invitee registers and bids
    assert strange["__typename"] == "NotInvited"
    assert strange["code"] == "NOT_INVITED"
    assert strange_bid["code"] == "NOT_REGISTERED"
    assert welcome["__typename"] == "LotRegistered"

    # when the tenderer clarifies the documents
    clarified = await api.gql(
        CLARIFY,
        {"input": {"lotId": lot["id"], "changesDocuments": False, "title": "澄清（第1号）", "bodyHtml": "<p>说明</p>"}},
        token=await f.login(api, tenderer_phone),
    )
    assert clarified["data"]["clarificationPublish"]["__typename"] == "ClarificationPublished", clarified
    await api.dispatch()
    # then every invitee is told, registered or not (招标投标法 第二十三条: 所有招标文件收受人), and not the stranger
    told = [[n["kind"] for n in await inbox(api, await f.login(api, phone))] for _, phone, _ in invited]
    assert [kinds.count("LOT_CHANGED") for kinds in told] == [1, 1, 1]
    assert "LOT_CHANGED" not in [n["kind"] for n in await inbox(api, await f.login(api, stranger_phone))]

    # when the two other invitees register and bid, the bids are opened and the candidates publicised, then awarded
    for (_, phone, _), price in zip(invited[1:], PRICES[1:], strict=True):
        token = await f.login(api, phone)
        joined = (await api.gql(REGISTER, {"input": {"lotId": lot["id"]}}, token=token))["data"]["lotRegister"]
        assert joined["__typename"] == "LotRegistered", joined
        await bid(api, token, lot["id"], lot["tradeCode"], price)
    await opened(api, manual_clock, lot["id"], [phone for _, phone, _ in invited])
    tenderer = await f.login(api, tenderer_phone)
    published = (await api.gql(CANDIDATES_PUBLISH, {"input": {"lotId": lot["id"]}}, token=tenderer))["data"]
    assert published["candidatesPublish"]["__typename"] == "CandidatesPublished", published
    manual_clock.advance(timedelta(days=3, seconds=1))
    tenderer = await f.login(api, tenderer_phone)
    awarded = (await api.gql(AWARD, {"input": {"lotId": lot["id"]}}, token=tenderer))["data"]["resultAward"]
    assert awarded["__typename"] == "LotAwarded", awarded
    assert awarded["result"]["award"]["priceFen"] == min(PRICES)

    # and the tenderer and the lowest invitee sign the contract, which is accepted and performed
    winner_phone = invited[PRICES.index(min(PRICES))][1]
    parties = await contract_flow.contract_parties(api, manual_clock, tenderer_phone, winner_phone)
    contract = await contract_flow.signed_contract(api, parties, tmp_path, lot["id"], lot["tradeCode"], min(PRICES))
    done = await contract_flow.accepted_and_performed(api, manual_clock, parties, tmp_path, lot["id"])
    # then the contract is in force at the winning bid, announced, and completed with its performance published
    assert (contract["originalFen"], done["status"]) == (min(PRICES), "COMPLETED")
    assert await status_of(api, lot["id"]) == "COMPLETED"
