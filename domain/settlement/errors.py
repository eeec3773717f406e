"""Why a treasury payment or an invoice step was refused: one stable code each, in Chinese and English."""

from __future__ import annotations

from typing import ClassVar

from domain.accounts.keys import SignatureInvalid
from domain.common.errors import DomainError, InvalidInput

__all__ = [
    "BuyerTaxIdInvalid",
    "ContractNotSigned",
    "InvalidTreasuryCallback",
    "InvoiceAlreadyIssued",
    "InvoiceProviderDown",
    "InvoiceSerialDuplicate",
    "PaymentExceedsContract",
    "SignatureInvalid",
    "TreasuryUnreachable",
    "UnknownPaymentRequest",
]


class ContractNotSigned(DomainError):
    code = "CONTRACT_NOT_SIGNED"
    message_zh = "该标段没有已签订且在履行中的合同，不能申请支付合同款"
    message_en = "The lot has no signed contract in force: no contract payment can be requested"


class PaymentExceedsContract(DomainError):
    code = "PAYMENT_EXCEEDS_CONTRACT"
    message_zh = "申请金额超过合同金额减去已申请金额，最多还可申请 {available_text} 元"
    message_en = "The amount exceeds the contract amount less what was already requested: at most CNY {available_text}"
    exposed: ClassVar[dict[str, str]] = {"available_fen": "fen"}


class UnknownPaymentRequest(DomainError):
    code = "UNKNOWN_PAYMENT_REQUEST"
    message_zh = "没有该支付申请"
    message_en = "No such payment request"


class InvalidTreasuryCallback(InvalidInput):
    code = "INVALID_CALLBACK"
    message_zh = "国库回调报文格式不正确：{field}"
    message_en = "Malformed treasury callback: {field}"


class InvoiceAlreadyIssued(DomainError):
    code = "INVOICE_ALREADY_ISSUED"
    message_zh = "该服务费已开具发票"
    message_en = "An invoice was already issued for this fee"


class BuyerTaxIdInvalid(DomainError):
    code = "BUYER_TAX_ID_INVALID"
    message_zh = "税务系统不认可购买方纳税人识别号"
    message_en = "The tax system does not recognise the buyer's taxpayer id"


class InvoiceSerialDuplicate(DomainError):
    code = "INVOICE_SERIAL_DUPLICATE"
    message_zh = "开票流水号已被使用，请勿重复开票"
    message_en = "The invoice serial was already used: the invoice is not issued twice"


class InvoiceProviderDown(DomainError):
    code = "INVOICE_PROVIDER_DOWN"
    message_zh = "开票服务暂不可用，请稍后重试"
    message_en = "The invoicing service is unavailable: try again later"


class TreasuryUnreachable(DomainError):
    code = "TREASURY_UNREACHABLE"
    message_zh = "国库集中支付系统暂时无法访问，请稍后重试"
    message_en = "The treasury's payment system cannot be reached now: try again later"
