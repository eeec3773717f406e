"""A signed contract's changes and early end, against the database: a non-substantive change of an engineering
contract is recorded but not announced, a supplement is announced, a termination is announced and closes the
contract in the OCDS record; files must be the lot's current contract documents. Each is proposed by one party and
takes effect once both signed (the signatures' checks are the scenario's: here both are taken as given); a proposal
changes nothing, and only one waits at a time."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from domain.common import clock
from domain.common.errors import InvalidInput, InvalidTransition
from domain.disclosure import ocds
from domain.documents.models import Document
from domain.publication.models import Announcement
from domain.results import contracts
from domain.results import services as results
from domain.results.errors import ContractChangePending
from domain.results.models import Award, Contract, ContractChange
from tests.domain.disclosure.test_ocds import assert_valid
from tests.support.results import evaluated_lot

PRICES = [98_000_000, 95_500_000, 97_250_000, 99_000_000]


async def contract_file(lot_id: int, name: str, purpose: str = "contract") -> Document:
    digest = hashlib.sha256(name.encode()).hexdigest()
    return await Document.create(
        sha256=digest,
        size=100,
        name=name,
        media_type="application/pdf",
        kind="pdf",
        purpose=purpose,
        owner_type="Lot",
        owner_id=lot_id,
        lot_id=lot_id,
        scan_status="clean",
        created_at=clock.now(),
    )


async def signed(manual_clock):  # type: ignore[no-untyped-def]
    """An awarded lot whose contract both parties signed (the signatures' checks are the scenario's)."""
    t, _ = await evaluated_lot(manual_clock, PRICES)
    await results.publish_candidates(t.tenderer, t.lot.id)
    manual_clock.advance(days=3, seconds=1)
    made = await results.award(t.tenderer, t.lot.id)
    doc = await contract_file(t.lot.id, "合同.pdf")
    drafted = await contracts.draft(t.tenderer, t.lot.id, "HT-7", made.price_fen, [doc.id])
    await contracts.Contract.filter(id=drafted.id).update(status="active", signed_on=results._today())
    lot = await results.Lot.get(id=t.lot.id)
    ann = await results.conclude_contract(
        t.tenderer, lot, await Award.get(id=made.id), "HT-7", made.price_fen, results._today()
    )
    await Contract.filter(id=drafted.id).update(announcement_id=ann.id)
    return t, made


async def agreed(t, row: ContractChange) -> ContractChange:  # type: ignore[no-untyped-def]
    """Both parties' signatures taken as given: the proposal takes effect as contracts.sign_change makes it."""
    lot = await results.Lot.get(id=t.lot.id)
    project = await results.Project.get(id=lot.project_id)
    made = await Contract.get(lot_id=t.lot.id)
    await contracts._take_effect(t.tenderer, lot, project, made, row)
    row.status, row.decided_at = "effective", clock.now()
    await row.save()
    return row


async def test_changes_are_announced_where_the_law_asks_and_a_termination_closes_the_contract(db, manual_clock):
    # given an engineering lot's signed contract and two agreement files
    t, made = await signed(manual_clock)
    same, more = await contract_file(t.lot.id, "变更联系人.pdf"), await contract_file(t.lot.id, "补充协议.pdf")
    # when a non-substantive change keeps the amount, and a supplement adds 5%
    quiet = await contracts.change_contract(
        t.tenderer, t.lot.id, "non_substantive", "变更项目负责人", made.price_fen, [same.id]
    )
    with pytest.raises(ContractChangePending):
        await contracts.change_contract(t.tenderer, t.lot.id, "supplement", "增加", made.price_fen + 1, [more.id])
    assert (quiet.status, (await Contract.get(lot_id=t.lot.id)).amount_fen) == ("proposed", made.price_fen)
    quiet = await agreed(t, quiet)
    loud = await contracts.change_contract(
        t.tenderer, t.lot.id, "supplement", "增加配套工程", made.price_fen * 105 // 100, [more.id]
    )
    assert loud.announcement_id is None  # proposed: nothing announced yet
    loud = await agreed(t, loud)
    # then only the change of amount is announced (engineering: 招标投标法 第四十六条 has no change notice)
    assert quiet.announcement_id is None
    notice = await Announcement.get(id=loud.announcement_id)
    assert notice.type == "contract_change"
    assert "第四十九条" in notice.body_html

    # when a file of another purpose is named, then the contract is terminated for breach
    other = await contract_file(t.lot.id, "终止.pdf", purpose="cancellation_document")
    with pytest.raises(InvalidInput) as refused:
        await contracts.terminate(t.tenderer, t.lot.id, "breach", "承包人严重违约", [other.id])
    assert refused.value.field == "documentIds.0"
    manual_clock.advance(timedelta(days=30))
    proposal = await contracts.terminate(t.tenderer, t.lot.id, "breach", "承包人严重违约", [more.id])
    assert (await Contract.get(lot_id=t.lot.id)).status == "active"
    await agreed(t, proposal)
    ended = await Contract.get(lot_id=t.lot.id)
    # then it is closed and announced, and nothing more may change it
    assert ended.status == "terminated"
    assert (await Announcement.get(id=ended.termination_announcement_id)).type == "contract_change"
    with pytest.raises(InvalidTransition):
        await contracts.record_payment(t.tenderer, t.lot.id, 100, clock.today(), "进度款", "PZ-9")
    record = await ocds.record(t.lot.id)
    for release in [*record["releases"], record["compiledRelease"]]:
        assert_valid(release)
    [compiled] = record["compiledRelease"]["contracts"]
    assert compiled["status"] == "terminated"
    assert [a["id"] for a in compiled["amendments"]] == [f"{t.lot.trade_code}-contract-change-2"]
