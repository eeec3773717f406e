"""A treasury payment request (国库集中支付) and an electronic invoice (数电发票) as data.

    requested -> submitted -> accepted -> paid -> returned
        \\____________\\___________\\-> rejected

A request is stored first and sent after (requested); the treasury's synchronous receipt makes it submitted; its
signed callbacks accept, pay, reject (with a reason) or return (退汇, with a reason) it. A callback may overtake the
receipt, so accepted, paid and rejected are reachable from requested too.

Facts the request passes: `amount_fen` (asked), `limit_fen` (the contract amount), `requested_fen` (what the live
requests of the contract already ask: not rejected, not returned).
"""

from __future__ import annotations

from enum import StrEnum

from domain.common.actors import Role
from domain.common.errors import DomainError
from domain.common.lifecycle import SYSTEM, Facts, Lifecycle, guard, move
from domain.common.money import Money
from domain.settlement.errors import PaymentExceedsContract


class PaymentStatus(StrEnum):
    REQUESTED = "requested"  # stored; queued for the treasury until it acknowledges receipt
    SUBMITTED = "submitted"  # the treasury acknowledged receipt of the signed request
    ACCEPTED = "accepted"  # the treasury accepted it for payment
    PAID = "paid"  # the treasury paid the payee
    REJECTED = "rejected"  # the treasury refused it, with a reason
    RETURNED = "returned"  # paid, then returned by the payee's bank (退汇), with a reason


class InvoiceStatus(StrEnum):
    ISSUED = "issued"
    REVERSED = "reversed"  # a red invoice (红字发票) offsets it


# 政府采购法 第四十三条 and the contract: all requests together never exceed the contract amount
@guard("within the contract amount less what live requests ask (PaymentExceedsContract)")
def within_contract(facts: Facts) -> DomainError | None:
    limit, asked = facts["limit_fen"], facts["requested_fen"]
    if limit is not None and asked + facts["amount_fen"] > limit:
        left = max(0, limit - asked)
        return PaymentExceedsContract(available_fen=left, available_text=Money(left).yuan_text())
    return None


TREASURY = "treasury"  # the treasury's signed callback, its signature checked before the table is asked
S = PaymentStatus
TABLE: Lifecycle[PaymentStatus] = Lifecycle(
    name="TreasuryPayment",
    states=PaymentStatus,
    doc="A payment request to the treasury's centralised payment system, moved by its signed callbacks.",
    transitions=(
        move(
            "request",
            None,
            S.REQUESTED,
            by={"tenderer"},
            guards=[within_contract],
            note="the tenderer (or its agency) of a signed contract, or of a service fee",
        ),
        move("submit", S.REQUESTED, S.SUBMITTED, by={SYSTEM}, note="the treasury acknowledged the signed request"),
        move("accept", {S.REQUESTED, S.SUBMITTED}, S.ACCEPTED, by={TREASURY}, note="the treasury's callback"),
        move("pay", {S.REQUESTED, S.SUBMITTED, S.ACCEPTED}, S.PAID, by={TREASURY}, note="the payee is told"),
        move(
            "reject",
            {S.REQUESTED, S.SUBMITTED, S.ACCEPTED},
            S.REJECTED,
            by={TREASURY, SYSTEM},
            note="the treasury's callback or its synchronous refusal, with a reason",
        ),
        move("return", S.PAID, S.RETURNED, by={TREASURY}, note="退汇: the payee's bank sent the money back"),
    ),
    initial=frozenset({S.REQUESTED}),
    final=frozenset({S.REJECTED, S.RETURNED}),
)
# the requests that count against the contract amount
LIVE = frozenset({S.REQUESTED, S.SUBMITTED, S.ACCEPTED, S.PAID})
BY_CALLBACK = {"accepted": "accept", "paid": "pay", "rejected": "reject", "returned": "return"}

V = InvoiceStatus
INVOICE: Lifecycle[InvoiceStatus] = Lifecycle(
    name="Invoice",
    states=InvoiceStatus,
    doc="An electronic invoice (数电发票) for a service fee, issued by the tax-invoice provider; reversed only by "
    "a red invoice (红字发票) with its own number, never deleted.",
    transitions=(
        move("issue", None, V.ISSUED, by={Role.OPERATOR}, note="the provider issued it: its number and file kept"),
        move("reverse", V.ISSUED, V.REVERSED, by={Role.OPERATOR}, note="红冲 with a reason: a red invoice issued"),
    ),
    initial=frozenset({V.ISSUED}),
    final=frozenset({V.REVERSED}),
)
