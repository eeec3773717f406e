"""Downloads of a lot's tender documents as a collusion signal: one device fetching for several bidders."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.accounts.models import Organisation
from domain.common import clock
from domain.documents.models import Document, DocumentDownload
from domain.publication.models import Lot
from domain.supervision import alerts
from domain.supervision.alerts import Signal, Thresholds
from domain.supervision.models import CollusionAlert
from domain.tendering.models import SealedBid
from tests.domain.factories import organisation
from tests.support.tendering import published_tender

PRICES = (60_000_000, 75_000_000, 97_000_000)


async def _tender_with_bidders(n: int) -> tuple[Lot, Document, list[Organisation]]:
    """A tender, its tender document and `n` bidders with decrypted bids whose prices lie far and unevenly apart."""
    t = await published_tender()
    now = clock.now()
    doc = await Document.create(
        sha256="a" * 64,
        size=1024,
        name="招标文件.pdf",
        media_type="application/pdf",
        kind="pdf",
        purpose="tender_document",
        owner_type="Lot",
        owner_id=t.lot.id,
        lot_id=t.lot.id,
        organisation_id=t.tenderer.org_id,
        uploaded_by=t.tenderer.user_id,
        scan_status="clean",
        created_at=now,
    )
    bidders = []
    for i in range(n):
        org = await organisation(kinds=["bidder"])
        await SealedBid.create(
            lot_id=t.lot.id,
            registration_id=0,
            organisation_id=org.id,
            submitted_by=0,
            ciphertext="-",
            ciphertext_sha256="0" * 64,
            size=1,
            status="decrypted",
            submitted_at=now,
            price_fen=PRICES[i],
        )
        bidders.append(org)
    return t.lot, doc, bidders


async def _downloaded(
    doc: Document, org: Organisation | None, device: str, at: datetime, terminal_id: int | None = None
) -> DocumentDownload:
    return await DocumentDownload.create(
        document_id=doc.id,
        lot_id=doc.lot_id,
        purpose=doc.purpose,
        user_id=None if org is None else 70_000 + org.id,
        organisation_id=None if org is None else org.id,
        terminal_id=terminal_id,
        device_id=device,
        ip="10.0.0.9",
        at=at,
    )


def _download_findings(found: list[alerts.Finding]) -> list[alerts.Finding]:
    return [f for f in found if f.signal == Signal.SHARED_DOWNLOAD_DEVICE]


async def test_two_bidders_whose_tender_documents_came_down_on_one_device_raise_an_alert(db, manual_clock):
    # given A and B fetched the tender document on one phone, C on its own
    lot, doc, (a, b, c) = await _tender_with_bidders(3)
    first = clock.now() - timedelta(days=10)
    second = first + timedelta(minutes=7)
    await _downloaded(doc, a, "device-abc", first)
    await _downloaded(doc, b, "device-abc", second)
    await _downloaded(doc, c, "device-xyz", second)
    # when
    raised = await alerts.evaluate_lot(lot.id)
    # then one alert names A and B, the device and each download
    assert [x.signal for x in raised] == [Signal.SHARED_DOWNLOAD_DEVICE]
    (alert,) = raised
    assert [o["id"] for o in alert.organisations] == sorted([a.id, b.id])
    (finding,) = alert.evidence
    assert finding["device_id"] == "device-abc"
    assert finding["organisations"] == sorted([a.id, b.id])
    assert finding["downloads"] == [
        {"organisationId": a.id, "userId": 70_000 + a.id, "documentId": doc.id, "at": first.isoformat()},
        {"organisationId": b.id, "userId": 70_000 + b.id, "documentId": doc.id, "at": second.isoformat()},
    ]
    assert finding["pricesFen"] == {str(a.id): 60_000_000, str(b.id): 75_000_000}
    # and evaluating again raises nothing twice
    assert await alerts.evaluate_lot(lot.id) == []
    assert await CollusionAlert.filter(lot_id=lot.id).count() == 1


async def test_one_bidder_downloading_twice_on_one_device_raises_nothing(db, manual_clock):
    lot, doc, (a, _) = await _tender_with_bidders(2)
    await _downloaded(doc, a, "device-abc", clock.now())
    await _downloaded(doc, a, "device-abc", clock.now() + timedelta(hours=1))
    assert _download_findings(await alerts.findings(lot)) == []


async def test_a_kiosk_download_without_an_organisation_on_a_bidders_device_raises_nothing(db, manual_clock):
    lot, doc, (a, _) = await _tender_with_bidders(2)
    await _downloaded(doc, a, "device-abc", clock.now())
    await _downloaded(doc, None, "device-abc", clock.now())
    assert _download_findings(await alerts.findings(lot)) == []


async def test_bidders_on_different_devices_raise_nothing(db, manual_clock):
    lot, doc, (a, b) = await _tender_with_bidders(2)
    await _downloaded(doc, a, "device-abc", clock.now())
    await _downloaded(doc, b, "device-xyz", clock.now())
    assert _download_findings(await alerts.findings(lot)) == []


async def test_only_bidders_off_the_hall_terminals_count_and_the_threshold_is_configurable(db, manual_clock):
    # given B's document fetched on A's phone, and on a hall terminal the device of which C also used, and a
    # non-bidding organisation on A's phone too
    lot, doc, (a, b, c) = await _tender_with_bidders(3)
    outsider = await organisation(kinds=["bidder"])
    await _downloaded(doc, a, "device-abc", clock.now())
    await _downloaded(doc, b, "device-abc", clock.now())
    await _downloaded(doc, outsider, "device-abc", clock.now())
    await _downloaded(doc, b, "kiosk-1", clock.now(), terminal_id=5)
    await _downloaded(doc, c, "kiosk-1", clock.now(), terminal_id=5)
    # when / then only A and B are linked, by A's phone
    (found,) = _download_findings(await alerts.findings(lot))
    assert sorted(found.organisations) == sorted([a.id, b.id])
    assert [f["device_id"] for f in found.evidence] == ["device-abc"]
    # and a stricter threshold asks for three bidders on one device
    assert _download_findings(await alerts.findings(lot, Thresholds(download_device_bidders=3))) == []
