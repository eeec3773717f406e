"""SM2 signatures with SM3 (GB/T 32918.2, GB/T 35276) on certificates, CRLs and signed acts: domain/common/sm2.py's
check (also the credit exchange's), and pyhanko-certvalidator's validator taught it.

The arithmetic is Tongsuo's (the OpenAtom Foundation's OpenSSL fork, through tongsuopy); X.509 and CRLs are
read by cryptography and asn1crypto, and the signature is checked over the DER of their signed part. The
user ID is the default of GB/T 35276 ("1234567812345678"), the one Chinese CAs and client SDKs use unless
told otherwise; a signature made with another ID does not verify.
"""

from __future__ import annotations

from typing import Any

from asn1crypto import algos, keys
from cryptography.exceptions import InvalidSignature
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT,
    DefaultSignatureValidator,
    SignatureValidationContext,
)

from domain.common.sm2 import (
    DEFAULT_USER_ID,
    EC_PUBLIC_KEY,
    ORDER,
    SM2_CURVE,
    SM2_WITH_SM3,
    der_signature,
    is_sm2_key,
    public_key,
    verify,
)

__all__ = [
    "DEFAULT_USER_ID",
    "EC_PUBLIC_KEY",
    "ORDER",
    "SM2_CURVE",
    "SM2_WITH_SM3",
    "VALIDATOR",
    "SignatureValidator",
    "der_signature",
    "is_sm2_key",
    "public_key",
    "verify",
]


class SignatureValidator(DefaultSignatureValidator):
    """pyhanko-certvalidator's signature check with SM2 beside its own algorithms: sm2sign-with-sm3 is verified
    here, and only with an SM2 key; an SM2 key signs nothing else (no ECDSA on the SM2 curve)."""

    def validate_signature(
        self,
        signature: bytes,
        signed_data: bytes,
        public_key_info: keys.PublicKeyInfo,
        signature_algorithm: algos.SignedDigestAlgorithm,
        context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
    ) -> Any:
        claims_sm2 = signature_algorithm["algorithm"].dotted == SM2_WITH_SM3
        key_is_sm2 = is_sm2_key(public_key_info)
        if claims_sm2 or key_is_sm2:
            if not (claims_sm2 and key_is_sm2) or signature_algorithm["parameters"].native is not None:
                raise InvalidSignature()
            verify(public_key_info, signature, signed_data)
            return None
        return super().validate_signature(signature, signed_data, public_key_info, signature_algorithm, context)


VALIDATOR = SignatureValidator()
