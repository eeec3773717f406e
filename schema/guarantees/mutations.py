"""Guarantees: a bidder applies, the guarantor issues or declines, the tenderer claims, the guarantor
pays or rejects the claim. Decode, call one service, map the outcome."""

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.common.actors import Role
from domain.guarantees import claims, extension, issuance
from domain.guarantees.models import Guarantee as GuaranteeModel
from schema.certificates.types import SignatureInput, signed
from schema.errors import mutation, result_union
from schema.guarantees.types import Guarantee
from schema.permissions import has_role
from schema.relay import int_id
from schema.scalars import Fen

IsBidder = has_role(Role.BIDDER)
IsGuarantor = has_role(Role.GUARANTOR)
IsTenderer = has_role(Role.TENDERER)


def _guarantee_id(value: strawberry.ID) -> int:
    return int_id(value, "Guarantee", "guaranteeId")


@strawberry.input(description="Apply to a guarantor for a bid guarantee for a lot the caller registered for.")
class GuaranteeApplyInput:
    lot_id: strawberry.ID = strawberry.field(
        description="Global id of a lot the caller registered for that takes bids."
    )
    guarantor_id: strawberry.ID = strawberry.field(description="The guarantor Organisation's id (see `guarantors`).")
    amount_fen: Fen = strawberry.field(description="At least the lot's security (securityAmountFen), in fen.")
    valid_until: datetime = strawberry.field(
        description="At least the bid deadline plus the lot's bid validity days (投标有效期)."
    )
    payer_account: str | None = strawberry.field(
        default=None,
        description="The bank account the premium (保费) is paid from: 8 to 32 digits, spaces and hyphens "
        "allowed (INVALID_BANK_ACCOUNT). Shown only to the bidder itself, the guarantor, operators and "
        "supervisors; supervisors compare it with other bidders' deposits and premiums.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Applied; the guarantor's users see the application.")
class GuaranteeApplied:
    guarantee: Guarantee = strawberry.field(description="The application as made.")


GuaranteeApplyResult = result_union("GuaranteeApplyResult", GuaranteeApplied, [issuance.apply])


@strawberry.input(description="Issue the guarantee: the letter signed with one of the guarantor's registered keys.")
class GuaranteeIssueInput:
    guarantee_id: strawberry.ID = strawberry.field(
        description="Global id of an application made to the caller's organisation."
    )
    letter_jws: str = strawberry.field(
        description="The letter as a compact JWS: header `alg` ES256 or RS256 and the `kid` of one of the guarantor's "
        "GUARANTEE_LETTER keys; payload {letterNo, applicationNo, lotTradeCode, applicant, beneficiary, guarantor "
        "(each {creditCode, name}), amountFen, currency: CNY, validFrom, validUntil, issuedAt}, every field as the "
        "application says."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )
    signature: SignatureInput | None = strawberry.field(
        default=None, description="The actor's certificate signature over the act (mobile_contract/SIGNATURES.md)."
    )


@strawberry.type(description="The letter is verified and accepted: the bidder's security is in place.")
class GuaranteeIssued:
    guarantee: Guarantee = strawberry.field(description="The guarantee, now issued.")


GuaranteeIssueResult = result_union("GuaranteeIssueResult", GuaranteeIssued, [issuance.issue])


@strawberry.input(description="Decline an application, saying why.")
class GuaranteeDeclineInput:
    guarantee_id: strawberry.ID = strawberry.field(
        description="Global id of an application made to the caller's organisation."
    )
    reason: str = strawberry.field(description="Why, at most 500 characters.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Declined; the bidder may apply again.")
class GuaranteeDeclined:
    guarantee: Guarantee = strawberry.field(description="The application, now declined.")


GuaranteeDeclineResult = result_union("GuaranteeDeclineResult", GuaranteeDeclined, [issuance.decline])


@strawberry.input(description="Claim (索赔) an issued guarantee: once, after the bid deadline, while it is valid.")
class GuaranteeClaimInput:
    guarantee_id: strawberry.ID = strawberry.field(
        description="Global id of an issued guarantee of which the caller is the beneficiary."
    )
    amount_fen: Fen = strawberry.field(description="At most the guaranteed amount, in fen.")
    reason: str = strawberry.field(
        description="Why, citing the rule (e.g. 投标截止后撤销投标文件, 实施条例第三十五条); at most 500 characters."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )
    signature: SignatureInput | None = strawberry.field(
        default=None, description="The actor's certificate signature over the act (mobile_contract/SIGNATURES.md)."
    )


@strawberry.type(description="Claimed; the guarantor pays or rejects the claim.")
class GuaranteeClaimed:
    guarantee: Guarantee = strawberry.field(description="The guarantee, now claimed.")


GuaranteeClaimResult = result_union("GuaranteeClaimResult", GuaranteeClaimed, [claims.claim])


@strawberry.input(description="Record that the guarantor paid the claim.")
class GuaranteeClaimPayInput:
    guarantee_id: strawberry.ID = strawberry.field(
        description="Global id of a claimed guarantee of the caller's organisation."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The claim is paid.")
class GuaranteeClaimPaid:
    guarantee: Guarantee = strawberry.field(description="The guarantee with its claim paid.")


GuaranteeClaimPayResult = result_union("GuaranteeClaimPayResult", GuaranteeClaimPaid, [claims.pay_claim])


@strawberry.input(description="Reject the claim, saying why.")
class GuaranteeClaimRejectInput:
    guarantee_id: strawberry.ID = strawberry.field(
        description="Global id of a claimed guarantee of the caller's organisation."
    )
    reason: str = strawberry.field(description="Why, at most 500 characters.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The claim is rejected; the guarantee cannot be claimed again.")
class GuaranteeClaimRejected:
    guarantee: Guarantee = strawberry.field(description="The guarantee with its claim rejected.")


GuaranteeClaimRejectResult = result_union("GuaranteeClaimRejectResult", GuaranteeClaimRejected, [claims.reject_claim])


@strawberry.input(
    description="保函展期: ask the guarantor of an issued guarantee that a moved deadline left short to extend it."
)
class GuaranteeExtensionRequestInput:
    guarantee_id: strawberry.ID = strawberry.field(
        description="Global id of an issued guarantee the caller applied for."
    )
    valid_until: datetime = strawberry.field(
        description="The new expiry: at least the lot's current deadline plus its bid validity days "
        "(Guarantee.requiredUntil)."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Asked; the guarantor sees the request on the guarantee (extensionUntil).")
class GuaranteeExtensionRequested:
    guarantee: Guarantee = strawberry.field(description="The guarantee with the extension asked for.")


GuaranteeExtensionRequestResult = result_union(
    "GuaranteeExtensionRequestResult", GuaranteeExtensionRequested, [extension.request]
)


@strawberry.input(description="Extend a guarantee with an amended letter signed with one of the guarantor's keys.")
class GuaranteeExtendInput:
    guarantee_id: strawberry.ID = strawberry.field(
        description="Global id of an issued guarantee of the caller's organisation with an extension asked for."
    )
    letter_jws: str = strawberry.field(
        description="The amended letter (保函修改书) as a compact JWS in the format of guaranteeIssue's letter: "
        "the same letterNo and fields as the guarantee, validUntil the expiry asked for (extensionUntil)."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The amended letter is accepted: the guarantee covers the lot's deadline again.")
class GuaranteeExtended:
    guarantee: Guarantee = strawberry.field(description="The guarantee with its new expiry and letter.")


GuaranteeExtendResult = result_union("GuaranteeExtendResult", GuaranteeExtended, [extension.extend])


@strawberry.input(description="Refuse the extension a bidder asked for, saying why.")
class GuaranteeExtensionDeclineInput:
    guarantee_id: strawberry.ID = strawberry.field(
        description="Global id of an issued guarantee of the caller's organisation with an extension asked for."
    )
    reason: str = strawberry.field(description="Why, at most 500 characters.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The extension is refused; the guarantee stays as it was.")
class GuaranteeExtensionDeclined:
    guarantee: Guarantee = strawberry.field(description="The guarantee, unchanged but for the refusal.")


GuaranteeExtensionDeclineResult = result_union(
    "GuaranteeExtensionDeclineResult", GuaranteeExtensionDeclined, [extension.decline]
)


def _node(g: GuaranteeModel) -> Guarantee:
    return Guarantee.from_model(g)


@strawberry.type
class GuaranteeMutations:
    @mutation(
        GuaranteeApplyResult,
        description="Apply for an electronic bid guarantee (bidders).",
        permission_classes=[IsBidder],
    )
    async def guarantee_apply(
        self,
        info: Info,
        input: Annotated[
            GuaranteeApplyInput,
            strawberry.argument(description="The lot, the guarantor and the amount and validity asked for."),
        ],
    ) -> GuaranteeApplied:
        g = await issuance.apply(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId"),
            int_id(input.guarantor_id, "Organisation", "guarantorId"),
            input.amount_fen,
            input.valid_until,
            input.idempotency_key,
            payer_account=input.payer_account,
        )
        return GuaranteeApplied(guarantee=_node(g))

    @mutation(
        GuaranteeIssueResult,
        description="Issue a guarantee with the signed letter; the platform verifies signature, amount, "
        "beneficiary and validity before accepting it (guarantors).",
        permission_classes=[IsGuarantor],
    )
    async def guarantee_issue(
        self,
        info: Info,
        input: Annotated[
            GuaranteeIssueInput, strawberry.argument(description="The application and the signed letter.")
        ],
    ) -> GuaranteeIssued:
        g = await issuance.issue(
            info.context.actor,
            _guarantee_id(input.guarantee_id),
            input.letter_jws,
            input.idempotency_key,
            signed(input.signature),
        )
        return GuaranteeIssued(guarantee=_node(g))

    @mutation(
        GuaranteeDeclineResult,
        description="Decline a guarantee application (guarantors).",
        permission_classes=[IsGuarantor],
    )
    async def guarantee_decline(
        self,
        info: Info,
        input: Annotated[
            GuaranteeDeclineInput, strawberry.argument(description="The application and why it is declined.")
        ],
    ) -> GuaranteeDeclined:
        g = await issuance.decline(
            info.context.actor, _guarantee_id(input.guarantee_id), input.reason, input.idempotency_key
        )
        return GuaranteeDeclined(guarantee=_node(g))

    @mutation(
        GuaranteeClaimResult,
        description="Claim an issued guarantee (the tenderer, its beneficiary).",
        permission_classes=[IsTenderer],
    )
    async def guarantee_claim(
        self,
        info: Info,
        input: Annotated[
            GuaranteeClaimInput, strawberry.argument(description="The issued guarantee, the amount claimed and why.")
        ],
    ) -> GuaranteeClaimed:
        g = await claims.claim(
            info.context.actor,
            _guarantee_id(input.guarantee_id),
            input.amount_fen,
            input.reason,
            input.idempotency_key,
            signed(input.signature),
        )
        return GuaranteeClaimed(guarantee=_node(g))

    @mutation(
        GuaranteeClaimPayResult, description="Record a claim as paid (guarantors).", permission_classes=[IsGuarantor]
    )
    async def guarantee_claim_pay(
        self,
        info: Info,
        input: Annotated[
            GuaranteeClaimPayInput, strawberry.argument(description="The claimed guarantee the guarantor paid.")
        ],
    ) -> GuaranteeClaimPaid:
        g = await claims.pay_claim(info.context.actor, _guarantee_id(input.guarantee_id), input.idempotency_key)
        return GuaranteeClaimPaid(guarantee=_node(g))

    @mutation(
        GuaranteeClaimRejectResult,
        description="Reject a claim with a reason (guarantors).",
        permission_classes=[IsGuarantor],
    )
    async def guarantee_claim_reject(
        self,
        info: Info,
        input: Annotated[
            GuaranteeClaimRejectInput,
            strawberry.argument(description="The claimed guarantee and why the claim is rejected."),
        ],
    ) -> GuaranteeClaimRejected:
        g = await claims.reject_claim(
            info.context.actor, _guarantee_id(input.guarantee_id), input.reason, input.idempotency_key
        )
        return GuaranteeClaimRejected(guarantee=_node(g))

    @mutation(
        GuaranteeExtensionRequestResult,
        description="Ask the guarantor to extend a guarantee a moved deadline left short (保函展期; the applicant).",
        permission_classes=[IsBidder],
    )
    async def guarantee_extension_request(
        self,
        info: Info,
        input: Annotated[
            GuaranteeExtensionRequestInput, strawberry.argument(description="The guarantee and the new expiry.")
        ],
    ) -> GuaranteeExtensionRequested:
        g = await extension.request(
            info.context.actor, _guarantee_id(input.guarantee_id), input.valid_until, input.idempotency_key
        )
        return GuaranteeExtensionRequested(guarantee=_node(g))

    @mutation(
        GuaranteeExtendResult,
        description="Extend a guarantee with the amended signed letter; verified as an issued letter is (guarantors).",
        permission_classes=[IsGuarantor],
    )
    async def guarantee_extend(
        self,
        info: Info,
        input: Annotated[
            GuaranteeExtendInput, strawberry.argument(description="The guarantee and the amended letter.")
        ],
    ) -> GuaranteeExtended:
        g = await extension.extend(
            info.context.actor, _guarantee_id(input.guarantee_id), input.letter_jws, input.idempotency_key
        )
        return GuaranteeExtended(guarantee=_node(g))

    @mutation(
        GuaranteeExtensionDeclineResult,
        description="Refuse a requested extension with a reason (guarantors).",
        permission_classes=[IsGuarantor],
    )
    async def guarantee_extension_decline(
        self,
        info: Info,
        input: Annotated[GuaranteeExtensionDeclineInput, strawberry.argument(description="The guarantee and why not.")],
    ) -> GuaranteeExtensionDeclined:
        g = await extension.decline(
            info.context.actor, _guarantee_id(input.guarantee_id), input.reason, input.idempotency_key
        )
        return GuaranteeExtensionDeclined(guarantee=_node(g))
