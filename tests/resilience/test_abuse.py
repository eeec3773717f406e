"""Abuse: hostile requests get typed refusals, the limits hold, and a sealed bid stays sealed.

Fuzzing (hypothesis, strategies in tests/support/fuzz.py) sends every stored operation of the mobile
contract with hostile variables, anonymously and with a bidder's token, mangled documents, random bodies
and content types, and broken GET query strings to the test server over HTTP; a fixed sweep sends every
operation with every variable hostile at once. Every answer must be a typed refusal (a top-level error
with `extensions.code`, or a union Error member with a code and a message in the caller's language) or
data: never a 5xx, never `INTERNAL`, never a traceback, a file path or SQL text. Examples per group: 40,
derandomized; `PALMTRADE_FUZZ_EXAMPLES=500` runs more, `PALMTRADE_FUZZ_SEED=<n>` other ones (`-s` prints
how many requests each group sent). Failures found are kept as @example regressions.

Limits: depth, aliases, tokens, cost, the page cap and the rate limits, each over HTTP with a typed
refusal and nothing changed. Sealed bids: every read the SDL offers, with every kind of token, before the
deadline and in the opening before the bidder's own key opens its bid, never shows its price, documents
or key (tests/resilience/abuse_reads.py writes the reads out and searches the answers).
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import example, given

from api.bulk_seed import seed_announcements
from api.callbacks import CALLBACKS_PER_MINUTE
from domain.accounts.models import RefreshToken, SmsCode
from domain.common import chronograph
from domain.complaints.models import Report
from domain.deposits.models import BankCallback
from domain.publication.models import Announcement
from mobile_contract.sealed_bid import new_key, seal
from tests import factories as f
from tests.conftest import forget_rate_limits
from tests.mobile_contract.test_operations_run import build_world
from tests.resilience.abuse_reads import found, reads
from tests.scenarios.test_deposits import operator_phone, supervisor_phone
from tests.scenarios.test_expert_draw import COMMIT, SPECIALTY, add_expert, new_secret, reveal
from tests.scenarios.test_kiosk import approve, challenge, kiosk_terminal, redeem
from tests.scenarios.test_kiosk import sign_in as kiosk_sign_in
from tests.scenarios.test_live_events import next_message, ws_connect
from tests.scenarios.test_results import today
from tests.scenarios.test_sealed_bids import registered_bidder, sealed_lot, submit
from tests.schema.test_integrators import away_from_a_minute_boundary, client_token, create_client
from tests.support import fuzz
from tests.support.complaints import evidence_input
from tests.support.fuzz import CJK, PROFILE, Answer, Case, Ref, Sent, check

# subscriptions too: over HTTP they must be refused (strawberry ran one as a query, answering INTERNAL)
APP_READS = [n for n, op in fuzz.OPERATIONS.items() if op.client == "app" and op.kind != "mutation"]
APP_MUTATIONS = [n for n, op in fuzz.OPERATIONS.items() if op.client == "app" and op.kind == "mutation"]
KIOSK_AND_INTEGRATOR = [n for n, op in fuzz.OPERATIONS.items() if op.client != "app"]
PRICE = 1_234_567_891


class Target:
    """What the probes send to, set for one fuzz run (hypothesis runs in a worker thread, the server on
    the test's event loop)."""

    lock = threading.Lock()
    client: httpx.Client | None = None
    world: dict[str, str] = {}  # noqa: RUF012
    tokens: dict[str, str | None] = {}  # noqa: RUF012
    sent = 0


def deliver(sent: Sent) -> Answer:
    assert Target.client is not None
    headers = {k: v.encode() for k, v in sent.headers.items()}  # UTF-8 bytes: httpx would refuse non-ASCII text
    response = Target.client.request(sent.method, sent.url, headers=headers, content=sent.content)
    Target.sent += 1
    content_type = response.headers.get("content-type", "")
    body: Any = None
    if "json" in content_type:
        try:
            body = response.json()
        except ValueError:
            body = None
    return Answer(response.status_code, content_type, response.text, body)


def exercise(sent: Sent) -> None:
    check(sent, deliver(sent))


async def fuzz_world(api: Any, clock: Any) -> None:
    """A city with a sealed tender holding the bidder's sealed bid, an auction, a terminal and an integrator."""
    world = await build_world(api, clock)
    bidder = world.tokens["app"]
    receipt = await submit(api, bidder, world.lot_id, seal(new_key(), world.trade_code, PRICE, {"标书.pdf": b"x"}))
    assert receipt["__typename"] == "BidSubmitted", receipt
    me = await api.gql("query { me { organisation { id } } }", token=bidder)
    Target.world = {
        "lot": world.lot_id,
        "auction": world.auction_id,
        "project": world.project_id,
        "announcement": world.announcement_id,
        "guarantor": world.guarantor_id,
        "bidder_org": me["data"]["me"]["organisation"]["id"],
        "receipt": receipt["receipt"]["id"],
        "receipt_sha256": receipt["receipt"]["sha256"],
        "trade_code": world.trade_code,
        "bidder_phone": world.bidder_phone,
        "expert_phone": world.expert_phone,
        "today": world.today,
        "terminal_device_id": world.terminal_device_id,
    }
    Target.tokens = {
        "anonymous": None,
        "bidder": bidder,
        "terminal": world.tokens["kiosk"],
        "integrator": world.tokens["integrator"],
    }


async def run(api: Any, probe: Any) -> int:
    """Runs a hypothesis probe against the served app; the number of requests it sent."""

    def in_thread() -> None:
        with Target.lock, httpx.Client(base_url=api.base_url, timeout=60) as client:
            Target.client, Target.sent = client, 0
            try:
                probe()
            finally:
                Target.client = None

    await asyncio.to_thread(in_thread)
    print(f"{probe.__name__}: {Target.sent} requests")  # shown with -s
    return Target.sent


@pytest.fixture
async def limits(api: Any) -> Any:
    await forget_rate_limits(api.services)
    yield
    await forget_rate_limits(api.services)


# --- fuzzing ----------------------------------------------------------------------------------------


@fuzz.seeded
@PROFILE
@given(case=fuzz.operation_cases(APP_READS))
@example(case=Case("AuctionUpdates", "bidder", {"lotId": Ref("auction")}))  # a subscription over HTTP
@example(case=Case("ReportStatus", "anonymous", {"trackingCode": "x\ud800y"}))  # a lone surrogate
def probe_app_reads(case: Case) -> None:
    exercise(case.request(Target.world, Target.tokens))


@fuzz.seeded
@PROFILE
@given(case=fuzz.operation_cases(APP_MUTATIONS))
@example(case=Case("BidWithdraw", "bidder", {"input": {"lotId": Ref("lot"), "idempotencyKey": "x\ud800y"}}))
@example(case=Case("DeviceUnregister", "bidder", {"input": {"token": "测" * 20_000}}))  # longer than the column
def probe_app_mutations(case: Case) -> None:
    exercise(case.request(Target.world, Target.tokens))


@fuzz.seeded
@PROFILE
@given(case=fuzz.operation_cases(KIOSK_AND_INTEGRATOR))
@example(case=Case("KioskComplaintDecisions", "anonymous", {"regions": "abc\x00def"}))  # a region of 7 characters
@example(case=Case("KioskGuaranteeVerify", "terminal", {"letterNo": "a\x00b", "verificationCode": "a\x00b"}))  # NUL
@example(case=Case("TerminalSignIn", "anonymous", {"input": {"deviceId": "a\x00b", "secret": "x"}}))  # PostgreSQL
@example(  # a surrogate pair's escapes sent the lone-surrogate check into 800 levels of recursion (a 500)
    case=Case("KioskGuaranteeVerify", "terminal", {"letterNo": "\ud800\udc00", "verificationCode": fuzz.Deep(800)})
)
def probe_kiosk_and_integrator(case: Case) -> None:
    exercise(case.request(Target.world, Target.tokens))


@fuzz.seeded
@PROFILE
@given(
    document=fuzz.broken_documents(),
    variables=fuzz.json_values(),
    token=fuzz.st.sampled_from(["anonymous", "bidder"]),
)
@example(document="#", variables={}, token="anonymous")  # a syntax error got no code (it escaped MaskUnexpected)
def probe_broken_documents(document: str, variables: Any, token: str) -> None:
    body = {
        "query": document,
        "variables": fuzz.resolve(variables if isinstance(variables, dict) else {"v": variables}, {}),
    }
    exercise(fuzz.json_request(body, Target.tokens[token]))


@fuzz.seeded
@PROFILE
@given(sent=fuzz.raw_posts())
@example(sent=Sent("POST", "/graphql", {"content-type": "application/json"}, b'"x"'))  # JSON, not an object
@example(sent=Sent("POST", "/graphql", {"content-type": "application/json"}, b'{"query": "\xff"}'))  # not UTF-8
@example(sent=Sent("POST", "/graphql", {"content-type": "application/json"}, b'{"v": 1' + b"0" * 4400 + b"}"))
@example(sent=Sent("POST", "/graphql", {"content-type": "text/plain"}, b"{ serverTime }"))  # was plain text
def probe_bodies_and_content_types(sent: Sent) -> None:
    exercise(sent)


@fuzz.seeded
@PROFILE
@given(sent=fuzz.broken_gets())
def probe_broken_query_strings(sent: Sent) -> None:
    exercise(sent)


async def test_every_app_query_and_subscription_answers_hostile_variables_with_typed_errors(api, manual_clock, limits):
    await fuzz_world(api, manual_clock)
    assert await run(api, probe_app_reads) >= fuzz.EXAMPLES


async def test_every_app_mutation_answers_hostile_variables_with_typed_errors(api, manual_clock, limits):
    await fuzz_world(api, manual_clock)
    assert await run(api, probe_app_mutations) >= fuzz.EXAMPLES


async def test_kiosk_and_integrator_operations_answer_hostile_variables_with_typed_errors(api, manual_clock, limits):
    await fuzz_world(api, manual_clock)
    assert await run(api, probe_kiosk_and_integrator) >= fuzz.EXAMPLES


async def test_broken_documents_get_typed_errors(api, manual_clock, limits):
    await fuzz_world(api, manual_clock)
    assert await run(api, probe_broken_documents) >= fuzz.EXAMPLES


async def test_random_bodies_and_content_types_get_typed_refusals(api, manual_clock, limits):
    await fuzz_world(api, manual_clock)
    assert await run(api, probe_bodies_and_content_types) >= fuzz.EXAMPLES


async def test_broken_query_strings_get_typed_refusals(api, manual_clock, limits):
    await fuzz_world(api, manual_clock)
    assert await run(api, probe_broken_query_strings) >= fuzz.EXAMPLES


async def test_json_deeper_than_the_stack_is_a_typed_refusal(api):
    # given JSON nested 5,000 levels deep, as a body and as GET parameters (json.loads raised RecursionError
    # in the response cache and in strawberry: 500s)
    nested = "[" * 5000 + "]" * 5000
    requests = [
        Sent("POST", "/graphql", {"content-type": "application/json"}, nested.encode()),
        Sent("POST", "/graphql", {"content-type": "application/json"}, ('{"variables": ' + nested + "}").encode()),
        Sent("GET", "/graphql?query=%7B%20serverTime%20%7D&variables=" + "%5B" * 3000 + "%5D" * 3000, {}),
    ]

    # when they are sent, then each is a typed refusal
    for sent in requests:
        response = await api.http.request(sent.method, sent.url, headers=sent.headers, content=sent.content)
        body = response.json() if "json" in response.headers.get("content-type", "") else None
        check(sent, Answer(response.status_code, response.headers.get("content-type", ""), response.text, body))


def sweep_requests() -> list[Sent]:
    """Every stored operation (subscriptions too: over HTTP they are refused) with every sweep variant:
    anonymously, with a bidder's token and, for kiosks and integrators, with their own."""
    sent = []
    for name, op in sorted(fuzz.OPERATIONS.items()):
        for variant in fuzz.SWEEP:
            for token in fuzz.TOKENS[op.client]:
                if token == "anonymous" and variant not in ("null", "wrong"):
                    continue  # refused before any resolver reads a variable
                case = Case(name, token, fuzz.sweep_variables(name, variant), "en" if variant == "wrong" else None)
                sent.append(case.request(Target.world, Target.tokens))
    return sent


async def test_every_operation_answers_a_fixed_sweep_of_hostile_variables_with_typed_errors(api, manual_clock, limits):
    # given the city, and every stored operation with null, wrongly typed, NUL, 20,000-character, lone
    # surrogate and extreme values in every variable at once
    await fuzz_world(api, manual_clock)
    requests = sweep_requests()

    # when each is sent (eight at a time)
    gate = asyncio.Semaphore(8)

    async def one(sent: Sent) -> list[str]:
        async with gate:
            headers = {k: v.encode() for k, v in sent.headers.items()}
            response = await api.http.request(sent.method, sent.url, headers=headers, content=sent.content)
        content_type = response.headers.get("content-type", "")
        body = response.json() if "json" in content_type else None
        found = fuzz.problems(sent, Answer(response.status_code, content_type, response.text, body))
        return [f"{p} <- {sent.content[:300]!r}" for p in found]

    found = [p for problems in await asyncio.gather(*(one(s) for s in requests)) for p in problems]
    print(f"sweep: {len(requests)} requests")  # shown with -s

    # then every answer is data or a typed refusal
    assert found == [], "\n".join(found[:20])
    assert len(requests) > 4 * len(fuzz.OPERATIONS)


# --- limits -----------------------------------------------------------------------------------------

DRAFT_FORM = {"type": "CHANGE", "title": "关于道路维修工程招标文件的澄清", "bodyHtml": "<p>澄清。</p>"}


def draft(selection: str, fragments: str = "", variables: str = "$input: AnnouncementDraftInput!") -> str:
    return f"mutation({variables}) {{ announcementDraft(input: $input) {{ {selection} }} }} {fragments}"


def corrects(levels: int) -> str:
    return "... on AnnouncementDrafted { announcement { " + "corrects { " * levels + "id" + " }" * levels + " } }"


def doubling(n: int) -> str:
    """2**n spreads of __typename written in about 10 n tokens."""
    spreads = " ".join(f"fragment F{i} on AnnouncementDraftResult {{ ...F{i + 1} ...F{i + 1} }}" for i in range(n))
    return spreads + f" fragment F{n} on AnnouncementDraftResult {{ __typename }}"


LIMITED = {
    # 13 levels below the root field (the limit is 12)
    "QUERY_TOO_DEEP": lambda: draft(corrects(11)),
    # 31 aliases (the limit is 30)
    "TOO_MANY_ALIASES": lambda: draft(" ".join(f"a{i}: __typename" for i in range(31))),
    # more than 3,000 tokens
    "TOO_MANY_TOKENS": lambda: draft(" ".join(["__typename"] * 3000)),
    # 2**20 fields through nested fragments (the limit is a cost of 5,000)
    "QUERY_TOO_COSTLY": lambda: draft("...F0", doubling(20)),
}


@pytest.mark.parametrize("code", sorted(LIMITED))
async def test_a_mutation_over_a_limit_is_refused_with_its_code_and_changes_nothing(api, manual_clock, code):
    # given a tenderer's project, and an announcement draft it may make
    operator = await f.operator_token(api)
    project, tenderer, _ = await sealed_lot(api, manual_clock, operator)
    tender = (await api.gql("query { announcements(first: 1) { nodes { id } } }"))["data"]["announcements"]["nodes"][0]
    form = {**DRAFT_FORM, "projectId": project["id"], "lotId": project["lots"][0]["id"], "correctsId": tender["id"]}
    before = await Announcement.all().count()

    # when the draft is asked for with a selection over the limit
    sent = fuzz.json_request({"query": LIMITED[code](), "variables": {"input": form}}, tenderer)
    response = await api.http.post("/graphql", content=sent.content, headers=sent.headers)

    # then it is refused, typed, before anything ran: no draft was made
    body = response.json()
    check(sent, Answer(response.status_code, response.headers["content-type"], response.text, body))
    assert [e["extensions"]["code"] for e in body["errors"]] == [code], body
    assert body.get("data") is None
    assert await Announcement.all().count() == before

    # and within the limit the same draft is made
    allowed = {
        "QUERY_TOO_DEEP": draft(corrects(10)),
        "TOO_MANY_ALIASES": draft(" ".join(f"a{i}: __typename" for i in range(30))),
        "TOO_MANY_TOKENS": draft("__typename ... on Error { code message }"),
        "QUERY_TOO_COSTLY": draft("...F0", doubling(12)),
    }[code]
    made = await api.gql(allowed, {"input": form}, token=tenderer)
    assert "errors" not in made
    assert await Announcement.all().count() == before + 1, made


async def test_a_page_is_capped_at_100_however_many_are_asked_for(api):
    # given 130 published announcements
    await seed_announcements(130, batch=65, seed=11, progress=False)
    pages = """query($first: Int) { announcements(first: $first) { edges { cursor } pageInfo { hasNextPage } }
      searchAnnouncements(query: "工程", first: $first) { hits { cursor } hasNextPage } }"""

    # when pages of 101, 1,000 and 2^31 - 1 are asked for, and of 0 and -1
    answers = {n: await api.gql(pages, {"first": n}, expect_errors=True) for n in (101, 1000, 2**31 - 1, 0, -1)}

    # then each large page holds 100 and says there is more; an empty or negative one is a typed refusal
    for n in (101, 1000, 2**31 - 1):
        data = answers[n]["data"]
        assert len(data["announcements"]["edges"]) == 100, n
        assert data["announcements"]["pageInfo"]["hasNextPage"]
        assert len(data["searchAnnouncements"]["hits"]) <= 100
    for n in (0, -1):
        assert answers[n].get("data") is None
        assert {e["extensions"]["code"] for e in answers[n]["errors"]} == {"INVALID_INPUT"}, answers[n]


# --- rate limits ------------------------------------------------------------------------------------


async def post(api: Any, sent: Sent) -> Answer:
    response = await api.http.request(sent.method, sent.url, headers=sent.headers, content=sent.content)
    content_type = response.headers.get("content-type", "")
    body = response.json() if "json" in content_type else None
    answer = Answer(response.status_code, content_type, response.text, body)
    check(sent, answer)
    return answer


def stored(name: str, variables: dict[str, Any], token: str | None = None, locale: str | None = None) -> Sent:
    body = {"query": fuzz.OPERATIONS[name].text, "operationName": name, "variables": variables}
    return fuzz.json_request(body, token, locale)


def root(answer: Answer) -> Any:
    return next(iter(answer.body["data"].values()))


async def test_wrong_passwords_lock_the_account_and_a_locked_account_gets_no_session(api, manual_clock, limits):
    # given an approved bidder
    operator = await f.operator_token(api)
    _, phone, _ = await f.approved_org(api, operator)
    sessions = await RefreshToken.all().count()

    # when a wrong password is sent five times, then the right one (in Chinese and in English)
    wrong = [
        await post(api, stored("SignIn", {"input": {"phone": phone, "password": "wrong-pass-1"}})) for _ in range(5)
    ]
    right = {"input": {"phone": phone, "password": f.PASSWORD}}
    locked = [await post(api, stored("SignIn", right, locale=locale)) for locale in ("zh-CN", "en")]

    # then four are refused, the fifth locks the account, and the right password is refused while it is locked
    assert [root(a)["code"] for a in wrong] == ["INVALID_CREDENTIALS"] * 4 + ["ACCOUNT_LOCKED"]
    assert [root(a)["code"] for a in locked] == ["ACCOUNT_LOCKED", "ACCOUNT_LOCKED"]
    assert "locked" in root(locked[1])["message"]
    assert await RefreshToken.all().count() == sessions  # no session was issued


async def test_a_second_sms_code_within_a_minute_is_refused_and_not_sent(api, manual_clock, limits):
    # given an approved bidder
    operator = await f.operator_token(api)
    _, phone, _ = await f.approved_org(api, operator)

    # when a sign-in code is asked for twice at once
    answers = [await post(api, stored("SmsCodeRequest", {"input": {"phone": phone}})) for _ in range(2)]

    # then the second is RATE_LIMITED, and one message went out
    assert [root(a)["__typename"] for a in answers] == ["SmsCodeSent", "RateLimited"]
    assert root(answers[1])["code"] == "RATE_LIMITED"
    assert len([text for to, text in api.sms if to == phone]) == 1
    assert await SmsCode.filter(phone=phone).count() == 1


async def test_an_integrator_over_its_rate_is_refused_before_graphql_runs(api, limits):
    # given a client allowed 3 requests a minute
    operator = await f.operator_token(api)
    created = await create_client(api, operator, scopes=["feed:read"], ratePerMinute=3)
    token = (await client_token(api, created["client"]["clientId"], created["clientSecret"]))["access_token"]

    # when it sends its change feed four times within one minute
    await away_from_a_minute_boundary()
    answers = [await post(api, stored("ChangeFeed", {"first": 5}, token)) for _ in range(4)]

    # then the fourth is a typed 429 with a hint when to retry
    assert [a.status for a in answers] == [200, 200, 200, 429]
    refusal = answers[3].body["errors"][0]
    assert refusal["extensions"]["code"] == "RATE_LIMITED"
    assert 1 <= refusal["extensions"]["retryAfter"] <= 60
    assert "data" not in answers[3].body


BUDGETS = {
    # anonymous reports: 10 a minute per address (schema/complaints/mutations.py REPORTS_PER_MINUTE)
    "ReportFile": 10,
    # report progress by tracking code: 30 a minute per address
    "ReportStatus": 30,
    # guarantee letters checked by number and code (kiosks): 30 a minute per address
    "KioskGuaranteeVerify": 30,
}


@pytest.mark.parametrize("name", sorted(BUDGETS))
async def test_what_anyone_may_call_without_a_token_has_a_budget_per_address(api, manual_clock, limits, name):
    # given a published lot
    operator = await f.operator_token(api)
    project, _, _ = await sealed_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    variables = {
        "ReportFile": {"input": {"lotId": lot_id, "text": "有投标人借用资质投标", "evidence": evidence_input()}},
        "ReportStatus": {"trackingCode": "JB-0000-0000"},
        "KioskGuaranteeVerify": {"letterNo": "BH-2026-000001", "verificationCode": "ABCD-1234"},
    }[name]

    # when one address calls one more time than its budget within a minute
    await away_from_a_minute_boundary()
    answers = [await post(api, stored(name, variables)) for _ in range(BUDGETS[name] + 1)]

    # then the last is a typed refusal, and only the budget was acted on
    last = answers[-1].body
    assert last.get("data") in (None, {next(iter(answers[0].body["data"])): None}), last
    assert [e["extensions"]["code"] for e in last["errors"]] == ["RATE_LIMITED"]
    assert all("errors" not in a.body for a in answers[:-1])
    if name == "ReportFile":
        assert await Report.all().count() == BUDGETS[name]


async def test_bank_callbacks_over_the_budget_are_refused_before_anything_is_recorded(api, limits):
    # given an address that has sent its 600 callbacks this minute
    await away_from_a_minute_boundary()
    for _ in range(CALLBACKS_PER_MINUTE):
        await api.services.limiter.hit("callback:127.0.0.1", CALLBACKS_PER_MINUTE)

    # when it sends one more
    response = await api.http.post("/callbacks/bank", content=b"eyJhbGciOiJFUzI1NiJ9.e30.c2ln")

    # then it is a typed 429 in the callback's format, and nothing was recorded
    assert response.status_code == 429
    assert response.json()["code"] == "RATE_LIMITED"
    assert CJK.search(response.json()["message_zh"])
    assert response.json()["message_en"].isascii()
    assert int(response.headers["retry-after"]) >= 1
    assert await BankCallback.all().count() == 0


# --- a sealed bid stays sealed ---------------------------------------------------------------------

PRICE_A = 73_519_864_207  # 735,198,642.07 yuan: digits that appear nowhere else
FIRST_PRICE_A = 73_519_123_456  # the bid it replaced
SHEET = b"SECRET-PRICE-SHEET-A7x9"
SHEET_NAME = "绝密报价单甲.xlsx"
DECRYPT = """mutation($input: BidDecryptInput!) { bidDecrypt(input: $input) {
  __typename ... on BidDecrypted { priceFen documents } ... on Error { code message } } }"""
WATCH = "subscription($lotId: ID!) { openingUpdates(lotId: $lotId) { kind bidder priceFen } }"


def secrets_of(price: int, key: dict[str, Any]) -> dict[str, str]:
    yuan = f"{price / 100:.2f}"
    return {
        "price in fen": str(price),
        "price in yuan": yuan,
        "price in grouped yuan": f"{price / 100:,.2f}",
        "document name": SHEET_NAME.removesuffix(".xlsx"),
        "document content": SHEET.decode(),
        "key": key["k"],
    }


@dataclass
class Cast:
    """Everyone around one sealed tender, by phone or credential, so that they can sign in again after
    the clock has moved past their tokens."""

    lot_id: str
    code: str
    operator: str
    tenderer: str
    supervisor: str
    bidders: dict[str, str]  # a, b, c -> phone
    experts: list[int]
    terminal: tuple[str, str]
    client: tuple[str, str]
    ids: dict[str, str]


async def sign_everyone_in(api: Any, cast: Cast) -> dict[str, str | None]:
    """A token of every kind: anonymous, each bidder, the tenderer, the operator, a supervisor, an expert,
    a terminal, an integrator, and the kiosk (QR) sessions of the bidder and of another bidder."""
    tokens: dict[str, str | None] = {"anonymous": None}
    tokens.update({f"bidder {who}": await f.login(api, phone) for who, phone in cast.bidders.items()})
    tokens["tenderer"] = await f.login(api, cast.tenderer)
    tokens["operator"] = await f.login(api, cast.operator)
    tokens["supervisor"] = await f.login(api, cast.supervisor)
    tokens["expert"] = await f.expert_token(api, cast.experts[0])
    signed = await kiosk_sign_in(api, *cast.terminal)
    assert signed["__typename"] == "TerminalSignedIn", signed
    terminal = tokens["terminal"] = signed["session"]["accessToken"]
    for who in ("a", "b"):
        qr = await challenge(api, terminal)
        assert (await approve(api, tokens[f"bidder {who}"], qr["qrPayload"]))["__typename"] == "QrApproved"
        session = await redeem(api, terminal, qr["challenge"])
        assert session["__typename"] == "KioskSignedIn", session
        tokens[f"kiosk session {who}"] = session["session"]["accessToken"]
    tokens["integrator"] = (await client_token(api, *cast.client))["access_token"]
    return tokens


async def every_read(api: Any, cast: Cast, tokens: dict[str, str | None], today: str) -> list[tuple[str, str, str]]:
    """(token kind, field, answer) of every read with every token, eight requests at a time."""
    year = int(today[:4])
    queries = reads(
        {
            "lotId": [cast.lot_id],
            "query": ["道路", str(PRICE_A), SHEET_NAME[:5]],
            "afterSeq": [0],
            "year": [year],
            "period": ["QUARTER"],
            "startsOn": [f"{year}-01-01"],
            "endsOn": [f"{year + 1}-01-01"],
        },
        {
            "node": {"id": list(cast.ids.values())},
            "organisation": {"id": [cast.ids["bidder a"]]},
            "announcement": {"id": [cast.ids["tender"]]},
        },
    )
    gate = asyncio.Semaphore(8)

    async def one(kind: str, token: str | None, read: Any) -> tuple[str, str, str]:
        sent = fuzz.json_request({"query": read.text, "variables": read.variables}, token)
        async with gate:
            response = await api.http.post("/graphql", content=sent.content, headers=sent.headers)
        assert response.status_code in (200, 401), (kind, read.field, response.text[:300])
        body = response.json()
        problems = fuzz.problems(
            sent, Answer(response.status_code, response.headers["content-type"], response.text, body)
        )
        assert not problems, (kind, read.field, problems)
        if read.field in ("searchAnnouncements", "searchAnnouncementsConnection") and body.get("data"):
            body["data"][read.field].pop("terms", None)  # the caller's own words, echoed
        return kind, read.field, json.dumps(body, ensure_ascii=False)

    answers = await asyncio.gather(*(one(k, t, r) for k, t in tokens.items() for r in queries))
    print(f"sealed bid: {len(queries)} reads x {len(tokens)} tokens")  # shown with -s
    return answers


def leaks(answers: list[tuple[str, str, str]], secrets: dict[str, str]) -> list[str]:
    return [
        f"{kind} read {', '.join(names)} in {field}" for kind, field, text in answers if (names := found(secrets, text))
    ]


async def a_sealed_tender(api: Any, clock: Any) -> tuple[Cast, dict[str, Any], dict[str, Any]]:
    """A sealed tender with three bids (the first bidder's replaced once), a committed expert draw, a
    supervisor, a kiosk terminal and an integrator; the keys of the bids."""
    operator_at = await operator_phone()
    operator = await f.login(api, operator_at)
    project, _, tenderer_at = await sealed_lot(api, clock, operator)
    lot = project["lots"][0]
    lot_id, code = lot["id"], lot["tradeCode"]
    bidders = {who: await registered_bidder(api, operator, lot_id) for who in ("a", "b", "c")}
    keys = {who: new_key() for who in bidders}
    first = await submit(api, bidders["a"][1], lot_id, seal(keys["a"], code, FIRST_PRICE_A, {SHEET_NAME: b"v1"}))
    receipts = {
        "a": await submit(api, bidders["a"][1], lot_id, seal(keys["a"], code, PRICE_A, {SHEET_NAME: SHEET})),
        "b": await submit(api, bidders["b"][1], lot_id, seal(keys["b"], code, 80_000_000_000, {"商务标.pdf": b"b"})),
        "c": await submit(api, bidders["c"][1], lot_id, seal(keys["c"], code, 81_000_000_000, {"商务标.pdf": b"c"})),
    }
    assert {r["__typename"] for r in [first, *receipts.values()]} == {"BidSubmitted"}
    experts = [await add_expert(api, operator, f"专家{n}", [SPECIALTY]) for n in range(5)]
    secret, commitment = new_secret()
    draw = {"lotId": lot_id, "specialty": SPECIALTY, "size": 5, "commitment": commitment}
    committed = (await api.gql(COMMIT, {"input": draw}, token=operator))["data"]["expertDrawCommit"]
    assert committed["__typename"] == "ExpertDrawCommitted", committed
    terminal, terminal_secret = await kiosk_terminal(api, operator)
    scopes = ["announcements:read", "results:read", "feed:read", "ocds:read", "entities:read"]
    client = await create_client(api, operator, scopes=scopes)
    me = "query { me { organisation { id } } }"
    tender = await api.gql("query { announcements(first: 1) { nodes { id } } }")
    cast = Cast(
        lot_id=lot_id,
        code=code,
        operator=operator_at,
        tenderer=tenderer_at,
        supervisor=await supervisor_phone(api, operator),
        bidders={who: phone for who, (phone, _) in bidders.items()},
        experts=experts,
        terminal=(terminal["deviceId"], terminal_secret),
        client=(client["client"]["clientId"], client["clientSecret"]),
        ids={
            "lot": lot_id,
            "project": project["id"],
            "tender": tender["data"]["announcements"]["nodes"][0]["id"],
            "bidder a": (await api.gql(me, token=bidders["a"][1]))["data"]["me"]["organisation"]["id"],
            "replaced receipt a": first["receipt"]["id"],
            **{f"receipt {who}": r["receipt"]["id"] for who, r in receipts.items()},
        },
    )
    await api.dispatch()
    return cast, keys, {"secret": secret}


async def test_a_sealed_bid_is_read_by_no_token_through_any_path_before_the_opening_decrypts_it(
    api, manual_clock, limits
):
    # given a sealed tender where bidder a replaced its bid, with its price, document and key
    cast, keys, draw = await a_sealed_tender(api, manual_clock)
    secrets = {**secrets_of(PRICE_A, keys["a"]), "replaced price": str(FIRST_PRICE_A)}

    # when every kind of token reads everything the API offers while bids are open
    before = await every_read(api, cast, await sign_everyone_in(api, cast), today(manual_clock))

    # then nothing of the bid is in any answer
    assert leaks(before, secrets) == []

    # when the deadline passes: the opening starts, the experts are drawn, and two other bidders hand over
    # their keys while a bidder and the tenderer watch the opening live
    manual_clock.advance(timedelta(days=25, seconds=1))
    await chronograph.fire_due()
    await api.dispatch()
    operator = await f.login(api, cast.operator)
    revealed = await reveal(api, operator, draw["secret"], lotId=cast.lot_id, round=1)
    assert revealed["__typename"] == "ExpertDrawRevealed", revealed
    tokens = await sign_everyone_in(api, cast)  # the expert now sits on the lot's committee
    watchers = [await watch_opening(api, tokens[k], cast.lot_id) for k in ("bidder b", "tenderer")]
    try:
        for who in ("b", "c"):
            opened = await decrypt(api, tokens[f"bidder {who}"], cast.lot_id, keys[who])
            assert opened["__typename"] == "BidDecrypted", opened
        await api.dispatch()
        live = [json.dumps(await next_message(w), ensure_ascii=False) for w in watchers for _ in range(2)]
    finally:
        for w in watchers:
            await w.close()
    during = await every_read(api, cast, tokens, today(manual_clock))

    # then, two prices opened, still nothing of bidder a's bid anywhere, live or read
    assert any("80000000000" in text for _, _, text in during)  # the others' prices are there to be read
    assert all(found(secrets, message) == [] for message in live), live
    assert leaks(during, secrets) == []

    # and the search does find the price once bidder a's own key opens it (the check can see a leak)
    opened = await decrypt(api, tokens["bidder a"], cast.lot_id, keys["a"])
    assert found(secrets, json.dumps(opened)) == ["price in fen"]
    manual_clock.advance(timedelta(minutes=60))
    await chronograph.fire_due()
    record = await api.gql(
        "query($lotId: ID!) { openingRecord(lotId: $lotId) { lines { priceFen } } }", {"lotId": cast.lot_id}
    )
    assert "price in fen" in found(secrets, json.dumps(record))


async def watch_opening(api: Any, token: str | None, lot_id: str) -> Any:
    ws = await ws_connect(api.ws_url, {"authorization": f"Bearer {token}"})
    assert (await next_message(ws))["type"] == "connection_ack"
    await ws.send(
        json.dumps({"id": "1", "type": "subscribe", "payload": {"query": WATCH, "variables": {"lotId": lot_id}}})
    )
    await asyncio.sleep(0.2)
    return ws


async def decrypt(api: Any, token: str | None, lot_id: str, key: dict[str, Any]) -> dict[str, Any]:
    body = await api.gql(DECRYPT, {"input": {"lotId": lot_id, "key": key}}, token=token)
    return body["data"]["bidDecrypt"]  # type: ignore[no-any-return]
