"""Money beyond GraphQL's 32-bit Int: a land lot of 5 billion yuan goes in and comes back exactly."""

from __future__ import annotations

from datetime import timedelta

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
