"""The lean path for the contract's queries (schema/lean.py) answers byte for byte what graphql-core answers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from graphql import NamedTypeNode, NonNullTypeNode, OperationDefinitionNode, OperationType, parse

from api.seed import DEMO_PASSWORD, seed_demo_city
from mobile_contract import gate
from tests import factories as f
from tests.mobile_contract import test_operations_run as contract

OPERATIONS = {op.name: op for op in gate.load_operations()}
# what differs between two runs of the same query whichever path runs it: an evidence package's ES256 signature
# is randomised (ECDSA), and with it the JWS text and its hash; the rest of the answer is compared; a credit exchange
# export is signed the same way and carries the time it was issued
NOT_REPEATABLE: dict[str, frozenset[str]] = {
    "EvidencePackage": frozenset({"jws", "sha256"}),
    "CreditExchangeExport": frozenset({"package", "sha256", "issuedAt"}),
    "CreditExchangeExportSm2": frozenset({"package", "sha256", "issuedAt"}),  # SM2 signatures are randomised too
}


def comparable(name: str, answer: bytes) -> bytes | Any:
    masked = NOT_REPEATABLE.get(name)
    if masked is None:
        return answer

    def mask(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: "<masked>" if k in masked else mask(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mask(v) for v in value]
        return value

    return mask(json.loads(answer))


async def sign_in(api: Any, phone: str) -> str:
    return await f.login(api, phone, DEMO_PASSWORD)


async def both(api: Any, name: str, variables: dict[str, Any], token: str | None) -> tuple[bytes, bytes]:
    op = OPERATIONS[name]
    body = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": op.sha256}}, "variables": variables}
    headers = {"cache-control": "no-cache", **({"authorization": f"Bearer {token}"} if token else {})}
    answers = []
    for enabled in (False, True):
        api.services.lean.enabled = enabled
        try:
            reply = await api.http.post("/graphql", json=body, headers=headers)
        finally:
            api.services.lean.enabled = True
        answers.append(reply.content)
    return answers[0], answers[1]


async def test_me_and_the_home_screen(api):
    # given
    await seed_demo_city(b"secret")
    token = await sign_in(api, "13900000001")
    stats = api.services.lean.stats
    executed = stats.executed
    # when
    me = await both(api, "Me", {}, token)
    screen = await both(api, "AnnouncementList", {"first": 20}, token)
    # then
    assert me[0] == me[1]
    assert screen[0] == screen[1]
    assert b'"errors"' not in me[0]
    assert stats.executed == executed + 2


def is_query(op: gate.Operation) -> bool:
    document = parse(op.text)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return any(d.operation is OperationType.QUERY for d in operations)


def required_fallback(op: gate.Operation, world: Any) -> dict[str, Any]:
    """Variables for a query whose contract-test values need an earlier mutation's answer: ids of the world's
    lot (an object of another type reads as null or NotFound, which is compared as well)."""
    document = parse(op.text)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        if not isinstance(definition.type, NonNullTypeNode) or definition.default_value is not None:
            continue
        named = definition.type.type
        type_name = named.name.value if isinstance(named, NamedTypeNode) else ""
        values[definition.variable.name.value] = {"ID": world.lot_id, "Int": 1, "Boolean": True}.get(type_name, "道路")
    return values


def variables_of(world: Any) -> dict[str, Callable[[Any], dict[str, Any]]]:
    listed: dict[str, Callable[[Any], dict[str, Any]]] = {}
    for name, variables, *_ in [*contract.APP, *contract.KIOSK, *contract.INTEGRATOR]:
        listed.setdefault(name, variables)
    return listed


async def test_every_contract_query_answers_alike_on_both_paths_for_every_role(api, manual_clock, monkeypatch):
    # given the demo city, and the contract test's world in it (its operator the demo city's): a sealed tender,
    # an auction, a terminal, an integrator
    await seed_demo_city(b"secret")

    async def demo_operator(api: Any) -> str:
        return await sign_in(api, "13800000001")

    monkeypatch.setattr(f, "operator_token", demo_operator)
    world = await contract.build_world(api, manual_clock)
    await api.dispatch()
    roles: dict[str, str | None] = {
        "anonymous": None,
        "bidder": world.tokens["app"],
        "tenderer": world.tokens[contract.TENDERER],
        "operator": world.tokens[contract.OPERATOR],
        "supervisor": world.tokens[contract.SUPERVISOR],
        "kiosk": world.tokens["kiosk"],
        "integrator": world.tokens["integrator"],
        "demo bidder": await sign_in(api, "13900000001"),
        "demo supervisor": await sign_in(api, "13800000002"),
    }
    listed = variables_of(world)
    queries = [op for op in OPERATIONS.values() if is_query(op)]
    stats = api.services.lean.stats
    # when every query is sent by every role, through graphql-core and then through the lean path
    differing: dict[str, tuple[bytes, bytes]] = {}
    lean_without_errors = answered_without_errors = 0
    for op in queries:
        try:
            variables = listed[op.name](world) if op.name in listed else required_fallback(op, world)
        except (KeyError, IndexError, TypeError):
            variables = required_fallback(op, world)
        for role, token in roles.items():
            executed = stats.executed
            plain, lean = await both(api, op.name, variables, token)
            if comparable(op.name, plain) != comparable(op.name, lean):
                differing[f"{op.name} as {role}"] = (plain, lean)
            if b'"errors"' not in lean:
                answered_without_errors += 1
                lean_without_errors += stats.executed - executed
    # then
    assert differing == {}
    assert lean_without_errors == answered_without_errors  # every answer without errors came from the lean run
    assert answered_without_errors > len(queries)  # most queries answered someone without errors
    assert stats.early > 0  # planned queries answered before strawberry's pipeline
    assert stats.replayed > 0  # refusals and errors: graphql-core's answers, in the pipeline


async def test_the_bid_answers_alike_on_both_paths_accepted_and_refused(api, manual_clock, monkeypatch):
    """`BidPlace` by hash: paired bids on two auctions alike (same rules, same clock, the same two bidders with the
    same bidder numbers), each sent to one through graphql-core and to the other through the lean path. Accepted
    bids and every refusal answer byte for byte alike, the audit trail records the same events for both auctions,
    and the auctions end in the same state."""
    from domain.auctions.models import Auction, AuctionEntry
    from domain.common.models import OutboxEvent
    from schema.auctions import mutations as bid_mutation
    from schema.relay import int_id
    from tests.scenarios import test_auction as auction

    # given two auctions alike and two bidders registered for both
    operator = await f.operator_token(api)
    first, starts, timed = await auction.auction_lot(api, manual_clock, operator, reserve=auction.START_PRICE)
    lots = [first, (await auction.auction_lot(api, manual_clock, operator, reserve=auction.START_PRICE))[0]]
    phones = []
    for _ in "ab":
        _, phone, token = await f.approved_org(api, operator)
        for lot in lots:
            registered = await api.gql(auction.REGISTER, {"input": {"lotId": lot}}, token=token)
            assert registered["data"]["lotRegister"]["__typename"] == "LotRegistered", registered
        phones.append(phone)
    _, outsider, _ = await f.approved_org(api, operator)
    op = OPERATIONS["BidPlace"]
    stats = api.services.lean.stats
    tokens: dict[str, str] = {}  # signed in again whenever the clock jumps past the access tokens

    async def bid(phone: str | None, input_: dict[str, Any], lot: str, lean: bool) -> bytes:
        if phone is not None and phone not in tokens:
            tokens[phone] = await f.login(api, phone)
        token = tokens[phone] if phone is not None else None
        body = {
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": op.sha256}},
            "variables": {"input": {**input_, "lotId": lot} if "lotId" not in input_ else input_},
        }
        headers = {"authorization": f"Bearer {token}"} if token else {}
        api.services.lean.enabled = lean
        try:
            reply = await api.http.post("/graphql", json=body, headers=headers)
        finally:
            api.services.lean.enabled = True
        return reply.content

    answers: dict[str, tuple[bytes, bytes]] = {}
    early: dict[str, int] = {}

    async def both(step: str, phone: str | None, input_: dict[str, Any], key: str | None = None) -> None:
        full = await bid(phone, {**input_, **({"idempotencyKey": f"{key}-full"} if key else {})}, lots[0], False)
        before = stats.early
        lean = await bid(phone, {**input_, **({"idempotencyKey": f"{key}-lean"} if key else {})}, lots[1], True)
        answers[step] = (full, lean)
        early[step] = stats.early - before

    a, b = phones
    # the bidder's limit (5 a second, by the wall clock) bites only where a step asks for it
    monkeypatch.setattr(bid_mutation, "BIDS_PER_SECOND", 1000)
    price, step = auction.START_PRICE, auction.STEP
    # when, before the auction opens
    await both("not live (plans the bid)", a, {"amountFen": price})
    await both("not live", a, {"amountFen": price})
    # and once it is open, with the two auctions' bidder numbers made the same
    await auction.at(manual_clock, starts)
    tokens.clear()
    entries = {
        lot: await AuctionEntry.filter(auction_id=(await Auction.get(lot_id=int_id(lot, "Lot", "lotId"))).id).order_by(
            "organisation_id"
        )
        for lot in lots
    }
    for index, entry in enumerate(entries[lots[1]]):
        await AuctionEntry.filter(id=entry.id).update(bidder_no=f"00{index:02d}")
    for target, source in zip(entries[lots[1]], entries[lots[0]], strict=True):
        await AuctionEntry.filter(id=target.id).update(bidder_no=source.bidder_no)
    first_event = await OutboxEvent.all().order_by("-id").first()
    await both("accepted", a, {"amountFen": price})
    await both("already leading", a, {"amountFen": price + step})
    await both("too low", b, {"amountFen": price})
    await both("not on the increment", b, {"amountFen": price + step + step // 2})
    await both("not registered", outsider, {"amountFen": price + step})
    await both("accepted with a key", b, {"amountFen": price + step}, key="k1")
    await both("the key's retry", b, {"amountFen": price + step}, key="k1")
    await both("the key reused for another bid", b, {"amountFen": price + 3 * step}, key="k1")
    await both("a nonsense amount", a, {"amountFen": -5})
    monkeypatch.setattr(bid_mutation, "BIDS_PER_SECOND", 0)
    await both("rate limited", a, {"amountFen": price + 2 * step})
    monkeypatch.setattr(bid_mutation, "BIDS_PER_SECOND", 1000)
    await both("anonymous", None, {"amountFen": price + 2 * step})
    await both("bad variables", a, {"amountFen": "many"})
    await both("an unknown lot", a, {"lotId": "TG90OjA=", "amountFen": price})
    # and a bid over GET, its plan made, is refused as before it had one (405), placing nothing
    before = stats.early
    over_get = await api.http.get(
        "/graphql",
        params={
            "extensions": json.dumps({"persistedQuery": {"version": 1, "sha256Hash": op.sha256}}),
            "variables": json.dumps({"input": {"lotId": lots[1], "amountFen": price + 9 * step}}),
        },
        headers={"authorization": f"Bearer {tokens[a]}"},
    )
    assert (over_get.status_code, stats.early) == (405, before)
    await auction.at(manual_clock, timed + timedelta(seconds=301))
    tokens.clear()
    await both("closed", a, {"amountFen": price + 5 * step})
    # then every answer is the same on both paths
    differing = {step: pair for step, pair in answers.items() if pair[0] != pair[1]}
    assert differing == {}
    assert {step: kind(full) for step, (full, _) in answers.items()} == {
        "not live (plans the bid)": "AUCTION_NOT_LIVE",
        "not live": "AUCTION_NOT_LIVE",
        "accepted": "BidPlaced",
        "already leading": "ALREADY_LEADING",
        "too low": "BID_TOO_LOW",
        "not on the increment": "BID_NOT_ON_INCREMENT",
        "not registered": "NOT_QUALIFIED",
        "accepted with a key": "BidPlaced",
        "the key's retry": "BidPlaced",
        "the key reused for another bid": "IDEMPOTENCY_KEY_REUSED",
        "a nonsense amount": "INVALID_INPUT",
        "rate limited": "BID_RATE_LIMITED",
        "anonymous": "errors: UNAUTHENTICATED",
        "bad variables": "errors: GRAPHQL_VALIDATION_FAILED",
        "an unknown lot": "NOT_FOUND",
        "closed": "AUCTION_NOT_LIVE",
    }
    # and the answers without errors came before strawberry's pipeline; errors and bad variables took it
    del early["not live (plans the bid)"]  # the plan is made in the pipeline, unless an earlier test made it
    assert {s for s, n in early.items() if n} == {s for s in early if b'"errors"' not in answers[s][0]}
    assert early["anonymous"] == early["bad variables"] == 0
    # and the audit trail recorded the same for both auctions (refusals included), as the auctions' states agree
    assert first_event is not None
    lot_ids = [str(int_id(lot, "Lot", "lotId")) for lot in lots]
    events = await OutboxEvent.filter(id__gt=first_event.id).order_by("id")
    trail = [
        [(e.type, e.outcome, e.actor_org_id, e.payload.get("code")) for e in events if e.object_id == lot_id]
        for lot_id in lot_ids
    ]
    assert trail[0] == trail[1]
    assert ("auction.bid", "failure") in {(t, o) for t, o, *_ in trail[0]}
    states = [await api.gql(auction.STATE, {"lotId": lot}) for lot in lots]
    assert states[0] == states[1]


def kind(answer: bytes) -> str:
    """What a bid's answer is: its result type, or its error's code; a top-level error's code."""
    body = json.loads(answer)
    if "errors" in body:
        return "errors: " + ",".join(str(e.get("extensions", {}).get("code")) for e in body["errors"])
    result = body["data"]["bidPlace"]
    return str(result.get("code") or result["__typename"])


async def test_the_front_answers_as_strawberrys_run(api, monkeypatch):
    """api/graphql_app.py `_front` (strawberry's `run` without its content negotiation for one JSON operation over
    POST) answers every request as `run` does: status, headers and body, byte for byte, for the requests it takes
    and for those it hands to `run` (other content types, streaming Accept headers, bodies strawberry refuses)."""
    from api.graphql_app import PalmTradeGraphQL

    await seed_demo_city(b"secret")
    token = await sign_in(api, "13900000001")
    me = OPERATIONS["Me"].sha256
    screen = OPERATIONS["AnnouncementList"].sha256

    def by_hash(sha256: str, variables: Any = None) -> dict[str, Any]:
        return {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256}}, "variables": variables}

    json_type = {"content-type": "application/json"}
    bearer = {"authorization": f"Bearer {token}"}
    cases: list[tuple[str, dict[str, str], bytes | dict[str, Any] | list[Any]]] = [
        ("persisted Me", bearer, by_hash(me, {})),
        ("persisted Me, anonymous", {}, by_hash(me, {})),
        ("the screen", {}, by_hash(screen, {"first": 20})),
        ("the screen, bad variables", {}, by_hash(screen, {"first": "many"})),
        ("unknown hash", {}, by_hash("0" * 64)),
        ("text Me", bearer, {"query": "query Me { me { id phone } }"}),
        ("text, named", bearer, {"query": "query A { me { id } } query B { me { phone } }", "operationName": "B"}),
        ("text, syntax error", {}, {"query": "query {"}),
        ("text, unknown field", {}, {"query": "{ nothing }"}),
        ("subscription over POST", {}, {"query": 'subscription { auctionUpdated(lotId: "x") { seq } }'}),
        ("request error as graphql-response", {"accept": "application/graphql-response+json"}, {"query": "{"}),
        ("graphql-response accepted", {"accept": "application/graphql-response+json", **bearer}, by_hash(me, {})),
        ("multipart accepted", {"accept": "multipart/mixed;subscriptionSpec=1.0, application/json"}, by_hash(me)),
        ("event stream accepted", {"accept": "text/event-stream"}, {"query": "{ __typename }"}),
        ("charset", {"content-type": "application/json; charset=utf-8", **bearer}, by_hash(me, {})),
        ("spaced parameters", {"content-type": "application/json ; charset=utf-8"}, {"query": "{ __typename }"}),
        ("capitals", {"content-type": "Application/JSON"}, {"query": "{ __typename }"}),
        ("text/plain", {"content-type": "text/plain"}, {"query": "{ __typename }"}),
        ("no content type", {"content-type": ""}, {"query": "{ __typename }"}),
        ("not JSON", json_type, b"{query"),
        ("a string", json_type, b'"query"'),
        ("null", json_type, b"null"),
        ("a batch", json_type, [{"query": "{ __typename }"}]),
        ("query not a string", json_type, {"query": 1}),
        ("variables a list", json_type, {"query": "{ __typename }", "variables": []}),
        ("extensions a string", json_type, {"query": "{ __typename }", "extensions": "x"}),
        ("a lone surrogate", json_type, b'{"query": "{ __typename }", "variables": {"a": "\\ud800"}}'),
    ]
    unstable = {b"date", b"x-request-id", b"content-length"}

    async def send(headers: dict[str, str], body: bytes | dict[str, Any] | list[Any]) -> tuple[Any, ...]:
        sent = {"cache-control": "no-cache", **headers}
        if isinstance(body, bytes):
            reply = await api.http.post("/graphql", content=body, headers=sent)
        else:
            reply = await api.http.post("/graphql", content=json.dumps(body).encode(), headers={**json_type, **sent})
        kept = sorted((k, v) for k, v in reply.headers.raw if k.lower() not in unstable)
        return reply.status_code, kept, re.sub(rb'"requestId":"[0-9a-f]+"', b'"requestId":"-"', reply.content)

    ran: list[str] = []
    strawberrys_run = PalmTradeGraphQL.run

    async def counted(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        ran.append(name)
        return await strawberrys_run(self, request, *args, **kwargs)

    monkeypatch.setattr(PalmTradeGraphQL, "run", counted)
    differing = {}
    for name, headers, body in cases:
        monkeypatch.setattr(PalmTradeGraphQL, "front", False)
        run = await send(headers, body)
        monkeypatch.setattr(PalmTradeGraphQL, "front", True)
        front = await send(headers, body)
        if run != front:
            differing[name] = (run, front)
    assert not differing, differing
    # each case once by `run` (front off); with the front on, `run` answered only what the front handed over
    handed = [name for name, _, _ in cases if ran.count(name) > 1]
    assert handed == [
        "multipart accepted",
        "event stream accepted",
        "spaced parameters",
        "capitals",
        "text/plain",
        "no content type",
        "not JSON",
        "a string",
        "a batch",
        "query not a string",
        "variables a list",
        "extensions a string",
        "a lone surrogate",
    ]
