"""The sealed-bid format, as the server checks it: a compact JWE it cannot read.

    header     {"alg": "dir", "enc": "A256GCM", "cty": "application/vnd.palmtrade.bid.v1+json"}
    key        32 random bytes made on the bidder's device (JWK {"kty": "oct", "k": ...}), never sent
               before the opening
    plaintext  {"v": 1, "lotTradeCode": "...", "priceFen": 123456, "documents":
               [{"name": "商务标.pdf", "sha256": "<64 hex>"}, ...], "nonce": "<random>"}, then ASCII spaces
               up to its size bucket (padding.bucket_size of the JSON's length, in KiB), JSON's own whitespace

The server accepts only this shape: five base64url parts, an empty encrypted-key part (dir), a
96-bit IV, a 128-bit tag, a ciphertext whose length is a bucket, and the header above. Anything else, a JWS
or plain JSON in particular, is refused: a plaintext bid would be readable before the opening, and an
unpadded one would tell the number of digits of its price by its length (AES-GCM keeps lengths). At
the opening the bidder's key decrypts it and the plaintext must name the lot and carry a price.
mobile_contract/SEALED_BID.md documents it for app developers; mobile_contract/sealed_bid.py seals.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from domain.common.errors import DomainError
from domain.tendering.padding import bucket_size, is_bucket

ALG, ENC, CTY, VERSION = "dir", "A256GCM", "application/vnd.palmtrade.bid.v1+json", 1
MAX_LENGTH = 64_000
MAX_DOCUMENTS = 50
PAD_UNIT = 1024  # plaintext buckets: whole KiB up to 16 KiB, then at most an eighth more (padding.py)
_B64 = re.compile(r"^[A-Za-z0-9_-]*$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class NotSealed(DomainError):
    code = "BID_NOT_SEALED"
    message_zh = "投标文件须在本机加密（JWE，dir + A256GCM）后提交，明文不予接收"
    message_en = "A bid must be sealed on the device (JWE, dir + A256GCM); plaintext is refused"


class NotPadded(NotSealed):
    """A well-formed JWE whose ciphertext length is not a bucket: its length would tell the price's digits.
    Answered as the NotSealed member of bidSubmit's result, with its own code."""

    code = "BID_NOT_PADDED"
    message_zh = "投标文件的明文须先用空格补齐到规定长度档位再加密（见 SEALED_BID.md），否则密文长度会泄露报价位数"
    message_en = "A sealed bid's plaintext must be padded with spaces to a size bucket before it is encrypted"


def padded_plaintext(document: bytes) -> bytes:
    """The JSON of a bid followed by spaces up to its bucket: what the device encrypts."""
    return document + b" " * (bucket_size(len(document), PAD_UNIT) - len(document))


class CannotDecrypt(DomainError):
    code = "BID_KEY_INVALID"
    message_zh = "密钥无法解密该投标文件"
    message_en = "This key does not decrypt the bid"


class BadBidDocument(DomainError):
    code = "BID_DOCUMENT_INVALID"
    message_zh = "解密后的投标文件内容不符合格式"
    message_en = "The decrypted bid does not have the required content"


def _b64(part: str) -> bytes:
    if not _B64.fullmatch(part):
        raise ValueError
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def check_sealed(token: str) -> str:
    """The SHA-256 (hex) of a well-formed sealed bid; NotPadded when its length is not a bucket, NotSealed for
    anything else."""
    if not isinstance(token, str) or not 0 < len(token) <= MAX_LENGTH:
        raise NotSealed()
    parts = token.split(".")
    if len(parts) != 5:
        raise NotSealed()
    try:
        header = json.loads(_b64(parts[0]))
        encrypted_key, iv, ciphertext, tag = (_b64(p) for p in parts[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise NotSealed() from None
    if not isinstance(header, dict) or header.get("alg") != ALG or header.get("enc") != ENC:
        raise NotSealed()
    if header.get("cty") != CTY or set(header) - {"alg", "enc", "cty", "kid"}:
        raise NotSealed()
    if encrypted_key or len(iv) != 12 or len(tag) != 16 or not ciphertext:
        raise NotSealed()
    if not is_bucket(len(ciphertext), PAD_UNIT):
        raise NotPadded()
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class OpenedBid:
    price_fen: int
    documents: list[dict[str, str]]


def open_sealed(token: str, key_jwk: dict[str, Any], lot_trade_code: str) -> OpenedBid:
    """Decrypts with the bidder's key and checks the inner document names this lot and a price."""
    try:
        key = OctKey.import_key(key_jwk)
        plain = jwe.decrypt_compact(token, key, algorithms=[ALG, ENC]).plaintext
    except (JoseError, ValueError, TypeError, KeyError):
        raise CannotDecrypt() from None
    try:
        doc = json.loads(plain or b"")
    except ValueError:
        raise BadBidDocument() from None
    price = doc.get("priceFen") if isinstance(doc, dict) else None
    documents = doc.get("documents", []) if isinstance(doc, dict) else None
    if (
        doc.get("v") != VERSION
        or doc.get("lotTradeCode") != lot_trade_code
        or not isinstance(price, int)
        or isinstance(price, bool)
        or not 0 < price <= 10**15
        or not isinstance(documents, list)
        or len(documents) > MAX_DOCUMENTS
    ):
        raise BadBidDocument()
    checked = []
    for d in documents:
        if not isinstance(d, dict) or not isinstance(d.get("name"), str) or not _HEX64.fullmatch(str(d.get("sha256"))):
            raise BadBidDocument()
        checked.append({"name": d["name"][:200], "sha256": d["sha256"]})
    return OpenedBid(price_fen=price, documents=checked)
