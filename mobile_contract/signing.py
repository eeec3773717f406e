"""What a client signs for each signed act (mobile_contract/SIGNATURES.md), in Python with the standard
library only: canonical JSON (keys sorted, no spaces, UTF-8 as is) of the act's content.

    content = bid_submit_content(lot_trade_code, sealed_bid)   # the text to sign
    signature = base64(sign(private_key, content.encode()))    # ECDSA P-256 or RSA, SHA-256
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

VERSION = 1


def canonical(content: dict[str, Any]) -> str:
    """The text to sign: JSON with sorted keys, no whitespace, non-ASCII kept as UTF-8."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def challenge_content(purpose: str, challenge: str) -> str:
    """purpose: "auth.sign_in" or "certificate.bind" (the server also returns it as `toSign`)."""
    return canonical({"act": purpose, "challenge": challenge, "v": VERSION})


def bid_submit_content(lot_trade_code: str, sealed_bid: str) -> str:
    return canonical(
        {"act": "sealed_bid.submit", "bidSha256": sha256_hex(sealed_bid), "lotTradeCode": lot_trade_code, "v": VERSION}
    )


def bid_decrypt_content(lot_trade_code: str, sealed_bid: str, key_jwk: dict[str, str]) -> str:
    """The key by its RFC 7638 thumbprint: base64url (no padding) of SHA-256 of {"k":...,"kty":"oct"}."""
    import base64

    thumb = hashlib.sha256(canonical({"k": key_jwk["k"], "kty": "oct"}).encode()).digest()
    return canonical(
        {
            "act": "sealed_bid.decrypt",
            "bidSha256": sha256_hex(sealed_bid),
            "keyThumbprint": base64.urlsafe_b64encode(thumb).rstrip(b"=").decode(),
            "lotTradeCode": lot_trade_code,
            "v": VERSION,
        }
    )


def auction_bid_content(lot_trade_code: str, amount_fen: int) -> str:
    """The price as a JSON integer in fen."""
    return canonical({"act": "auction.bid", "amountFen": amount_fen, "lotTradeCode": lot_trade_code, "v": VERSION})


def guarantee_issue_content(application_no: str, letter_jws: str) -> str:
    return canonical(
        {
            "act": "guarantee.issue",
            "applicationNo": application_no,
            "letterSha256": sha256_hex(letter_jws),
            "v": VERSION,
        }
    )


def guarantee_claim_content(application_no: str, reason: str) -> str:
    return canonical(
        {"act": "guarantee.claim", "applicationNo": application_no, "reasonSha256": sha256_hex(reason), "v": VERSION}
    )


def objection_content(lot_trade_code: str, stage: str, reasons: str) -> str:
    return canonical(
        {
            "act": "objection.raise",
            "lotTradeCode": lot_trade_code,
            "reasonsSha256": sha256_hex(reasons),
            "stage": stage,
            "v": VERSION,
        }
    )


def complaint_content(lot_trade_code: str, subject: str, reasons: str, requests: str) -> str:
    return canonical(
        {
            "act": "complaint.file",
            "lotTradeCode": lot_trade_code,
            "reasonsSha256": sha256_hex(reasons),
            "requestsSha256": sha256_hex(requests),
            "subject": subject,
            "v": VERSION,
        }
    )


def contract_sign_content(lot_trade_code: str, contract_no: str, amount_fen: int, documents_sha256: list[str]) -> str:
    """Both parties sign the same text: the contract's files by SHA-256 (hex), in the contract's order."""
    return canonical(
        {
            "act": "contract.sign",
            "amountFen": amount_fen,
            "contractNo": contract_no,
            "documentsSha256": documents_sha256,
            "lotTradeCode": lot_trade_code,
            "v": VERSION,
        }
    )


def contract_change_content(
    lot_trade_code: str,
    contract_no: str,
    seq: int,
    kind: str,
    reason: str,
    before_fen: int,
    after_fen: int,
    documents_sha256: list[str],
) -> str:
    """Both parties sign the same text for a change (kind "change") or a termination ("termination") of their
    contract: the proposal's seq, its reason as the API spells it in lower case (e.g. "supplement"), the amounts in
    fen and its files by SHA-256 (hex), in the proposal's order."""
    return canonical(
        {
            "act": "contract.change",
            "afterFen": after_fen,
            "beforeFen": before_fen,
            "contractNo": contract_no,
            "documentsSha256": documents_sha256,
            "kind": kind,
            "lotTradeCode": lot_trade_code,
            "reason": reason,
            "seq": seq,
            "v": VERSION,
        }
    )
