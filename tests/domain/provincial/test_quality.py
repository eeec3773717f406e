"""The data-quality rules on the database: a clean contracted lot has no finding; planted inconsistencies (the
contract's amount, a credit code, dates out of order, a lot code) are each named with their rule and object; the
report is the operators' and, read-only, the supervisors' of the category."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.accounts.models import Organisation
from domain.common import clock
from domain.common.actors import Actor, Role
from domain.common.errors import PermissionDenied
from domain.provincial import quality
from domain.publication.models import Lot, Project
from domain.results import services as results
from domain.results.models import Award, Contract
from tests.support.results import evaluated_lot

PRICES = [98_000_000, 95_500_000, 97_250_000, 99_000_000]
OPERATOR = Actor(roles=frozenset({Role.OPERATOR}), user_id=1, org_id=1)


def supervisor(*categories: str) -> Actor:
    return Actor(roles=frozenset({Role.SUPERVISOR}), user_id=2, org_id=2, supervised_categories=frozenset(categories))


async def contracted(manual_clock):
    t, _ = await evaluated_lot(manual_clock, PRICES)
    await results.publish_candidates(t.tenderer, t.lot.id)
    manual_clock.advance(days=3, seconds=1)
    made = await results.award(t.tenderer, t.lot.id)
    manual_clock.advance(days=2)
    today = clock.today()
    await results.record_contract(t.tenderer, t.lot.id, "HT-2026-009", made.price_fen, today)
    return t, made


async def test_a_clean_lot_has_no_finding_and_planted_faults_are_each_named(db, manual_clock):
    # given a lot awarded and contracted as the rules want
    t, made = await contracted(manual_clock)
    assert await quality.check_lot(t.lot.id) == []
    # when its contract amount, its winner's credit code, its contract day and its bid deadline are corrupted
    await Contract.filter(lot_id=t.lot.id).update(amount_fen=made.price_fen + 12_345)
    winner = await Organisation.get(id=made.organisation_id)
    bad = winner.credit_code[:17] + ("0" if winner.credit_code[17] != "0" else "1")
    await Organisation.filter(id=winner.id).update(credit_code=bad)
    award_day = clock.to_shanghai(made.awarded_at).date()
    await Contract.filter(lot_id=t.lot.id).update(signed_on=award_day - timedelta(days=1))
    lot = await Lot.get(id=t.lot.id)
    await Lot.filter(id=lot.id).update(
        config={**lot.config, "bid_deadline": (made.awarded_at + timedelta(hours=1)).isoformat()}
    )
    found = await quality.check_lot(t.lot.id)
    # then each is named with its rule, its object and an explanation in both languages
    by_rule = {f.rule: f for f in found}
    contract = await Contract.get(lot_id=t.lot.id)
    assert set(by_rule) >= {"DQ-AMT-001", "DQ-CODE-001", "DQ-DATE-003", "DQ-DATE-001"}
    amount = by_rule["DQ-AMT-001"]
    assert (amount.object_type, amount.object_id, amount.blocking) == ("Contract", contract.id, True)
    assert "955123.45" in amount.detail["zh"].replace(",", "") or "955,123.45" in amount.detail["zh"]
    assert "differs from the awarded" in amount.detail["en"]
    assert (by_rule["DQ-CODE-001"].object_type, by_rule["DQ-CODE-001"].object_id) == ("Organisation", winner.id)
    assert by_rule["DQ-DATE-003"].blocking is False
    assert (by_rule["DQ-DATE-001"].object_type, by_rule["DQ-DATE-001"].object_id) == (
        "Award",
        (await Award.get(lot_id=t.lot.id)).id,
    )
    # and a second check replaces the first's findings instead of adding to them
    assert len(await quality.check_lot(t.lot.id)) == len(found)


async def test_an_engineering_project_without_its_industry_is_reported_without_holding_its_messages(db, manual_clock):
    # given a contracted engineering lot whose project has no 招标项目类型 (as every project made before it was asked)
    t, _ = await contracted(manual_clock)
    await Project.filter(id=t.project.id).update(industry=None)
    # when it is checked
    found = await quality.check_lot(t.lot.id)
    # then the missing industry is named on the project, in both languages, and holds nothing
    [missing] = found
    assert (missing.rule, missing.object_type, missing.object_id) == ("DQ-REQ-002", "Project", t.project.id)
    assert missing.blocking is False
    assert "招标项目类型" in missing.detail["zh"]
    assert "TENDER_PROJECT_TYPE" in missing.detail["en"]
    assert await quality.blocking(t.lot.id) == []
    # and another trade's project, which carries no industry, is not asked for one
    await Project.filter(id=t.project.id).update(category="government_procurement")
    assert await quality.check_lot(t.lot.id) == []


async def test_the_report_is_for_operators_and_the_supervisors_of_the_category(db, manual_clock):
    # given a lot with a planted amount fault, found by the nightly run
    t, made = await contracted(manual_clock)
    await Contract.filter(lot_id=t.lot.id).update(amount_fen=made.price_fen - 1)
    assert await quality.check_all(clock.now()) == quality.Run(lots=1, findings=1, newly_blocked=[t.lot.id], cleared=[])
    # then operators and the category's supervisors read it, by rule and lot; others do not
    assert [f.rule for f in await quality.report(OPERATOR, lot_id=t.lot.id)] == ["DQ-AMT-001"]
    assert [f.rule for f in await quality.report(supervisor("engineering_construction"), rule="DQ-AMT-001")] == [
        "DQ-AMT-001"
    ]
    assert await quality.report(supervisor("government_procurement")) == []
    assert await quality.report(OPERATOR, rule="DQ-CODE-002") == []
    with pytest.raises(PermissionDenied):
        await quality.report(Actor(roles=frozenset({Role.TENDERER}), user_id=3, org_id=3))
