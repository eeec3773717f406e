"""The invoice adapter speaking Nuonuo's protocol (诺诺开放平台) against the local Nuonuo
(tests/support/invoice_provider.py): exact yuan amounts, the signature and token and their error codes, the
asynchronous result polled to completion, a retry that resumes the same order instead of issuing twice, the buyer
refused by the tax system, and the red reversal through a red confirmation form."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from domain.common.actors import Actor, Role
from domain.common.clock import ManualClock
from domain.settlement import adapters, invoices
from domain.settlement.errors import BuyerTaxIdInvalid, InvoiceProviderDown
from domain.settlement.models import Invoice
from tests import factories as f
from tests.domain import factories as df
from tests.support.invoice_provider import InvoiceProviderStub

pytestmark = pytest.mark.usefixtures("api")  # the database and the documents store the PDFs go to


@pytest.fixture
async def nuonuo() -> AsyncIterator[InvoiceProviderStub]:
    stub = InvoiceProviderStub()
    await stub.start()
    adapters.configure(stub.settings())
    try:
        yield stub
    finally:
        adapters.configure({})
        await stub.stop()


async def _parties() -> tuple[Actor, int]:
    centre, buyer = await df.organisation(kinds=["operator"]), await df.organisation(kinds=["tenderer"])
    operator = Actor(user_id=(await df.user(centre)).id, org_id=centre.id, roles=frozenset({Role.OPERATOR}))
    return operator, buyer.id


def test_fen_become_exact_yuan_text() -> None:
    assert [adapters.yuan(v) for v in (106_000, 1, 0, -10_600, 10**12 + 7)] == [
        "1060.00",
        "0.01",
        "0.00",
        "-106.00",
        "10000000000.07",
    ]
    assert [adapters.rate_text(v) for v in (600, 1300, 900, 0)] == ["0.06", "0.13", "0.09", "0"]


def test_the_signature_matches_the_reference_one() -> None:
    # the value nuonuo-sdk 0.2.0's sign() (which follows Nuonuo's official Python sample) gives for these inputs
    body = '{"order":{"buyerName":"青岛测试","orderNo":"PTF0000000001BABC123"}}'
    senid, nonce, stamp = "0123456789abcdef0123456789abcdef", "12345678", "1765000000"
    signed = adapters.nuonuo_signature("SDDED2523BED4643", "/open/v1/services", "SD63236305", senid, nonce, stamp, body)
    assert signed == "Iunn+HQXZ7UthXaXlu96PAc9ekg="


async def test_an_invoice_is_polled_to_completion_with_exact_amounts(nuonuo: InvoiceProviderStub) -> None:
    # given a provider that answers 开票中 twice before the invoice is done
    nuonuo.pending_looks = 2
    operator, buyer_id = await _parties()
    fee = await invoices.create_fee(operator, buyer_id, None, "交易服务费", 10_601)

    # when it is issued
    invoice = await invoices.issue_invoice(operator, fee.id)

    # then the order carried yuan text computed exactly from fen (tax 600.06 rounded half up: 6.00)
    order = nuonuo.orders[invoice.serial]
    line = order.request["invoiceDetail"][0]
    assert (line["taxIncludedAmount"], line["tax"], line["taxExcludedAmount"], line["taxRate"]) == (
        "106.01",
        "6.00",
        "100.01",
        "0.06",
    )
    assert (order.request["invoiceLine"], order.request["salerTaxNum"]) == ("pc", nuonuo.seller_tax_num)
    # and the fee's earlier orders were looked for (none: 发票不存在), then the result until done: 开票中, 开票中,
    # 开票完成
    assert nuonuo.codes("queryInvoiceResult") == ["E9500", "E0000", "E0000", "E0000"]
    assert invoice.serial == f"PTF{fee.id:010d}B00"
    assert invoice.invoice_no == order.invoice_no
    assert len(invoice.invoice_no) == 20
    assert invoice.issued_at.timestamp() == order.invoice_time / 1000
    assert invoice.document_id is not None


async def test_a_retry_resumes_the_pending_order_and_never_issues_twice(nuonuo: InvoiceProviderStub) -> None:
    # given an order the provider keeps 开票中 longer than the adapter looks
    operator, buyer_id = await _parties()
    fee = await invoices.create_fee(operator, buyer_id, None, "交易服务费", 50_000)
    nuonuo.hold = True
    with pytest.raises(InvoiceProviderDown):
        await invoices.issue_invoice(operator, fee.id, "k1")
    assert await Invoice.filter(fee_id=fee.id).count() == 0
    assert len(nuonuo.orders) == 1

    # when the provider finishes and the operator retries
    nuonuo.hold = False
    invoice = await invoices.issue_invoice(operator, fee.id, "k2")

    # then the retry found the order still being issued and resumed it: one order, one invoice
    assert nuonuo.codes("requestBillingNew") == ["E0000"]
    assert len(nuonuo.orders) == 1
    assert len(nuonuo.issued) == 1
    assert invoice.invoice_no == nuonuo.orders[invoice.serial].invoice_no
    assert await Invoice.filter(fee_id=fee.id).count() == 1


async def test_a_submission_whose_answer_was_lost_is_not_issued_twice(nuonuo: InvoiceProviderStub) -> None:
    # given a provider that takes the order but whose answer is lost, and whose query does not know it at once
    operator, buyer_id = await _parties()
    fee = await invoices.create_fee(operator, buyer_id, None, "交易服务费", 50_000)
    nuonuo.lose_answer, nuonuo.query_lag = "requestBillingNew", 1
    with pytest.raises(InvoiceProviderDown):
        await invoices.issue_invoice(operator, fee.id)

    # when the operator retries at once
    invoice = await invoices.issue_invoice(operator, fee.id)

    # then the same order number went again, was refused as a duplicate (E9106) and resumed: one invoice
    assert nuonuo.codes("requestBillingNew") == ["E0000", "E9106"]
    assert list(nuonuo.orders) == [f"PTF{fee.id:010d}B00"]
    assert invoice.invoice_no == nuonuo.orders[invoice.serial].invoice_no
    assert await Invoice.filter(fee_id=fee.id).count() == 1


async def test_a_buyer_the_tax_system_refuses_then_corrected(nuonuo: InvoiceProviderStub) -> None:
    # given a buyer whose taxpayer id the tax system refuses (开票失败, asynchronously)
    operator, buyer_id = await _parties()
    buyer = await df.Organisation.get(id=buyer_id)  # type: ignore[attr-defined]
    fee = await invoices.create_fee(operator, buyer_id, None, "交易服务费", 10_600)
    nuonuo.invalid_tax_ids.add(buyer.credit_code)

    # when it is issued, and issued again unchanged
    with pytest.raises(BuyerTaxIdInvalid):
        await invoices.issue_invoice(operator, fee.id)
    with pytest.raises(BuyerTaxIdInvalid):
        await invoices.issue_invoice(operator, fee.id)

    # then each attempt was a new order after the failed one (B00, B01), and nothing was recorded
    assert [o.status for o in nuonuo.orders.values()] == ["22", "22"]
    assert await Invoice.filter(fee_id=fee.id).count() == 0

    # when the buyer's id is corrected: the next order, issued
    buyer.credit_code = f.new_credit_code()
    await buyer.save(update_fields=["credit_code"])
    invoice = await invoices.issue_invoice(operator, fee.id)
    assert invoice.buyer_tax_id == buyer.credit_code
    assert invoice.serial == f"PTF{fee.id:010d}B02"
    assert len(nuonuo.orders) == 3
    assert len(nuonuo.issued) == 1


async def test_the_signature_and_token_errors(nuonuo: InvoiceProviderStub) -> None:
    operator, buyer_id = await _parties()
    fee = await invoices.create_fee(operator, buyer_id, None, "交易服务费", 10_600)

    # a wrong secret: the token URL refuses it (070305)
    adapters.configure(nuonuo.settings(INVOICE_APP_SECRET="wrong"))
    with pytest.raises(InvoiceProviderDown):
        await invoices.issue_invoice(operator, fee.id)
    assert nuonuo.token_calls == 1

    # a valid token but a wrong secret: the call is refused for its signature (070601 签名不匹配)
    adapters.configure(nuonuo.settings(INVOICE_APP_SECRET="wrong", INVOICE_ACCESS_TOKEN=nuonuo.grant()))
    with pytest.raises(InvoiceProviderDown):
        await invoices.issue_invoice(operator, fee.id)
    # another seller's tax number: 调用用户身份不匹配 (070401)
    calls = nuonuo.token_calls
    adapters.configure(nuonuo.settings(INVOICE_SELLER_TAX_NUM="91330100MA27XXXX1X"))
    with pytest.raises(InvoiceProviderDown):
        await invoices.issue_invoice(operator, fee.id)
    assert nuonuo.codes("queryInvoiceResult") == ["070601", "070401"]
    assert nuonuo.orders == {}
    assert await Invoice.all().count() == 0

    # the right settings: the token kept since (same app key) serves two invoices, renewed once when the
    # provider no longer knows it
    adapters.configure(nuonuo.settings())
    await invoices.issue_invoice(operator, fee.id)
    second = await invoices.create_fee(operator, buyer_id, None, "交易服务费", 20_000)
    await invoices.issue_invoice(operator, second.id)
    assert nuonuo.token_calls == calls + 1
    nuonuo.expire_tokens()
    third = await invoices.create_fee(operator, buyer_id, None, "交易服务费", 30_000)
    await invoices.issue_invoice(operator, third.id)
    assert nuonuo.token_calls == calls + 2
    assert [code for _, code in nuonuo.answered].count("070301") == 1


async def test_the_provider_refuses_wrong_orders_with_its_codes(nuonuo: InvoiceProviderStub) -> None:
    line = {"goodsName": "交易服务费", "withTaxFlag": "1", "taxRate": "0.06", "num": "1"}
    order = {
        "buyerName": "青岛测试建设有限公司",
        "salerTaxNum": nuonuo.seller_tax_num,
        "orderNo": "PTF0000000001BX",
        "invoiceDate": "2026-12-07 10:00:00",
        "clerk": "张三",
        "invoiceType": "1",
        "invoiceLine": "pc",
    }
    wrong_sum = {**line, "taxIncludedAmount": "106.00", "tax": "6.00", "taxExcludedAmount": "100.01"}
    wrong_tax = {**line, "taxIncludedAmount": "106.00", "tax": "0.00", "taxExcludedAmount": "106.00"}
    good = {**line, "taxIncludedAmount": "106.00", "tax": "6.00", "taxExcludedAmount": "100.00"}
    answers = [
        await adapters.nuonuo_call(adapters.ISSUE, {"order": {**order, "clerk": "", "invoiceDetail": [good]}}),
        await adapters.nuonuo_call(adapters.ISSUE, {"order": {**order, "invoiceDetail": [wrong_sum]}}),
        await adapters.nuonuo_call(adapters.ISSUE, {"order": {**order, "invoiceDetail": [wrong_tax]}}),
        await adapters.nuonuo_call(adapters.ISSUE, {"order": {**order, "invoiceDetail": [good]}}),
        await adapters.nuonuo_call(adapters.ISSUE, {"order": {**order, "invoiceDetail": [good]}}),
        await adapters.nuonuo_call(adapters.QUERY, {"orderNos": ["NO-SUCH-ORDER"]}),
        await adapters.nuonuo_call("nuonuo.OpeMplatform.noSuchMethod", {}),
    ]
    assert [a["code"] for a in answers] == ["E4000", "E9130", "E9131", "E0000", "E9106", "E9500", "070501"]


async def test_a_red_reversal_through_a_red_confirmation_form(nuonuo: InvoiceProviderStub) -> None:
    # given an issued blue invoice
    operator, buyer_id = await _parties()
    fee = await invoices.create_fee(operator, buyer_id, None, "交易服务费", 106_000)
    blue = await invoices.issue_invoice(operator, fee.id)

    # when its reversal is still 开票中 after the last look, then retried
    nuonuo.hold = True
    with pytest.raises(InvoiceProviderDown):
        await invoices.reverse_invoice(operator, blue.id, "开票信息有误")
    assert (await Invoice.get(id=blue.id)).status == "issued"
    nuonuo.hold = False
    red = await invoices.reverse_invoice(operator, blue.id, "开票信息有误")

    # then one red form (seller, full, 开票有误) was submitted; the retry found it and resumed its red invoice
    assert nuonuo.codes("saveInvoiceRedConfirm") == ["E0000", "E4000"]
    (form,) = nuonuo.red_forms.values()
    assert (form["blueElecInvoiceNumber"], form["redReason"]) == (blue.invoice_no, "2")
    order = nuonuo.orders[red.serial]
    assert (order.colour, order.original_no, str(order.excluded), str(order.tax)) == (
        "red",
        blue.invoice_no,
        "-1000.00",
        "-60.00",
    )
    assert (red.colour, red.invoice_no, red.amount_fen, red.tax_fen) == ("red", order.invoice_no, -106_000, -6_000)
    assert red.document_id is not None
    assert (await Invoice.get(id=blue.id)).status == "reversed"


async def test_the_token_is_renewed_before_it_lapses(nuonuo: InvoiceProviderStub, manual_clock: ManualClock) -> None:
    # given a token asked for with the first invoice (24 h, as Nuonuo gives them)
    operator, buyer_id = await _parties()
    first = await invoices.create_fee(operator, buyer_id, None, "交易服务费", 10_000)
    await invoices.issue_invoice(operator, first.id)
    assert nuonuo.token_calls == 1

    # when 22 h pass it is still used; at 23 h (an hour before it lapses) a new one is asked for
    manual_clock.advance(hours=22)
    second = await invoices.create_fee(operator, buyer_id, None, "交易服务费", 20_000)
    await invoices.issue_invoice(operator, second.id)
    assert nuonuo.token_calls == 1
    manual_clock.advance(hours=1, seconds=1)
    third = await invoices.create_fee(operator, buyer_id, None, "交易服务费", 30_000)
    await invoices.issue_invoice(operator, third.id)
    assert nuonuo.token_calls == 2
    assert "070301" not in [code for _, code in nuonuo.answered]
