"""Electronic invoices (数电发票) over HTTP against the local tax-invoice provider: an operator charges a fee and
issues its invoice, the buyer organisation downloads the PDF (another organisation may not), the invoice is reversed
by a red invoice with its own number; a provider error is a typed error and changes nothing."""

from __future__ import annotations

from domain.settlement import adapters
from tests import factories as f
from tests.support import documents as docs
from tests.support.invoice_provider import InvoiceProviderStub

FEE = """mutation($input: ServiceFeeCreateInput!) { serviceFeeCreate(input: $input) {
  __typename ... on ServiceFeeCreated { fee { id amountFen } } ... on Error { code message } } }"""
ISSUE = """mutation($input: InvoiceIssueInput!) { invoiceIssue(input: $input) {
  __typename ... on InvoiceIssued { invoice { id invoiceNo colour status amountFen taxFen taxRateBp buyerTaxId
  documentId } } ... on Error { code message } } }"""
REVERSE = """mutation($input: InvoiceReverseInput!) { invoiceReverse(input: $input) {
  __typename ... on InvoiceReversed { invoice { id invoiceNo colour amountFen taxFen reason documentId } }
  ... on Error { code message } } }"""
ME = "{ me { organisation { creditCode } } }"
INVOICES = "query($org: ID!) { invoices(organisationId: $org) { invoiceNo colour status amountFen } }"


async def test_an_invoice_issued_downloaded_and_reversed(api):
    # given a provider, a buyer organisation and a fee of 1,060.00 yuan charged to it
    stub = InvoiceProviderStub()
    await stub.start()
    try:
        adapters.configure(stub.settings())
        operator = await f.operator_token(api)
        buyer_id, _, buyer = await f.approved_org(api, operator, kinds=["TENDERER"])
        _, _, stranger = await f.approved_org(api, operator)
        made = await api.gql(
            FEE, {"input": {"organisationId": buyer_id, "item": "交易服务费", "amountFen": 106_000}}, token=operator
        )
        fee = made["data"]["serviceFeeCreate"]["fee"]

        # when the provider is down, then says the buyer's tax id is unknown
        stub.down = True
        down = (await api.gql(ISSUE, {"input": {"feeId": fee["id"]}}, token=operator))["data"]["invoiceIssue"]
        stub.down = False
        stub.invalid_tax_ids.add((await api.gql(ME, token=buyer))["data"]["me"]["organisation"]["creditCode"])
        unknown = (await api.gql(ISSUE, {"input": {"feeId": fee["id"]}}, token=operator))["data"]["invoiceIssue"]
        stub.invalid_tax_ids.clear()
        # then each is a typed error and no invoice exists
        assert down["code"] == "INVOICE_PROVIDER_DOWN", down
        assert unknown["code"] == "BUYER_TAX_ID_INVALID", unknown
        assert (await api.gql(INVOICES, {"org": buyer_id}, token=operator))["data"]["invoices"] == []

        # when the operator issues it (retried with the same key)
        form = {"feeId": fee["id"], "idempotencyKey": "inv-1"}
        issued = (await api.gql(ISSUE, {"input": form}, token=operator))["data"]["invoiceIssue"]
        replay = (await api.gql(ISSUE, {"input": form}, token=operator))["data"]["invoiceIssue"]

        # then it is issued once, 6% tax in the price (106,000 fen -> 6,000 fen tax)
        assert issued["__typename"] == "InvoiceIssued", issued
        invoice = issued["invoice"]
        assert (invoice["colour"], invoice["status"], invoice["amountFen"], invoice["taxFen"]) == (
            "blue",
            "issued",
            106_000,
            6_000,
        )
        assert replay["invoice"]["invoiceNo"] == invoice["invoiceNo"]
        assert len(stub.issued) == 1

        # the buyer downloads the PDF; another organisation may not
        granted = await docs.link(api, buyer, invoice["documentId"])
        assert granted["__typename"] == "DocumentDownloadGranted", granted
        got = await docs.fetch(granted["link"]["url"])
        assert got.content.startswith(b"%PDF")
        assert (await docs.link(api, stranger, invoice["documentId"]))["code"] == "NOT_FOUND"
        assert (await api.gql(INVOICES, {"org": buyer_id}, token=stranger))["data"]["invoices"] == []

        # when it is reversed with a reason
        reversal = {"invoiceId": invoice["id"], "reason": "开票信息有误", "idempotencyKey": "red-1"}
        red = (await api.gql(REVERSE, {"input": reversal}, token=operator))["data"]["invoiceReverse"]

        # then a red invoice with its own number offsets it and the original is marked reversed
        assert red["__typename"] == "InvoiceReversed", red
        assert red["invoice"]["colour"] == "red"
        assert red["invoice"]["invoiceNo"] != invoice["invoiceNo"]
        assert (red["invoice"]["amountFen"], red["invoice"]["taxFen"]) == (-106_000, -6_000)
        listed = (await api.gql(INVOICES, {"org": buyer_id}, token=buyer))["data"]["invoices"]
        assert [(i["colour"], i["status"]) for i in listed] == [("blue", "reversed"), ("red", "issued")]
        again = await api.gql(REVERSE, {"input": {**reversal, "idempotencyKey": "red-2"}}, token=operator)
        assert again["data"]["invoiceReverse"]["code"] == "INVALID_TRANSITION", again
    finally:
        adapters.configure({})
        await stub.stop()
