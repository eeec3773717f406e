"""Sealed bids are padded to size buckets: a ciphertext's length says nothing about the price."""

from __future__ import annotations

import json
import secrets

import pytest
from joserfc import jwe
from joserfc.jwk import OctKey

from domain.common.errors import DomainError
from domain.tendering import sealing
from domain.tendering.padding import bucket_size, is_bucket
from mobile_contract.sealed_bid import HEADER, document, new_key, seal

TRADE_CODE = "Z3702112026000042001"
FILES = {"商务标.pdf": b"%PDF-1.7 commercial", "技术标.pdf": b"%PDF-1.7 technical"}


def _ciphertext_length(token: str) -> int:
    part = token.split(".")[3]
    return len(part) * 3 // 4


def test_the_ciphertext_is_as_long_for_1_fen_as_for_999999999999_fen():
    # given the same bidder's key and files
    key = new_key()

    # when it seals the smallest and the largest price
    cheap = seal(key, TRADE_CODE, 1, FILES)
    dear = seal(key, TRADE_CODE, 999_999_999_999, FILES)

    # then the two sealed bids have the same length, a bucket's, and both are accepted
    assert len(cheap) == len(dear)
    assert _ciphertext_length(cheap) == _ciphertext_length(dear) == 1024
    assert sealing.check_sealed(cheap)
    assert sealing.check_sealed(dear)
    # and they still open to their prices
    assert sealing.open_sealed(cheap, key, TRADE_CODE).price_fen == 1
    assert sealing.open_sealed(dear, key, TRADE_CODE).price_fen == 999_999_999_999


def test_an_unpadded_sealed_bid_is_refused_with_a_typed_error():
    # given a bid sealed the old way: the JSON encrypted as it is, its length that of its digits
    key = new_key()
    plain = json.dumps(document(TRADE_CODE, 128_000_000_00, FILES), ensure_ascii=False).encode()
    unpadded = jwe.encrypt_compact(HEADER, plain, OctKey.import_key(key))

    # when it is submitted, then it is refused as not padded, a kind of not sealed (the same GraphQL member)
    with pytest.raises(sealing.NotPadded) as refused:
        sealing.check_sealed(unpadded)
    assert refused.value.code == "BID_NOT_PADDED"
    assert isinstance(refused.value, sealing.NotSealed)
    assert isinstance(refused.value, DomainError)
    assert "padded" in refused.value.message("en")
    assert refused.value.message("zh")


def test_padding_with_spaces_is_still_the_json_the_apps_write():
    # given a bid with many documents (its JSON above one KiB)
    key = new_key()
    many = {f"附件-{i}.pdf": secrets.token_bytes(4) for i in range(20)}

    # when it is sealed, then its ciphertext is a bucket above 1 KiB and it opens to the documents it named
    token = seal(key, TRADE_CODE, 5_000_00, many)
    assert _ciphertext_length(token) > 1024
    assert is_bucket(_ciphertext_length(token), sealing.PAD_UNIT)
    assert len(sealing.open_sealed(token, key, TRADE_CODE).documents) == 20


@pytest.mark.parametrize(
    ("n", "padded"),
    [(0, 1024), (1023, 1024), (1024, 2048), (16 * 1024 - 1, 16 * 1024), (16 * 1024, 18 * 1024), (40_000, 40_960)],
)
def test_the_buckets_of_sealed_bids(n, padded):
    assert bucket_size(n, sealing.PAD_UNIT) == padded
    assert is_bucket(padded, sealing.PAD_UNIT)
    assert not is_bucket(padded + 1, sealing.PAD_UNIT)
