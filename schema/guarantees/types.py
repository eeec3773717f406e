"""Electronic bid guarantees: the application with its letter, and what a letter check reveals."""

from datetime import datetime
from typing import TypeAlias

import strawberry
from strawberry.types import Info

from domain.common.errors import NotFound
from domain.guarantees import reading, shared
from domain.guarantees.letter import Party as PartyModel
from domain.guarantees.models import Guarantee as GuaranteeModel
from domain.guarantees.states import GuaranteeStatus
from domain.publication.models import Lot as LotModel
from schema import fields
from schema.accounts.types import Organisation
from schema.describe import describe_values
from schema.publication.types import Lot
from schema.relay import Node, node_resolver
from schema.results.holds import CandidateSecurityHold
from schema.scalars import Fen

GuaranteeState: TypeAlias = GuaranteeStatus
strawberry.enum(
    GuaranteeState,
    name="GuaranteeStatus",
    description="applied -> issued -> (claimed -> paid | rejected) | released | expired; or declined.",
)
describe_values(
    GuaranteeState,
    {
        "APPLIED": "The bidder applied; the guarantor has not decided.",
        "ISSUED": "The guarantor's signed letter passed the platform's checks: the bidder's security is in place.",
        "DECLINED": "The guarantor declined, with a reason.",
        "CLAIMED": "The beneficiary claimed (索赔); the guarantor pays or rejects.",
        "PAID": "The guarantor paid the claim.",
        "REJECTED": "The guarantor rejected the claim, with a reason.",
        "RELEASED": "The lot has its result (contract, failure or termination): the liability has ended.",
        "EXPIRED": "Its validity ended while it was issued.",
    },
)


async def _organisation(info: Info, pk: int) -> Organisation:
    org = await info.context.loaders.organisation.load(pk)
    return Organisation.from_model(org)


@strawberry.type(
    description="An electronic bid guarantee (电子投标保函): a bidder's application to a guarantor and, "
    "once issued, the guarantor-signed letter that stands as the bidder's security for the lot."
)
class Guarantee(Node):
    _model: strawberry.Private[GuaranteeModel]
    application_no: str = strawberry.field(description="The number the letter's `applicationNo` must carry.")
    status: GuaranteeState = strawberry.field(description="Where the guarantee stands.")
    amount_fen: Fen = strawberry.field(description="The guaranteed amount in fen; the letter says exactly this.")
    valid_until: datetime = strawberry.field(description="Valid until; the letter's `validUntil` is this instant.")
    applied_at: datetime = strawberry.field(description="When the bidder applied.")
    decided_at: datetime | None = strawberry.field(description="When the letter was accepted, or the decline.")
    decline_reason: str | None = strawberry.field(description="Why the guarantor declined; null unless declined.")
    letter_no: str | None = strawberry.field(description="The guarantor's letter number (保函编号).")
    verification_code: str | None = strawberry.field(
        description="With the letter number, lets anyone check the letter (guaranteeVerify): print it on the letter."
    )
    letter_jws: str | None = strawberry.field(description="The letter as the guarantor signed it (compact JWS).")
    letter_sha256: str | None = strawberry.field(description="SHA-256 (hex) of the letter as received.")
    key_id: str | None = strawberry.field(description="The `kid` of the guarantor key that signed the letter.")
    claim_amount_fen: Fen | None = strawberry.field(
        description="What the beneficiary claimed, in fen; null unless claimed."
    )
    claim_reason: str | None = strawberry.field(
        description="Why the beneficiary claimed, citing the rule; null unless claimed."
    )
    claimed_at: datetime | None = strawberry.field(description="When the claim was made; null unless claimed.")
    claim_decided_at: datetime | None = strawberry.field(description="When the guarantor paid or rejected the claim.")
    claim_reject_reason: str | None = strawberry.field(
        description="Why the guarantor rejected the claim; null unless rejected."
    )
    released_at: datetime | None = strawberry.field(
        description="When the liability ended because the lot has its result; null before."
    )
    expired_at: datetime | None = strawberry.field(description="When it expired while issued; null unless expired.")
    extension_until: datetime | None = strawberry.field(
        description="保函展期: the expiry its applicant asked the guarantor to extend it to; null when no request is "
        "pending (guaranteeExtensionRequest)."
    )
    extension_requested_at: datetime | None = strawberry.field(
        description="When the applicant last asked for an extension; null if never."
    )
    extension_decline_reason: str | None = strawberry.field(
        description="Why the guarantor refused the last extension asked; null unless refused."
    )
    extended_at: datetime | None = strawberry.field(
        description="When an amended letter last extended it (guaranteeExtend); null if never."
    )

    @fields.field(
        description="Set while the issued guarantee is held after the award because its bidder is a ranked candidate: "
        "kept until the contract, released within 5 days after it; null otherwise."
    )
    async def held_as_candidate(self, info: Info) -> CandidateSecurityHold | None:
        if self._model.status != GuaranteeStatus.ISSUED.value:
            return None
        return await CandidateSecurityHold.of(info, self._model.lot_id, self._model.applicant_id)

    @fields.field(
        description="Until when the lot needs it valid now: its current bid deadline plus the bid validity days "
        "(实施条例 第二十六条); moves with a clarification that moves the deadline; null when the lot has no deadline."
    )
    async def required_until(self) -> datetime | None:
        lot = await LotModel.get(id=self._model.lot_id)
        return shared.requirement(lot).valid_until

    @fields.field(
        description="Whether it is issued and its validity falls short of requiredUntil (a deadline moved after it was "
        "issued): such a guarantee is not security (GUARANTEE_VALIDITY_SHORT) until an extension covers it."
    )
    async def validity_short(self) -> bool:
        if self._model.status != GuaranteeStatus.ISSUED.value:
            return False
        lot = await LotModel.get(id=self._model.lot_id)
        required = shared.requirement(lot).valid_until
        return required is not None and self._model.valid_until < required

    @fields.field(
        description="The bank account the premium is paid from, as the bidder gave it (digits): the bidder "
        "itself, the guarantor, operators and the supervisors of the lot's category; null for anyone else."
    )
    async def payer_account(self, info: Info) -> str | None:
        return self._model.payer_account if await shared.sees_payer(info.context.actor, self._model) else None

    @fields.field(description="The lot the guarantee secures a bid for.")
    async def lot(self) -> Lot:
        return Lot.from_model(await LotModel.get(id=self._model.lot_id))

    @fields.field(description="The bidder (投标人) that applied.")
    async def applicant(self, info: Info) -> Organisation:
        return await _organisation(info, self._model.applicant_id)

    @fields.field(description="The guarantor (bank, insurer or guarantee company) asked to sign.")
    async def guarantor(self, info: Info) -> Organisation:
        return await _organisation(info, self._model.guarantor_id)

    @fields.field(description="The beneficiary: the project's tenderer (招标人).")
    async def beneficiary(self, info: Info) -> Organisation:
        return await _organisation(info, self._model.beneficiary_id)

    @classmethod
    def from_model(cls, m: GuaranteeModel) -> "Guarantee":
        return cls(
            _pk=m.id,
            _model=m,
            application_no=shared.application_no(m),
            status=GuaranteeStatus(m.status),
            amount_fen=m.amount_fen,
            valid_until=m.valid_until,
            applied_at=m.applied_at,
            decided_at=m.decided_at,
            decline_reason=m.decline_reason,
            letter_no=m.letter_no,
            verification_code=m.verification_code,
            letter_jws=m.letter_jws,
            letter_sha256=m.letter_sha256,
            key_id=m.key_id,
            claim_amount_fen=m.claim_amount_fen,
            claim_reason=m.claim_reason,
            claimed_at=m.claimed_at,
            claim_decided_at=m.claim_decided_at,
            claim_reject_reason=m.claim_reject_reason,
            released_at=m.released_at,
            expired_at=m.expired_at,
            extension_until=m.extension_until,
            extension_requested_at=m.extension_requested_at,
            extension_decline_reason=m.extension_decline_reason,
            extended_at=m.extended_at,
        )


@strawberry.type(description="An organisation as the letter names it.")
class LetterParty:
    credit_code: str = strawberry.field(description="Unified social credit code.")
    name: str = strawberry.field(description="The organisation's registered name.")

    @classmethod
    def of(cls, p: PartyModel) -> "LetterParty":
        return cls(credit_code=p.credit_code, name=p.name)


@strawberry.type(
    description="A genuine letter accepted by the platform, as its holder may check it: only what the letter "
    "itself says, and where the guarantee stands."
)
class GuaranteeCheck:
    status: GuaranteeState = strawberry.field(description="Where the guarantee stands now.")
    letter_no: str = strawberry.field(description="The letter number (保函编号).")
    lot_trade_code: str = strawberry.field(description="The lot's unified trade identifier (统一交易标识码).")
    applicant: LetterParty = strawberry.field(description="The bidder the letter guarantees.")
    beneficiary: LetterParty = strawberry.field(description="The tenderer the guarantor would pay.")
    guarantor: LetterParty = strawberry.field(description="The bank, insurer or guarantee company that signed.")
    amount_fen: Fen = strawberry.field(description="The guaranteed amount, in fen.")
    currency: str = strawberry.field(description="The currency of the amount: CNY.")
    valid_from: datetime = strawberry.field(description="When the letter takes effect.")
    valid_until: datetime = strawberry.field(description="When the letter ends.")
    issued_at: datetime = strawberry.field(description="When the guarantor says it issued the letter.")
    accepted_at: datetime = strawberry.field(description="When the platform verified and accepted it.")
    letter_sha256: str = strawberry.field(description="SHA-256 (hex) of the signed letter, to match a copy.")

    @classmethod
    def of(cls, a: reading.Authenticity) -> "GuaranteeCheck":
        letter = a.letter
        return cls(
            status=GuaranteeStatus(a.status),
            letter_no=letter.letter_no,
            lot_trade_code=letter.lot_trade_code,
            applicant=LetterParty.of(letter.applicant),
            beneficiary=LetterParty.of(letter.beneficiary),
            guarantor=LetterParty.of(letter.guarantor),
            amount_fen=Fen(letter.amount_fen),
            currency=letter.currency,
            valid_from=letter.valid_from,
            valid_until=letter.valid_until,
            issued_at=letter.issued_at,
            accepted_at=a.accepted_at,
            letter_sha256=a.letter_sha256,
        )


@node_resolver("Guarantee")
async def _guarantee_node(info: Info, pk: str) -> Guarantee | None:
    if not pk.isascii() or not pk.isdigit():
        return None
    try:
        return Guarantee.from_model(await shared.visible(info.context.actor, int(pk)))
    except NotFound:
        return None
