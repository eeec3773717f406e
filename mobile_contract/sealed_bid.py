"""Sealing a bid on the bidder's side: what the apps do, for tests, integrators and the demo.

Only joserfc is needed (any JOSE library with A256GCM works: see SEALED_BID.md); the plaintext is padded
with spaces to its size bucket first (padded_plaintext), or the server refuses it with BID_NOT_PADDED.

    key = new_key()                                   # keep it on the device until the opening
    token = seal(key, "Z3702112026000042001", 128_000_000_00, {"商务标.pdf": pdf_bytes})
    ...bidSubmit(input: {lotId, sealedBid: token}) -> receipt { sha256 serverTime }
    ...at the opening: bidDecryptionKeySubmit(input: {lotId, key: key})
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from joserfc import jwe
from joserfc.jwk import OctKey

from domain.tendering.sealing import padded_plaintext

HEADER = {"alg": "dir", "enc": "A256GCM", "cty": "application/vnd.palmtrade.bid.v1+json"}


def new_key() -> dict[str, Any]:
    """A fresh 256-bit content key as a JWK {"kty": "oct", "k": ...}."""
    return dict(OctKey.generate_key(256).as_dict(private=True))


def document(
    lot_trade_code: str, price_fen: int, files: dict[str, bytes], sealed_files: dict[str, str] | None = None
) -> dict[str, Any]:
    """The plaintext of a bid: the lot, the price in fen and each bid file with the SHA-256 of the bytes uploaded
    (`sealed_files`: name -> SHA-256 of its age ciphertext, BID_FILES.md; `files`: bytes hashed here)."""
    named = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    named.update(sealed_files or {})
    return {
        "v": 1,
        "lotTradeCode": lot_trade_code,
        "priceFen": price_fen,
        "documents": [{"name": name, "sha256": sha} for name, sha in named.items()],
        "nonce": secrets.token_urlsafe(16),
    }


def seal(
    key: dict[str, Any],
    lot_trade_code: str,
    price_fen: int,
    files: dict[str, bytes],
    sealed_files: dict[str, str] | None = None,
) -> str:
    """The compact JWE the bidder uploads: the JSON padded with spaces to its size bucket, then encrypted."""
    plain = json.dumps(document(lot_trade_code, price_fen, files, sealed_files), ensure_ascii=False).encode()
    return jwe.encrypt_compact(HEADER, padded_plaintext(plain), OctKey.import_key(key))
