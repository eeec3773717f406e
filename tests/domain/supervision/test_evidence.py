"""A lot's evidence package: signed with the platform's key, every audit entry carried with its hash; a package
altered in any way does not verify."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from joserfc import jws

from domain.accounts.tokens import KeyRing
from domain.audit import services as audit
from domain.common import clock, ecdsa
from domain.common.actors import Role
from domain.common.errors import NotFound
from domain.common.events import canonical_json
from domain.common.models import OutboxEvent
from domain.supervision import evidence
from mobile_contract.sealed_bid import new_key, seal
from tests.domain.factories import organisation
from tests.support import commitments as committed
from tests.support.complaints import supervisor
from tests.support.tendering import OPERATOR, evaluating_tender, person, published_tender


async def _keyring() -> KeyRing:
    ring = KeyRing()
    await ring.load()
    return ring


async def _audited(manual_clock):
    t = await evaluating_tender(manual_clock, [98_000_000, 95_500_000, 97_250_000])
    await audit.append(await OutboxEvent.all().order_by("id"))
    return t


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


async def test_a_package_carries_the_lots_trail_and_verifies_against_the_published_keys(db, manual_clock):
    # given a tender opened and evaluated, its events on the audit trail, and its category's supervisor
    t = await _audited(manual_clock)
    ring = await _keyring()
    watcher = await supervisor()
    # when the supervisor takes the lot's evidence
    made = await evidence.package(watcher, t.lot.id, ring)
    content = evidence.verify_package(made.jws, ring.jwks())
    # then it carries the lot's entries, the opening record, the draw inputs and the receipts
    actions = {e["action"] for e in content["auditTrail"]}
    assert {"sealed_bid.submitted", "opening.started", "opening.closed", "registration.created"} <= actions
    assert made.audit_entries == len(content["auditTrail"])
    assert sorted(line["priceFen"] for line in content["opening"]["lines"]) == [95_500_000, 97_250_000, 98_000_000]
    assert content["expertDraws"][0]["seed"]
    assert len(content["bidReceipts"]) == 3
    assert content["lot"]["tradeCode"] == t.lot.trade_code
    assert await evidence.matches_chain(content) is None
    assert await OutboxEvent.filter(type="supervision.evidence_exported", object_id=str(t.lot.id)).exists()


async def test_a_tampered_package_does_not_verify(db, manual_clock):
    # given a package
    t = await _audited(manual_clock)
    ring = await _keyring()
    made = await evidence.package(OPERATOR, t.lot.id, ring)
    header, payload, signature = made.jws.split(".")
    content = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    # when a price in the payload is changed, keeping the signature
    content["opening"]["lines"][0]["priceFen"] += 1
    edited = f"{header}.{_b64(canonical_json(content))}.{signature}"
    # and when an audit entry is changed and the package re-signed with the platform's own key
    original = evidence.verify_package(made.jws, ring.jwks())
    original["auditTrail"][0]["actor"] = "user:1"
    resigned = jws.serialize_compact(
        {"alg": "ES256", "kid": made.kid, "typ": evidence.TYP},
        canonical_json(original),
        ring.private_key(made.kid),
        registry=ecdsa.ES256,  # as the platform signs (low-S), so only the hash can fail
    )
    # then neither verifies
    with pytest.raises(evidence.EvidenceInvalid) as signature_failure:
        evidence.verify_package(edited, ring.jwks())
    with pytest.raises(evidence.EvidenceInvalid) as hash_failure:
        evidence.verify_package(resigned, ring.jwks())
    assert "signature" in signature_failure.value.params["reason"]
    assert "does not match its hash" in hash_failure.value.params["reason"]


async def test_only_operators_and_the_categorys_supervisors_get_a_package(db, manual_clock):
    t = await _audited(manual_clock)
    ring = await _keyring()
    with pytest.raises(NotFound):
        await evidence.package(await supervisor("government_procurement"), t.lot.id, ring)


def _sizes(value, path=""):
    """Every member named like a size or length anywhere in the package content."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k.lower() in ("size", "length", "bytes", "declaredsize"):
                yield f"{path}.{k}"
            yield from _sizes(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _sizes(v, f"{path}[{i}]")


async def test_a_package_taken_before_the_opening_shows_no_size_of_a_sealed_bid(db, manual_clock):
    # given a tender with sealed bids whose deadline has not passed (the clock past the signing keys other tests
    # of this file made, at their own later times)
    t = await published_tender({"bid_deadline": clock.now() + timedelta(days=60)})
    manual_clock.advance(days=30)
    for price in (1, 999_999_999_999):
        org = await organisation(kinds=["bidder"])
        actor = person(org, Role.BIDDER)
        await committed.register(actor, t.lot.id)
        await committed.submit(actor, t.lot.id, seal(new_key(), t.lot.trade_code, price, {"商务标.pdf": b"%PDF"}))
    await audit.append(await OutboxEvent.all().order_by("id"))
    ring = await _keyring()

    # when an operator takes the lot's evidence package before the opening
    made = await evidence.package(OPERATOR, t.lot.id, ring)
    content = evidence.verify_package(made.jws, ring.jwks())

    # then the sealed bids are there by their hashes, and no size or length of any of them appears
    assert len(content["bidReceipts"]) == 2
    assert all(r["sha256"] for r in content["bidReceipts"])
    assert [p for p in _sizes(content) if "bidReceipts" in p or "opening" in p] == []
    assert list(_sizes(content["bidReceipts"])) == []
