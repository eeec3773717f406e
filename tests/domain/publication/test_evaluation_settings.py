"""The evaluation settings of a sealed tender: method and weights, defaults, bounds, a sum of 100."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.common import clock
from domain.common.actors import Role
from domain.common.errors import InvalidInput, InvalidTransition
from domain.publication import projects
from domain.publication.models import Lot
from domain.publication.procedures import (
    EVALUATED,
    NEGOTIATED,
    ConfigOutOfBounds,
    EvaluationMethod,
    EvaluationWeightsNot100,
    Procedure,
    configure,
    evaluation_settings,
)
from tests.domain.factories import organisation
from tests.support.tendering import person


@pytest.mark.parametrize("procedure", [Procedure.OPEN_TENDER, Procedure.INVITED_TENDER])
def test_tenders_default_to_comprehensive_evaluation_30_50_20(procedure):
    config = configure(procedure, {})
    assert config["evaluation_method"] == "comprehensive"
    assert (config["price_weight"], config["technical_weight"], config["commercial_weight"]) == (30, 50, 20)
    settings = evaluation_settings(procedure, config)
    assert settings is not None
    assert settings.method is EvaluationMethod.COMPREHENSIVE
    assert settings.weights() == {"price": 30, "technical": 50, "commercial": 20}


@pytest.mark.parametrize("procedure", sorted(set(Procedure) - EVALUATED - NEGOTIATED))
def test_other_procedures_have_no_evaluation_settings(procedure):
    config = configure(procedure, {})
    assert "evaluation_method" not in config
    assert "price_weight" not in config
    assert evaluation_settings(procedure, config) is None
    with pytest.raises(InvalidInput) as refused:
        configure(procedure, {"evaluation_method": "lowest_price"})
    assert refused.value.field == "evaluationMethod"


@pytest.mark.parametrize("procedure", [Procedure.INQUIRY, Procedure.COMPETITIVE_NEGOTIATION])
def test_inquiry_and_negotiation_go_to_the_lowest_price_and_take_no_weights(procedure):
    # 政府采购法 第三十八条(五)、第四十条(四): the lowest price among offers meeting the requirements
    config = configure(procedure, {})
    settings = evaluation_settings(procedure, config)
    assert settings is not None
    assert settings.method is EvaluationMethod.LOWEST_PRICE
    for name, value in (("evaluation_method", "comprehensive"), ("price_weight", 40)):
        with pytest.raises(InvalidInput):
            configure(procedure, {name: value})


def test_a_consultation_is_scored_with_a_price_weight_of_10_to_60():
    # 财库〔2014〕214号 第二十三条: 综合评分法; 第二十四条: price 30-60% for goods, 10-30% for services
    weights = {"price_weight": 60, "technical_weight": 30, "commercial_weight": 10}
    config = configure(Procedure.COMPETITIVE_CONSULTATION, weights)
    settings = evaluation_settings(Procedure.COMPETITIVE_CONSULTATION, config)
    assert settings is not None
    assert settings.method is EvaluationMethod.COMPREHENSIVE
    assert settings.weights() == {"price": 60, "technical": 30, "commercial": 10}
    assert evaluation_settings(Procedure.COMPETITIVE_CONSULTATION, configure(Procedure.COMPETITIVE_CONSULTATION, {}))
    with pytest.raises(ConfigOutOfBounds):
        configure(Procedure.COMPETITIVE_CONSULTATION, weights | {"price_weight": 70, "technical_weight": 20})
    with pytest.raises(EvaluationWeightsNot100):
        configure(Procedure.COMPETITIVE_CONSULTATION, {"price_weight": 10})


def test_negotiation_rounds_and_the_final_offer_window_are_bounded():
    config = configure(Procedure.COMPETITIVE_NEGOTIATION, {})
    assert (config["negotiation_rounds_min"], config["negotiation_rounds_max"]) == (1, 3)
    assert config["final_offer_window_minutes"] == 60
    with pytest.raises(ConfigOutOfBounds):
        configure(Procedure.COMPETITIVE_NEGOTIATION, {"negotiation_rounds_min": 3, "negotiation_rounds_max": 2})
    with pytest.raises(ConfigOutOfBounds):
        configure(Procedure.COMPETITIVE_NEGOTIATION, {"final_offer_window_minutes": 5})
    with pytest.raises(InvalidInput):
        configure(Procedure.OPEN_TENDER, {"negotiation_rounds_max": 2})


def test_lots_configured_before_the_settings_existed_read_the_defaults():
    settings = evaluation_settings(Procedure.OPEN_TENDER, {"min_bids": 3})
    assert settings is not None
    assert (settings.method, settings.price_weight) == (EvaluationMethod.COMPREHENSIVE, 30)


def test_lowest_price_and_other_weights_that_add_up_to_100_are_kept():
    config = configure(
        Procedure.OPEN_TENDER,
        {"evaluation_method": "lowest_price", "price_weight": 10, "technical_weight": 90, "commercial_weight": 0},
    )
    assert config["evaluation_method"] == "lowest_price"
    assert (config["price_weight"], config["technical_weight"], config["commercial_weight"]) == (10, 90, 0)
    whole = configure(Procedure.OPEN_TENDER, {"price_weight": 100, "technical_weight": 0, "commercial_weight": 0})
    assert whole["price_weight"] == 100


@pytest.mark.parametrize(
    ("overrides", "total"),
    [({"price_weight": 40}, 110), ({"technical_weight": 40}, 90), ({"commercial_weight": 0}, 80)],
)
def test_weights_must_add_up_to_100(overrides, total):
    with pytest.raises(EvaluationWeightsNot100) as refused:
        configure(Procedure.OPEN_TENDER, overrides)
    assert refused.value.params == {"field": "priceWeight", "total": total}
    assert refused.value.code == "EVALUATION_WEIGHTS_NOT_100"


@pytest.mark.parametrize(
    ("setting", "value", "field"),
    [
        ("price_weight", 9, "priceWeight"),
        ("price_weight", 101, "priceWeight"),
        ("technical_weight", 91, "technicalWeight"),
        ("commercial_weight", -1, "commercialWeight"),
    ],
)
def test_weights_outside_their_bounds_are_refused(setting, value, field):
    with pytest.raises(ConfigOutOfBounds) as refused:
        configure(Procedure.OPEN_TENDER, {setting: value})
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("setting", "value"),
    [("evaluation_method", "cheapest"), ("evaluation_method", 1), ("price_weight", "30"), ("price_weight", True)],
)
def test_unknown_methods_and_mistyped_weights_are_invalid(setting, value):
    with pytest.raises(InvalidInput):
        configure(Procedure.OPEN_TENDER, {setting: value})


async def test_a_draft_tender_lot_is_reconfigured_with_its_method_kept(db):
    # given a draft tender lot set to lowest price
    tenderer = person(await organisation(kinds=["tenderer"]), Role.TENDERER)
    deadline = clock.now() + timedelta(days=30)
    form = projects.ProjectForm(
        name="青岛市道路维修工程",
        category="engineering_construction",
        region_code="370200",
        lots=[
            projects.LotForm(
                name="第1标段",
                procedure="open_tender",
                estimated_price_fen=100_000_000,
                config={"bid_deadline": deadline, "evaluation_method": "lowest_price"},
            )
        ],
    )
    project = await projects.create_project(tenderer, form)
    lot = (await Lot.filter(project_id=project.id))[0]
    # when another setting changes, then the weights, then a sum that is wrong
    changed = await projects.configure_lot(tenderer, lot.id, {"min_bids": 5})
    weighted = await projects.configure_lot(
        tenderer, lot.id, {"evaluation_method": "comprehensive", "price_weight": 40, "technical_weight": 40}
    )
    with pytest.raises(EvaluationWeightsNot100):
        await projects.configure_lot(tenderer, lot.id, {"price_weight": 50})
    # then
    assert (changed.config["evaluation_method"], changed.config["min_bids"]) == ("lowest_price", 5)
    assert changed.config["bid_deadline"] == deadline.isoformat()
    assert weighted.config["evaluation_method"] == "comprehensive"
    assert (await Lot.get(id=lot.id)).config["price_weight"] == 40


async def test_a_lot_past_draft_is_not_reconfigured(db):
    # given a tender lot whose tender announcement moved it to open
    tenderer = person(await organisation(kinds=["tenderer"]), Role.TENDERER)
    form = projects.ProjectForm(
        name="青岛市道路维修工程",
        category="engineering_construction",
        region_code="370200",
        lots=[projects.LotForm(name="第1标段", procedure="open_tender", estimated_price_fen=100_000_000, config={})],
    )
    project = await projects.create_project(tenderer, form)
    lot = (await Lot.filter(project_id=project.id))[0]
    await Lot.filter(id=lot.id).update(status="open")
    # when / then: the lot table's configure move leaves only a draft
    with pytest.raises(InvalidTransition) as refused:
        await projects.configure_lot(tenderer, lot.id, {"min_bids": 5})
    assert (refused.value.code, refused.value.params) == ("INVALID_TRANSITION", {"state": "open"})
    assert (await Lot.get(id=lot.id)).config.get("min_bids") != 5
