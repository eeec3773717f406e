"""OCDS 1.1 output: a lot built through the real services, its releases, record and bulk export.

Every release and compiled release is validated with a Draft 4 validator. No OCDS package on PyPI
installs the official release-schema.json (ocdsmerge and ocdskit carry copies only among the test
fixtures of their source archives, which are not installed; the others fetch it at run time) and
the npm and Debian package lists hold no OCDS package, so the schema used is
`ocds_release_schema_partial.json` beside this file: a partial stand-in written for these tests,
not the official schema. OCDS_RELEASE_SCHEMA=/path/to/release-schema.json validates against
an official copy instead (the draft-04 OCDS 1.1 schema resolves every $ref inside itself).
"""

from __future__ import annotations

import io
import itertools
import json
import os
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, FormatChecker

from api.seed import credit_code
from domain.accounts.models import Organisation
from domain.accounts.states import OrgStatus
from domain.common import clock
from domain.common.actors import Actor, Role
from domain.common.errors import NotFound
from domain.disclosure import ocds
from domain.publication import announcements, projects
from domain.publication.models import Announcement, Lot, Project
from domain.registration import invitations
from tests import factories as f

PREFIX = "ocds-test01"
SHA = "ab" * 32
_seq = itertools.count(1)

# ---------------------------------------------------------------- schema


def _schema() -> dict[str, Any]:
    path = os.environ.get("OCDS_RELEASE_SCHEMA") or Path(__file__).with_name("ocds_release_schema_partial.json")
    return json.loads(Path(path).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


_formats = FormatChecker()


@_formats.checks("date-time", raises=ValueError)
def _rfc3339(value: object) -> bool:
    # RFC 3339 date-time: a full date, "T", a time and an explicit offset
    if not isinstance(value, str):
        return True
    parsed = datetime.fromisoformat(value)
    return "T" in value and parsed.tzinfo is not None


VALIDATOR = Draft4Validator(_schema(), format_checker=_formats)


def assert_valid(release: dict[str, Any]) -> None:
    errors = sorted(VALIDATOR.iter_errors(release), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


# ---------------------------------------------------------------- building lots the way clients do


async def organisation(
    kinds: list[str], department: str = "91", name: str = "青岛城市建设投资（集团）有限责任公司"
) -> Organisation:
    """An approved organisation; `department` is the start of its credit code (91: an enterprise)."""
    now = clock.now()
    return await Organisation.create(
        credit_code=credit_code(f"{department}370200MA{next(_seq):07d}"),
        name=name,
        region_code="370200",
        kinds=kinds,
        contact_name="测试员",
        contact_phone=f.new_phone(),
        status=OrgStatus.APPROVED.value,
        created_at=now,
        updated_at=now,
    )


def tenderer_actor(org: Organisation) -> Actor:
    return Actor(user_id=next(_seq), org_id=org.id, roles=frozenset({Role.TENDERER}))


async def project(
    actor: Actor,
    *,
    category: str = "engineering_construction",
    procedure: str = "open_tender",
    price_fen: int = 123_456_789,
    lots: int = 1,
    tenderer_id: int | None = None,
    config: dict[str, Any] | None = None,
) -> tuple[Project, list[Lot]]:
    form = projects.ProjectForm(
        name="青岛市黄岛区道路改造工程",
        category=category,
        region_code="370200",
        tenderer_id=tenderer_id,
        lots=[
            projects.LotForm(
                name=f"第{n}标段",
                procedure=procedure,
                estimated_price_fen=price_fen,
                config=config or {},
                eligibility=[{"kind": "qualification", "text": "具备市政公用工程施工总承包二级及以上资质"}],
            )
            for n in range(1, lots + 1)
        ],
    )
    created = await projects.create_project(actor, form)
    return created, list(await Lot.filter(project_id=created.id).order_by("lot_no"))


async def publish(
    actor: Actor,
    project_id: int,
    kind: str,
    *,
    lot_id: int | None = None,
    corrects: int | None = None,
    files: int = 1,
) -> Announcement:
    form = announcements.AnnouncementForm(
        project_id=project_id,
        type=kind,
        title=f"{kind} 公告",
        body_html=f"<p>{kind}</p>",
        lot_id=lot_id,
        corrects_id=corrects,
        attachments=[
            announcements.AttachmentForm(name=f"{kind}-{i}.pdf", size=1024, sha256=SHA, content_type="application/pdf")
            for i in range(files)
        ],
    )
    draft = await announcements.draft_announcement(actor, form)
    return await announcements.publish_announcement(actor, draft.id)


# ---------------------------------------------------------------- the journey of one lot


async def test_a_lot_from_tender_to_contract_as_releases_and_a_record(db, manual_clock):
    # given an open tender for works, 1,234,567.89 yuan, bids due in 30 days
    org = await organisation(["tenderer"])
    actor = tenderer_actor(org)
    deadline = manual_clock.now() + timedelta(days=30)
    proj, (lot,) = await project(actor, config={"bid_deadline": deadline})
    # when the tender, a change to it, the candidates, the result and the contract are published
    tender = await publish(actor, proj.id, "tender", lot_id=lot.id)
    manual_clock.advance(hours=2)
    change = await publish(actor, proj.id, "change", corrects=tender.id)
    manual_clock.advance(days=31)
    await publish(actor, proj.id, "candidate_publicity", lot_id=lot.id)
    manual_clock.advance(days=4)
    await publish(actor, proj.id, "result", lot_id=lot.id)
    manual_clock.advance(days=10)
    contract = await publish(actor, proj.id, "contract", lot_id=lot.id, files=2)

    releases = await ocds.releases(lot.id, PREFIX)
    record = await ocds.record(lot.id, PREFIX)

    # then there is one release per notice, in publication order, each valid
    ocid = f"{PREFIX}-{lot.trade_code}"
    assert [r["tag"] for r in releases] == [["tender"], ["tenderAmendment"], ["award"], ["award"], ["contract"]]
    assert {r["ocid"] for r in releases} == {ocid}
    assert releases[0]["id"] == f"{ocid}-{tender.id}"
    assert releases[-1]["id"] == f"{ocid}-{contract.id}"
    dates = [datetime.fromisoformat(r["date"]) for r in releases]
    assert dates == sorted(dates)
    assert all(r["date"].endswith("+08:00") for r in releases)
    assert {(r["language"], r["initiationType"]) for r in releases} == {("zh", "tender")}
    for release in releases:
        assert_valid(release)

    # and the tenderer is buyer and procuring entity, identified by its credit code in the SAIC register
    party_id = f"CN-SAIC-{org.credit_code}"
    assert releases[0]["parties"] == [
        {
            "id": party_id,
            "name": org.name,
            "identifier": {"scheme": "CN-SAIC", "id": org.credit_code, "legalName": org.name},
            "roles": ["buyer", "procuringEntity"],
        }
    ]
    assert releases[0]["buyer"] == {"id": party_id, "name": org.name}

    # and the tender block states the lot in OCDS terms, money in yuan
    first = releases[0]["tender"]
    assert first["id"] == lot.trade_code
    assert first["title"] == "第1标段"
    assert first["value"] == {"amount": 1234567.89, "currency": "CNY"}
    assert '"amount": 1234567.89' in json.dumps(first)
    assert (first["procurementMethod"], first["procurementMethodDetails"]) == ("open", "公开招标")
    assert first["mainProcurementCategory"] == "works"
    assert first["procuringEntity"] == {"id": party_id, "name": org.name}
    assert datetime.fromisoformat(first["tenderPeriod"]["endDate"]) == deadline
    assert first["tenderPeriod"]["endDate"].endswith("+08:00")
    assert first["eligibilityCriteria"] == "具备市政公用工程施工总承包二级及以上资质"
    assert [r["tender"]["status"] for r in releases] == ["active", "active", "active", "complete", "complete"]
    (doc,) = first["documents"]
    assert doc["documentType"] == "tenderNotice"
    assert doc["format"] == "application/pdf"
    assert doc["description"] == f"SHA-256: {SHA}"
    assert doc["datePublished"] == releases[0]["date"]

    # and the change amends the tender release
    amended = releases[1]["tender"]
    assert amended["amendments"] == [
        {
            "id": str(change.id),
            "date": releases[1]["date"],
            "description": change.title,
            "releaseID": releases[1]["id"],
            "amendsReleaseID": releases[0]["id"],
        }
    ]
    assert amended["documents"][0]["documentType"] == "tenderNotice"

    # and the candidates make a pending award, the result makes it active
    assert releases[2]["awards"][0]["status"] == "pending"
    assert releases[2]["awards"][0]["documents"][0]["documentType"] == "evaluationReports"
    assert releases[3]["awards"][0]["status"] == "active"
    assert releases[3]["awards"][0]["date"] == releases[3]["date"]
    assert releases[4]["contracts"][0]["awardID"] == releases[3]["awards"][0]["id"]
    assert [d["documentType"] for d in releases[4]["contracts"][0]["documents"]] == ["contractNotice"] * 2

    # and the record embeds the releases and compiles them by the merge rules
    assert record["ocid"] == ocid
    assert record["releases"] == releases
    compiled = record["compiledRelease"]
    assert_valid(compiled)
    assert compiled["tag"] == ["compiled"]
    assert compiled["date"] == releases[-1]["date"]
    assert compiled["id"] == f"{ocid}-{releases[-1]['date']}"
    assert compiled["tender"]["status"] == "complete"
    assert [d["id"] for d in compiled["tender"]["documents"]] == [
        first["documents"][0]["id"],
        amended["documents"][0]["id"],
    ]
    assert len(compiled["tender"]["amendments"]) == 1
    (award,) = compiled["awards"]
    assert award["status"] == "active"
    assert len(award["documents"]) == 2
    (signed,) = compiled["contracts"]
    assert signed["status"] == "active"
    assert len(signed["documents"]) == 2
    assert compiled["parties"] == releases[-1]["parties"]


async def test_an_agency_runs_an_invited_tender_that_ends_in_termination(db, manual_clock):
    # given a government body (credit code of 机构编制) whose agency runs an invited tender of goods
    body = await organisation(["tenderer"], department="11", name="青岛市财政局")
    agency = await organisation(["agency"], name="青岛中诚招标代理有限公司")
    actor = Actor(user_id=next(_seq), org_id=agency.id, roles=frozenset({Role.AGENCY}))
    proj, (lot,) = await project(
        actor, category="government_procurement", procedure="invited_tender", price_fen=500_000_00, tenderer_id=body.id
    )
    # and its three invitees (招标投标法 第十七条: an invited tender is published to three or more)
    invitees = [await organisation(["bidder"], name=f"受邀投标人{n}") for n in range(3)]
    await invitations.invite(actor, lot.id, [o.id for o in invitees])
    # when candidates are publicised and the procedure is then terminated
    await publish(actor, proj.id, "tender", lot_id=lot.id)
    manual_clock.advance(days=25)
    await publish(actor, proj.id, "candidate_publicity", lot_id=lot.id)
    manual_clock.advance(days=1)
    await publish(actor, proj.id, "termination", lot_id=lot.id, files=0)
    record = await ocds.record(lot.id, PREFIX)
    releases = record["releases"]

    # then the body buys and the agency procures; the body's code is in no org-id list
    parties = {p["name"]: p for p in releases[0]["parties"]}
    assert parties["青岛市财政局"]["roles"] == ["buyer"]
    assert parties["青岛市财政局"]["identifier"] == {"id": body.credit_code, "legalName": "青岛市财政局"}
    assert parties["青岛市财政局"]["id"] == body.credit_code
    assert parties["青岛中诚招标代理有限公司"]["roles"] == ["procuringEntity"]
    assert releases[0]["tender"]["procuringEntity"]["name"] == "青岛中诚招标代理有限公司"
    assert releases[0]["tender"]["procurementMethod"] == "selective"
    assert releases[0]["tender"]["value"] == {"amount": 500000, "currency": "CNY"}
    assert "mainProcurementCategory" not in releases[0]["tender"]

    # and the termination cancels the tender and the pending award
    assert releases[-1]["tag"] == ["tenderCancellation", "awardCancellation"]
    assert releases[-1]["tender"]["status"] == "cancelled"
    assert "documents" not in releases[-1]["tender"]
    (award,) = record["compiledRelease"]["awards"]
    assert (award["id"], award["status"]) == (f"{lot.trade_code}-award", "cancelled")
    assert award["documents"][0]["documentType"] == "evaluationReports"
    assert record["compiledRelease"]["tender"]["status"] == "cancelled"
    for release in [*releases, record["compiledRelease"]]:
        assert_valid(release)


async def test_changes_take_the_stage_of_what_they_correct_and_performance_closes_the_contract(db, manual_clock):
    # given a lot that goes through every kind of notice, with corrections at several stages
    org = await organisation(["tenderer"])
    actor = tenderer_actor(org)
    proj, (lot,) = await project(actor, category="medical_consumables", procedure="inquiry")
    tender = await publish(actor, proj.id, "tender", lot_id=lot.id)
    manual_clock.advance(hours=1)
    first_change = await publish(actor, proj.id, "change", corrects=tender.id)
    manual_clock.advance(hours=1)
    await publish(actor, proj.id, "change", corrects=first_change.id)  # a correction of the correction
    manual_clock.advance(hours=1)
    await publish(actor, proj.id, "qualification_result", lot_id=lot.id)
    manual_clock.advance(hours=1)
    await publish(actor, proj.id, "candidate_publicity", lot_id=lot.id)
    manual_clock.advance(hours=1)
    result = await publish(actor, proj.id, "result", lot_id=lot.id)
    manual_clock.advance(hours=1)
    await publish(actor, proj.id, "change", corrects=result.id)
    manual_clock.advance(hours=1)
    await publish(actor, proj.id, "contract", lot_id=lot.id)
    manual_clock.advance(hours=1)
    performance = await publish(actor, proj.id, "performance", lot_id=lot.id)
    manual_clock.advance(hours=1)
    await publish(actor, proj.id, "change", corrects=performance.id)

    record = await ocds.record(lot.id, PREFIX)
    releases = record["releases"]

    # then each correction is tagged by the stage it corrects
    assert [r["tag"] for r in releases] == [
        ["tender"],
        ["tenderAmendment"],
        ["tenderAmendment"],
        ["tenderUpdate"],
        ["award"],
        ["award"],
        ["awardUpdate"],
        ["contract"],
        ["implementation"],
        ["implementationUpdate"],
    ]
    assert releases[2]["tender"]["amendments"][0]["amendsReleaseID"] == releases[1]["id"]
    assert releases[3]["tender"]["documents"][0]["documentType"] == "shortlistedFirms"
    assert releases[6]["awards"][0]["amendments"][0]["amendsReleaseID"] == releases[5]["id"]
    assert releases[6]["awards"][0]["documents"][0]["documentType"] == "awardNotice"
    assert "status" not in releases[6]["awards"][0]  # a correction does not restate the award
    assert releases[9]["contracts"][0]["amendments"][0]["amendsReleaseID"] == releases[8]["id"]
    assert releases[0]["tender"]["procurementMethod"] == "limited"
    assert releases[0]["tender"]["mainProcurementCategory"] == "goods"

    # and the compiled release gathers the corrections and closes the contract after performance
    compiled = record["compiledRelease"]
    assert len(compiled["tender"]["amendments"]) == 2
    assert compiled["awards"][0]["status"] == "active"
    (contract,) = compiled["contracts"]
    assert contract["status"] == "terminated"  # in force, then come to a close (lot completed)
    assert [d["documentType"] for d in contract["implementation"]["documents"]] == ["physicalProgressReport"] * 2
    assert compiled["tender"]["status"] == "complete"
    for release in [*releases, compiled]:
        assert_valid(release)


async def test_project_notices_belong_to_every_lot_and_the_export_pages_through_lots(db, manual_clock):
    # given a project of two lots with a project-wide notice, and a project with nothing published
    org = await organisation(["tenderer"])
    actor = tenderer_actor(org)
    proj, (lot1, lot2) = await project(actor, lots=2, category="land_use_rights", procedure="listing")
    await publish(actor, proj.id, "tender", lot_id=lot1.id)
    notice = await publish(actor, proj.id, "tender", files=0)  # no lot: concerns the whole project
    _, (unpublished,) = await project(actor)

    # when each lot's releases are read and everything is exported a lot per page
    first = await ocds.releases(lot1.id, PREFIX)
    second = await ocds.releases(lot2.id, PREFIX)
    out = io.StringIO()
    written = await ocds.export_all(PREFIX, ocds.jsonl_writer(out), page_size=1)

    # then the project notice is a release of both lots, with no lot status to report
    assert first[-1]["id"] == f"{PREFIX}-{lot1.trade_code}-{notice.id}"
    assert [r["id"] for r in second] == [f"{PREFIX}-{lot2.trade_code}-{notice.id}"]
    assert "status" not in second[0]["tender"]
    # and a sale names the seller as payee, no buyer, no procurement category
    assert first[0]["parties"][0]["roles"] == ["payee", "procuringEntity"]
    assert "buyer" not in first[0]
    assert "mainProcurementCategory" not in first[0]["tender"]
    assert first[0]["tender"]["procurementMethodDetails"] == "挂牌"

    # and the export holds one valid record per lot with something published, as JSON Lines
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert written == 2
    assert [r["ocid"] for r in lines] == [f"{PREFIX}-{lot1.trade_code}", f"{PREFIX}-{lot2.trade_code}"]
    assert "青岛" in out.getvalue()  # text as is, not \u escapes
    for rec in lines:
        for release in [*rec["releases"], rec["compiledRelease"]]:
            assert_valid(release)

    # and a lot with nothing published is not public
    with pytest.raises(NotFound):
        await ocds.releases(unpublished.id, PREFIX)
    with pytest.raises(NotFound):
        await ocds.record(10**9, PREFIX)


async def test_the_placeholder_prefix_is_the_default(db, manual_clock):
    org = await organisation(["tenderer"])
    actor = tenderer_actor(org)
    proj, (lot,) = await project(actor)
    await publish(actor, proj.id, "tender", lot_id=lot.id)

    (release,) = await ocds.releases(lot.id)

    assert release["ocid"] == f"{ocds.PLACEHOLDER_PREFIX}-{lot.trade_code}"


# ---------------------------------------------------------------- money


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "0"),
        (1, "0.01"),
        (10, "0.1"),
        (100, "1"),
        (123_456_789, "1234567.89"),
        (-250, "-2.5"),
        (999_999_999_999_999, "9999999999999.99"),  # the largest price a lot may have, less a fen
        (10**15, "10000000000000"),
    ],
)
def test_yuan_is_exact_as_json(fen, text):
    amount = ocds.yuan(fen)
    assert json.dumps(amount) == text
    assert Decimal(json.dumps(amount)) == Decimal(fen) / 100


def test_yuan_refuses_amounts_it_cannot_write_exactly():
    with pytest.raises(ValueError, match="exact"):
        ocds.yuan(10**15 + 1)


# ---------------------------------------------------------------- the merge rules


def _release(n: int, date: str, **fields: Any) -> dict[str, Any]:
    return {
        "ocid": "ocds-x-1",
        "id": f"ocds-x-1-{n}",
        "date": date,
        "tag": ["tender"],
        "initiationType": "tender",
        **fields,
    }


def test_merge_latest_value_wins_and_releases_are_taken_in_date_order():
    # given two releases passed out of order
    later = _release(2, "2026-01-02T00:00:00+08:00", tender={"id": "T", "status": "complete"})
    earlier = _release(1, "2026-01-01T00:00:00+08:00", tender={"id": "T", "status": "active", "title": "道路"})

    compiled = ocds.compile_releases([later, earlier])

    assert compiled["tender"] == {"id": "T", "status": "complete", "title": "道路"}
    assert (compiled["id"], compiled["date"], compiled["tag"]) == (
        "ocds-x-1-2026-01-02T00:00:00+08:00",
        "2026-01-02T00:00:00+08:00",
        ["compiled"],
    )


def test_merge_arrays_of_objects_by_id_and_replaces_other_arrays():
    a = _release(
        1,
        "2026-01-01T00:00:00Z",
        parties=[{"id": "P1", "name": "甲", "roles": ["buyer", "procuringEntity"]}, {"id": "P2", "name": "乙"}],
        tender={"id": "T", "documents": [{"id": "1", "title": "a"}]},
    )
    b = _release(
        2,
        "2026-01-02T00:00:00Z",
        parties=[{"id": "P1", "roles": ["buyer"]}, {"id": "P3", "name": "丙"}],
        tender={"id": "T", "documents": [{"id": "1", "format": "application/pdf"}, {"id": "2"}]},
    )

    compiled = ocds.compile_releases([a, b])

    assert compiled["parties"] == [
        {"id": "P1", "name": "甲", "roles": ["buyer"]},  # the roles list is replaced, not merged
        {"id": "P2", "name": "乙"},
        {"id": "P3", "name": "丙"},
    ]
    assert compiled["tender"]["documents"] == [{"id": "1", "title": "a", "format": "application/pdf"}, {"id": "2"}]


def test_merge_null_removes_a_field_and_whole_list_fields_are_replaced():
    a = _release(
        1,
        "2026-01-01T00:00:00Z",
        tender={"id": "T", "title": "旧"},
        parties=[{"id": "P1", "additionalIdentifiers": [{"id": "A"}, {"id": "B"}]}],
    )
    b = _release(
        2,
        "2026-01-02T00:00:00Z",
        tender={"id": "T", "title": None},
        parties=[{"id": "P1", "additionalIdentifiers": [{"id": "C"}]}],
    )

    compiled = ocds.compile_releases([a, b])

    assert compiled["tender"] == {"id": "T"}
    assert compiled["parties"] == [{"id": "P1", "additionalIdentifiers": [{"id": "C"}]}]


def test_merge_leaves_its_inputs_alone():
    a = _release(1, "2026-01-01T00:00:00Z", tender={"id": "T", "documents": [{"id": "1"}]})
    b = _release(2, "2026-01-02T00:00:00Z", tender={"id": "T", "documents": [{"id": "1", "title": "x"}]})
    before = json.dumps([a, b])

    ocds.compile_releases([a, b])

    assert json.dumps([a, b]) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tag", ["awarded"]),
        ("date", "2026-01-01T00:00:00"),  # no offset
        ("initiationType", None),
        ("tender", {"id": "T", "procurementMethod": "invited"}),
        ("awards", [{"id": "1", "status": "complete"}]),
    ],
)
def test_the_validator_refuses_what_ocds_refuses(field, value):
    # given a release that breaks the schema in one place
    release = _release(1, "2026-01-01T00:00:00+08:00")
    if value is None:
        del release[field]
    else:
        release[field] = value

    # then validation fails, so the checks above are not vacuous
    assert list(VALIDATOR.iter_errors(release))


# ---------------------------------------------------------------- awards and contracts from the real results


async def test_awards_name_their_supplier_and_value_and_the_contract_its_value(db, manual_clock):
    # given a tender brought through a real opening and evaluation (lowest price 95,500,000.07 yuan)
    from domain.results import services as results
    from tests.support.results import evaluated_lot

    tender, candidates = await evaluated_lot(manual_clock, [98_000_000_00, 95_500_000_07, 97_250_000_00])
    winner = await Organisation.get(id=candidates[0].organisation_id)
    # when the candidates are publicised, the lot awarded and the contract recorded
    await results.publish_candidates(tender.tenderer, tender.lot.id)
    manual_clock.advance(days=3, seconds=1)
    made = await results.award(tender.tenderer, tender.lot.id)
    manual_clock.advance(days=5)
    signed_on = clock.to_shanghai(manual_clock.now()).date()
    await results.record_contract(tender.tenderer, tender.lot.id, "HT-2026-007", made.price_fen, signed_on)
    record = await ocds.record(tender.lot.id, PREFIX)
    releases = record["releases"]

    # then the pending and the active award name the first candidate as supplier, at its price in yuan
    supplier = {"id": f"CN-SAIC-{winner.credit_code}", "name": winner.name}
    value = {"amount": 95_500_000.07, "currency": "CNY"}
    pending, active, contract = releases[-3], releases[-2], releases[-1]
    assert pending["awards"][0]["status"] == "pending"
    assert pending["awards"][0]["suppliers"] == [supplier]
    assert pending["awards"][0]["value"] == value
    assert (active["awards"][0]["status"], active["awards"][0]["suppliers"]) == ("active", [supplier])
    assert active["awards"][0]["value"] == value
    # and the contract states its amount
    assert contract["contracts"][0]["value"] == value
    # and every organisation referenced is a party with the supplier role
    for release in (pending, active, contract):
        parties = {p["id"]: p for p in release["parties"]}
        assert parties[supplier["id"]]["roles"] == ["supplier"]
        assert parties[supplier["id"]]["name"] == winner.name
    compiled = record["compiledRelease"]
    assert compiled["awards"][0]["suppliers"] == [supplier]
    assert compiled["contracts"][0]["value"] == value
    # and the dates run in order: bids due, the award, the contract
    bids_due = datetime.fromisoformat(compiled["tender"]["tenderPeriod"]["endDate"])
    assert bids_due < datetime.fromisoformat(active["awards"][0]["date"]) < datetime.fromisoformat(contract["date"])
    for release in [*releases, compiled]:
        assert_valid(release)


async def test_a_sold_auction_names_its_winner_and_hammer_price(db, manual_clock):
    # given an online auction of a land-use right, entry closing in 21 days and bidding an hour later
    from domain.auctions import services as auctions
    from domain.common import chronograph
    from domain.registration import services as registration

    org = await organisation(["tenderer"])
    actor = tenderer_actor(org)
    entry = manual_clock.now() + timedelta(days=21)
    config = {"bid_deadline": entry, "deposit_required": False}
    proj, (lot,) = await project(
        actor, category="land_use_rights", procedure="online_auction", price_fen=100_000_000, config=config
    )
    await auctions.configure_auction(
        actor,
        lot.id,
        starting_price_fen=100_000_000,
        increment_fen=1_000_000,
        reserve_price_fen=100_000_000,
        starts_at=entry + timedelta(hours=1),
        free_bidding_minutes=30,
    )
    await publish(actor, proj.id, "tender", lot_id=lot.id)
    buyer = await organisation(["bidder"], name="青岛海湾置业有限公司")
    bidder = Actor(user_id=next(_seq), org_id=buyer.id, roles=frozenset({Role.BIDDER}))
    await registration.register(bidder, lot.id)
    # when it bids once and the auction ends sold, and the result is published
    manual_clock.set(entry + timedelta(hours=1))
    await chronograph.fire_due()
    await auctions.place_bid(bidder, lot.id, 101_000_000)
    manual_clock.advance(hours=2)
    await chronograph.fire_due()
    await auctions.publish_result(lot.id)
    releases = await ocds.releases(lot.id, PREFIX)

    # then the award names the winner at the hammer price; in a sale the winner also pays
    award = releases[-1]["awards"][0]
    assert award["status"] == "active"
    assert award["suppliers"] == [{"id": f"CN-SAIC-{buyer.credit_code}", "name": buyer.name}]
    assert award["value"] == {"amount": 1_010_000, "currency": "CNY"}
    roles = {p["name"]: p["roles"] for p in releases[-1]["parties"]}
    assert roles[buyer.name] == ["supplier", "payer"]
    for release in releases:
        assert_valid(release)
