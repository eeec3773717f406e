"""Why a guarantee step was refused: one stable code each, in Chinese and English.

Also raised here, defined elsewhere: SIGNATURE_INVALID (domain.accounts.keys.SignatureInvalid) and
NOT_REGISTERED (domain.registration.services.NotRegistered), so that one code keeps one GraphQL type.
"""

from __future__ import annotations

from typing import ClassVar

from domain.accounts.keys import SignatureInvalid
from domain.common.errors import DomainError, InvalidInput
from domain.registration.services import NotRegistered

__all__ = [
    "ClaimExceedsGuarantee",
    "ClaimTooEarly",
    "ExtensionNotRequested",
    "GuaranteeAlreadyClaimed",
    "GuaranteeAlreadyCovers",
    "GuaranteeAmountTooLow",
    "GuaranteeExists",
    "GuaranteeNotActive",
    "GuaranteeTooLate",
    "GuaranteeValidityTooShort",
    "LetterMalformed",
    "LetterMismatch",
    "LetterNoTaken",
    "NoSecurityRequired",
    "NotAGuarantor",
    "NotRegistered",
    "NotTheApplicant",
    "SignatureInvalid",
]


class NoSecurityRequired(DomainError):
    code = "NO_SECURITY_REQUIRED"
    message_zh = "该标段不要求投标保证金，无需保函"
    message_en = "This lot asks no bid security: no guarantee is needed"


class GuaranteeAmountTooLow(DomainError):
    code = "GUARANTEE_AMOUNT_TOO_LOW"
    message_zh = "担保金额不得低于该标段的投标保证金 {required_text} 元"
    message_en = "The guaranteed amount must be at least the lot's bid security of CNY {required_text}"
    exposed: ClassVar[dict[str, str]] = {"required_fen": "fen"}


class GuaranteeValidityTooShort(DomainError):
    code = "GUARANTEE_VALIDITY_TOO_SHORT"
    message_zh = "保函有效期须至少至 {required_until}（投标截止时间后加投标有效期 {days} 天）"
    message_en = "The guarantee must stay valid until at least {required_until} (the bid deadline plus {days} days)"
    exposed: ClassVar[dict[str, str]] = {"required_until": "datetime"}


class NotAGuarantor(DomainError):
    code = "NOT_A_GUARANTOR"
    message_zh = "所选机构不是已审核、已登记保函签名密钥的担保机构，或是本项目的投标人、招标人"
    message_en = (
        "The chosen organisation is not an approved guarantor with a registered letter-signing key, "
        "or it is the bidder or the tenderer itself"
    )


class GuaranteeTooLate(DomainError):
    code = "GUARANTEE_TOO_LATE"
    message_zh = "投标截止时间（{deadline}）已过或标段已不接受投标，保函不能再申请或出具"
    message_en = (
        "The bid deadline ({deadline}) has passed or the lot takes no bids: no guarantee can be applied for or issued"
    )
    exposed: ClassVar[dict[str, str]] = {"deadline": "datetime"}


class GuaranteeExists(DomainError):
    code = "GUARANTEE_EXISTS"
    message_zh = "已有一份该标段的保函在办理中或已出具"
    message_en = "A guarantee for this lot is already pending or issued"


class LetterMalformed(InvalidInput):
    """The signed letter lacks a field or has one of the wrong shape; `field` names it as in the letter."""

    code = "LETTER_MALFORMED"
    message_zh = "保函内容格式不正确：{field}"
    message_en = "Malformed guarantee letter: {field}"


class LetterMismatch(DomainError):
    """The signed letter says something else than the application; `field` names the first that differs."""

    code = "LETTER_MISMATCH"
    message_zh = "保函内容与申请不符：{field}"
    message_en = "The guarantee letter does not match the application: {field}"
    exposed: ClassVar[dict[str, str]] = {"field": "str"}

    def __init__(self, field: str) -> None:
        super().__init__(field=field)

    @property
    def field(self) -> str:
        return str(self.params["field"])


class LetterNoTaken(DomainError):
    code = "LETTER_NO_TAKEN"
    message_zh = "保函编号“{letter_no}”已被使用"
    message_en = "The letter number '{letter_no}' is already used"
    exposed: ClassVar[dict[str, str]] = {"letter_no": "str"}


class GuaranteeAlreadyClaimed(DomainError):
    code = "GUARANTEE_ALREADY_CLAIMED"
    message_zh = "该保函已索赔过，每份保函只能索赔一次"
    message_en = "This guarantee was already claimed; a guarantee is claimed at most once"


class ClaimTooEarly(DomainError):
    code = "CLAIM_TOO_EARLY"
    message_zh = "投标截止时间（{deadline}）前不能索赔"
    message_en = "No claim before the bid deadline ({deadline})"
    exposed: ClassVar[dict[str, str]] = {"deadline": "datetime"}


class ClaimExceedsGuarantee(DomainError):
    code = "CLAIM_EXCEEDS_GUARANTEE"
    message_zh = "索赔金额不得超过担保金额 {amount_text} 元"
    message_en = "A claim may not exceed the guaranteed amount of CNY {amount_text}"
    exposed: ClassVar[dict[str, str]] = {"amount_fen": "fen"}


class NotTheApplicant(DomainError):
    code = "NOT_THE_APPLICANT"
    message_zh = "只有申请该保函的投标人可以申请展期"
    message_en = "Only the bidder that applied for the guarantee may ask for its extension"


class GuaranteeNotActive(DomainError):
    """An extension concerns a guarantee in force: issued, neither claimed, released nor expired."""

    code = "GUARANTEE_NOT_ACTIVE"
    message_zh = "保函当前状态（{state}）不能展期，只有已出具的保函可以展期"
    message_en = "The guarantee is {state}: only an issued guarantee can be extended"
    exposed: ClassVar[dict[str, str]] = {"state": "str"}


class GuaranteeAlreadyCovers(DomainError):
    code = "GUARANTEE_ALREADY_COVERS"
    message_zh = "保函有效期已覆盖投标截止时间加投标有效期（至 {required_until}），无需展期"
    message_en = (
        "The guarantee already lasts past the bid deadline plus the bid validity period ({required_until}): "
        "no extension is needed"
    )
    exposed: ClassVar[dict[str, str]] = {"required_until": "datetime"}


class ExtensionNotRequested(DomainError):
    code = "GUARANTEE_EXTENSION_NOT_REQUESTED"
    message_zh = "投标人未申请该保函展期，或申请已处理"
    message_en = "The bidder has not asked to extend this guarantee, or the request was already answered"
