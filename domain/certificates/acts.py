"""The canonical content a client signs for each act (mobile_contract/SIGNATURES.md).

Every content is a JSON object serialised canonically: keys sorted, no spaces, UTF-8, no escaping of
non-ASCII characters; the client signs exactly those bytes. Everything in it is known to the client
before it acts, so nothing the server makes up (ids, times) is signed.
"""

from __future__ import annotations

import hashlib
from typing import Any

from domain.common.events import canonical_json

VERSION = 1

SIGN_IN = "auth.sign_in"
BIND = "certificate.bind"
BID_SUBMIT = "sealed_bid.submit"
BID_DECRYPT = "sealed_bid.decrypt"
AUCTION_BID = "auction.bid"
GUARANTEE_ISSUE = "guarantee.issue"
GUARANTEE_CLAIM = "guarantee.claim"
OBJECTION_RAISE = "objection.raise"
COMPLAINT_FILE = "complaint.file"
CONTRACT_SIGN = "contract.sign"
CONTRACT_CHANGE = "contract.change"

ACTS = (
    SIGN_IN,
    BIND,
    BID_SUBMIT,
    BID_DECRYPT,
    AUCTION_BID,
    GUARANTEE_ISSUE,
    GUARANTEE_CLAIM,
    OBJECTION_RAISE,
    COMPLAINT_FILE,
    CONTRACT_SIGN,
    CONTRACT_CHANGE,
)


def sha256_text(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def encode(content: dict[str, Any]) -> bytes:
    """The bytes that are signed."""
    return canonical_json(content)


def sign_in(challenge: str) -> dict[str, Any]:
    return {"act": SIGN_IN, "challenge": challenge, "v": VERSION}


def bind(challenge: str) -> dict[str, Any]:
    return {"act": BIND, "challenge": challenge, "v": VERSION}


def bid_submit(lot_trade_code: str, sealed_bid: str) -> dict[str, Any]:
    """The sealed bid as sent: its SHA-256 is the receipt, so the signature covers the ciphertext."""
    return {"act": BID_SUBMIT, "lotTradeCode": lot_trade_code, "bidSha256": sha256_text(sealed_bid), "v": VERSION}


def bid_decrypt(lot_trade_code: str, bid_sha256: str, key_thumbprint: str) -> dict[str, Any]:
    """The key handed over at the opening, by its RFC 7638 thumbprint, for the standing bid."""
    return {
        "act": BID_DECRYPT,
        "lotTradeCode": lot_trade_code,
        "bidSha256": bid_sha256,
        "keyThumbprint": key_thumbprint,
        "v": VERSION,
    }


def auction_bid(lot_trade_code: str, amount_fen: int) -> dict[str, Any]:
    """A bid in an online auction: the lot and the price in fen, a JSON integer (below 2^53, exact in every
    client). Prices strictly increase within an auction, so one signature can be accepted only once."""
    return {"act": AUCTION_BID, "lotTradeCode": lot_trade_code, "amountFen": amount_fen, "v": VERSION}


def guarantee_issue(application_no: str, letter_jws: str) -> dict[str, Any]:
    return {
        "act": GUARANTEE_ISSUE,
        "applicationNo": application_no,
        "letterSha256": sha256_text(letter_jws),
        "v": VERSION,
    }


def guarantee_claim(application_no: str, reason: str) -> dict[str, Any]:
    return {"act": GUARANTEE_CLAIM, "applicationNo": application_no, "reasonSha256": sha256_text(reason), "v": VERSION}


def objection_raise(lot_trade_code: str, stage: str, reasons: str) -> dict[str, Any]:
    return {
        "act": OBJECTION_RAISE,
        "lotTradeCode": lot_trade_code,
        "stage": stage,
        "reasonsSha256": sha256_text(reasons),
        "v": VERSION,
    }


def complaint_file(lot_trade_code: str, subject: str, reasons: str, requests: str) -> dict[str, Any]:
    return {
        "act": COMPLAINT_FILE,
        "lotTradeCode": lot_trade_code,
        "subject": subject,
        "reasonsSha256": sha256_text(reasons),
        "requestsSha256": sha256_text(requests),
        "v": VERSION,
    }


def contract_sign(
    lot_trade_code: str, contract_no: str, amount_fen: int, documents_sha256: list[str]
) -> dict[str, Any]:
    """Both parties sign the same content: the contract's number, amount in fen and its files by SHA-256, in the
    order the contract lists them."""
    return {
        "act": CONTRACT_SIGN,
        "lotTradeCode": lot_trade_code,
        "contractNo": contract_no,
        "amountFen": amount_fen,
        "documentsSha256": list(documents_sha256),
        "v": VERSION,
    }


def contract_change(
    lot_trade_code: str,
    contract_no: str,
    seq: int,
    kind: str,
    reason: str,
    before_fen: int,
    after_fen: int,
    documents_sha256: list[str],
) -> dict[str, Any]:
    """Both parties sign the same content for a change or a termination of their contract: its number and the
    change's sequence number, kind ("change" or "termination"), reason, the amount before and after in fen, and its
    files by SHA-256 in the order the proposal lists them."""
    return {
        "act": CONTRACT_CHANGE,
        "lotTradeCode": lot_trade_code,
        "contractNo": contract_no,
        "seq": seq,
        "kind": kind,
        "reason": reason,
        "beforeFen": before_fen,
        "afterFen": after_fen,
        "documentsSha256": list(documents_sha256),
        "v": VERSION,
    }
