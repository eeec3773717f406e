"""Collusion alerts (围标串标预警): signals evaluated when a lot's bids are opened or its auction ends,
each stored once per lot with its evidence, raised to the supervisors of the lot's category and worked
through a queue (Qingdao 3(三)3, Wuhan 2(4)4, Xiamen 27).

Signals, each a `Signal` value:
- same_device / same_network: different bidders of the lot registered, applied for a guarantee, submitted
  a bid, handed over a key or bid in its auction from one device id (X-Device-Id) / one IP address
  (network_fact);
- shared_download_device: at least `download_device_bidders` different bidders of the lot had its tender
  documents downloaded from one device id (document_download; a download without an organisation, such as a
  kiosk's, or by anyone not bidding, or on a self-service terminal shared by the public, links nobody); the
  evidence names the device, the bidders and each of their downloads (who, which document, when);
- identical_documents: a bid document with the same SHA-256 in the bids of different bidders;
- shared_payment_account: the security of different bidders paid from one bank account: a deposit's payer
  account (as the bank reported it) or the account a guarantee's premium was paid from (as the bidder gave
  it, for guarantees that were issued), compared as `bank_account_key`; the evidence names each instrument
  (deposit reference, or guarantee application and letter number) and its bidder;
- price_band: every price within `price_band` of each other ((max - min) / max);
- price_spacing: at least `spacing_min_prices` prices equally spaced (steps differ by at most
  `spacing_tolerance` of the largest step);
- price_near_estimate: every price within `estimate_band` of the lot's estimated price;
- shared_contact: the same contact phone on the organisations of different bidders;
- shared_contact_name: the same contact person (the name compared after `person_key`: full-width made
  half-width, spaces dropped, case folded, the middle dots of transliterated names made one) on the
  organisations of different bidders that also share at least `contact_name_links` kinds of link (contact
  phone, device, address, payer account). A name alone says little: 王伟 and 张伟 are each the name of
  some 300,000 people, so two unrelated bidders share a contact name often enough in one city that a
  supervisor would learn to ignore the alert. A name that comes with one device, one address or one
  account points at one person acting for both, which an investigator can ask about by name; so it is a
  signal of its own (the device or account alert says how they are linked, this one says who), naming
  only the bidders the links join, never a third bidder who merely has the same name. Set
  `contact_name_links` to 0 to raise on the name alone.
- bid_rotation: two bidders of the lot who bid together in at least `rotation_min_shared_lots` lots
  (and in at least `rotation_together_share` of the lots the rarer of them bid in), each of whom won
  at least one of those lots.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import combinations, pairwise
from typing import Any, ClassVar

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from domain.access import scope
from domain.access.models import NetworkFact
from domain.accounts.models import Organisation
from domain.accounts.states import OrgKind, OrgStatus
from domain.auctions.models import Auction, AuctionBid, AuctionEntry
from domain.common import clock, events
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import DomainError, NotFound, PermissionDenied, required_text
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.ids import bank_account_key
from domain.common.storage import lock
from domain.deposits.models import DepositAccount
from domain.documents.models import DocumentDownload
from domain.guarantees.models import Guarantee
from domain.guarantees.states import WITH_LETTER
from domain.publication.models import Lot, Project
from domain.results.models import Award
from domain.supervision.models import CollusionAlert
from domain.tendering.models import SealedBid


@dataclass(frozen=True, slots=True)
class Thresholds:
    """How suspicious a pattern must be to raise an alert; ratios are fractions (0.005 = 0.5%)."""

    price_band: float = 0.005
    price_band_min_prices: int = 2
    spacing_min_prices: int = 3
    spacing_tolerance: float = 0.01
    estimate_band: float = 0.005
    estimate_min_prices: int = 2
    rotation_min_shared_lots: int = 3
    rotation_together_share: float = 0.8
    contact_name_links: int = 1
    download_device_bidders: int = 2


THRESHOLDS = Thresholds()


class Signal(StrEnum):
    SAME_DEVICE = "same_device"
    SAME_NETWORK = "same_network"
    SHARED_DOWNLOAD_DEVICE = "shared_download_device"
    IDENTICAL_DOCUMENTS = "identical_documents"
    SHARED_PAYMENT_ACCOUNT = "shared_payment_account"
    PRICE_BAND = "price_band"
    PRICE_SPACING = "price_spacing"
    PRICE_NEAR_ESTIMATE = "price_near_estimate"
    SHARED_CONTACT = "shared_contact"
    SHARED_CONTACT_NAME = "shared_contact_name"
    BID_ROTATION = "bid_rotation"
    # abnormal evaluation (专家评审异常行为, Wuhan 二(四)4), raised by domain/evaluation/alerts.py at the report
    EXPERT_OUTLIER = "expert_outlier"
    EXPERT_IDENTICAL_SCORES = "expert_identical_scores"
    EXPERT_TOO_FAST = "expert_too_fast"
    EXPERT_FAVOURITISM = "expert_favouritism"


class AlertStatus(StrEnum):
    NEW = "new"
    INVESTIGATING = "investigating"
    DISMISSED = "dismissed"
    REFERRED = "referred"


# which status a supervisor may move an alert to from each status; a dismissed alert may be reopened
TRANSITIONS: dict[AlertStatus, frozenset[AlertStatus]] = {
    AlertStatus.NEW: frozenset({AlertStatus.INVESTIGATING, AlertStatus.DISMISSED, AlertStatus.REFERRED}),
    AlertStatus.INVESTIGATING: frozenset({AlertStatus.DISMISSED, AlertStatus.REFERRED}),
    AlertStatus.DISMISSED: frozenset({AlertStatus.INVESTIGATING}),
    AlertStatus.REFERRED: frozenset(),
}

LIVE_BIDS = ("submitted", "decrypted", "invalid", "platform_fault")
# the downloads (document_download.purpose) that may link the bidders of a lot
DOWNLOAD_PURPOSES = ("tender_document",)
_ALERT_NAMESPACE = uuid.UUID("6f1d3c1e-9f0b-4c55-9a53-2c1f6e3b7a10")


class AlertTransitionNotAllowed(DomainError):
    code = "ALERT_TRANSITION_NOT_ALLOWED"
    message_zh = "预警当前状态“{state}”不能改为该状态"
    message_en = "The alert cannot move to that status from '{state}'"
    exposed: ClassVar[dict[str, str]] = {"state": "str"}


@dataclass(frozen=True, kw_only=True)
class AlertRaised(DomainEvent):
    """To the supervisors of the lot's category only; the evidence stays in the alert."""

    type = "supervision.alert_raised"
    object_type = "CollusionAlert"
    lot_id: int
    signal: str
    category: str


@dataclass(frozen=True, kw_only=True)
class AlertStatusChanged(DomainEvent):
    type = "supervision.alert_status_changed"
    object_type = "CollusionAlert"
    lot_id: int
    signal: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class Finding:
    signal: Signal
    organisations: frozenset[int]
    evidence: list[dict[str, Any]]


# ---------------------------------------------------------------- what a lot's bidders did


@dataclass(frozen=True, slots=True)
class Payment:
    """Security paid from a bank account: a deposit, or the premium of a guarantee."""

    instrument: str  # "deposit" or "guarantee"
    organisation_id: int
    account: str  # bank_account_key of the payer account
    evidence: dict[str, Any]


@dataclass
class LotFacts:
    lot: Lot
    project: Project
    bidders: set[int]
    prices: dict[int, int]  # organisation -> price (decrypted bid, or highest auction bid)
    documents: dict[int, list[dict[str, str]]]
    network: list[NetworkFact] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    downloads: list[DocumentDownload] = field(default_factory=list)


async def payments(lot_id: int) -> list[Payment]:
    """The lot's deposits paid and the premiums of its issued guarantees, with the accounts they came from."""
    out = [
        Payment(
            "deposit",
            d.organisation_id,
            bank_account_key(d.payer_account or ""),
            {"instrument": "deposit", "organisationId": d.organisation_id, "reference": d.reference},
        )
        for d in await DepositAccount.filter(lot_id=lot_id, payer_account__not_isnull=True).order_by("id")
    ]
    issued = [s.value for s in WITH_LETTER]
    for g in await Guarantee.filter(lot_id=lot_id, payer_account__not_isnull=True, status__in=issued).order_by("id"):
        evidence = {
            "instrument": "guarantee",
            "organisationId": g.applicant_id,
            "applicationNo": str(g.id),
            "letterNo": g.letter_no,
            "guarantorId": g.guarantor_id,
        }
        out.append(Payment("guarantee", g.applicant_id, bank_account_key(g.payer_account or ""), evidence))
    return out


async def downloads(lot_id: int, bidders: Iterable[int]) -> list[DocumentDownload]:
    """The downloads of the lot's tender documents by its bidders from a device they named, oldest first (a
    self-service terminal in the trading hall serves everyone, so its downloads are left out)."""
    orgs = sorted(set(bidders))
    if not orgs:
        return []
    return await DocumentDownload.filter(
        lot_id=lot_id,
        purpose__in=DOWNLOAD_PURPOSES,
        organisation_id__in=orgs,
        terminal_id__isnull=True,
        device_id__not_isnull=True,
    ).order_by("at", "id")


async def lot_facts(lot: Lot) -> LotFacts:
    """The bidders of a lot (standing sealed bids or auction entries), their prices and documents, the
    devices and addresses they acted from, the accounts their security came from and the devices they
    downloaded its tender documents on."""
    project = await Project.get(id=lot.project_id)
    bidders: set[int] = set()
    prices: dict[int, int] = {}
    documents: dict[int, list[dict[str, str]]] = {}
    for bid in await SealedBid.filter(lot_id=lot.id, status__in=LIVE_BIDS).order_by("id"):
        bidders.add(bid.organisation_id)
        if bid.price_fen is not None:
            prices[bid.organisation_id] = bid.price_fen
        if bid.documents:
            documents[bid.organisation_id] = list(bid.documents)
    auction = await Auction.get_or_none(lot_id=lot.id)
    if auction is not None:
        entries = {e.id: e.organisation_id for e in await AuctionEntry.filter(auction_id=auction.id)}
        bidders.update(entries.values())
        for auction_bid in await AuctionBid.filter(auction_id=auction.id):
            org = entries.get(auction_bid.entry_id)
            if org is not None and auction_bid.amount_fen > prices.get(org, 0):
                prices[org] = auction_bid.amount_fen
    network = await NetworkFact.filter(lot_id=lot.id).order_by("id")
    return LotFacts(
        lot, project, bidders, prices, documents, network, await payments(lot.id), await downloads(lot.id, bidders)
    )


async def _names(ids: Iterable[int]) -> dict[int, str]:
    return {o.id: o.name for o in await Organisation.filter(id__in=sorted(set(ids)))}


def _groups(pairs: Iterable[tuple[str, int]]) -> dict[str, set[int]]:
    found: dict[str, set[int]] = defaultdict(set)
    for key, org in pairs:
        if key:
            found[key].add(org)
    return {k: v for k, v in found.items() if len(v) > 1}


# ---------------------------------------------------------------- the signals


def _shared_network(facts: LotFacts) -> list[Finding]:
    rows = facts.network
    out = []
    for signal, attr in ((Signal.SAME_DEVICE, "device_id"), (Signal.SAME_NETWORK, "ip")):
        groups = _groups((getattr(r, attr) or "", r.organisation_id) for r in rows)
        if not groups:
            continue
        evidence = []
        for key, orgs in sorted(groups.items()):
            acts = [
                {"organisationId": r.organisation_id, "action": r.action, "at": r.recorded_at.isoformat()}
                for r in rows
                if getattr(r, attr) == key
            ]
            prices = {str(o): facts.prices[o] for o in sorted(orgs) if o in facts.prices}
            evidence.append({attr: key, "organisations": sorted(orgs), "acts": acts, "pricesFen": prices})
        out.append(Finding(signal, frozenset(o for g in groups.values() for o in g), evidence))
    return out


def _shared_download_device(facts: LotFacts, t: Thresholds = THRESHOLDS) -> list[Finding]:
    rows = [r for r in facts.downloads if r.organisation_id in facts.bidders]
    groups = {
        device: orgs
        for device, orgs in _groups((r.device_id or "", r.organisation_id) for r in rows).items()
        if len(orgs) >= t.download_device_bidders
    }
    if not groups:
        return []
    evidence = []
    for device, orgs in sorted(groups.items()):
        fetched = [
            {
                "organisationId": r.organisation_id,
                "userId": r.user_id,
                "documentId": r.document_id,
                "at": r.at.isoformat(),
            }
            for r in rows
            if r.device_id == device
        ]
        prices = {str(o): facts.prices[o] for o in sorted(orgs) if o in facts.prices}
        evidence.append({"device_id": device, "organisations": sorted(orgs), "downloads": fetched, "pricesFen": prices})
    return [Finding(Signal.SHARED_DOWNLOAD_DEVICE, frozenset(o for g in groups.values() for o in g), evidence)]


def _identical_documents(facts: LotFacts) -> list[Finding]:
    pairs = [(d["sha256"], org) for org, docs in facts.documents.items() for d in docs]
    groups = _groups(pairs)
    if not groups:
        return []
    evidence = [
        {
            "sha256": sha,
            "organisations": sorted(orgs),
            "names": sorted({d["name"] for org in orgs for d in facts.documents[org] if d["sha256"] == sha}),
        }
        for sha, orgs in sorted(groups.items())
    ]
    return [Finding(Signal.IDENTICAL_DOCUMENTS, frozenset(o for g in groups.values() for o in g), evidence)]


def _shared_account(facts: LotFacts) -> list[Finding]:
    groups = _groups((p.account, p.organisation_id) for p in facts.payments)
    if not groups:
        return []
    evidence = [
        {
            "payerAccount": account,
            "organisations": sorted(orgs),
            "instruments": sorted({p.instrument for p in facts.payments if p.account == account}),
            "payments": [p.evidence for p in facts.payments if p.account == account],
        }
        for account, orgs in sorted(groups.items())
    ]
    return [Finding(Signal.SHARED_PAYMENT_ACCOUNT, frozenset(o for g in groups.values() for o in g), evidence)]


def price_findings(prices: dict[int, int], estimate_fen: int, t: Thresholds = THRESHOLDS) -> list[Finding]:
    """The price patterns of one lot's bids (pure)."""
    out: list[Finding] = []
    ordered = sorted(prices.items(), key=lambda item: (item[1], item[0]))
    values = [p for _, p in ordered]
    orgs = frozenset(prices)
    listed = [{"organisationId": o, "priceFen": p} for o, p in ordered]
    if len(values) >= t.price_band_min_prices and values[-1] > 0:
        spread = (values[-1] - values[0]) / values[-1]
        if spread <= t.price_band:
            out.append(Finding(Signal.PRICE_BAND, orgs, [{"spread": round(spread, 6), "prices": listed}]))
    if len(values) >= t.spacing_min_prices:
        steps = [b - a for a, b in pairwise(values)]
        if min(steps) > 0 and max(steps) - min(steps) <= t.spacing_tolerance * max(steps):
            out.append(Finding(Signal.PRICE_SPACING, orgs, [{"steps": steps, "prices": listed}]))
    if len(values) >= t.estimate_min_prices and estimate_fen > 0:
        deviation = max(abs(v - estimate_fen) for v in values) / estimate_fen
        if deviation <= t.estimate_band:
            evidence = [{"estimateFen": estimate_fen, "maxDeviation": round(deviation, 6), "prices": listed}]
            out.append(Finding(Signal.PRICE_NEAR_ESTIMATE, orgs, evidence))
    return out


_MIDDLE_DOTS = str.maketrans(dict.fromkeys("·・•‧∙⋅", "·"))


def person_key(name: str) -> str:
    """A person's name as compared: full-width made half-width, spaces dropped, case folded, and the middle
    dots of transliterated names (阿卜杜·热合曼) made one."""
    text = unicodedata.normalize("NFKC", name).translate(_MIDDLE_DOTS)
    return "".join(text.split()).casefold()


def _links(facts: LotFacts, orgs: Iterable[Organisation]) -> dict[int, set[tuple[str, str]]]:
    """What each bidder could share with another: its contact phone, devices, addresses, payer accounts."""
    links: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for o in orgs:
        links[o.id].add(("contactPhone", o.contact_phone))
    for r in facts.network:
        if r.device_id:
            links[r.organisation_id].add(("deviceId", r.device_id))
        if r.ip:
            links[r.organisation_id].add(("ip", r.ip))
    for p in facts.payments:
        if p.account:
            links[p.organisation_id].add(("payerAccount", p.account))
    return links


async def _shared_contact(facts: LotFacts, t: Thresholds = THRESHOLDS) -> list[Finding]:
    orgs = await Organisation.filter(id__in=sorted(facts.bidders)).order_by("id")
    out = []
    groups = _groups((o.contact_phone, o.id) for o in orgs)
    if groups:
        evidence = [{"contactPhone": phone, "organisations": sorted(ids)} for phone, ids in sorted(groups.items())]
        out.append(Finding(Signal.SHARED_CONTACT, frozenset(o for g in groups.values() for o in g), evidence))
    names = {o.id: o.contact_name for o in orgs}
    links = _links(facts, orgs)
    flagged: set[int] = set()
    named = []
    for key, ids in sorted(_groups((person_key(o.contact_name), o.id) for o in orgs).items()):
        shared = {(a, b): sorted(links[a] & links[b]) for a, b in combinations(sorted(ids), 2)}
        linked = {pair: found for pair, found in shared.items() if len({k for k, _ in found}) >= t.contact_name_links}
        if not linked:
            continue
        joined = sorted({o for pair in linked for o in pair})
        flagged.update(joined)
        pairs = [
            {"organisations": list(pair), "links": [{"kind": k, "value": v} for k, v in found]}
            for pair, found in linked.items()
        ]
        shown = {str(o): names[o] for o in joined}
        named.append({"contactName": key, "names": shown, "organisations": joined, "pairs": pairs})
    if named:
        out.append(Finding(Signal.SHARED_CONTACT_NAME, frozenset(flagged), named))
    return out


async def participation(orgs: Sequence[int]) -> dict[int, set[int]]:
    """The lots each organisation bid in (a standing sealed bid or an auction entry)."""
    lots: dict[int, set[int]] = defaultdict(set)
    for org, lot in await SealedBid.filter(organisation_id__in=orgs, status__in=LIVE_BIDS).values_list(
        "organisation_id", "lot_id"
    ):
        lots[int(org)].add(int(lot))
    entries = await AuctionEntry.filter(organisation_id__in=orgs).values_list("organisation_id", "auction_id")
    auction_lots = dict(await Auction.filter(id__in=sorted({int(a) for _, a in entries})).values_list("id", "lot_id"))
    for org, auction in entries:
        lots[int(org)].add(int(auction_lots[auction]))
    return lots


async def winners(lot_ids: Iterable[int]) -> dict[int, int]:
    """The winning organisation of each awarded lot (a tender's award or an auction's winner)."""
    ids = sorted(set(lot_ids))
    won = {
        int(lot): int(org) for lot, org in await Award.filter(lot_id__in=ids).values_list("lot_id", "organisation_id")
    }
    for auction in await Auction.filter(lot_id__in=ids, winner_entry_id__not_isnull=True):
        entry = await AuctionEntry.get_or_none(id=auction.winner_entry_id)
        if entry is not None:
            won.setdefault(auction.lot_id, entry.organisation_id)
    return won


async def _rotation(facts: LotFacts, t: Thresholds = THRESHOLDS) -> list[Finding]:
    bidders = sorted(facts.bidders)
    if len(bidders) < 2:
        return []
    lots = await participation(bidders)
    won = await winners(set().union(*lots.values()) if lots else set())
    evidence: list[dict[str, Any]] = []
    flagged: set[int] = set()
    for a, b in combinations(bidders, 2):
        together = lots.get(a, set()) & lots.get(b, set())
        rarer = min(len(lots.get(a, ())), len(lots.get(b, ()))) or 1
        if len(together) < t.rotation_min_shared_lots or len(together) / rarer < t.rotation_together_share:
            continue
        taken = {lot: won[lot] for lot in sorted(together) if lot in won}
        if a in taken.values() and b in taken.values():
            flagged.update((a, b))
            evidence.append(
                {
                    "organisations": [a, b],
                    "lotsTogether": sorted(together),
                    "winners": [{"lotId": lot, "organisationId": org} for lot, org in taken.items()],
                }
            )
    return [Finding(Signal.BID_ROTATION, frozenset(flagged), evidence)] if evidence else []


async def findings(lot: Lot, t: Thresholds = THRESHOLDS) -> list[Finding]:
    """Every signal the lot shows now (reads only)."""
    facts = await lot_facts(lot)
    found = [
        *_shared_network(facts),
        *_shared_download_device(facts, t),
        *_identical_documents(facts),
        *_shared_account(facts),
        *price_findings(facts.prices, lot.estimated_price_fen, t),
        *await _shared_contact(facts, t),
        *await _rotation(facts, t),
    ]
    return [f for f in found if len(f.organisations) > 1]


# ---------------------------------------------------------------- raising and handling alerts


async def supervisor_orgs(category: str) -> tuple[int, ...]:
    """Approved supervisor organisations of a category (the audience of its alerts)."""
    orgs = await Organisation.filter(status=OrgStatus.APPROVED.value)
    return tuple(
        o.id
        for o in orgs
        if OrgKind.SUPERVISOR.value in (o.kinds or []) and category in (o.supervised_categories or [])
    )


async def evaluate_lot(lot_id: int, t: Thresholds = THRESHOLDS) -> list[CollusionAlert]:
    """Raises one alert per signal the lot shows that it has not raised before (call in a transaction)."""
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None:
        return []
    project = await Project.get(id=lot.project_id)
    found = await findings(lot, t)
    if not found:
        return []
    names = await _names(o for f in found for o in f.organisations)
    audience = Audience(orgs=await supervisor_orgs(project.category), roles=())
    raised = []
    for finding in found:
        if await CollusionAlert.exists(lot_id=lot.id, signal=finding.signal.value):
            continue
        now = clock.now()
        alert = await CollusionAlert.create(
            lot_id=lot.id,
            signal=finding.signal.value,
            category=project.category,
            region_code=project.region_code,
            organisations=[{"id": o, "name": names.get(o, "")} for o in sorted(finding.organisations)],
            evidence=finding.evidence,
            status=AlertStatus.NEW.value,
            history=[],
            raised_at=now,
            updated_at=now,
        )
        await events.record(
            AlertRaised(
                object_id=str(alert.id),
                lot_id=lot.id,
                signal=alert.signal,
                category=project.category,
                audience=audience,
            ),
            SYSTEM,
            event_id=uuid.uuid5(_ALERT_NAMESPACE, f"{lot.id}:{alert.signal}"),
        )
        raised.append(alert)
    return raised


def _may_see(actor: Actor, alert: CollusionAlert) -> bool:
    return scope.supervises(actor, alert.category)


def queue(actor: Actor, status: AlertStatus | None = None, lot_id: int | None = None) -> QuerySet[CollusionAlert]:
    """The alerts of the supervisor's categories, newest first; nothing for anyone else."""
    if not actor.has(Role.SUPERVISOR) or not actor.supervised_categories:
        return CollusionAlert.filter(id=-1)
    query = CollusionAlert.filter(Q(category__in=sorted(actor.supervised_categories)))
    if status is not None:
        query = query.filter(status=status.value)
    if lot_id is not None:
        query = query.filter(lot_id=lot_id)
    return query


async def alert(actor: Actor, alert_id: int) -> CollusionAlert:
    """One alert of the supervisor's categories; NotFound for anything else."""
    found = await CollusionAlert.get_or_none(id=alert_id)
    if found is None or not _may_see(actor, found):
        raise NotFound()
    return found


@use_case("supervision.alert_status", "CollusionAlert", lambda actor, alert_id, *a, **k: str(alert_id))
async def change_status(
    actor: Actor, alert_id: int, status: AlertStatus, note: str, idempotency_key: str | None = None
) -> CollusionAlert:
    """Moves an alert of the supervisor's categories along TRANSITIONS, keeping the note in its history."""
    if actor.user_id is None or not actor.has(Role.SUPERVISOR):
        raise PermissionDenied()
    text = required_text(note, "note", 2000)

    async def change() -> dict[str, Any]:
        found = await lock(CollusionAlert.filter(id=alert_id)).first()
        if found is None or not _may_see(actor, found):
            raise NotFound()
        before = AlertStatus(found.status)
        if status not in TRANSITIONS[before]:
            raise AlertTransitionNotAllowed(state=before.value)
        now = clock.now()
        entry = {"from": before.value, "to": status.value, "note": text, "by": actor.user_id, "at": now.isoformat()}
        found.history = [*(found.history or []), entry]
        found.status, found.updated_at = status.value, now
        await found.save()
        await events.record(
            AlertStatusChanged(
                object_id=str(found.id),
                lot_id=found.lot_id,
                signal=found.signal,
                before=before.value,
                after=status.value,
                audience=Audience(orgs=await supervisor_orgs(found.category), roles=()),
            ),
            actor,
        )
        return {"id": found.id}

    request = {"id": alert_id, "status": status.value, "note": text}
    result, _ = await run_once(actor, idempotency_key, "supervision.alert_status", request, change)
    return await CollusionAlert.get(id=result["id"])
