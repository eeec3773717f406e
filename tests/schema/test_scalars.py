"""Money beyond GraphQL's 32-bit Int: a land lot of 5 billion yuan goes in and comes back exactly."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from tests import factories as f
from tests.scenarios.test_publication import PROJECT_CREATE

BIG = 500_000_000_000  # 5,000,000,000.00 yuan: far above 2^31 - 1 fen


async def test_a_lot_worth_billions_round_trips_in_fen(api, manual_clock):
    operator = await f.operator_token(api)
    _, _, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    deadline = (manual_clock.now() + timedelta(days=30)).isoformat()
    form = {
        "name": "2026-01号地块国有建设用地使用权",
        "category": "LAND_USE_RIGHTS",
        "regionCode": "370211",
        "lots": [
            {
                "name": "2026-01号地块",
                "procedure": "LISTING",
                "estimatedPriceFen": BIG,
                "config": {"bidDeadline": deadline},
            }
        ],
    }
    created = (await api.gql(PROJECT_CREATE, {"input": form}, token=tenderer))["data"]["projectCreate"]
    assert created["__typename"] == "ProjectCreated", created
    assert created["project"]["lots"][0]["config"]["depositCapFen"] == BIG * 2 // 100


async def test_a_fractional_or_huge_amount_is_refused(api):
    body = await api.gql(
        'mutation($a: Fen!) { bidPlace(input: {lotId: "x", amountFen: $a}) { __typename } }',
        {"a": 2**60},
        expect_errors=True,
    )
    assert "Fen" in body["errors"][0]["message"]


# Every custom scalar of the schema, with one place that takes it and values it must refuse, written inline in
# the document and sent as a variable. A scalar added to the schema fails test_every_custom_scalar_is_probed
# until it is listed here.
PROBES: dict[str, tuple[str, str, list[str], list[Any]]] = {
    # scalar: (document with {v} where the literal goes, the same with $v: <type>, bad literals, bad variables)
    "Fen": (
        'mutation { bidPlace(input: {lotId: "x", amountFen: {v}}) { __typename } }',
        'mutation($v: Fen!) { bidPlace(input: {lotId: "x", amountFen: $v}) { __typename } }',
        [
            "1.5",
            '"12"',
            "9007199254740992",
            "-9007199254740992",
            "99999999999999999999999",
            "true",
            "[1]",
            "{a: 1}",
            "X",
        ],
        [1.5, "12", 2**53, -(2**53), 10**30, True, [1], {"a": 1}],
    ),
    "DateTime": (
        "query { announcements(filter: {publishedFrom: {v}}) { pageInfo { hasNextPage } } }",
        "query($v: DateTime) { announcements(filter: {publishedFrom: $v}) { pageInfo { hasNextPage } } }",
        ['"nope"', "12", "1.5", '"2020-13-45T00:00:00"', "[1]", "{a: 1}", "X"],
        ["nope", 12, 1.5, "2020-13-45T00:00:00", [1], {"a": 1}],
    ),
    "Date": (
        'query { tradingStatistics(period: MONTH, startsOn: {v}, endsOn: "2026-01-01") { __typename } }',
        "query($v: Date!) { tradingStatistics(period: MONTH, startsOn: $v, endsOn: $v) { __typename } }",
        ['"nope"', "12", "1.5", '"2026-02-30"', "[1]", "{a: 1}", "X"],
        ["nope", 12, 1.5, "2026-02-30", [1], {"a": 1}],
    ),
    # JSON takes any JSON value; the only thing it can be given wrong is a variable that does not exist
    "JSON": (
        'mutation { bidDecrypt(input: {lotId: "x", key: {v}}) { __typename } }',
        'mutation($v: JSON!) { bidDecrypt(input: {lotId: "x", key: $v}) { __typename } }',
        ["{k: $undefined}"],
        [None],
    ),
}


async def test_every_custom_scalar_is_probed(api):
    # given the SDL the server publishes
    sdl = (await api.http.get("/schema.graphql")).text
    # then every scalar it declares is probed below
    declared = {line.split()[1] for line in sdl.splitlines() if line.startswith("scalar ")}
    assert declared == set(PROBES)


@pytest.mark.parametrize("scalar", sorted(PROBES))
async def test_a_bad_scalar_literal_or_variable_is_a_typed_validation_error(api, caplog, scalar):
    inline, with_variable, literals, variables = PROBES[scalar]
    sent: list[tuple[str, dict[str, Any]]] = [(inline.replace("{v}", v), {}) for v in literals]
    sent += [(with_variable, {"v": v}) for v in variables]
    for query, values in sent:
        # when a client sends the bad value
        caplog.clear()
        with caplog.at_level(logging.INFO):
            response = await api.http.post("/graphql", json={"query": query, "variables": values})
        # then it is refused as invalid input: a code, no data, no bug logged
        body = response.json()
        assert body.get("data") is None, (query, values, body)
        codes = {e["extensions"]["code"] for e in body["errors"]}
        assert codes == {"GRAPHQL_VALIDATION_FAILED"}, (query, values, body)
        assert not [r for r in caplog.records if r.exc_info], (query, values)


async def test_money_at_the_edge_of_the_range_passes_validation(api):
    for amount in ("9007199254740991", "-9007199254740991", "0"):
        body = await api.gql(
            'mutation { bidPlace(input: {lotId: "x", amountFen: AMOUNT}) { __typename } }'.replace("AMOUNT", amount),
            expect_errors=True,
        )
        assert "GRAPHQL_VALIDATION_FAILED" not in {e["extensions"]["code"] for e in body.get("errors", [])}, body
