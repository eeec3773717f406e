"""The events a guarantee records (to the outbox, then notices): the lot, the three parties, the amount
and the letter number, never the premium's payer account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.common.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class GuaranteeEvent(DomainEvent):
    """What every guarantee event says: the lot, the three parties, the amount and the letter number."""

    object_type = "Guarantee"
    lot_id: int
    lot_trade_code: str
    applicant_id: int
    guarantor_id: int
    beneficiary_id: int
    amount_fen: int
    valid_until: datetime
    letter_no: str | None
    status: str


@dataclass(frozen=True, kw_only=True)
class GuaranteeApplied(GuaranteeEvent):
    type = "guarantee.applied"


@dataclass(frozen=True, kw_only=True)
class GuaranteeIssued(GuaranteeEvent):
    type = "guarantee.issued"
    key_id: str
    letter_sha256: str


@dataclass(frozen=True, kw_only=True)
class GuaranteeDeclined(GuaranteeEvent):
    type = "guarantee.declined"
    reason: str


@dataclass(frozen=True, kw_only=True)
class GuaranteeClaimed(GuaranteeEvent):
    type = "guarantee.claimed"
    claim_amount_fen: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class GuaranteeClaimPaid(GuaranteeEvent):
    type = "guarantee.claim_paid"
    claim_amount_fen: int


@dataclass(frozen=True, kw_only=True)
class GuaranteeClaimRejected(GuaranteeEvent):
    type = "guarantee.claim_rejected"
    claim_amount_fen: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class GuaranteeReleased(GuaranteeEvent):
    type = "guarantee.released"
    lot_status: str


@dataclass(frozen=True, kw_only=True)
class GuaranteeExpired(GuaranteeEvent):
    type = "guarantee.expired"


@dataclass(frozen=True, kw_only=True)
class GuaranteeValidityShort(GuaranteeEvent):
    """To the applicant and its guarantor: the lot's deadline moved and the guarantee's validity no longer covers the
    new deadline plus the bid validity period; a guarantee extending it (or another security) is needed."""

    type = "guarantee.validity_short"
    deadline: datetime
    required_until: datetime


@dataclass(frozen=True, kw_only=True)
class GuaranteeExtensionRequested(GuaranteeEvent):
    """To the guarantor (and the applicant): extend the guarantee's expiry to `extension_until` (保函展期)."""

    type = "guarantee.extension_requested"
    extension_until: datetime
    required_until: datetime


@dataclass(frozen=True, kw_only=True)
class GuaranteeExtended(GuaranteeEvent):
    """The guarantor's amended letter is accepted: the guarantee is valid until `valid_until` and covers the lot's
    deadline plus the bid validity again; the shortfall told by guarantee.validity_short is settled."""

    type = "guarantee.extended"
    previous_valid_until: datetime
    previous_letter_sha256: str | None
    letter_sha256: str
    key_id: str


@dataclass(frozen=True, kw_only=True)
class GuaranteeExtensionDeclined(GuaranteeEvent):
    """The guarantor refused the extension, with its reason: the guarantee stays as it was (short, if it was)."""

    type = "guarantee.extension_declined"
    extension_until: datetime
    reason: str
