"""Treasury requests against the local treasury (signed request, resend not paid twice, signed callbacks, duplicate
callback, reconciliation) and invoices' tax rule and provider errors, at the service level."""

from __future__ import annotations

import json
from datetime import date

import pytest

from domain.accounts.keys import SignatureInvalid
from domain.common import clock
from domain.common.actors import Actor, Role
from domain.common.lifecycle import SYSTEM
from domain.settlement import adapters, invoices, treasury
from domain.settlement.errors import BuyerTaxIdInvalid, InvoiceProviderDown
from domain.settlement.models import Invoice, TreasuryCallback, TreasuryPayment
from domain.settlement.states import TABLE
from tests.domain import factories as df
from tests.support.invoice_provider import InvoiceProviderStub
from tests.support.treasury import TreasuryStub, new_key, public

pytestmark = pytest.mark.usefixtures("db")


async def _parties() -> tuple[Actor, Actor]:
    centre, buyer = await df.organisation(kinds=["operator"]), await df.organisation(kinds=["tenderer"])
    op_user, buyer_user = await df.user(centre), await df.user(buyer)
    operator = Actor(user_id=op_user.id, org_id=centre.id, roles=frozenset({Role.OPERATOR}))
    tenderer = Actor(user_id=buyer_user.id, org_id=buyer.id, roles=frozenset({Role.TENDERER}))
    return operator, tenderer


def test_tax_is_rounded_half_up_from_a_price_including_tax() -> None:
    assert invoices.tax_of(10_600, 600) == 600
    assert invoices.tax_of(100, 600) == 6  # 5.66 -> 6
    assert invoices.tax_of(9, 600) == 1  # 0.509 -> 1
    assert invoices.tax_of(8, 600) == 0  # 0.45 -> 0
    assert invoices.tax_of(-100, 600) == -6


def test_the_payment_table_is_well_formed() -> None:
    assert TABLE.problems() == []
    assert not TABLE.allows("paid", "reject", by=SYSTEM)


async def test_a_fee_payment_through_the_treasury() -> None:
    # given a treasury that knows the platform's key, and a fee the tenderer owes
    platform = new_key()
    stub = TreasuryStub(platform_public=public(platform))
    await stub.start()
    try:
        adapters.configure(
            {
                "TREASURY_URL": stub.base_url,
                "TREASURY_PLATFORM_JWK": json.dumps(platform),
                "TREASURY_PUBLIC_JWK": json.dumps(stub.public_jwk),
            }
        )
        operator, tenderer = await _parties()
        fee = await invoices.create_fee(operator, tenderer.org_id or 0, None, "交易服务费", 50_000)

        # when the tenderer asks, and retries with the same key
        p = await treasury.request_payment(
            tenderer, None, "service_fee", 50_000, "6222020000000000001", "服务费", fee.id, "k1"
        )
        again = await treasury.request_payment(
            tenderer, None, "service_fee", 50_000, "6222020000000000001", "服务费", fee.id, "k1"
        )

        # then it was sent once and the treasury received it
        assert (p.id, p.status) == (again.id, "submitted")
        assert stub.posts == 1
        assert list(stub.received) == [p.request_no]

        # a resend of the same request pays nothing twice
        await TreasuryPayment.filter(id=p.id).update(status="requested")
        await treasury.submit(p.id)
        assert len(stub.received) == 1

        # callbacks move it; a duplicate changes nothing; a forged one is refused
        assert await treasury.receive_callback(stub.callback(p.request_no, "accepted")) == "applied"
        paid = stub.callback(p.request_no, "paid", callback_id="CB-PAID-1")
        assert await treasury.receive_callback(paid) == "applied"
        assert await treasury.receive_callback(paid) == "replayed"
        assert (await TreasuryPayment.get(id=p.id)).status == "paid"
        forged = TreasuryStub().callback(p.request_no, "returned")
        with pytest.raises(SignatureInvalid):
            await treasury.receive_callback(forged)
        assert (await TreasuryPayment.get(id=p.id)).status == "paid"
        assert await TreasuryCallback.filter(outcome="applied").count() == 2

        # reconciliation flags a planted amount difference, once
        stub.amounts[p.request_no] = 40_000
        today = clock.today()
        flagged = await treasury.reconcile(today)
        assert [(m.request_no, m.kind) for m in flagged] == [(p.request_no, "amount")]
        assert len(await treasury.reconcile(today)) == 1

        # a down treasury leaves a new request queued
        stub.down = True
        fee2 = await invoices.create_fee(operator, tenderer.org_id or 0, None, "交易服务费", 1_000)
        queued = await treasury.request_payment(
            tenderer, None, "service_fee", 1_000, "6222020000000000001", "服务费", fee2.id
        )
        assert (queued.status, queued.attempts) == ("requested", 1)
        assert queued.next_attempt_at is not None
    finally:
        adapters.configure({})
        await stub.stop()


async def test_provider_errors_change_nothing() -> None:
    stub = InvoiceProviderStub()
    await stub.start()
    try:
        adapters.configure(stub.settings())
        operator, tenderer = await _parties()
        fee = await invoices.create_fee(operator, tenderer.org_id or 0, None, "交易服务费", 10_600)
        buyer = await df.Organisation.get(id=tenderer.org_id)
        stub.invalid_tax_ids.add(buyer.credit_code)
        with pytest.raises(BuyerTaxIdInvalid):
            await invoices.issue_invoice(operator, fee.id, "i1")
        stub.invalid_tax_ids.clear()
        stub.down = True
        with pytest.raises(InvoiceProviderDown):
            await invoices.issue_invoice(operator, fee.id, "i2")
        assert await Invoice.filter(fee_id=fee.id).count() == 0
    finally:
        adapters.configure({})
        await stub.stop()


def test_no_endpoint_means_queued() -> None:
    assert adapters.deps.treasury_url == ""
    assert date(2026, 12, 7).isoformat() == "2026-12-07"
